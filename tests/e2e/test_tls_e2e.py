"""End to end, `cluster.tls`: the real LiteLLM proxy started with the TLS settings hks renders
(SSL_CERTFILE_PATH, SSL_KEYFILE_PATH and SSL_CERT_FILE, from its Deployment, with the mounted
files in a test folder) serves HTTPS on loopback with a certificate from a test CA, answers a
client that verifies that CA, refuses plain HTTP and a client that trusts another CA, and makes
its own calls through the CA bundle: to a public-roots-signed upstream as before, and over HTTPS
to an Ollama behind the rendered nginx proxy (when nginx is installed)."""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from compiler.render.components import tls
from tests import tlsca
from tests.e2e import launch
from tests.e2e.gateway import chat, deployment_env, free_port, home, mount_config, render, wait_ready
from tests.e2e.kubeapi import KubeAPI
from tests.e2e.standin import StandIn

NAMESPACE = "hexabase-aiops"

ORG = """\
organization: e2e-tls
llm_config:
  provider: openai
  model: gpt-4o
providers:
  openai:
    endpoint: http://127.0.0.1:{port}/v1
  ollama:
    endpoint: https://localhost:{ollama}
gateway:
  replicas: {{min: 1, max: 1}}
cluster:
  tls:
    issuer: {{name: e2e-ca, kind: ClusterIssuer}}
    ca: {{secret: e2e-ca}}
workspaces:
  chat: {{}}
  local:
    llm_override: {{provider: ollama, model: "llama3:8b"}}
"""


def _nginx() -> str | None:
    return shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


@pytest.fixture(scope="module")
def ca() -> tlsca.CA:
    return tlsca.make_ca("hks e2e CA")


@pytest.fixture(scope="module")
def ollama_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def ollama_proxy(
    ca: tlsca.CA, ollama_port: int, standin: StandIn, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[int | None]:
    """The rendered nginx config in front of the stand-in (as Ollama), serving a certificate from
    the test CA; only its ports and folders moved. None when nginx is not installed."""
    nginx = _nginx()
    if nginx is None:
        yield None
        return
    work = tmp_path_factory.mktemp("ollama-proxy")
    certs = tlsca.issue(ca, ["localhost"], work / "tls")
    (work / "tmp").mkdir()
    text = tls.proxy_config(11434).replace("listen 11434 ssl;", f"listen 127.0.0.1:{ollama_port} ssl;")
    text = text.replace("http://127.0.0.1:11435;", f"http://127.0.0.1:{standin.port};")
    text = text.replace(" /tmp/", f" {work}/tmp/").replace(tls.CERT_DIR, str(certs))
    (work / "ollama.conf").write_text(text)
    user = ["-g", "user root;"] if os.geteuid() == 0 else []
    process = subprocess.Popen([nginx, "-c", str(work / "ollama.conf"), "-p", str(work), "-e", "stderr", *user])
    try:
        _wait_port(ollama_port, process)
        yield ollama_port
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        assert process.poll() is None, f"exited with {process.returncode}"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    pytest.fail(f"nothing listens on {port}")


@pytest.fixture(scope="module")
def gateway(
    litellm: Path,
    standin: StandIn,
    kubeapi: KubeAPI,
    ca: tlsca.CA,
    ollama_port: int,
    ollama_proxy: int | None,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, Path]]:
    """The proxy with the Deployment's environment, unmodified except that the paths under the
    rendered mounts (/etc/hks/tls, /etc/hks/trust) point at the test's copies of those files:
    the Certificate's Secret and the Bundle trust-manager writes (certifi's roots + the test CA)."""
    rendered = render(ORG.format(port=standin.port, ollama=ollama_port), tmp_path_factory)
    work = tmp_path_factory.mktemp("gateway")
    mount_config(rendered, work)
    certs = tlsca.issue(ca, [*tls.dns_names("llm-gateway", NAMESPACE), "localhost"], work / "tls")
    trust = tlsca.bundle(ca, work / "trust" / tls.TRUST_KEY).parent
    env = deployment_env(rendered, standin, {})
    assert {"SSL_CERTFILE_PATH", "SSL_KEYFILE_PATH", "SSL_CERT_FILE"} <= env.keys()
    env = {k: v.replace(tls.CERT_DIR, str(certs)).replace(tls.TRUST_DIR, str(trust)) for k, v in env.items()}
    port = free_port()
    env = {"PATH": os.environ["PATH"], "HOME": str(home(litellm, tmp_path_factory)), **env, **kubeapi.env()}
    log = work / "litellm.log"
    proxy = launch.start(litellm, ["--config", str(work / "config.yaml"), "--host", "127.0.0.1", "--port", str(port)], work, env, log)
    url = f"https://localhost:{port}"
    try:
        wait_ready(url, proxy, log, _context(ca))
        yield url, log
    finally:
        proxy.stop()


def _context(ca: tlsca.CA) -> ssl.SSLContext:
    return ssl.create_default_context(cadata=ca.pem.decode())


def test_the_gateway_serves_https_to_a_client_that_verifies_the_ca(gateway: tuple[str, Path], ca: tlsca.CA) -> None:
    url, log = gateway
    with urllib.request.urlopen(f"{url}/health/liveliness", timeout=10, context=_context(ca)) as response:
        assert response.status == 200
    assert "Using SSL with certfile" in log.read_text()  # proxy_cli.py's own line: uvicorn got the key pair


def test_the_gateway_refuses_plain_http_and_another_ca(gateway: tuple[str, Path]) -> None:
    url, _ = gateway
    port = int(url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        connection.request("GET", "/health/liveliness")
        response = connection.getresponse()
        # uvicorn answers a plain request on a TLS socket by closing it; anything else fails here.
        pytest.fail(f"plain HTTP got an answer: {response.status}")
    with pytest.raises(urllib.error.URLError) as error:
        urllib.request.urlopen(f"{url}/health/liveliness", timeout=10, context=_context(tlsca.make_ca("other")))
    assert isinstance(error.value.reason, ssl.SSLCertVerificationError)


def test_a_workspace_chats_over_https(
    gateway: tuple[str, Path], ca: tlsca.CA, standin: StandIn, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The gateway's own call to the provider goes on with SSL_CERT_FILE set to the bundle (the
    test's client trusts the CA the same way, through its SSL_CERT_FILE)."""
    url, _ = gateway
    monkeypatch.setenv("SSL_CERT_FILE", str(tlsca.bundle(ca, tmp_path / "bundle.pem")))
    standin.take()
    status, body = chat(url, "chat", "hello")
    assert status == 200, body
    assert [r.path for r in standin.take()][-1].endswith("/chat/completions")


def test_the_gateway_reaches_ollama_over_https_with_the_bundle(
    gateway: tuple[str, Path],
    ollama_proxy: int | None,
    ca: tlsca.CA,
    standin: StandIn,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """LiteLLM → nginx (the rendered proxy config, a certificate from the test CA) → Ollama:
    the gateway verifies the in-cluster certificate with the Bundle, public roots and all."""
    assert ollama_proxy is not None, "nginx is needed for this test (tests/install-tools.sh installs nginx-light)"
    url, _ = gateway
    monkeypatch.setenv("SSL_CERT_FILE", str(tlsca.bundle(ca, tmp_path / "bundle.pem")))
    standin.take()
    status, body = chat(url, "local", "hello")
    assert status == 200, body
    assert any(r.path.endswith("/api/chat") for r in standin.take())
