"""Shared machinery of the end-to-end tests: render a config with the real `hks`, run the
pinned LiteLLM proxy (its own venv) on loopback with the rendered gateway config, unmodified,
and talk to it. Used by test_gateway_e2e.py and test_metrics_e2e.py."""

from __future__ import annotations

import contextlib
import json
import os
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest
from ruamel.yaml import YAML

from tests.conftest import hks_process
from tests.e2e import launch
from tests.e2e.kubeapi import API_AUDIENCE, KubeAPI, token
from tests.e2e.standin import StandIn

ROOT = Path(__file__).resolve().parents[2]
# The token audience of a gateway in the default platform namespace (routing ConfigMap).
AUDIENCE = "llm-gateway.hexabase-aiops.svc"
SECRETS = {
    "LITELLM_MASTER_KEY": "sk-e2e-master-0d5f9c1b7a",
    "OPENAI_API_KEY": "e2e-openai-key-7f3a91c2",
    "ANTHROPIC_API_KEY": "e2e-anthropic-key-52be8d04",
    "AZURE_API_KEY": "e2e-azure-key-9c1d7e30",
}


def render(text: str, tmp_path_factory: pytest.TempPathFactory, files: dict[str, str] | None = None) -> Path:
    """Renders an org.yaml (and other config files) with `hks` as a process; returns the output folder."""
    config = tmp_path_factory.mktemp("config")
    (config / "org.yaml").write_text(text)
    for name, content in (files or {}).items():
        (config / name).parent.mkdir(parents=True, exist_ok=True)
        (config / name).write_text(content)
    out = tmp_path_factory.mktemp("out") / "rendered"
    result = hks_process("render", str(config), "-o", str(out))  # a fork of the worker's imported hks
    assert result.returncode == 0, result.stdout + result.stderr
    return out


@contextlib.contextmanager
def running(
    rendered: Path,
    standin: StandIn,
    kubeapi: KubeAPI,
    litellm: Path,
    tmp_path_factory: pytest.TempPathFactory,
    secrets: dict[str, str] | None = None,
    injected: dict[str, str] | None = None,
    resolve: dict[str, str] | None = None,
) -> Iterator[str]:
    """Runs the real LiteLLM proxy on loopback with the rendered config, unmodified: every file of
    the gateway's ConfigMap in one folder, as the Deployment mounts it. `secrets` adds values for
    the Deployment's secretKeyRefs (the Redis connection); `injected`, variables the cluster adds
    to the pod beside the Deployment's own (a cloud's workload identity webhook); `resolve`, what
    the cluster's DNS would do: each in-cluster Service URL in config.yaml (`http://NAME.NS.svc.
    cluster.local:PORT`) replaced by the loopback stand-in that plays it, and nothing else."""
    work = tmp_path_factory.mktemp("gateway")
    mount_config(rendered, work)
    if resolve:
        text = (work / "config.yaml").read_text()
        for service, loopback in resolve.items():
            assert service in text, service
            text = text.replace(service, loopback)
        (work / "config.yaml").write_text(text)
    port = free_port()
    env = {"PATH": os.environ["PATH"], "HOME": str(home(litellm, tmp_path_factory)), **deployment_env(rendered, standin, secrets or {}), **kubeapi.env()}
    env.update(injected or {})
    if "LITELLM_LOG" in os.environ:  # LITELLM_LOG=DEBUG shows what the proxy does, in litellm.log
        env["LITELLM_LOG"] = os.environ["LITELLM_LOG"]
    log = work / "litellm.log"
    proxy = launch.start(litellm, ["--config", str(work / "config.yaml"), "--host", "127.0.0.1", "--port", str(port)], work, env, log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proxy, log)
        yield url
    finally:
        proxy.stop()


def home(litellm: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The home folder of every proxy of a release: one, as the import of a forked proxy saw it
    (tests/e2e/launch.py); the Deployment's own HOME is an emptyDir, as empty as this."""
    folder = tmp_path_factory.getbasetemp() / f"home-{litellm.parent.parent.name}"
    folder.mkdir(exist_ok=True)
    return folder


def mount_config(rendered: Path, folder: Path) -> None:
    """The gateway's files in `folder` as its Deployment mounts them: the ConfigMap's keys, or,
    for a config split over several ConfigMaps, the parts put together by the Deployment's own
    init container command, run here with /bin/sh."""
    yaml = YAML(typ="safe", pure=True)
    gateway = rendered / "platform/gateway"
    pod = yaml.load((gateway / "deployment-llm-gateway.yaml").read_text())["spec"]["template"]["spec"]
    init = {c["name"]: c for c in pod.get("initContainers", [])}.get("assemble-config")
    if init is None:
        for name, text in yaml.load((gateway / "configmap-llm-gateway-config.yaml").read_text())["data"].items():
            (folder / name).write_text(text)
        return
    parts = folder.parent / (folder.name + "-parts")
    parts.mkdir()
    (sources,) = [v["projected"]["sources"] for v in pod["volumes"] if v["name"] == "config-parts"]
    for source in sources:
        for name, text in yaml.load((gateway / f"configmap-{source['configMap']['name']}.yaml").read_text())["data"].items():
            (parts / name).write_text(text)
    *command, source_folder, target_folder = init["command"]
    assert (source_folder, target_folder) == ("/etc/litellm-parts", "/etc/litellm")
    subprocess.run([*command, str(parts), str(folder)], check=True)


def deployment_env(rendered: Path, standin: StandIn, secrets: dict[str, str]) -> dict[str, str]:
    """The Deployment's environment, with the test's secret values for its secretKeyRefs and
    the stand-in for the in-cluster Presidio Services."""
    deployment = YAML(typ="safe", pure=True).load((rendered / "platform/gateway/deployment-llm-gateway.yaml").read_text())
    env: dict[str, str] = {}
    for item in deployment["spec"]["template"]["spec"]["containers"][0]["env"]:
        name = item["name"]
        if "valueFrom" in item:
            env[name] = {**SECRETS, **secrets}[name]
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


def wait_ready(url: str, proxy: launch.Proxy, log: Path, context: ssl.SSLContext | None = None) -> None:
    """Until the proxy answers its readiness route (over HTTPS with `context`)."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if (code := proxy.poll()) is not None:
            pytest.fail(f"litellm exited with {code}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health/readiness", timeout=2, context=context) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    pytest.fail(f"litellm did not become ready in 180 s:\n{log.read_text()[-4000:]}")


def workspace_token(model: str) -> str:
    """The projected token of a pod in the namespace of the workspace an alias belongs to (the
    workspace's name, which is its namespace unless the config says otherwise)."""
    return token(model.split(".")[0], AUDIENCE)


def scrape_token() -> str:
    """What Kubernetes writes into the ServiceMonitor's token Secret: a token of the gateway's
    metrics account, for the API server's own audience."""
    return token("hexabase-aiops", API_AUDIENCE, account="llm-gateway-metrics")


def chat(url: str, model: str, text: str = "hello", *, credential: str | None = None, **extra: Any) -> tuple[int, Any]:
    """A chat request as the alias's own workspace sends it, unless `credential` says otherwise."""
    body = {"model": model, "messages": [{"role": "user", "content": text}], **extra}
    return post(url, "/chat/completions", body, credential or workspace_token(model))


def embed(url: str, model: str, text: Any = "hello", *, credential: str | None = None, **extra: Any) -> tuple[int, Any]:
    """An embeddings request as the alias's own workspace sends it, unless `credential` says otherwise."""
    return post(url, "/v1/embeddings", {"model": model, "input": text, **extra}, credential or workspace_token(model))


def post(url: str, path: str, body: Any, credential: str | None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {credential}"} if credential else {})}
    request = urllib.request.Request(f"{url}{path}", data=json.dumps(body).encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def get(url: str, credential: str | None = None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {credential}"} if credential else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
