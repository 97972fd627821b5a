"""The Argo CD Config Management Plugin in deploy/argocd-cmp/: its generate command run exactly
as argocd-cmp-server runs it, and the kustomize Component that installs the sidecar."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from compiler.builtin import kubeschemas as k8s
from tests.conftest import EXAMPLES, ROOT, hks_process, write
from tests.render.test_render import assert_upstream_valid

PLUGIN_DIR = ROOT / "deploy" / "argocd-cmp"
BIN = Path(sys.executable).parent  # where `pip install` put the hks command


def load(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text())


def generate(app_dir: Path, **argocd: str) -> subprocess.CompletedProcess[str]:
    """spec.generate of plugin.yaml, the way the plugin server runs it: in the Application's
    source folder, with Argo CD's build environment, no terminal and nothing on stdin."""
    spec = load(PLUGIN_DIR / "plugin.yaml")["spec"]["generate"]
    command = [*spec["command"], *spec.get("args", [])]
    env = {
        "PATH": f"{BIN}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(app_dir.parent),
        "ARGOCD_APP_NAME": "llm-config",
        "ARGOCD_APP_NAMESPACE": "hexabase-aiops",
        "ARGOCD_APP_PROJECT_NAME": "default",
        "ARGOCD_APP_REVISION": "f913b6cbf58aa5ae5ca1f8a2b149477aebcbd9d8",
        "ARGOCD_APP_REVISION_SHORT": "f913b6c",
        "ARGOCD_APP_SOURCE_PATH": ".",
        "ARGOCD_APP_SOURCE_REPO_URL": "https://git.example.com/platform/llm-config.git",
        "ARGOCD_APP_SOURCE_TARGET_REVISION": "main",
        "KUBE_VERSION": "1.37.0",
        "KUBE_API_VERSIONS": "v1,apps/v1",
        **argocd,
    }
    executable = shutil.which(command[0], path=env["PATH"])
    assert executable, f"{command[0]} is not on the plugin's PATH"
    return subprocess.run(
        [executable, *command[1:]], cwd=app_dir, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True
    )


def test_plugin_definition() -> None:
    plugin = load(PLUGIN_DIR / "plugin.yaml")
    assert plugin["apiVersion"] == "argoproj.io/v1alpha1" and plugin["kind"] == "ConfigManagementPlugin"
    assert plugin["metadata"]["name"] == "hks"
    assert plugin["spec"]["generate"]["command"] == ["hks", "render", "--stdout"]
    assert plugin["spec"]["discover"] == {"fileName": "./org.yaml"}


def test_generate_prints_the_stream_and_nothing_else(tmp_path: Path) -> None:
    app = tmp_path / "acme-health"
    shutil.copytree(EXAMPLES / "acme", app, ignore=shutil.ignore_patterns("rendered", "explain.txt"))
    result = generate(app)
    assert result.returncode == 0, result.stderr
    documents = list(YAML(typ="safe", pure=True).load_all(result.stdout))
    assert result.stdout.startswith("---\n") and len(documents) > 10
    for document in documents:
        assert isinstance(document, dict) and {"apiVersion", "kind", "metadata"} <= set(document)
        assert not k8s.problems(document, "1.37"), document["metadata"]
    assert not {"Application", "ApplicationSet"} & {d["kind"] for d in documents}
    # The same resources as the committed rendered folder (which also holds the Application).
    committed = [p for p in (EXAMPLES / "acme" / "rendered").rglob("*.yaml") if p.name != "kustomization.yaml"]
    assert len(documents) == len([p for p in committed if "argocd" not in p.parts])


@pytest.mark.parametrize(
    ("source", "organization"),
    [
        ({}, "llm-config"),  # the repository's top: the repository's name
        ({"ARGOCD_APP_SOURCE_PATH": "teams/Acme_Health"}, "acme-health"),
        ({"ARGOCD_APP_SOURCE_REPO_URL": "git@git.example.com:platform/ai.git", "ARGOCD_APP_SOURCE_PATH": ""}, "ai"),
    ],
)
def test_an_unnamed_organization_keeps_its_name_across_syncs(tmp_path: Path, source: dict[str, str], organization: str) -> None:
    """argocd-cmp-server unpacks each revision into a folder with a random name: an org.yaml
    without `organization:` (the seed's) is named from what Argo CD checked out instead."""
    streams = []
    for folder in ("0b8d4c1e-5f3a-4d52-9a51-2f1e7c0d9b11", "7f6e2a90-1c3b-4e8d-b0a4-5d9c8e7f6a21"):
        app = tmp_path / folder
        shutil.copytree(EXAMPLES / "seed", app, ignore=shutil.ignore_patterns("rendered", "explain.txt"))
        result = generate(app, **source)
        assert result.returncode == 0, result.stderr
        streams.append(result.stdout)
    assert streams[0] == streams[1]
    assert f"hks.dev/organization: {organization}\n" in streams[0]


def test_warnings_go_to_stderr(tmp_path: Path) -> None:
    app = write(tmp_path / "demo", {"org.yaml": "llm_config:\n  provider: openai\n  model: gpt-5.4-mini\n  rate_limit: {rpm: 60}\nworkspaces:\n  a: {}\n"})
    result = generate(app)
    assert result.returncode == 0, result.stderr
    assert "warning[GW-003]" in result.stderr and "warning[" not in result.stdout
    assert all(isinstance(d, dict) for d in YAML(typ="safe", pure=True).load_all(result.stdout))


def test_broken_config_fails_with_nothing_on_stdout(tmp_path: Path) -> None:
    app = tmp_path / "broken"
    shutil.copytree(EXAMPLES / "broken" / "value-errors", app)
    result = generate(app)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "org.yaml:2:13: error[SCHEMA-005]" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("files", [{}, {"README.md": "not a config\n"}, {"workspaces/a.yaml": "llm_override: {}\n"}])
def test_a_folder_without_config_is_an_error_never_an_empty_stream(files: dict[str, str], tmp_path: Path) -> None:
    app = write(tmp_path / "app", files) if files else tmp_path
    result = generate(app)
    assert result.returncode != 0
    assert result.stdout == ""
    assert "error[REPO-001]" in result.stderr


def test_a_missing_folder_is_an_error() -> None:
    result = hks_process("render", "--stdout", "no-such-folder")
    assert result.returncode == 2 and result.stdout == ""
    assert "no-such-folder: no such config folder" in result.stderr


REPO_SERVER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: argocd-repo-server
spec:
  selector:
    matchLabels: {app.kubernetes.io/name: argocd-repo-server}
  template:
    metadata:
      labels: {app.kubernetes.io/name: argocd-repo-server}
    spec:
      containers:
        - name: argocd-repo-server
          image: quay.io/argoproj/argocd:v3.6.3
      volumes:
        - name: var-files
          emptyDir: {}
        - name: plugins
          emptyDir: {}
"""


@pytest.mark.kubectl
def test_component_adds_the_sidecar_to_the_repo_server(tmp_path: Path) -> None:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is needed for this test"
    overlay = write(
        tmp_path,
        {
            "repo-server.yaml": REPO_SERVER,
            "kustomization.yaml": json.dumps(
                {"resources": ["repo-server.yaml"], "components": ["hks-cmp"], "namespace": "argocd"}
            ),
        },
    )
    shutil.copytree(PLUGIN_DIR, overlay / "hks-cmp")  # as a remote component is fetched: the folder alone
    result = subprocess.run([kubectl, "kustomize", str(overlay)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    documents = {d["kind"]: d for d in YAML(typ="safe", pure=True).load_all(result.stdout)}
    config_map = documents["ConfigMap"]
    assert config_map["metadata"]["name"].startswith("hks-cmp-plugin-")  # hashed: a change restarts the sidecar
    assert YAML(typ="safe", pure=True).load(config_map["data"]["plugin.yaml"]) == load(PLUGIN_DIR / "plugin.yaml")
    pod = documents["Deployment"]["spec"]["template"]["spec"]
    sidecar = next(c for c in pod["containers"] if c["name"] == "hks")
    assert sidecar["command"] == ["/var/run/argocd/argocd-cmp-server"]
    assert sidecar["securityContext"]["runAsUser"] == 999
    mounts = {m["mountPath"]: m for m in sidecar["volumeMounts"]}
    assert mounts["/home/argocd/cmp-server/config/plugin.yaml"]["subPath"] == "plugin.yaml"
    assert {"/var/run/argocd", "/home/argocd/cmp-server/plugins", "/tmp"} <= set(mounts)
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["hks-cmp-plugin"]["configMap"]["name"] == config_map["metadata"]["name"]
    assert {"var-files", "plugins"} <= set(volumes)
    assert not k8s.problems(documents["Deployment"], "1.37")
    default = documents["Deployment"]["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"]
    assert default == "argocd-repo-server" and default in {c["name"] for c in pod["containers"]}


def test_example_application_uses_the_plugin() -> None:
    app = load(PLUGIN_DIR / "application.yaml")
    assert app["spec"]["source"]["plugin"] == {"name": "hks"}
    assert not k8s.problems(app, "1.37")
    assert_upstream_valid([(PLUGIN_DIR / "application.yaml", app)])
