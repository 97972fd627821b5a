"""End to end, scale to zero (docs/self-hosted.md, "Scale to zero"): the real LiteLLM proxy, with
the gateway config hks renders, holds a request for a model whose pool is at zero until the pool
answers. The pool's Service is a loopback port nobody listens on (a Service without endpoints
refuses connections at once) until the test starts the pool's stand-in Ollama on it, WAKE seconds
later, as KEDA and the kubelet would. The request made before that is answered by it, and while
it waits the metric the pool's ScaledObject wakes it on shows the refused request.

The test pool's cold start is short (`node_start_seconds: 0` and a 2.3 GB model: a window of
about 96 s); the request is answered at the first retry after the stand-in listens, about 24 s
after it was made."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from compiler.providers import selfhosted
from tests.e2e.gateway import chat, embed, free_port, get, render, running, scrape_token, workspace_token
from tests.e2e.kubeapi import KubeAPI
from tests.e2e.standin import StandIn
from tests.e2e.test_pools_e2e import MATCHER, SELECTOR, _matches, _samples

ORG = """\
organization: e2e-zero
llm_config:
  provider: ollama
  model: phi3:mini
self_hosted:
  context_length: 4096
  pools:
    - name: zero
      node_selector: {node-pool: gpu-small}
      gpu: {vendor: nvidia, count: 1, memory_gib: 24}
      models: [phi3:mini, all-minilm:22m]
      replicas: {min: 0, max: 2, node_start_seconds: 0}
    - name: warm
      node_selector: {node-pool: gpu-small}
      gpu: {vendor: nvidia, count: 1, memory_gib: 24}
      models: [llama3.1:8b]
      replicas: {min: 1, max: 1}
gateway:
  replicas: {min: 1, max: 1}
workspaces:
  sleepy:
    llm_override:
      embeddings: {provider: ollama, model: "all-minilm:22m"}
  patient:
    llm_override:
      fallbacks: [{provider: ollama, model: "llama3.1:8b"}]
"""
SERVICE = "http://ollama-zero.hexabase-aiops.svc.cluster.local:11434"
WARM = "http://ollama-warm.hexabase-aiops.svc.cluster.local:11434"
WAKE = 16.0  # seconds after the request that the pool's stand-in starts listening


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(ORG, tmp_path_factory)


@pytest.fixture(scope="module")
def port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def gateway(rendered: Path, port: int, standin: StandIn, kubeapi: KubeAPI, litellm: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    resolve = {SERVICE: f"http://127.0.0.1:{port}", WARM: f"http://127.0.0.1:{standin.port}"}
    with running(rendered, standin, kubeapi, litellm, tmp_path_factory, resolve=resolve) as url:
        yield url


def streamed(url: str, model: str) -> tuple[int, str]:
    """A streamed chat request: the server-sent events as text."""
    body = {"model": model, "messages": [{"role": "user", "content": "hello"}], "stream": True}
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {workspace_token(model)}"}
    request = urllib.request.Request(f"{url}/chat/completions", data=json.dumps(body).encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def config_yaml(rendered: Path) -> dict[str, Any]:
    yaml = YAML(typ="safe", pure=True)
    configmap = yaml.load((rendered / "platform/gateway/configmap-llm-gateway-config.yaml").read_text())
    return dict(yaml.load(configmap["data"]["config.yaml"]))


def test_the_rendered_retries_cover_the_test_pools_computed_window(rendered: Path) -> None:
    policies = config_yaml(rendered)["router_settings"]["model_group_retry_policy"]
    # 45 s to wake, 30 s to start, 2.3 + 0.046 GB pulled at 125 MB/s, 2.3 GB loaded at 1 GB/s: 96.1 s.
    assert {alias: policy["DefaultRetries"] for alias, policy in policies.items()} == {"patient": 16, "sleepy": 16, "sleepy.embeddings": 16}
    assert sum(selfhosted.retry_sleep(k) for k in range(16)) >= 96.1 > sum(selfhosted.retry_sleep(k) for k in range(15))


def test_a_request_to_a_pool_at_zero_waits_for_it_and_the_wake_metric_shows_it(
    gateway: str, rendered: Path, port: int, standin: StandIn
) -> None:
    """`sleepy` has no fallback; `patient` falls back to a model on a pool that keeps a pod, which
    must not answer while the pool at zero wakes: both wait for it, and so do a streamed request and
    an embedding."""
    wake = [
        (metric, MATCHER.findall(matchers))
        for trigger in YAML(typ="safe", pure=True).load((rendered / "platform/ollama/scaledobject-ollama-zero.yaml").read_text())["spec"]["triggers"]
        if trigger["name"] == "wake"
        for metric, matchers in SELECTOR.findall(trigger["metadata"]["query"])
    ]
    assert len(wake) == 1
    answer: dict[str, tuple[int, Any]] = {}
    requests = [threading.Thread(target=lambda w=w: answer.update({w: chat(gateway, w)})) for w in ("sleepy", "patient")]
    requests.append(threading.Thread(target=lambda: answer.update(embedding=embed(gateway, "sleepy.embeddings"))))
    requests.append(threading.Thread(target=lambda: answer.update(streamed=streamed(gateway, "sleepy"))))
    standin.take()
    started = time.monotonic()
    for request in requests:
        request.start()
    # While the pool is at zero: the refused request is in the wake trigger's series, with the
    # pool's Service as the cluster names it (the test's loopback mapped back).
    seen = 0.0
    while time.monotonic() - started < WAKE - 2 and not seen:
        time.sleep(1)
        code, text = get(f"{gateway}/metrics", scrape_token())
        assert code == 200, text
        for name, reported in _samples(text):
            base = reported.get("api_base", "")
            labels = {**reported, "api_base": base.replace(f"http://127.0.0.1:{port}", SERVICE)}
            if any(name == metric and _matches(labels, matchers) for metric, matchers in wake):
                seen = float(text.split(f'api_base="{base}"', 1)[1].split("\n", 1)[0].rsplit(" ", 1)[1])
    assert seen >= 1, "no refused request in the wake trigger's series while the pool was at zero"
    assert all(r.is_alive() for r in requests), answer  # still held by the gateway's retries, not failed
    time.sleep(max(0.0, WAKE - (time.monotonic() - started)))
    pool = StandIn(port).start()  # the pod is Ready: the Service has an endpoint
    try:
        waited = answered_ok(requests, answer, started)
        status, text = answer["streamed"]
        assert status == 200, text
        assert '"content":"ok"' in text.replace(" ", "") and "data: [DONE]" in text, text
        status, body = answer["embedding"]
        assert status == 200, body
        assert len(body["data"][0]["embedding"]) > 0
        asked = sorted((r.path, r.body["model"]) for r in pool.take())
        assert asked == [("/api/chat", "phi3:mini")] * 3 + [("/api/embed", "all-minilm:22m")], asked
        assert [r for r in standin.take() if r.path == "/api/chat"] == []  # the fallback's pool: never asked
        assert WAKE <= waited < 40, waited
        print(f"answered {waited:.1f} s after the request, {waited - WAKE:.1f} s after the pool turned Ready")
    finally:
        pool.stop()


# --- under a mesh: the mesh's proxy, not the kernel, answers until the pool is Ready -----------

FAILFAST = 3.0  # Linkerd's failfast timeout: how long its proxy holds a request with no endpoint
MESH_WAKE = 10.0  # seconds after the request that the pool's pod turns Ready


class MeshProxy:
    """The gateway's view of a Service without endpoints under a mesh. Linkerd's outbound proxy
    accepts the connection, holds the first request FAILFAST seconds and answers 503 (with the
    `l5d-proxy-error` header it adds), and the next ones at once while the Service stays in
    failfast (linkerd/linkerd2 issues 7768 and 11493). Istio ambient's ztunnel, L4 only without a
    waypoint, accepts the connection, finds no healthy upstream and resets it."""

    def __init__(self, port: int, mesh: str) -> None:
        self.answered: list[float] = []
        self._listener = socket.create_server(("127.0.0.1", port))
        self._mesh = mesh
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:  # stopped
                return
            threading.Thread(target=self._answer, args=(connection,), daemon=True).start()

    def _answer(self, connection: socket.socket) -> None:
        with connection:
            if self._mesh == "istio":
                self.answered.append(time.monotonic())
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return  # closed with a reset
            head = b""
            while b"\r\n\r\n" not in head:
                head += connection.recv(65536)
            if not self.answered:
                time.sleep(FAILFAST)
            self.answered.append(time.monotonic())
            data = b"service in fail-fast"
            connection.sendall(
                b"HTTP/1.1 503 Service Unavailable\r\nl5d-proxy-error: service in fail-fast\r\n"
                b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(data), data)
            )

    def stop(self) -> None:
        self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(), or the port stays bound
        self._listener.close()


@pytest.fixture(scope="module", params=["linkerd", "istio"])
def mesh(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def meshed(mesh: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(ORG + f"cluster:\n  mesh: {mesh}\n", tmp_path_factory)


@pytest.fixture(scope="module")
def meshed_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def meshed_gateway(
    meshed: Path, meshed_port: int, standin: StandIn, kubeapi: KubeAPI, litellm: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    resolve = {SERVICE: f"http://127.0.0.1:{meshed_port}", WARM: f"http://127.0.0.1:{standin.port}"}
    with running(meshed, standin, kubeapi, litellm, tmp_path_factory, resolve=resolve) as url:
        yield url


def test_under_a_mesh_the_request_waits_for_the_pool_as_it_does_for_a_refused_connection(
    mesh: str, meshed_gateway: str, meshed: Path, meshed_port: int, standin: StandIn
) -> None:
    """Under a mesh the rendered policy gives a 503 the cold start's retries too: a request that
    the mesh's proxy answers (Linkerd: 503; Istio ambient: a reset) for MESH_WAKE seconds is
    answered by the pool once it is Ready, and the workspace with a fallback does not fall back.
    (With the router's 2 retries of a 503, under Linkerd both would have ended within about 5 s:
    the first with the 503, the second on its fallback.)"""
    policies = config_yaml(meshed)["router_settings"]["model_group_retry_policy"]
    assert {alias: policy["ServiceUnavailableErrorRetries"] for alias, policy in policies.items()} == {"patient": 16, "sleepy": 16, "sleepy.embeddings": 16}
    proxy = MeshProxy(meshed_port, mesh)
    answer: dict[str, tuple[int, Any]] = {}
    requests = [threading.Thread(target=lambda w=w: answer.update({w: chat(meshed_gateway, w)})) for w in ("sleepy", "patient")]
    standin.take()
    started = time.monotonic()
    for request in requests:
        request.start()
    try:
        time.sleep(MESH_WAKE)
        assert all(r.is_alive() for r in requests), answer  # held by the retries, neither failed nor fallen back
    finally:
        proxy.stop()
    answered = [round(t - started, 1) for t in proxy.answered]
    pool = StandIn(meshed_port).start()  # the pod is Ready: the mesh has an endpoint for the Service
    try:
        waited = answered_ok(requests, answer, started)
        assert [(r.path, r.body["model"]) for r in pool.take()] == [("/api/chat", "phi3:mini")] * 2
        assert [r for r in standin.take() if r.path == "/api/chat"] == []  # the fallback's pool: never asked
        # Each workspace was answered by the mesh more often than the router's 2 retries would have tried.
        assert len(answered) >= 2 * (selfhosted.ORDINARY_RETRIES + 2), answered
        assert MESH_WAKE <= waited < 40, (answered, waited)
        if mesh == "linkerd":
            assert answered[0] >= FAILFAST, answered
        print(f"{mesh}: answered {waited:.1f} s after the request; the mesh answered at {answered}")
    finally:
        pool.stop()


def answered_ok(requests: list[threading.Thread], answer: dict[str, Any], started: float) -> float:
    """Waits for the held requests; both chat workspaces got the pool's "ok". Seconds since `started`."""
    for request in requests:
        request.join(timeout=40)
    waited = time.monotonic() - started
    for workspace in ("sleepy", "patient"):
        status, body = answer[workspace]
        assert status == 200, body
        assert body["choices"][0]["message"]["content"] == "ok"
    return waited
