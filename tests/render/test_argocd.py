"""Argo CD: the rendered Application(s) and ApplicationSet, and the sync waves on resources."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from compiler.pipeline import compile_config, render_checked
from tests.conftest import EXAMPLES, write
from tests.render.test_render import assert_upstream_valid

ACME_ORG = (EXAMPLES / "acme" / "org.yaml").read_text()
WAVE = "argocd.argoproj.io/sync-wave"


# acme's encryption in transit, kept in every variant: its HIPAA workspaces need it (HIPAA-007).
ACME_TLS = "  tls:\n    issuer: {name: acme-internal-ca, kind: ClusterIssuer}\n    ca: {secret: acme-internal-ca, key: tls.crt}\n"


def render_with(tmp_path: Path, cluster: str) -> dict[str, Any]:
    """Renders acme with its `cluster:` block replaced (its TLS kept); returns path → document."""
    cluster += ACME_TLS
    head, _, rest = ACME_ORG.partition("\ncluster:\n")
    _, _, tail = rest.partition("\nworkspaces:\n")
    write(tmp_path / "acme-health", {"org.yaml": f"{head}\ncluster:\n{cluster}\nworkspaces:\n{tail}"})
    shutil.copytree(EXAMPLES / "acme" / "workspaces", tmp_path / "acme-health" / "workspaces")
    compiled = compile_config(str(tmp_path / "acme-health"))
    assert compiled.ok, compiled.diagnostics
    files = render_checked(compiled).files
    return {path: YAML(typ="safe").load(text) for path, text in files.items()}


def test_no_repo_url_no_applications(tmp_path: Path) -> None:
    docs = render_with(tmp_path, "  namespace: hexabase-aiops\n")
    assert not [p for p in docs if p.startswith("argocd/")]


def test_single_application_deploys_the_rendered_folder(tmp_path: Path) -> None:
    docs = render_with(tmp_path, "  repo_url: https://git.example/llm.git\n  revision: v3\n  path: deploy/rendered\n")
    app = docs["argocd/application-acme-health-llm.yaml"]
    assert app["metadata"]["namespace"] == "argocd"
    assert app["spec"]["source"] == {"repoURL": "https://git.example/llm.git", "targetRevision": "v3", "path": "deploy/rendered"}
    assert app["spec"]["destination"] == {"server": "https://kubernetes.default.svc", "namespace": "hexabase-aiops"}
    assert app["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert "CreateNamespace=true" in app["spec"]["syncPolicy"]["syncOptions"]
    # The Application is not part of what it deploys, and has its own kustomization.
    assert not any(r.startswith("argocd/") for r in docs["kustomization.yaml"]["resources"])
    assert docs["argocd/kustomization.yaml"]["resources"] == ["application-acme-health-llm.yaml"]


def test_per_workspace_applicationset(tmp_path: Path) -> None:
    docs = render_with(
        tmp_path,
        "  repo_url: https://git.example/llm.git\n  applications: per-workspace\n  destination: {name: prod-eu}\n",
    )
    platform = docs["argocd/application-acme-health-llm-platform.yaml"]
    assert platform["spec"]["source"]["path"] == "rendered/platform"
    assert platform["spec"]["destination"] == {"name": "prod-eu", "namespace": "hexabase-aiops"}
    assert platform["metadata"]["annotations"][WAVE] == "-1"
    appset = docs["argocd/applicationset-acme-health-llm-workspaces.yaml"]
    generator = appset["spec"]["generators"][0]["git"]
    assert generator["files"] == [{"path": "rendered/workspaces/*/namespace-*.yaml"}]
    template = appset["spec"]["template"]["spec"]
    assert template["source"]["path"] == "{{.path.path}}"
    assert template["destination"]["namespace"] == "{{.metadata.name}}"
    # Each workspace folder has exactly one file the generator matches.
    folders = {p.rsplit("/", 1)[0] for p in docs if p.startswith("workspaces/")}
    for folder in folders:
        assert len([p for p in docs if p.startswith(folder + "/namespace-")]) == 1, folder


def test_a_config_in_a_sub_folder_of_the_repository(tmp_path: Path) -> None:
    """cluster.path is below the config folder (render --check reads it there); Argo CD reads
    the repository from its top, so the Applications name config_folder/path."""
    single = render_with(tmp_path / "a", "  repo_url: https://git.example/mono.git\n  config_folder: teams/llm-config\n")
    assert single["argocd/application-acme-health-llm.yaml"]["spec"]["source"]["path"] == "teams/llm-config/rendered"
    split = render_with(
        tmp_path / "b", "  repo_url: https://git.example/mono.git\n  config_folder: llm/\n  path: out\n  applications: per-workspace\n"
    )
    assert split["argocd/application-acme-health-llm-platform.yaml"]["spec"]["source"]["path"] == "llm/out/platform"
    generator = split["argocd/applicationset-acme-health-llm-workspaces.yaml"]["spec"]["generators"][0]["git"]
    assert generator["files"] == [{"path": "llm/out/workspaces/*/namespace-*.yaml"}]


@pytest.mark.parametrize("path", ["..", "../outside", "/abs/out", "rendered/../..", ".", "./rendered", ".git", "a b"])
def test_a_rendered_folder_outside_the_config_folder_is_an_error(tmp_path: Path, path: str) -> None:
    write(tmp_path / "c", {"org.yaml": f"llm_config: {{provider: ollama, model: 'llama3:8b'}}\ncluster: {{path: '{path}'}}\n"})
    compiled = compile_config(str(tmp_path / "c"))
    assert [(d.rule, d.position.line, d.position.column) for d in compiled.diagnostics] == [("SCHEMA-006", 2, 17)]
    assert "cluster.path must be a folder below the config folder" in compiled.diagnostics[0].message


@pytest.mark.parametrize("path", ["workspaces", "policies/out", "schemas/", "secrets"])
def test_a_rendered_folder_inside_the_configs_own_folders_is_an_error(tmp_path: Path, path: str) -> None:
    write(tmp_path / "c", {"org.yaml": f"llm_config: {{provider: ollama, model: 'llama3:8b'}}\ncluster: {{path: '{path}'}}\n"})
    compiled = compile_config(str(tmp_path / "c"))
    assert [(d.rule, d.position.line, d.position.column) for d in compiled.diagnostics] == [("REPO-007", 2, 17)]


def test_applications_pass_the_upstream_crd_schemas(tmp_path: Path) -> None:
    single = render_with(tmp_path / "a", "  repo_url: https://git.example/llm.git\n")
    per = render_with(tmp_path / "b", "  repo_url: https://git.example/llm.git\n  applications: per-workspace\n")
    found = [(p, d) for docs in (single, per) for p, d in docs.items() if p.startswith("argocd/") and d["kind"] != "Kustomization"]
    assert {d["kind"] for _, d in found} == {"Application", "ApplicationSet"}
    assert_upstream_valid(found)


def test_sync_waves_put_namespaces_and_secrets_before_workloads() -> None:
    waves = {}
    for path in sorted((EXAMPLES / "acme" / "rendered").rglob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        doc = YAML(typ="safe").load(path.read_text())
        waves.setdefault(doc["kind"], set()).add(int(doc["metadata"].get("annotations", {}).get(WAVE, "0")))
    assert waves["Namespace"] == {-2}
    assert waves["ExternalSecret"] == {-1}
    for kind in ("Deployment", "DaemonSet", "ConfigMap", "Service"):
        assert waves[kind] == {0}, kind


@pytest.mark.kubectl
def test_kubectl_kustomize_accepts_the_argocd_folder() -> None:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is needed for this test"
    result = subprocess.run([kubectl, "kustomize", str(EXAMPLES / "acme" / "rendered" / "argocd")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert [d["kind"] for d in YAML(typ="safe").load_all(result.stdout)] == ["Application"]


@pytest.mark.parametrize("name", ["acme", "seed"])
def test_stream_never_holds_an_application(name: str) -> None:
    compiled = compile_config(str(EXAMPLES / name))
    stream = render_checked(compiled).stream
    kinds = [d["kind"] for d in YAML(typ="safe").load_all(stream)]
    assert kinds and "Application" not in kinds and "ApplicationSet" not in kinds


def test_application_names_too_long_for_argo_cd(tmp_path: Path) -> None:
    long_name = "w" * 60
    org = (
        "organization: acme\nllm_config: {provider: openai, model: gpt-5.4-mini}\n"
        "cluster: {repo_url: https://git.example/llm.git, applications: per-workspace}\n"
        f"workspaces:\n  {long_name}: {{}}\n"
    )
    write(tmp_path / "c", {"org.yaml": org})
    compiled = compile_config(str(tmp_path / "c"))
    found = [d for d in compiled.diagnostics if d.rule == "ARGO-001"]
    assert len(found) == 1 and found[0].severity.value == "warning" and compiled.ok
    assert found[0].position.line == 1 and f"acme-llm-{long_name}" in found[0].message
    single = org.replace("applications: per-workspace", "applications: single")
    write(tmp_path / "d", {"org.yaml": single})
    assert not [d for d in compile_config(str(tmp_path / "d")).diagnostics if d.rule == "ARGO-001"]
