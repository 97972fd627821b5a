"""The cluster's own namespaces and node folders are not the config's to take (docs/security.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.pipeline import compile_config
from tests.conftest import write

ORG = "llm_config:\n  provider: openai\n  model: gpt-5.4-mini\n"


def rules(root: Path) -> list[tuple[str, str, int]]:
    return [(d.rule, d.position.path, d.position.line) for d in compile_config(str(root)).diagnostics if d.is_error]


@pytest.mark.parametrize(
    "namespace", ["kube-system", "kube-public", "kube-node-lease", "default", "kube-anything", "argocd", "monitoring"]
)
def test_a_workspace_named_after_a_system_namespace_is_refused(tmp_path: Path, namespace: str) -> None:
    write(tmp_path, {"org.yaml": ORG, f"workspaces/{namespace}.yaml": "llm_override: {temperature: 0.5}\n"})
    assert rules(tmp_path) == [("REPO-014", f"{tmp_path}/workspaces/{namespace}.yaml", 1)]


def test_a_workspace_namespace_and_the_platform_namespace_are_refused_too(tmp_path: Path) -> None:
    write(tmp_path, {
        "org.yaml": ORG + "cluster:\n  namespace: kube-system\nmonitoring:\n  prometheus_namespace: observability\n",
        "workspaces/app.yaml": "namespace: observability\n",
    })
    assert sorted(rules(tmp_path)) == [
        ("REPO-014", f"{tmp_path}/org.yaml", 5),
        ("REPO-014", f"{tmp_path}/workspaces/app.yaml", 1),
    ]


def test_ordinary_namespaces_stay_clean(tmp_path: Path) -> None:
    write(tmp_path, {"org.yaml": ORG, "workspaces/kubeflow.yaml": "namespace: team-default\n"})
    assert rules(tmp_path) == []


SELF_HOSTED = ORG + "self_hosted:\n  models: [llama3:8b]\n  storage:\n    type: host-path\n"


@pytest.mark.parametrize(
    "path", ["/", "/etc", "/var/lib/kubelet", "/var/lib/hks", "/var/lib/hks/", "/var/lib/hks/../../kubelet",
             "/mnt//x", "/mnt/./x", "/root/models", "/usr/local/ollama", "/var/run/containerd"],
)
def test_a_host_path_outside_a_folder_of_its_own_is_refused(tmp_path: Path, path: str) -> None:
    write(tmp_path, {"org.yaml": SELF_HOSTED + f"    host_path: {path}\n"})
    assert ("SCHEMA-010", f"{tmp_path}/org.yaml", 8) in rules(tmp_path)


@pytest.mark.parametrize("path", ["", "    host_path: /var/lib/hks/ollama\n", "    host_path: /mnt/nvme0/ollama\n"])
def test_a_host_path_of_its_own_is_clean(tmp_path: Path, path: str) -> None:
    write(tmp_path, {"org.yaml": SELF_HOSTED + path})
    assert [rule for rule, _, _ in rules(tmp_path) if rule == "SCHEMA-010"] == []
