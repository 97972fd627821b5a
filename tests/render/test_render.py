from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from compiler.model.model import Cluster
from compiler.pipeline import compile_config, render_checked
from compiler.write import read_tree
from tests.builtin.test_crd_schemas import UPSTREAM as UPSTREAM_CRDS
from tests.conftest import EXAMPLES, ROOT, hks, hks_process, write

RENDERED = sorted(p.name for p in EXAMPLES.iterdir() if (p / "rendered").is_dir())


@pytest.mark.parametrize("name", RENDERED)
def test_committed_rendered_folder_is_current(name: str) -> None:
    """The golden files: examples/<name>/rendered, reviewed by reading them."""
    result = hks_process("render", f"examples/{name}", "-o", f"examples/{name}/rendered", "--check")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.kubectl
@pytest.mark.parametrize("name", RENDERED)
def test_kubectl_kustomize_accepts_the_output(name: str) -> None:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is needed for this test (.ci/run installs it)"
    result = subprocess.run([kubectl, "kustomize", str(EXAMPLES / name / "rendered")], check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    kinds = [doc["kind"] for doc in YAML(typ="safe").load_all(result.stdout)]
    resources = [p for p in read_tree(EXAMPLES / name / "rendered") if not p.endswith("kustomization.yaml")]
    assert "Namespace" in kinds and "Application" not in kinds
    assert len(kinds) == len([p for p in resources if not p.startswith("argocd/")])


def rendered_documents(name: str) -> list[tuple[Path, dict[str, Any]]]:
    paths = sorted(p for p in (EXAMPLES / name / "rendered").rglob("*.yaml") if p.name != "kustomization.yaml")
    return [(p, YAML(typ="safe").load(p.read_text())) for p in paths]


def is_custom(document: dict[str, Any]) -> bool:
    group = document["apiVersion"].rpartition("/")[0]
    return "." in group and not group.endswith(".k8s.io")


@pytest.mark.parametrize("name", RENDERED)
def test_every_document_passes_kubernetes_validate_strict(name: str) -> None:
    files = [str(p) for p, doc in rendered_documents(name) if not is_custom(doc)]
    tool = Path(sys.executable).with_name("kubernetes-validate")
    version = Cluster().kubernetes_version  # the examples keep the default
    assert version == "1.37"
    result = subprocess.run([str(tool), "--strict", "-k", version, *files], check=False, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("passed") == len(files)




def test_custom_resources_pass_the_upstream_crd_schemas() -> None:
    """The project validates custom kinds with its own schemas; this checks them against the
    upstream CRDs too, where the workplace provides them (tests/render/test_gateway.py does the same
    for the kinds acme does not use)."""
    custom = [(p, doc) for p, doc in rendered_documents("acme") if is_custom(doc)]
    assert custom, "the example renders no custom resources"
    assert_upstream_valid(custom)


def assert_upstream_valid(custom: list[tuple[Any, dict[str, Any]]]) -> None:
    import jsonschema

    for path, doc in custom:
        group, _, version = doc["apiVersion"].rpartition("/")
        schema = json.loads((UPSTREAM_CRDS / group / f"{doc['kind'].lower()}_{version}.json").read_text())
        validator = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)(schema)
        problems = [e.message for e in validator.iter_errors(doc)]
        assert not problems, f"{path}: {problems}"


def test_render_is_byte_identical_across_hash_seeds(tmp_path: Path) -> None:
    trees = []
    for seed in ("0", "12345"):
        out = tmp_path / f"out-{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        subprocess.run([sys.executable, "-m", "compiler", "render", "examples/acme", "-o", str(out)], cwd=ROOT, env=env, check=True, capture_output=True)
        trees.append(read_tree(out))
    assert trees[0] == trees[1] and trees[0]


def test_a_failing_render_leaves_the_output_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert hks("render", "examples/seed", "-o", str(out)).exit_code == 0
    before = read_tree(out)
    result = hks_process("render", "examples/broken/unknown-key", "-o", str(out))
    assert result.returncode == 1 and "SCHEMA-001" in result.stderr
    assert read_tree(out) == before


def test_an_interrupted_write_leaves_the_output_untouched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    assert hks("render", "examples/seed", "-o", str(out)).exit_code == 0
    before = read_tree(out)
    written = []
    from compiler import write

    real = write._write

    def failing(path: Path, data: bytes) -> None:
        written.append(path)
        if len(written) == 5:
            raise OSError(28, "No space left on device")
        real(path, data)

    monkeypatch.setattr(write, "_write", failing)
    from click.testing import CliRunner

    from compiler.cli import main

    result = CliRunner().invoke(main, ["render", "examples/acme", "-o", str(out)])
    assert result.exit_code != 0
    monkeypatch.undo()
    assert read_tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_refuses_to_replace_a_folder_hks_did_not_write(tmp_path: Path) -> None:
    write(tmp_path, {"notes.txt": "precious"})
    result = hks_process("render", "examples/seed", "-o", str(tmp_path))
    assert result.returncode == 2 and "refusing to replace" in result.stderr
    assert (tmp_path / "notes.txt").read_text() == "precious"


def test_check_reports_a_stale_folder_with_a_diff(tmp_path: Path) -> None:
    out = tmp_path / "out"
    hks("render", "examples/seed", "-o", str(out))
    routing = out / "workspaces/production/configmap-llm-routing.yaml"
    routing.write_text(routing.read_text().replace("gpt-4", "gpt-3.5-turbo"))
    result = hks_process("render", "examples/seed", "-o", str(out), "--check")
    assert result.returncode == 1
    assert "--- a/workspaces/production/configmap-llm-routing.yaml" in result.stdout
    assert "+  upstream-model: gpt-4\n" in result.stdout


def test_stdout_is_one_yaml_stream_of_the_resources() -> None:
    result = hks_process("render", "examples/seed", "--stdout")
    assert result.returncode == 0, result.stderr
    docs = list(YAML(typ="safe").load_all(result.stdout))
    assert len(docs) == len(read_tree(EXAMPLES / "seed" / "rendered")) - 1
    assert all(d["kind"] != "Kustomization" for d in docs)


def test_seed_serves_the_models_its_workspaces_use() -> None:
    configmap = YAML(typ="safe").load((EXAMPLES / "seed/rendered/platform/ollama/configmap-ollama-models.yaml").read_text())
    assert configmap["data"]["models.txt"] == "llama3:8b\ncodellama:13b\n"


BASE = "llm_config:\n  provider: ollama\n  model: llama3:8b\n"


def diagnostics(tmp_path: Path, org: str) -> list[tuple[str, str]]:
    write(tmp_path, {"org.yaml": org})
    return [(d.rule, d.message) for d in compile_config(str(tmp_path)).diagnostics]


def test_a_model_that_does_not_fit_is_an_error_with_both_numbers(tmp_path: Path) -> None:
    org = "llm_config:\n  provider: ollama\n  model: llama3:70b\nself_hosted:\n  gpu: {memory_gib: 24}\n"
    [(rule, message)] = diagnostics(tmp_path, org)
    assert rule == "CAP-001"
    assert "more than the 24 GiB" in message and "37.3 GiB weights" in message and "KV cache" in message


def test_context_length_makes_a_model_fit(tmp_path: Path) -> None:
    big = "llm_config:\n  provider: ollama\n  model: llama3.1:8b\nself_hosted:\n  gpu: {memory_gib: 24}\n  num_parallel: 8\n"
    assert [r for r, _ in diagnostics(tmp_path, big)] == ["CAP-001"]
    assert diagnostics(tmp_path, big + "  context_length: 8192\n") == []


def test_models_beyond_max_loaded_models_warn(tmp_path: Path) -> None:
    org = BASE + "self_hosted:\n  models: [llama3:8b, mistral:7b]\n  gpu: {memory_gib: 80}\n  max_loaded_models: 1\n"
    assert [r for r, _ in diagnostics(tmp_path, org)] == ["CAP-002"]


def test_a_cloud_model_is_never_loaded_so_it_counts_for_no_gpu_memory(tmp_path: Path) -> None:
    """A cloud tag is neither pulled nor loaded (OLLAMA_NO_CLOUD): CAT-010 speaks of it, CAP-002 does not count it."""
    org = BASE + "self_hosted:\n  models: [llama3:8b, {models}]\n  gpu: {{memory_gib: 80}}\n  max_loaded_models: 1\n"
    assert [r for r, _ in diagnostics(tmp_path, org.format(models="qwen3-embedding:cloud"))] == ["CAT-010"]
    found = diagnostics(tmp_path, org.format(models="mistral:7b, qwen3-embedding:cloud, gpt-oss:120b-cloud"))
    assert sorted(r for r, _ in found) == ["CAP-002", "CAT-010", "CAT-010"]
    [message] = [m for r, m in found if r == "CAP-002"]
    assert message.startswith("2 models are served but max_loaded_models is 1"), message


HOSTILE = st.lists(
    st.sampled_from(list("ab:\"'{}[]&*!|>%@#-,? \n\t\\") + ["{{", "}}", "{%", "---", "\u2028", "é", "&anchor", "*alias"]),
    min_size=1,
    max_size=12,
).map("".join)


MONITORING_DOCS = [
    "ConfigMap/grafana-dashboard-hks-llm-cost", "ConfigMap/grafana-dashboard-hks-llm-interactions",
    "ConfigMap/grafana-dashboard-hks-llm-performance", "ConfigMap/grafana-dashboard-hks-llm-usage",
    "PrometheusRule/hks-llm", "ServiceMonitor/llm-gateway",
    "ServiceAccount/llm-gateway-metrics", "Secret/llm-gateway-metrics-token",
]  # fmt: skip


# Members may hold anything but control characters (the API server refuses those: SCHEMA-006).
HOSTILE_MEMBER = HOSTILE.filter(lambda s: not any(c in s for c in "\n\t"))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(user=HOSTILE_MEMBER, group=HOSTILE_MEMBER, label=HOSTILE)
def test_hostile_strings_cannot_change_document_structure(tmp_path: Path, user: str, group: str, label: str) -> None:
    import json

    def q(value: str) -> str:
        return json.dumps(value)

    org = (
        BASE
        + f"self_hosted:\n  node_selector:\n    node-role: {q(label)}\n"
        + f"workspaces:\n  team:\n    members:\n      users: [{q(user)}]\n      groups: [{q(group)}]\n"
    )
    write(tmp_path, {"org.yaml": org})
    compiled = compile_config(str(tmp_path))
    assert compiled.ok, compiled.diagnostics
    rendered = render_checked(compiled)
    docs = {d["kind"] + "/" + d["metadata"]["name"]: d for d in YAML(typ="safe").load_all(rendered.stream)}
    assert sorted(docs) == sorted([
        "ConfigMap/llm-gateway-config", "ConfigMap/llm-routing", "ConfigMap/ollama-models", "DaemonSet/ollama",
        "ConfigMap/model-egress", "Deployment/model-egress", "NetworkPolicy/model-egress", "Service/model-egress",
        "Deployment/llm-gateway", "HorizontalPodAutoscaler/llm-gateway", "Namespace/hexabase-aiops", "Namespace/team",
        "NetworkPolicy/default-deny", "NetworkPolicy/llm-gateway", "NetworkPolicy/llm-gateway-egress",
        "NetworkPolicy/ollama-from-gateway", "NetworkPolicy/ollama-model-pulls", "PodDisruptionBudget/llm-gateway",
        "Role/llm-user", "RoleBinding/llm-user", "Service/llm-gateway", "Service/ollama",
        "ServiceAccount/llm-gateway", "ClusterRole/hexabase-aiops-llm-gateway-tokenreview",
        "ClusterRoleBinding/hexabase-aiops-llm-gateway-tokenreview",
        *MONITORING_DOCS,
    ])
    subjects = docs["RoleBinding/llm-user"]["subjects"]
    assert [(s["kind"], s["name"]) for s in subjects] == [("Group", group), ("User", user)]
    assert docs["DaemonSet/ollama"]["spec"]["template"]["spec"]["nodeSelector"] == {"node-role": label}


def test_custom_gguf_model_is_fetched_checked_and_created(tmp_path: Path) -> None:
    sha = "a" * 64
    org = (
        "llm_config:\n  provider: ollama\n  model: acme-support:7b\nself_hosted:\n  models:\n"
        f"    - name: acme-support:7b\n      source: https://models.example/acme.gguf\n      sha256: {sha}\n"
        '      parameters: {num_ctx: 8192, temperature: 0.2, stop: "<|end|>"}\n      system: You help "Acme" customers.\n'
    )
    write(tmp_path, {"org.yaml": org})
    compiled = compile_config(str(tmp_path))
    assert compiled.ok, compiled.diagnostics
    docs = {d["kind"]: d for d in YAML(typ="safe").load_all(render_checked(compiled).stream)}
    data = docs["ConfigMap"]["data"] if docs["ConfigMap"]["metadata"]["name"] == "ollama-models" else None
    assert data is not None
    assert data["gguf-sources.txt"] == f"{sha} https://models.example/acme.gguf\n"
    assert data["custom-models.txt"] == "acme-support:7b modelfile-0\n"
    assert data["models.txt"] == ""
    assert data["modelfile-0"] == (
        f"FROM /models/gguf/{sha}.gguf\nPARAMETER num_ctx 8192\nPARAMETER stop \"<|end|>\"\n"
        'PARAMETER temperature 0.2\nSYSTEM """You help "Acme" customers."""\n'
    )
    init = [c["name"] for c in docs["DaemonSet"]["spec"]["template"]["spec"]["initContainers"]]
    assert init == ["fetch-gguf", "pull-models"]  # no root `chown` step with the default ephemeral storage


def test_a_system_prompt_cannot_close_the_modelfile_quotes(tmp_path: Path) -> None:
    org = (
        "llm_config:\n  provider: ollama\n  model: x:1b\nself_hosted:\n  models:\n"
        f"    - name: x:1b\n      source: https://m.example/x.gguf\n      sha256: {'b' * 64}\n"
        "      system: 'ends here\"\"\"\nFROM evil'\n"
    )
    write(tmp_path, {"org.yaml": org})
    assert [d.rule for d in compile_config(str(tmp_path)).diagnostics] == ["SCHEMA-006"]


def test_a_rendered_document_failing_its_schema_is_exit_3(monkeypatch: pytest.MonkeyPatch) -> None:
    from compiler.render.components import workspace

    real = workspace.routing
    monkeypatch.setattr(workspace, "routing", lambda config, w: {**real(config, w), "bad": 5})
    from click.testing import CliRunner

    from compiler.cli import main

    result = CliRunner().invoke(main, ["render", "examples/seed", "--stdout"])
    assert result.exit_code == 3
    assert "internal error: rendered documents fail the Kubernetes schemas" in result.output
    assert "apiVersion" not in result.output


@pytest.mark.parametrize("text", ["\n", "\n\n", "\nabc", "a\n", "a\n\n", " a\nb", "a \nb", "a\r\nb", "\t\n", "yes", "1e3", "0o17", "~"])
def test_emitter_round_trips_awkward_strings_in_yaml_1_1_and_1_2(text: str) -> None:
    import yaml as pyyaml

    from compiler.yamlout import dump

    out = dump({"k": text, "l": [text]})
    assert YAML(typ="safe", pure=True).load(out) == {"k": text, "l": [text]}
    assert pyyaml.safe_load(out) == {"k": text, "l": [text]}


class _Name(str):
    pass


_TEXT = st.one_of(st.text(st.sampled_from("ab \n\t\r:-é\x00#'\"1"), max_size=8), st.sampled_from(["yes", "on", "null", "1e3"]))
_SCALARS = st.one_of(_TEXT, _TEXT.map(_Name), st.integers(), st.booleans(), st.none(), st.floats())
_DOCUMENTS = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.one_of(_TEXT, st.integers()), inner, max_size=4)),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_DOCUMENTS)
def test_the_appending_emitter_writes_what_the_line_lists_wrote(document: Any) -> None:
    """yamlout.dump appends every line to one list; _node and _entry, which built and joined a
    list at each level, are the reference."""
    from compiler import yamlout

    assert yamlout.dump(document) == "\n".join(yamlout._node(document, 0)) + "\n"


def test_both_yaml_parsers_read_every_rendered_template_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    """render/base.py puts a template's values into the cached parse of its marked text; every
    document must equal the template rendered with its values as JSON and parsed, by libyaml
    (YAML 1.1, types and key order alike) and by ruamel (YAML 1.2)."""
    from compiler.render import base as render

    real = render._by_markers
    seen: list[str] = []

    def both(template: str, context: dict[str, Any]) -> Any:
        ours = real(template, context)
        text = render.environment().get_template(template).render(**context)
        assert repr(ours) == repr(render.load_template_yaml(text)), text
        assert ours == YAML(typ="safe", pure=True).load(text), text
        seen.append(text)
        return ours

    monkeypatch.setattr(render, "_by_markers", both)
    for name in RENDERED:
        compiled = compile_config(f"examples/{name}")
        render_checked(compiled)
    assert len(seen) > 50


AWKWARD_VALUES = [
    "", " lead", "trail ", "a\nb", "a\r\nb", "\t", "x\x00y", "\x7f", "\u0085\u2028\ufeff", "\U0001f600", "yes", "no", "~",
    "null", "1e3", "0o17", "10:30", "*alias", "&anchor", "!tag", "#", "- x", "a: b", '"', "'", "\\", "hks-value-0-hks",
    0, -1, 2**70, True, False, None, 1.5, 1e-05, float("nan"), [], {}, (1, "a"), {"k": [1, {"n": None}]},
    {1: "a"}, {True: "a"}, {None: "a"}, {"\ud800": 1}, "\ud800", {"x" * 200: 1}, {"\x00" * 70: 1},
]  # fmt: skip


@pytest.mark.parametrize("value", AWKWARD_VALUES, ids=repr)
def test_a_value_put_in_as_data_is_what_its_json_reads_back_as(value: Any) -> None:
    """base._data copies a value only where parsing its JSON (base.flow, in any position a
    template may print it) gives the same thing; otherwise the template renders for real."""
    from compiler.builtin.datafiles import parse_rendered
    from compiler.render import base as render
    from compiler.yamlout import flow

    try:
        ours = render._data(value, 0)
    except render._NotData:
        return
    assert ours is not value or not isinstance(value, (dict, list, tuple))  # a copy: the documents are changed later
    shown = flow(value)
    for text, where in ((f"k: {shown}\n", ["k"]), (f"k: [{shown}, 1]\n", ["k", 0]), (f"k:\n  - {shown}\n", ["k", 0]), (f"{{k: {shown}}}\n", ["k"])):
        read = parse_rendered(text)
        for step in where:
            read = read[step]
        assert repr(read) == repr(ours), text


@pytest.mark.parametrize(
    "template",
    ["k: '{{ x }}'\n", 'k: "{{ x }}"\n', "k: |\n  {{ x }}\n", "{{ x }}: 1\n", "k: a{{ x }}\n", "k: {{ x }}{{ x }}\n",
     "k: {{ x }} # hks-value-9-hks\n", "k: [{{ x }}\n"],
)  # fmt: skip
def test_a_marker_that_is_not_a_plain_value_of_its_own_renders_for_real(template: str) -> None:
    from compiler.render import base as render

    for value in ("abc", {"a": 1}):
        slots: list[Any] = []
        text = render._marking_environment().from_string(template).render(x=value, **{render._SLOTS: slots})
        with pytest.raises(render._NotData):
            render._filled(render._skeleton(text, len(slots)), slots)


@pytest.mark.parametrize("storage", ["", "storage: {storage_class: local-path, size: 500Gi}", "storage: {type: host-path}"])
def test_model_storage_and_the_namespace_level_it_allows(tmp_path: Path, storage: str) -> None:
    org = "llm_config: {provider: ollama, model: llama3:8b}\n" + (f"self_hosted:\n  {storage}\n" if storage else "")
    write(tmp_path, {"org.yaml": org})
    compiled = compile_config(str(tmp_path))
    assert compiled.ok, compiled.diagnostics
    docs = {d["kind"]: d for d in YAML(typ="safe").load_all(render_checked(compiled).stream) if d["kind"] in ("DaemonSet", "Namespace")}
    pod = docs["DaemonSet"]["spec"]["template"]["spec"]
    models = next(v for v in pod["volumes"] if v["name"] == "models")
    level = docs["Namespace"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
    init = [c["name"] for c in pod["initContainers"]]
    if "host-path" in storage:
        assert models["hostPath"] == {"path": "/var/lib/hks/ollama", "type": "DirectoryOrCreate"}
        assert (level, init) == ("privileged", ["prepare-storage", "pull-models"])
    else:
        claim = models["ephemeral"]["volumeClaimTemplate"]["spec"]
        assert claim["resources"]["requests"]["storage"] == ("500Gi" if storage else "200Gi")
        assert claim.get("storageClassName") == ("local-path" if storage else None)
        assert (level, init) == ("restricted", ["pull-models"])


@pytest.mark.parametrize(
    ("source", "ports"),
    [
        ("https://models.example/a.gguf", [443]),
        ("http://models.example:8080/a.gguf", [8080]),  # through the proxy by CONNECT (fetch-gguf.sh's --proxytunnel)
        ("http://models.example/a.gguf", [80]),
        ("http://[::1/a.gguf", None),  # urlsplit raises on these: never a crash, and no way out
        ("https://models.example:99999/a.gguf", None),  # a local path is CAT-008 (tests/test_first_hour.py)
    ],
)
def test_the_model_egress_proxy_reaches_the_ports_of_custom_sources(tmp_path: Path, source: str, ports: list[int] | None) -> None:
    """Only a custom model here: nothing is pulled from Ollama's registry, so only the source's
    port is public, and only for the proxy (render/components/model_egress.py)."""
    org = (
        "llm_config: {provider: ollama, model: x:1b}\nself_hosted:\n  models:\n"
        f"    - name: x:1b\n      source: '{source}'\n      sha256: {'e' * 64}\n"
    )
    write(tmp_path, {"org.yaml": org})
    compiled = compile_config(str(tmp_path))
    assert compiled.ok, compiled.diagnostics
    docs = {d["metadata"]["name"]: d for d in YAML(typ="safe").load_all(render_checked(compiled).stream) if d["kind"] == "NetworkPolicy"}
    pulls = docs["ollama-model-pulls"]["spec"]["egress"]
    assert not [peer for rule in pulls for peer in rule["to"] if "ipBlock" in peer]
    if ports is None:
        assert "model-egress" not in docs and len(pulls) == 1  # DNS only
        return
    public = docs["model-egress"]["spec"]["egress"][1]
    assert [p["port"] for p in public["ports"]] == ports
