"""Ollama's cloud models (docs/self-hosted.md, "Cloud models"): every Ollama hks renders runs with
OLLAMA_NO_CLOUD=1, and a cloud tag anywhere is an error where data must stay in place (CAT-009)
and a warning elsewhere (CAT-010), at the line that names it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from compiler.builtin import catalogue
from compiler.pipeline import compile_config, render_checked
from tests.conftest import EXAMPLES, ROOT, write

# --- the catalogue marks them ------------------------------------------------------------------

CLOUD = ["gpt-oss:120b-cloud", "qwen3.5:cloud", "kimi-k2:1t-CLOUD", "glm-5.1:Cloud", " deepseek-v3.1:671b-cloud "]
# Names that merely contain "cloud": Ollama (internal/modelref/modelref.go:99-118) reads them as
# local models, so they must not be flagged.
LOCAL = [
    "cloudy:7b",  # "cloud" in the model's name
    "wordcloud:latest",
    "foo-cloud:7b",  # "-cloud" on the name, not the tag
    "foo-cloud",  # no tag at all: foo-cloud:latest
    "llama3:cloudy",  # a tag that starts with "cloud"
    "llama3:cloud-7b",
    "registry.example.com:5000/team/x-cloud",  # the last ":" is the registry's port
    "llama3:8b",
]


@pytest.mark.parametrize("tag", CLOUD)
def test_cloud_tags_are_marked(tag: str) -> None:
    assert catalogue.is_cloud_tag(tag)
    assert catalogue.is_cloud("ollama", tag)


@pytest.mark.parametrize("tag", LOCAL)
def test_local_tags_that_mention_cloud_are_not(tag: str) -> None:
    assert not catalogue.is_cloud_tag(tag)
    assert not catalogue.is_cloud("ollama", tag)


def test_only_a_provider_with_cloud_tags_has_them() -> None:
    assert catalogue.provider_fact("ollama", "cloud_tags") is True
    assert not catalogue.is_cloud("openai", "gpt-4o:cloud")


def test_a_cloud_tag_suggests_its_local_counterpart_when_catalogued() -> None:
    assert catalogue.local_counterpart("ollama", "llama3.1:70b-cloud") == "llama3.1:70b"
    assert catalogue.local_counterpart("ollama", "gpt-oss:120b-cloud") is None


# --- OLLAMA_NO_CLOUD in the rendered DaemonSet ---------------------------------------------------


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container.get("env", [])}


@pytest.mark.parametrize("example", ["acme", "seed"])
def test_every_ollama_container_runs_without_cloud(example: str) -> None:
    path = EXAMPLES / example / "rendered" / "platform" / "ollama" / "daemonset-ollama.yaml"
    spec = YAML(typ="safe").load(path.read_text())["spec"]["template"]["spec"]
    ollama = [c for c in spec["containers"] + spec["initContainers"] if c["name"] in ("ollama", "pull-models")]
    assert [c["name"] for c in ollama] == ["ollama", "pull-models"]
    for container in ollama:
        assert _env(container)["OLLAMA_NO_CLOUD"] == "1", container["name"]


# --- CAT-009 and CAT-010 -------------------------------------------------------------------------

ORG = """\
llm_config:
  provider: ollama
  model: llama3:8b
self_hosted:
  models:
    - llama3:8b
    - {listed}
"""

# Each place a workspace names a model, with the line and column of the tag in workspaces/team.yaml
# (a line lower when a binding line comes first).
PLACES = {
    "model": ("llm_override:\n  model: {tag}\n", "3:10"),
    "fallback": ("llm_override:\n  fallbacks:\n    - {{provider: ollama, model: llama3:8b}}\n    - {{provider: ollama, model: {tag}}}\n", "5:33"),
    "embedding model": ("llm_override:\n  embeddings: {{provider: ollama, model: {tag}}}\n", "3:41"),
}
BINDINGS = {
    "on-premises": ("data_residency: on-premises\n", "is on-premises"),
    "eu": ("data_residency: eu\n", "must keep data in 'eu'"),
    "hipaa": ("compliance: [hipaa]\n", "handles protected health information"),
}


def cloud_findings(root: Path) -> list[tuple[str, str, str, str]]:
    compiled = compile_config(str(root))
    return [
        (d.severity, d.rule, str(d.position).removeprefix(f"{root}/"), d.message)
        for d in compiled.diagnostics
        if d.rule in ("CAT-001", "CAT-009", "CAT-010")
    ]


def team(tmp_path: Path, workspace: str, listed: str = "mistral:7b") -> Path:
    return write(tmp_path / "org", {"org.yaml": ORG.format(listed=listed), "workspaces/team.yaml": "workspace: team\n" + workspace})


@pytest.mark.parametrize("binding", sorted(BINDINGS))
@pytest.mark.parametrize("place", sorted(PLACES))
def test_a_cloud_tag_where_data_must_stay_is_an_error_at_its_line(tmp_path: Path, place: str, binding: str) -> None:
    text, at = PLACES[place]
    bind, why = BINDINGS[binding]
    root = team(tmp_path, bind + text.format(tag="gpt-oss:120b-cloud"))
    [(severity, rule, position, message)] = cloud_findings(root)
    line, column = at.split(":")
    assert (severity, rule, position) == ("error", "CAT-009", f"workspaces/team.yaml:{int(line) + 1}:{column}")
    assert message.startswith(f"workspace 'team': its {place} 'gpt-oss:120b-cloud' is an Ollama cloud model, but the workspace {why}")
    assert "leaves the cluster for ollama.com, and hks's Ollama refuses it (OLLAMA_NO_CLOUD=1: HTTP 403)" in message


@pytest.mark.parametrize("place", sorted(PLACES))
def test_a_cloud_tag_elsewhere_is_a_warning_that_says_it_cannot_answer(tmp_path: Path, place: str) -> None:
    text, at = PLACES[place]
    root = team(tmp_path, text.format(tag="qwen3.5:cloud"))
    [(severity, rule, position, message)] = cloud_findings(root)
    assert (severity, rule, position) == ("warning", "CAT-010", f"workspaces/team.yaml:{at}")
    assert message.endswith("leaves the cluster for ollama.com, and hks's Ollama refuses it (OLLAMA_NO_CLOUD=1: HTTP 403), "
                            "so it cannot answer at all")


@pytest.mark.parametrize(("binding", "rule"), [("data_residency: on-premises\n", "CAT-009"), ("", "CAT-010")])
def test_a_cloud_tag_in_self_hosted_models_is_judged_by_every_workspace(tmp_path: Path, binding: str, rule: str) -> None:
    root = team(tmp_path, binding, listed="gpt-oss:120b-cloud")
    [(_, found, position, message)] = cloud_findings(root)
    assert (found, position) == (rule, "org.yaml:7:7")
    assert message.startswith("self_hosted.models lists 'gpt-oss:120b-cloud', an Ollama cloud model")
    assert ("'team' is on-premises" in message) == (rule == "CAT-009")


def test_an_inherited_cloud_model_is_reported_at_the_org_line_for_the_bound_workspace(tmp_path: Path) -> None:
    org = ORG.format(listed="mistral:7b").replace("model: llama3:8b", "model: qwen3.5:cloud", 1)
    root = write(tmp_path / "org", {
        "org.yaml": org,
        "workspaces/open.yaml": "workspace: open\n",
        "workspaces/vault.yaml": "workspace: vault\ndata_residency: on-premises\n",
    })
    assert sorted((f[0], f[1], f[2]) for f in cloud_findings(root)) == [
        ("error", "CAT-009", "org.yaml:3:10"), ("warning", "CAT-010", "org.yaml:3:10"),
    ]


def test_without_workspaces_the_organisations_defaults_are_judged_by_its_own_residency(tmp_path: Path) -> None:
    org = "data_residency: on-premises\n" + ORG.format(listed="mistral:7b").replace("  model: llama3:8b", "  model: gpt-oss:120b-cloud", 1)
    root = write(tmp_path / "org", {"org.yaml": org})
    [(severity, rule, position, message)] = cloud_findings(root)
    assert (severity, rule, position) == ("error", "CAT-009", "org.yaml:4:10")
    assert message.startswith("the organisation's model 'gpt-oss:120b-cloud' is an Ollama cloud model, but the organisation is on-premises")


@pytest.mark.parametrize("tag", ["cloudy:7b", "foo-cloud:7b", "llama3:cloud-7b"])
def test_a_local_tag_that_mentions_cloud_is_only_checked_against_the_catalogue(tmp_path: Path, tag: str) -> None:
    root = team(tmp_path, f"data_residency: on-premises\nllm_override:\n  model: {tag}\n", listed=tag)
    assert {f[1] for f in cloud_findings(root)} == {"CAT-001"}


def test_an_embedding_model_hint_names_an_embedding_model(tmp_path: Path) -> None:
    root = team(tmp_path, "llm_override:\n  embeddings: {provider: ollama, model: embeddinggemma:cloud}\n")
    [diagnostic] = [d for d in compile_config(str(root)).diagnostics if d.rule == "CAT-010"]
    assert diagnostic.hint is not None and "--embeddings" in diagnostic.hint
    info = catalogue.lookup("ollama", diagnostic.hint.split("such as ")[1].split(" ")[0])
    assert info is not None and catalogue.is_embedding(info)


def test_a_cloud_tag_is_neither_pulled_nor_warmed_up(tmp_path: Path) -> None:
    root = team(tmp_path, "llm_override:\n  model: gpt-oss:120b-cloud\n", listed="qwen3.5:cloud")
    compiled = compile_config(str(root))
    assert compiled.ok, compiled.diagnostics
    docs = {d["kind"] + "/" + d["metadata"]["name"]: d for d in YAML(typ="safe").load_all(render_checked(compiled).stream)}
    assert docs["ConfigMap/ollama-models"]["data"]["models.txt"] == "llama3:8b\n"
    [server] = docs["DaemonSet/ollama"]["spec"]["template"]["spec"]["containers"]
    assert server["startupProbe"]["exec"]["command"][3:] == ["warm-up", "llama3:8b"]
    assert _env(server)["OLLAMA_NO_CLOUD"] == "1"


def test_the_docs_say_where_ollama_reads_the_variable() -> None:
    text = (ROOT / "docs" / "self-hosted.md").read_text()
    section = text.split("## Cloud models\n", 1)[1].split("\n## ", 1)[0]
    for fact in ("OLLAMA_NO_CLOUD=1", "envconfig/config.go:238", "ParseBool", "CAT-009", "CAT-010", "modelref.go:99-118"):
        assert fact in section, fact


def test_the_self_hosted_finding_names_at_most_three_bound_workspaces(tmp_path: Path) -> None:
    files = {f"workspaces/w{i}.yaml": f"workspace: w{i}\ndata_residency: eu\n" for i in range(5)}
    root = write(tmp_path / "org", {"org.yaml": ORG.format(listed="qwen3.5:cloud"), **files})
    [(_, rule, _, message)] = cloud_findings(root)
    assert rule == "CAT-009"
    assert message.endswith("('w0' must keep data in 'eu'; 'w1' must keep data in 'eu'; 'w2' must keep data in 'eu'; and 2 more)")
