"""Shared machinery of the end-to-end tests: render a config with the real `hks`, run the
pinned LiteLLM proxy (its own venv) on loopback with the rendered gateway config, unmodified,
and talk to it. Used by test_gateway_e2e.py and test_metrics_e2e.py."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest
from ruamel.yaml import YAML

from tests.e2e.standin import StandIn

ROOT = Path(__file__).resolve().parents[2]
LITELLM = Path(os.environ.get("HKS_LITELLM") or ROOT / ".venv-litellm" / "bin" / "litellm")
SECRETS = {
    "LITELLM_MASTER_KEY": "sk-e2e-master-0d5f9c1b7a",
    "OPENAI_API_KEY": "e2e-openai-key-7f3a91c2",
    "ANTHROPIC_API_KEY": "e2e-anthropic-key-52be8d04",
    "AZURE_API_KEY": "e2e-azure-key-9c1d7e30",
}


def render(text: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Renders an org.yaml with the installed `hks`; returns the output folder."""
    config = tmp_path_factory.mktemp("config")
    (config / "org.yaml").write_text(text)
    out = tmp_path_factory.mktemp("out") / "rendered"
    result = subprocess.run(["hks", "render", str(config), "-o", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@contextlib.contextmanager
def running(rendered: Path, standin: StandIn, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Runs the real LiteLLM proxy on loopback with the rendered config, unmodified."""
    assert LITELLM.exists(), f"{LITELLM} is missing: run tests/install-tools.sh (CI does)"
    work = tmp_path_factory.mktemp("gateway")
    yaml = YAML(typ="safe", pure=True)
    configmap = yaml.load((rendered / "platform/gateway/configmap-llm-gateway-config.yaml").read_text())
    (work / "config.yaml").write_text(configmap["data"]["config.yaml"])
    port = free_port()
    env = {"PATH": os.environ["PATH"], "HOME": str(work), **deployment_env(rendered, standin)}
    if "LITELLM_LOG" in os.environ:  # LITELLM_LOG=DEBUG shows what the proxy does, in litellm.log
        env["LITELLM_LOG"] = os.environ["LITELLM_LOG"]
    with (work / "litellm.log").open("w") as log:
        process = subprocess.Popen(
            [str(LITELLM), "--config", str(work / "config.yaml"), "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=work,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_ready(url, process, work / "litellm.log")
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)


def deployment_env(rendered: Path, standin: StandIn) -> dict[str, str]:
    """The Deployment's environment, with the test's secret values for its secretKeyRefs and
    the stand-in for the in-cluster Presidio Services."""
    deployment = YAML(typ="safe", pure=True).load((rendered / "platform/gateway/deployment-llm-gateway.yaml").read_text())
    env: dict[str, str] = {}
    for item in deployment["spec"]["template"]["spec"]["containers"][0]["env"]:
        name = item["name"]
        if "valueFrom" in item:
            env[name] = SECRETS[name]
        elif name.startswith("PRESIDIO_"):
            part = "analyzer" if "ANALYZER" in name else "anonymizer"
            env[name] = f"http://127.0.0.1:{standin.port}/{part}"
        elif name not in ("HOME", "XDG_CACHE_HOME"):
            env[name] = item["value"]
    return env


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"litellm exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health/readiness", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    pytest.fail(f"litellm did not become ready in 180 s:\n{log.read_text()[-4000:]}")


def chat(url: str, model: str, text: str = "hello", **extra: Any) -> tuple[int, Any]:
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": text}], **extra}).encode()
    request = urllib.request.Request(
        f"{url}/chat/completions",
        data=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {SECRETS['LITELLM_MASTER_KEY']}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
