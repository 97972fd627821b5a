"""GPU pools (`self_hosted.pools`, docs/self-hosted.md "GPU pools"): a Deployment and Service per
pool, the gateway routing each model to its pool, the capacity check per pool, the rules of
compiler/checks/pools.py at the user's line, AMD device groups and runtime classes in the pod spec,
and `hks cost` and `hks explain` per pool. The flows to each pool are in tests/render/test_security.py,
the real LiteLLM routing in tests/e2e/test_pools_e2e.py; a config without pools rendering as before
is tests/render/test_render.py's golden folders (acme, seed)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from compiler.builtin.kubeschemas import problems
from compiler.pipeline import compile_config, render_checked
from compiler.render.base import platform_level
from tests.conftest import ROOT, hks, write

SMALL = """\
    - name: small
      node_selector: {node-pool: gpu-small}
      gpu: {vendor: nvidia, count: 1, memory_gib: 24, hourly_usd: 0.80}
      models: [llama3.1:8b]
      replicas: {min: 1, max: 3}
"""
LARGE = """\
    - name: large
      node_selector: {node-pool: gpu-large}
      gpu: {vendor: nvidia, count: 2, memory_gib: 40, hourly_usd: 3.00}
      models: [llama3.1:70b]
      replicas: {min: 1, max: 2}
"""
ORG = """\
llm_config:
  provider: ollama
  model: llama3.1:8b
self_hosted:
  context_length: 8192
{extra}  pools:
{pools}"""


def config(tmp_path: Path, pools: str = SMALL + LARGE, extra: str = "", workspaces: dict[str, str] | None = None) -> Path:
    files: dict[str, str | bytes] = {"org.yaml": ORG.format(pools=pools, extra=extra)}
    files.update({f"workspaces/{name}.yaml": f"workspace: {name}\n{body}" for name, body in (workspaces or {}).items()})
    return write(tmp_path / "org", files)


def findings(root: Path, *rules: str) -> list[tuple[str, str, str, str]]:
    compiled = compile_config(str(root))
    return [
        (d.severity.value, d.rule, str(d.position).removeprefix(f"{root}/"), d.message)
        for d in compiled.diagnostics
        if not rules or d.rule in rules
    ]


def rendered(root: Path) -> dict[str, Any]:
    compiled = compile_config(str(root))
    assert compiled.ok, [f"{d.position} {d.message}" for d in compiled.diagnostics]
    yaml = YAML(typ="safe")
    return {path: yaml.load(text) for path, text in render_checked(compiled).files.items()}


def gateway_models(files: dict[str, Any]) -> list[dict[str, Any]]:
    data = files["platform/gateway/configmap-llm-gateway-config.yaml"]["data"]
    return list(YAML(typ="safe").load(data["config.yaml"])["model_list"])


def pod(files: dict[str, Any], path: str) -> dict[str, Any]:
    spec: dict[str, Any] = files[path]["spec"]["template"]["spec"]
    return spec


# --- render ------------------------------------------------------------------------------------


def test_each_pool_is_a_deployment_and_service_scaled_by_its_own_scaled_object(tmp_path: Path) -> None:
    files = rendered(config(tmp_path))
    ollama = sorted(p for p in files if p.startswith("platform/ollama/"))
    assert ollama == [
        "platform/ollama/configmap-ollama-large-models.yaml",
        "platform/ollama/configmap-ollama-small-models.yaml",
        "platform/ollama/deployment-ollama-large.yaml",
        "platform/ollama/deployment-ollama-small.yaml",
        "platform/ollama/networkpolicy-ollama-from-gateway.yaml",
        "platform/ollama/networkpolicy-ollama-model-pulls.yaml",
        "platform/ollama/scaledobject-ollama-large.yaml",
        "platform/ollama/scaledobject-ollama-small.yaml",
        "platform/ollama/service-ollama-large.yaml",
        "platform/ollama/service-ollama-small.yaml",
    ]
    for name, replicas, selector, models in [("small", (1, 3), "gpu-small", "llama3.1:8b\n"), ("large", (1, 2), "gpu-large", "llama3.1:70b\n")]:
        deployment = files[f"platform/ollama/deployment-ollama-{name}.yaml"]
        labels = {"app.kubernetes.io/name": "ollama", "hks.dev/pool": name}
        assert "replicas" not in deployment["spec"]  # KEDA's (tests/render/test_autoscaling.py)
        scaled = files[f"platform/ollama/scaledobject-ollama-{name}.yaml"]["spec"]
        assert (scaled["minReplicaCount"], scaled["maxReplicaCount"]) == replicas
        assert deployment["spec"]["selector"]["matchLabels"] == labels
        assert files[f"platform/ollama/service-ollama-{name}.yaml"]["spec"]["selector"] == labels
        spec = pod(files, f"platform/ollama/deployment-ollama-{name}.yaml")
        assert spec["nodeSelector"] == {"node-pool": selector}
        assert {v["name"]: v for v in spec["volumes"]}["config"]["configMap"]["name"] == f"ollama-{name}-models"
        assert files[f"platform/ollama/configmap-ollama-{name}-models.yaml"]["data"]["models.txt"] == models
    large = pod(files, "platform/ollama/deployment-ollama-large.yaml")["containers"][0]["resources"]
    assert large["limits"]["nvidia.com/gpu"] == "2"


def test_the_gateway_routes_each_model_to_its_pool(tmp_path: Path) -> None:
    root = config(tmp_path, workspaces={"research": "llm_override:\n  model: llama3.1:70b\n  fallbacks: [{provider: ollama, model: llama3.1:8b}]\n"})
    routes = {(m["model_name"], m["litellm_params"]["api_base"], m["model_info"]["id"]) for m in gateway_models(rendered(root))}
    small = "http://ollama-small.hexabase-aiops.svc.cluster.local:11434"
    large = "http://ollama-large.hexabase-aiops.svc.cluster.local:11434"
    assert routes == {
        ("research", large, "research.deployment"),
        ("research.fallback-1", small, "research.fallback-1.deployment"),
    }


def test_a_shared_model_is_one_deployment_per_pool_under_one_alias(tmp_path: Path) -> None:
    pools = SMALL + LARGE.replace("[llama3.1:70b]", "[llama3.1:70b, llama3.1:8b]")
    root = config(tmp_path, pools, extra="  shared_models: [llama3.1:8b]\n", workspaces={"chat": ""})
    assert findings(root, "POOL-003", "POOL-007") == []
    chat = [m for m in gateway_models(rendered(root)) if m["model_name"] == "chat"]
    assert [(m["litellm_params"]["api_base"].split(".")[0], m["model_info"]["id"]) for m in chat] == [
        ("http://ollama-small", "chat.deployment.small"),
        ("http://ollama-large", "chat.deployment.large"),
    ]


def test_pools_behind_tls_get_a_certificate_and_proxy_each(tmp_path: Path) -> None:
    extra = "cluster:\n  tls:\n    issuer: {name: ca, kind: ClusterIssuer}\n    ca: {secret: ca, key: tls.crt}\n"
    root = write(tmp_path / "org", {"org.yaml": ORG.format(pools=SMALL + LARGE, extra="") + extra, "workspaces/chat.yaml": "workspace: chat\n"})
    files = rendered(root)
    certificates = sorted(p for p in files if "certificate-" in p)
    assert "platform/tls/certificate-ollama-small-tls.yaml" in certificates
    assert "platform/tls/certificate-ollama-large-tls.yaml" in certificates
    assert not any("certificate-ollama-tls" in p for p in certificates)
    proxy = files["platform/tls/configmap-tls-proxy.yaml"]["data"]
    assert {"ollama-small.conf", "ollama-large.conf"} <= set(proxy)
    spec = pod(files, "platform/ollama/deployment-ollama-small.yaml")
    assert {v["name"]: v for v in spec["volumes"]}["tls"]["secret"]["secretName"] == "ollama-small-tls"
    assert [m["litellm_params"]["api_base"] for m in gateway_models(files)] == ["https://ollama-small.hexabase-aiops.svc.cluster.local:11434"]


# --- AMD device groups, runtime classes, Pod Security -------------------------------------------

DAEMONSET = "platform/ollama/daemonset-ollama.yaml"


def single(tmp_path: Path, gpu: str, storage: str = "") -> dict[str, Any]:
    org = f"llm_config:\n  provider: ollama\n  model: llama3:8b\nself_hosted:\n  models: [llama3:8b]\n  gpu: {gpu}\n{storage}"
    return rendered(write(tmp_path / "org", {"org.yaml": org}))


def test_amd_pods_get_the_device_groups_by_default(tmp_path: Path) -> None:
    spec = pod(single(tmp_path, "{vendor: amd, memory_gib: 64}"), DAEMONSET)
    assert spec["securityContext"]["supplementalGroups"] == [44, 109]
    assert "runtimeClassName" not in spec


def test_the_device_groups_and_runtime_class_are_configurable(tmp_path: Path) -> None:
    spec = pod(single(tmp_path, "{vendor: amd, memory_gib: 64, device_groups: [993, 44], runtime_class: rocm}"), DAEMONSET)
    assert spec["securityContext"]["supplementalGroups"] == [44, 993]
    assert spec["runtimeClassName"] == "rocm"


def test_nvidia_pods_get_no_device_groups_but_their_runtime_class(tmp_path: Path) -> None:
    spec = pod(single(tmp_path, "{vendor: nvidia, memory_gib: 24, runtime_class: nvidia}"), DAEMONSET)
    assert "supplementalGroups" not in spec["securityContext"]
    assert spec["runtimeClassName"] == "nvidia"


def test_a_pool_has_its_own_vendor_groups_and_runtime_class(tmp_path: Path) -> None:
    pools = SMALL.replace("hourly_usd: 0.80}", "hourly_usd: 0.80, runtime_class: nvidia}") + LARGE.replace(
        "vendor: nvidia", "vendor: amd, device_groups: [44, 106]"
    )
    files = rendered(config(tmp_path, pools))
    small, large = (pod(files, f"platform/ollama/deployment-ollama-{n}.yaml") for n in ("small", "large"))
    assert small["runtimeClassName"] == "nvidia" and "supplementalGroups" not in small["securityContext"]
    assert "runtimeClassName" not in large and large["securityContext"]["supplementalGroups"] == [44, 106]
    assert large["containers"][0]["image"].endswith("-rocm")
    assert large["containers"][0]["resources"]["limits"]["amd.com/gpu"] == "2"


@pytest.mark.parametrize(("storage", "level"), [("ephemeral", "restricted"), ("host-path", "privileged")])
def test_pod_security_levels_are_as_without_pools(tmp_path: Path, storage: str, level: str) -> None:
    root = config(tmp_path, extra=f"  storage: {{type: {storage}}}\n")
    compiled = compile_config(str(root))
    assert compiled.config is not None
    assert platform_level(compiled.config) == level
    namespace = rendered(root)["platform/namespace-hexabase-aiops.yaml"]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == level
    volumes = {v["name"]: v for v in pod(rendered(root), "platform/ollama/deployment-ollama-large.yaml")["volumes"]}
    assert ("hostPath" in volumes["models"]) == (storage == "host-path")


# --- capacity per pool, at the user's line --------------------------------------------------------


def test_a_model_too_big_for_its_pool_names_the_pool_that_fits(tmp_path: Path) -> None:
    pools = SMALL.replace("[llama3.1:8b]", "[llama3.1:8b, llama3.1:70b]") + LARGE
    [(severity, rule, where, message)] = findings(config(tmp_path, pools, extra="  shared_models: [llama3.1:70b]\n"), "CAP-001")
    assert (severity, rule, where) == ("error", "CAP-001", "org.yaml:11:29")
    assert "more than the 24 GiB of GPU memory of each pod of pool 'small'" in message
    compiled = compile_config(str(config(tmp_path / "again", pools, extra="  shared_models: [llama3.1:70b]\n")))
    [hint] = [d.hint for d in compiled.diagnostics if d.rule == "CAP-001"]
    assert hint == "pool 'large' (80 GiB) fits it: list it there instead"


def test_a_model_that_fits_no_pool_names_the_biggest_and_what_it_lacks(tmp_path: Path) -> None:
    pools = SMALL + LARGE.replace("count: 2, memory_gib: 40", "count: 1, memory_gib: 40")
    compiled = compile_config(str(config(tmp_path, pools)))
    [diagnostic] = [d for d in compiled.diagnostics if d.rule == "CAP-001"]
    assert str(diagnostic.position).endswith("org.yaml:15:16")
    assert "pool 'large'" in diagnostic.message
    assert diagnostic.hint is not None
    assert diagnostic.hint.startswith("no pool fits it: the biggest, 'large', has 1 × 40 GiB = 40 GiB and lacks ")


def test_too_many_models_for_a_pool_is_a_warning_at_the_pool(tmp_path: Path) -> None:
    pools = SMALL.replace("[llama3.1:8b]", "[llama3.1:8b, llama3:8b]") + LARGE
    [(severity, _, where, message)] = findings(config(tmp_path, pools), "CAP-002")
    assert (severity, where) == ("warning", "org.yaml:7:7")
    assert message.startswith("pool 'small' serves 2 models but max_loaded_models is 1")


def test_a_pools_cloud_model_is_never_loaded_so_it_counts_for_no_gpu_memory(tmp_path: Path) -> None:
    pools = SMALL.replace("[llama3.1:8b]", "[llama3.1:8b, qwen3-embedding:cloud]") + LARGE
    assert findings(config(tmp_path, pools), "CAP-002") == []
    pools = SMALL.replace("[llama3.1:8b]", "[llama3.1:8b, llama3:8b, qwen3-embedding:cloud]") + LARGE
    [(_, _, _, message)] = findings(config(tmp_path / "three", pools), "CAP-002")
    assert message.startswith("pool 'small' serves 2 models but max_loaded_models is 1"), message


# --- the rules of checks/pools.py -----------------------------------------------------------------


def test_a_model_in_use_that_no_pool_serves_is_an_error_at_the_workspace_line(tmp_path: Path) -> None:
    root = config(tmp_path, workspaces={"team": "llm_override:\n  model: mistral:7b\n"})
    [(severity, rule, where, message)] = findings(root, "POOL-002")
    assert (severity, rule, where) == ("error", "POOL-002", "workspaces/team.yaml:3:10")
    assert message == "the self-hosted model 'mistral:7b' is used here, but no pool in self_hosted.pools serves it"


def test_a_model_in_two_pools_needs_shared_models(tmp_path: Path) -> None:
    pools = SMALL + LARGE.replace("[llama3.1:70b]", "[llama3.1:70b, llama3.1:8b]")
    [(severity, rule, where, message)] = findings(config(tmp_path, pools), "POOL-003")
    assert (severity, rule, where) == ("error", "POOL-003", "org.yaml:15:30")
    assert message.startswith("'llama3.1:8b' is listed by pool 'small' and by pool 'large'")


def test_shared_models_naming_a_model_of_one_pool_is_a_warning(tmp_path: Path) -> None:
    [(severity, rule, where, _)] = findings(config(tmp_path, extra="  shared_models: [llama3.1:8b]\n"), "POOL-007")
    assert (severity, rule, where) == ("warning", "POOL-007", "org.yaml:6:19")


def test_the_single_daemonset_keys_beside_pools_are_errors(tmp_path: Path) -> None:
    found = findings(config(tmp_path, extra="  models: [llama3:8b]\n  nodes: 3\n"), "POOL-001")
    assert [(s, r, w) for s, r, w, _ in found] == [("error", "POOL-001", "org.yaml:6:3"), ("error", "POOL-001", "org.yaml:7:3")]


def test_two_pools_with_one_name_and_min_above_max(tmp_path: Path) -> None:
    pools = SMALL + SMALL.replace("[llama3.1:8b]", "[llama3:8b]").replace("min: 1, max: 3", "min: 4, max: 3")
    found = findings(config(tmp_path, pools), "POOL-004", "POOL-005")
    assert [(r, w) for _, r, w, _ in found] == [("POOL-004", "org.yaml:12:13"), ("POOL-005", "org.yaml:16:23")]


def test_min_zero_is_a_note_that_the_pool_scales_to_zero(tmp_path: Path) -> None:
    [(severity, rule, where, message)] = findings(config(tmp_path, SMALL.replace("min: 1", "min: 0") + LARGE), "POOL-006")
    assert (severity, rule, where) == ("info", "POOL-006", "org.yaml:11:23")
    assert "the first request after that wakes it and waits" in message and "retries the refused connection 56 times" in message
    files = rendered(config(tmp_path / "again", SMALL.replace("min: 1", "min: 0") + LARGE))
    assert files["platform/ollama/scaledobject-ollama-small.yaml"]["spec"]["minReplicaCount"] == 0


# --- cost and explain -----------------------------------------------------------------------------


def test_cost_prices_each_pool_at_min_and_max(tmp_path: Path) -> None:
    result = hks("cost", str(config(tmp_path)))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split() for line in lines if line.startswith(("(pool", "TOTAL"))] == [
        ["(pool", "small)", "1–3", "node(s)", "×", "$0.80/h", "$584.00", "–", "$1,752.00"],
        ["(pool", "large)", "1–2", "node(s)", "×", "$3.00/h", "$2,190.00", "–", "$4,380.00"],
        ["TOTAL", "$2,774.00"],
        ["TOTAL", "AT", "MAX", "$6,132.00"],
    ]


def test_explain_shows_the_pool_of_each_model(tmp_path: Path) -> None:
    root = config(tmp_path, workspaces={"research": "llm_override:\n  model: llama3.1:70b\n"})
    result = hks("explain", str(root), "research", "--key", "pool")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].split() == ["pool", "llama3.1:70b", "→", "pool", "large", "org", f"{root}/org.yaml:15:16"]


# --- every check of self_hosted.models reads the pools' models too --------------------------------


def test_a_pool_model_is_checked_like_self_hosted_models(tmp_path: Path) -> None:
    custom = "{name: team:7b, source: 'http://169.254.169.254/latest/x.gguf', sha256: " + "a" * 64 + "}"
    pools = SMALL.replace("[llama3.1:8b]", f"[llama3.1:8b, llama3, qwen3.5:cloud, {custom}]") + LARGE
    found = {(r, w): m for _, r, w, m in findings(config(tmp_path, pools))}
    assert ("CAT-007", "org.yaml:10:29") in found  # llama3: not pinned
    assert found[("CAT-010", "org.yaml:10:37")].startswith("pool 'small' lists 'qwen3.5:cloud', an Ollama cloud model")
    assert ("GW-017", "org.yaml:10:76") in found  # the metadata address as a GGUF source


# --- alerts -------------------------------------------------------------------------------------

POOL_RULES_TEST = """\
rule_files: [rules.yaml]
evaluation_interval: 1m
tests:
  # The small pool is at zero (KEDA scaled it down): every request to its model fails, and that is no alarm.
  # The large pool runs, yet every request to its model fails: the model is not loaded. Then the
  # large pool loses its pod for longer than 15 minutes.
  - interval: 1m
    input_series:
      - series: 'litellm_deployment_failure_responses_total{api_provider="ollama_chat", litellm_model_name="llama3.1:8b", model_id="assistant.deployment"}'
        values: '0+3x60'
      - series: 'litellm_deployment_total_requests_total{api_provider="ollama_chat", litellm_model_name="llama3.1:8b", model_id="assistant.deployment"}'
        values: '0+3x60'
      - series: 'litellm_deployment_failure_responses_total{api_provider="ollama_chat", litellm_model_name="llama3.1:70b", model_id="research.deployment"}'
        values: '0+2x60'
      - series: 'litellm_deployment_total_requests_total{api_provider="ollama_chat", litellm_model_name="llama3.1:70b", model_id="research.deployment"}'
        values: '0+2x60'
      - series: 'kube_deployment_spec_replicas{namespace="northwind-llm", deployment="ollama-small"}'
        values: '0x60'
      - series: 'kube_deployment_status_replicas_available{namespace="northwind-llm", deployment="ollama-small"}'
        values: '0x60'
      - series: 'kube_deployment_spec_replicas{namespace="northwind-llm", deployment="ollama-large"}'
        values: '1x60'
      - series: 'kube_deployment_status_replicas_available{namespace="northwind-llm", deployment="ollama-large"}'
        values: '1x30 0x30'
    alert_rule_test:
      - eval_time: 15m
        alertname: OllamaModelNotLoaded
        exp_alerts:
          - exp_labels: {severity: critical, organization: northwind, litellm_model_name: "llama3.1:70b", model_id: research.deployment}
      - eval_time: 15m
        alertname: OllamaPoolNotAvailable
        exp_alerts: []
      - eval_time: 50m
        alertname: OllamaModelNotLoaded
        exp_alerts: []
      - eval_time: 50m
        alertname: OllamaPoolNotAvailable
        exp_alerts:
          - exp_labels: {severity: critical, organization: northwind, namespace: northwind-llm, deployment: ollama-large}
"""


@pytest.mark.promtool
def test_the_pool_alerts_fire_on_trouble_and_not_for_a_pool_that_is_off(tmp_path: Path) -> None:
    import shutil
    import subprocess

    from compiler.render import monitoring

    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: run tests/install-tools.sh (CI does)"
    compiled = compile_config(str(ROOT / "examples" / "gpu-pools"))
    assert compiled.config is not None
    groups = monitoring.rule_groups(compiled.config, compiled.workspaces)
    for group in groups:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    yaml = YAML()
    with (tmp_path / "rules.yaml").open("w") as handle:
        yaml.dump({"groups": groups}, handle)
    (tmp_path / "rules_test.yaml").write_text(POOL_RULES_TEST)
    result = subprocess.run([promtool, "test", "rules", str(tmp_path / "rules_test.yaml")], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


# --- storage for pools: ephemeral claims cloned from a VolumeSnapshot -----------------------------
# docs/self-hosted.md, "Storage for pools".

SNAPSHOT_SOURCE = {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot"}


def claim_spec(files: dict[str, Any], path: str) -> dict[str, Any]:
    volumes = {v["name"]: v for v in pod(files, path)["volumes"]}
    spec: dict[str, Any] = volumes["models"]["ephemeral"]["volumeClaimTemplate"]["spec"]
    return spec


@pytest.mark.parametrize(
    ("extra", "large_own", "expected"),
    [
        ("", False, {"small": None, "large": None}),
        ("  storage: {snapshot: ollama-models}\n", False, {"small": "ollama-models", "large": "ollama-models"}),
        ("", True, {"small": None, "large": "ollama-large-models"}),
        ("  storage: {snapshot: ollama-models}\n", True, {"small": "ollama-models", "large": "ollama-large-models"}),
    ],
)
def test_the_claim_is_cloned_from_a_snapshot_only_where_one_is_configured(
    tmp_path: Path, extra: str, large_own: bool, expected: dict[str, str | None]
) -> None:
    large = LARGE + "      snapshot: ollama-large-models\n" if large_own else LARGE
    files = rendered(config(tmp_path, SMALL + large, extra=extra))
    for name, snapshot in expected.items():
        spec = claim_spec(files, f"platform/ollama/deployment-ollama-{name}.yaml")
        assert spec.get("dataSource") == ({**SNAPSHOT_SOURCE, "name": snapshot} if snapshot else None), name
        assert "dataSourceRef" not in spec  # the API server copies dataSource into it
        assert spec["resources"] == {"requests": {"storage": "200Gi"}}


def test_the_daemonset_clones_the_snapshot_too_and_passes_the_strict_schema(tmp_path: Path) -> None:
    org = "llm_config: {provider: ollama, model: llama3.1:8b}\nself_hosted:\n  storage: {storage_class: csi-block, size: 300Gi, snapshot: ollama-models}\n"
    files = rendered(write(tmp_path / "org", {"org.yaml": org}))
    path = "platform/ollama/daemonset-ollama.yaml"
    assert claim_spec(files, path) == {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "300Gi"}},
        "storageClassName": "csi-block",
        "dataSource": {**SNAPSHOT_SOURCE, "name": "ollama-models"},
    }
    # rendered() went through render_checked, which validates every document against the strict
    # Kubernetes schema; the same check refuses a misspelt field, so it would have caught one.
    assert problems(files[path], "1.37") == []
    broken = copy.deepcopy(files[path])
    claim = claim_spec({path: broken}, path)
    claim["dataSourceRefs"] = claim.pop("dataSource")
    assert problems(broken, "1.37"), "the strict schema let an unknown claim field through"


@pytest.mark.parametrize(("extra", "pools", "where"), [
    ("  storage: {type: host-path, snapshot: ollama-models}\n", SMALL + LARGE, "org.yaml:6:40"),
    ("  storage: {type: host-path}\n", SMALL + LARGE + "      snapshot: ollama-large-models\n", "org.yaml:18:17"),
])  # fmt: skip
def test_a_snapshot_with_host_path_is_an_error_at_its_line(tmp_path: Path, extra: str, pools: str, where: str) -> None:
    [(severity, rule, at, message)] = findings(config(tmp_path, pools, extra=extra), "POOL-010")
    assert (severity, rule, at) == ("error", "POOL-010", where), (at, message)
    assert "host-path" in message and "VolumeSnapshot" in message
    assert not findings(config(tmp_path / "ephemeral", pools, extra=extra.replace("type: host-path", "type: ephemeral")), "POOL-010")


def test_each_snapshot_set_is_a_note_that_it_must_exist_first(tmp_path: Path) -> None:
    """hks renders no VolumeSnapshot and cannot see the cluster's: a claim cloned from a missing
    one stays Pending. A note at each name, none without one, and none beside POOL-010's error."""
    pools, extra = SMALL + LARGE + "      snapshot: ollama-large-models\n", "  storage: {snapshot: ollama-models}\n"
    notes = findings(config(tmp_path, pools, extra=extra), "POOL-011")
    assert [(severity, at) for severity, _, at, _ in notes] == [("info", "org.yaml:6:23"), ("info", "org.yaml:18:17")], notes
    assert notes[1][3] == (
        "the VolumeSnapshot 'ollama-large-models' must exist in namespace hexabase-aiops before the pods that clone it "
        "start; until then their claims stay Pending"
    )
    assert not findings(config(tmp_path / "none"), "POOL-011")
    host_path = config(tmp_path / "host-path", pools, extra="  storage: {type: host-path, snapshot: ollama-models}\n")
    assert [rule for _, rule, _, _ in findings(host_path, "POOL-010", "POOL-011")] == ["POOL-010", "POOL-010"]


def test_a_snapshot_keeps_pod_security_restricted(tmp_path: Path) -> None:
    root = config(tmp_path, SMALL + LARGE + "      snapshot: ollama-large-models\n", extra="  storage: {snapshot: ollama-models}\n")
    compiled = compile_config(str(root))
    assert compiled.config is not None and platform_level(compiled.config) == "restricted"
    assert rendered(root)["platform/namespace-hexabase-aiops.yaml"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_the_example_starts_on_a_fresh_cluster_its_snapshot_line_commented_out() -> None:
    """No VolumeSnapshot exists on a fresh cluster, and a claim cloned from a missing one stays
    Pending: the example's pools pull, and its large pool carries the line to uncomment once the
    snapshot is made (docs/self-hosted.md, "Making the snapshot"). Cloning itself is
    test_the_claim_is_cloned_from_a_snapshot_only_where_one_is_configured's."""
    files = rendered(ROOT / "examples" / "gpu-pools")
    for pool in ("small", "large"):
        assert "dataSource" not in claim_spec(files, f"platform/ollama/deployment-ollama-{pool}.yaml"), pool
    text = (ROOT / "examples" / "gpu-pools" / "org.yaml").read_text()
    assert "      # snapshot: ollama-large-models  # only once it exists" in text


def test_the_org_schema_declares_the_snapshot_keys() -> None:
    schema = json.loads((ROOT / "schemas" / "org.schema.json").read_text())
    defs = schema["$defs"]
    for definition in ("Storage", "Pool"):
        snapshot = defs[definition]["properties"]["snapshot"]
        assert snapshot["examples"] and "VolumeSnapshot" in snapshot["description"], definition
