"""`hks logs`: the kubectl commands must select exactly what `hks render` writes."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from compiler.tools.logs import COMPONENT_LABEL, COMPONENTS
from tests.conftest import ROOT, hks, hks_command, write

WORKLOADS = ("DaemonSet", "Deployment", "StatefulSet")


def rendered(tmp_path: Path, example: str) -> list[dict[str, Any]]:
    out = tmp_path / "out"
    assert hks("render", f"examples/{example}", "-o", str(out)).exit_code == 0
    yaml = YAML(typ="safe", pure=True)
    return [yaml.load(p.read_text()) for p in sorted(out.rglob("*.yaml")) if p.name != "kustomization.yaml"]


def parse(line: str) -> dict[str, Any]:
    args = shlex.split(line)
    assert args[:2] == ["kubectl", "logs"]
    found = {"namespace": args[args.index("-n") + 1], "container": args[args.index("-c") + 1]}
    found["selector"] = dict(pair.split("=", 1) for pair in args[args.index("-l") + 1].split(","))
    return found


def run(args: list[str], env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*hks_command(), *args], cwd=cwd, env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize("example", ["acme", "seed"])
def test_printed_commands_select_exactly_the_rendered_workloads(example: str, tmp_path: Path) -> None:
    documents = rendered(tmp_path, example)
    result = hks("logs", "--print", "-C", f"examples/{example}")
    assert result.exit_code == 0, result.output
    printed = [parse(line) for line in result.output.splitlines()]
    expected = []
    for doc in documents:
        if doc["kind"] in WORKLOADS and doc["metadata"]["labels"].get(COMPONENT_LABEL) in COMPONENTS.values():
            for container in doc["spec"]["template"]["spec"]["containers"]:
                expected.append((doc["metadata"]["namespace"], container["name"], doc))
    assert len(printed) == len(expected) > 0
    for command, (namespace, container, doc) in zip(printed, expected):
        assert command["namespace"] == namespace and command["container"] == container
        pod_labels = doc["spec"]["template"]["metadata"]["labels"]
        assert command["selector"].items() <= pod_labels.items()
        others = [
            d for d in documents
            if d["kind"] in WORKLOADS and d is not doc and d["metadata"]["namespace"] == namespace
            and command["selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]  # fmt: skip
        assert not others, "the selector would also pick another workload's pods"


@pytest.mark.parametrize("component", sorted(COMPONENTS))
def test_each_component_prints_exactly_its_rendered_workloads(component: str, tmp_path: Path) -> None:
    documents = rendered(tmp_path, "acme")
    labelled = [d for d in documents if d["kind"] in WORKLOADS and d["metadata"]["labels"].get(COMPONENT_LABEL) == COMPONENTS[component]]
    containers = sorted(c["name"] for d in labelled for c in d["spec"]["template"]["spec"]["containers"])
    result = hks("logs", component, "--print", "-C", "examples/acme")
    assert result.exit_code == 0, result.output
    assert containers and sorted(parse(line)["container"] for line in result.output.splitlines()) == containers


def test_gateway_and_pii_commands_name_the_rendered_containers() -> None:
    lines = hks("logs", "--print", "-C", "examples/acme").output.splitlines()
    assert "kubectl logs -n hexabase-aiops -l app.kubernetes.io/name=llm-gateway -c litellm --prefix" in lines
    assert any("-c presidio-analyzer" in line for line in lines) and any("-c presidio-anonymizer" in line for line in lines)


def test_a_component_the_config_does_not_render_is_said_clearly() -> None:
    result = hks("logs", "pii", "--print", "-C", "examples/seed")  # no workspace sets sanitization.pii
    assert result.exit_code == 1
    assert "this config renders no pii workload" in result.output


def test_a_config_with_errors_still_shows_its_logs(tmp_path: Path) -> None:
    """Troubleshooting during an incident must not wait for a clean config."""
    org = "llm_config: {provider: ollama, model: 'llama3:8b'}\nself_hosted:\n  gpu: {memory_gib: 16}\n  models: ['llama3:8b', 'llama3:70b']\n"
    write(tmp_path / "repo", {"org.yaml": org})
    result = run(["logs", "ollama", "--print", "-C", str(tmp_path / "repo")], dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert result.stderr == "hks: note: the config has 1 error(s) (see hks validate); the logs are of what it renders\n"
    assert parse(result.stdout.splitlines()[0])["container"] == "ollama"


def test_flags_reach_kubectl() -> None:
    result = hks("logs", "ollama", "--print", "-n", "other", "-f", "--since", "1h", "--tail", "50", "-C", "examples/acme")
    assert result.output == (
        "kubectl logs -n other -l app.kubernetes.io/name=ollama -c ollama --prefix -f "
        "--max-log-requests=50 --since=1h --tail=50\n"
        # acme serves Ollama over TLS: its pods' proxy is a container of its own (cluster.tls)
        "kubectl logs -n other -l app.kubernetes.io/name=ollama -c tls-proxy --prefix -f "
        "--max-log-requests=50 --since=1h --tail=50\n"
    )


@pytest.mark.kubectl
def test_seed_troubleshooting_command_without_a_cluster_passes_kubectl_status_through(tmp_path: Path) -> None:
    """Real kubectl, with a kubeconfig that names no cluster."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("")
    env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    printed = run(["logs", "--print", "-n", "hexabase-aiops", "-C", "examples/acme"], env).stdout.splitlines()
    direct = subprocess.run(shlex.split(printed[0]), env=env, capture_output=True, text=True, timeout=60)
    assert direct.returncode != 0
    result = run(["logs", "-n", "hexabase-aiops", "-C", "examples/acme"], env)
    assert result.returncode == direct.returncode
    last = [line for line in direct.stderr.splitlines() if line.strip()][-1]
    assert result.stderr == (
        "hks: kubectl cannot reach a Kubernetes cluster: check `kubectl config current-context` and KUBECONFIG\n"
        f"  kubectl: {last} (-v shows all it said)\n"
    ), "one clear line, kubectl's own message under it, none of its client's retries"
    verbose = run(["logs", "-v", "-n", "hexabase-aiops", "-C", "examples/acme"], env)
    assert verbose.returncode == direct.returncode and last in verbose.stderr
    assert verbose.stderr.count("\n") > 2 and verbose.stderr.endswith("and KUBECONFIG\n")


def test_kubectl_missing_is_said_clearly(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path)}
    result = run(["logs", "-C", "examples/acme"], env)
    assert result.returncode == 2
    assert "kubectl is not installed or not on PATH" in result.stderr


def test_unknown_component_suggests() -> None:
    result = hks("logs", "olama", "-C", "examples/acme")
    assert result.exit_code == 2 and "Did you mean 'ollama'?" in result.output
