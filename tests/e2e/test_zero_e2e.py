"""End to end, scale to zero (docs/self-hosted.md, "Scale to zero"): the real LiteLLM proxy, with
the gateway config hks renders, holds a request for a model whose pool is at zero until the pool
answers. The pool's Service is a loopback port nobody listens on (a Service without endpoints
refuses connections at once) until the test starts the pool's stand-in Ollama on it, WAKE seconds
later, as KEDA and the kubelet would. The request made before that is answered by it, and while
it waits the metric the pool's ScaledObject wakes it on shows the refused request.

The test pool's cold start is short (`node_start_seconds: 0` and a 2.3 GB model: a window of
about 96 s); the request is answered at the first retry after the stand-in listens (its 5th
attempt, 7.5 to 10.5 s after it was made). The same under a mesh (Linkerd, Istio ambient), where
the mesh's proxy answers for the Service until the pool is Ready."""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from compiler.providers import selfhosted
from tests.e2e import launch
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
# With only the router's ordinary retries (ORDINARY_RETRIES, each after its back-off and up to
# JITTER more) a request to a pool at zero has failed by this many seconds after it was made.
ORDINARY_GIVE_UP = sum(selfhosted.retry_sleep(k) + selfhosted.JITTER for k in range(selfhosted.ORDINARY_RETRIES))
FAILFAST = 3.0  # Linkerd's failfast timeout: how long its proxy holds a request with no endpoint
# When each scenario's pool turns Ready (its stand-in Ollama listens): WAKE seconds after the
# requests (plain), or after the mesh first answered one (a busy machine can take a second or
# more to bring a request that far). A request's retries come 0.5, 1.5, 3.5 and 7.5 s after its
# first refusal, each up to 0.75 s of jitter later per retry so far (retry_sleep, JITTER), so its
# 4th attempt (one more than the ordinary 3) has come by 5.75 s and its 5th not before 7.5 s: each
# wake falls between them (under a mesh, with 0.85 s to spare for the other workspace's first
# refusal, a little later) and past ORDINARY_GIVE_UP by 3 s or more; only the rendered cold-start
# retries can bring the answer, at the 5th attempt.
WAKE = {"plain": 6.0, "istio": 6.6, "linkerd": 6.6}
# The three scenarios of a release run at once, each on its own gateway, pool port and warm
# pool, so their waits overlap (about 14 s for all three instead of 55 s one after another).
SCENARIOS = ("plain", "linkerd", "istio")


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


def test_the_rendered_retries_cover_the_test_pools_computed_window(rendered: dict[str, Path]) -> None:
    policies = config_yaml(rendered["plain"])["router_settings"]["model_group_retry_policy"]
    # 45 s to wake, 30 s to start, 2.3 + 0.046 GB pulled at 125 MB/s, 2.3 GB loaded at 1 GB/s: 96.1 s.
    assert {alias: policy["DefaultRetries"] for alias, policy in policies.items()} == {"patient": 16, "sleepy": 16, "sleepy.embeddings": 16}
    assert sum(selfhosted.retry_sleep(k) for k in range(16)) >= 96.1 > sum(selfhosted.retry_sleep(k) for k in range(15))


def org(scenario: str) -> str:
    return ORG if scenario == "plain" else ORG + f"cluster:\n  mesh: {scenario}\n"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {scenario: render(org(scenario), tmp_path_factory) for scenario in SCENARIOS}


def wake_series(rendered: Path) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """The series (metric and label matchers) of the pool's ScaledObject's wake trigger."""
    scaledobject = YAML(typ="safe", pure=True).load((rendered / "platform/ollama/scaledobject-ollama-zero.yaml").read_text())
    return [
        (metric, MATCHER.findall(matchers))
        for trigger in scaledobject["spec"]["triggers"]
        if trigger["name"] == "wake"
        for metric, matchers in SELECTOR.findall(trigger["metadata"]["query"])
    ]


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


class Scenario:
    """One gateway of a release with its pool at zero: a loopback port that nobody listens on
    (plain: a Service without endpoints refuses connections at once) or where the mesh's proxy
    answers, until WAKE[name] seconds after the requests, when the pool's stand-in Ollama starts
    listening on it, as KEDA and the kubelet would. Its warm pool (the fallback of `patient`) is a
    stand-in of its own. Records what the held requests got and what was seen while they waited."""

    def __init__(self, name: str, url: str, port: int, warm: StandIn) -> None:
        self.name, self.url, self.port, self.warm, self.wake = name, url, port, warm, WAKE[name]
        self.answer: dict[str, tuple[int, Any]] = {}
        self.done: dict[str, float] = {}
        self.threads: dict[str, threading.Thread] = {}
        self.mesh: MeshProxy | None = None
        self.scrapes: list[tuple[int, str]] = []  # plain: /metrics while the pool was at zero
        self.seen = 0.0  # plain: the refused requests in the wake trigger's series
        self.open_at_wake: list[str] = []  # the requests still held when the pool turned Ready
        self.mesh_answered: list[float] = []  # seconds after the requests
        self.pool_asked: list[tuple[str, str]] = []
        self.warm_asked: list[Any] = []
        self.waited = 0.0  # seconds from the requests to the last answer

    def send(self, started: float) -> None:
        self.started = started
        if self.name != "plain":
            self.mesh = MeshProxy(self.port, self.name)
        calls: dict[str, Callable[[], tuple[int, Any]]] = {w: (lambda w=w: chat(self.url, w)) for w in ("sleepy", "patient")}
        if self.name == "plain":  # and a streamed request and an embedding
            calls["embedding"] = lambda: embed(self.url, "sleepy.embeddings")
            calls["streamed"] = lambda: streamed(self.url, "sleepy")
        self.warm.take()
        for key, call in calls.items():
            self.threads[key] = threading.Thread(target=self._ask, args=(key, call), daemon=True)
            self.threads[key].start()

    def _ask(self, key: str, call: Callable[[], tuple[int, Any]]) -> None:
        try:
            self.answer[key] = call()
        except Exception as exc:  # a timeout: recorded for the test to report
            self.answer[key] = (0, repr(exc))
        self.done[key] = time.monotonic()

    def look(self, wake: list[tuple[str, list[tuple[str, str, str]]]]) -> None:
        """Scrapes the gateway's /metrics as the ServiceMonitor does: the refused requests in the
        wake trigger's series, with the pool's Service as the cluster names it (the test's
        loopback mapped back)."""
        code, text = get(f"{self.url}/metrics", scrape_token())
        self.scrapes.append((code, text[:2000]))
        for name, reported in _samples(text):
            base = reported.get("api_base", "")
            labels = {**reported, "api_base": base.replace(f"http://127.0.0.1:{self.port}", SERVICE)}
            if any(name == metric and _matches(labels, matchers) for metric, matchers in wake):
                self.seen = float(text.split(f'api_base="{base}"', 1)[1].split("\n", 1)[0].rsplit(" ", 1)[1])

    def wake_time(self) -> float:
        """WAKE after the requests, or under a mesh after its first answer (a mesh that never
        answers: a minute after the requests, and the test fails on its count)."""
        if self.mesh is None:
            return self.started + self.wake
        return self.mesh.answered[0] + self.wake if self.mesh.answered else self.started + 60

    def wake_up(self) -> None:
        """The pod is Ready: the Service has an endpoint (under a mesh, the mesh has one for it)."""
        self.open_at_wake = sorted(key for key, thread in self.threads.items() if thread.is_alive())
        if self.mesh is not None:
            self.mesh.stop()
            self.mesh_answered = [round(t - self.started, 1) for t in self.mesh.answered]
        self.pool = StandIn(self.port).start()

    def finish(self) -> None:
        try:
            for thread in self.threads.values():
                thread.join(timeout=max(0.0, self.started + 40 - time.monotonic()))
            self.waited = max(self.done.values(), default=time.monotonic()) - self.started
            self.pool_asked = sorted((r.path, r.body["model"]) for r in self.pool.take())
            self.warm_asked = [r for r in self.warm.take() if r.path == "/api/chat"]
        finally:
            self.pool.stop()

    def answered_ok(self) -> None:
        """Both chat workspaces got the pool's "ok"."""
        for workspace in ("sleepy", "patient"):
            status, body = self.answer.get(workspace, (0, "no answer"))
            assert status == 200, body
            assert body["choices"][0]["message"]["content"] == "ok"


@pytest.fixture(scope="module")
def held(
    rendered: dict[str, Path], standin: StandIn, kubeapi: KubeAPI, litellm: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Scenario]]:
    """The three scenarios of the release, their requests sent together: until each one's pool
    turns Ready, the plain gateway's /metrics is scraped for the wake trigger's series."""
    with contextlib.ExitStack() as stack:
        scenarios: dict[str, Scenario] = {}
        for name in SCENARIOS:
            port, warm = free_port(), StandIn().start()
            stack.callback(warm.stop)
            resolve = {SERVICE: f"http://127.0.0.1:{port}", WARM: f"http://127.0.0.1:{warm.port}"}
            url = stack.enter_context(running(rendered[name], standin, kubeapi, litellm, tmp_path_factory, resolve=resolve))
            scenarios[name] = Scenario(name, url, port, warm)
        wake, plain = wake_series(rendered["plain"]), scenarios["plain"]
        started = time.monotonic()
        for scenario in scenarios.values():
            scenario.send(started)
        waiting, woken = list(scenarios.values()), list[Scenario]()
        looked = 0.0
        try:
            while waiting:
                for scenario in [s for s in waiting if time.monotonic() >= s.wake_time()]:
                    scenario.wake_up()
                    waiting.remove(scenario)
                    woken.append(scenario)
                if plain in waiting and not plain.seen and time.monotonic() - looked >= 0.5:
                    plain.look(wake)
                    looked = time.monotonic()
                time.sleep(0.05)
        finally:
            for scenario in woken:
                scenario.finish()
        yield scenarios


def test_a_request_to_a_pool_at_zero_waits_for_it_and_the_wake_metric_shows_it(held: dict[str, Scenario], rendered: dict[str, Path]) -> None:
    """`sleepy` has no fallback; `patient` falls back to a model on a pool that keeps a pod, which
    must not answer while the pool at zero wakes: both wait for it, and so do a streamed request and
    an embedding."""
    assert len(wake_series(rendered["plain"])) == 1
    plain = held["plain"]
    assert plain.scrapes and all(code == 200 for code, _ in plain.scrapes), plain.scrapes
    assert plain.seen >= 1, "no refused request in the wake trigger's series while the pool was at zero"
    # Still held by the gateway's retries when the pool turned Ready, past ORDINARY_GIVE_UP: not failed.
    assert WAKE["plain"] >= ORDINARY_GIVE_UP + 3
    assert plain.open_at_wake == ["embedding", "patient", "sleepy", "streamed"], plain.answer
    plain.answered_ok()
    status, text = plain.answer["streamed"]
    assert status == 200, text
    assert '"content":"ok"' in text.replace(" ", "") and "data: [DONE]" in text, text
    status, body = plain.answer["embedding"]
    assert status == 200, body
    assert len(body["data"][0]["embedding"]) > 0
    assert plain.pool_asked == [("/api/chat", "phi3:mini")] * 3 + [("/api/embed", "all-minilm:22m")], plain.pool_asked
    assert plain.warm_asked == []  # the fallback's pool: never asked
    assert WAKE["plain"] <= plain.waited < 40, plain.waited
    print(f"answered {plain.waited:.1f} s after the request, {plain.waited - WAKE['plain']:.1f} s after the pool turned Ready")


# --- under a mesh: the mesh's proxy, not the kernel, answers until the pool is Ready -----------


@pytest.mark.parametrize("mesh", ["linkerd", "istio"])
def test_under_a_mesh_the_request_waits_for_the_pool_as_it_does_for_a_refused_connection(
    mesh: str, held: dict[str, Scenario], rendered: dict[str, Path]
) -> None:
    """Under a mesh the rendered policy gives a 503 the cold start's retries too: a request that
    the mesh's proxy answers (Linkerd: 503; Istio ambient: a reset) until WAKE[mesh] seconds after
    its first answer is answered by the pool once it is Ready, and the workspace with a fallback
    does not fall back.
    (With the router's 2 retries of a 503, under Linkerd both would have ended within about 5 s:
    the first with the 503, the second on its fallback.)"""
    assert WAKE[mesh] >= ORDINARY_GIVE_UP + 3
    policies = config_yaml(rendered[mesh])["router_settings"]["model_group_retry_policy"]
    assert {alias: policy["ServiceUnavailableErrorRetries"] for alias, policy in policies.items()} == {"patient": 16, "sleepy": 16, "sleepy.embeddings": 16}
    scenario = held[mesh]
    answered = scenario.mesh_answered
    assert scenario.open_at_wake == ["patient", "sleepy"], scenario.answer  # held by the retries, neither failed nor fallen back
    scenario.answered_ok()
    assert scenario.pool_asked == [("/api/chat", "phi3:mini")] * 2, scenario.pool_asked
    assert scenario.warm_asked == []  # the fallback's pool: never asked
    # Each workspace was answered by the mesh more often than the router's 2 retries would have tried.
    assert len(answered) >= 2 * (selfhosted.ORDINARY_RETRIES + 2), answered
    assert WAKE[mesh] <= scenario.waited < 40, (answered, scenario.waited)
    if mesh == "linkerd":
        assert answered[0] >= FAILFAST, answered
    print(f"{mesh}: answered {scenario.waited:.1f} s after the request; the mesh answered at {answered}")


BACK_OFF = """\
import json, os
import litellm.constants as constants
import litellm.utils as utils
utils.JITTER = 0  # its back-off without the random part, whose bound is printed beside
sleeps = [utils.calculate_retry_after(remaining_retries=r, max_retries=12) for r in range(12, -1, -1)]
names = [n for n in ("INITIAL_RETRY_DELAY", "MAX_RETRY_DELAY", "JITTER") if n in os.environ]
print(json.dumps([sleeps, constants.MAX_RETRY_DELAY, constants.JITTER, names]))
"""


def test_the_back_off_is_litellms_own(litellm: Path, tmp_path: Path) -> None:
    """selfhosted.retry_sleep, which the cold-start retries are counted by, against the release's own
    calculate_retry_after (in the proxy's interpreter, forked from its zygote), and the bounds
    against its constants, which the gateway's environment leaves at their defaults."""
    code, stdout, stderr = launch.run(litellm, BACK_OFF, [], tmp_path)
    assert code == 0, stderr[-2000:]
    sleeps, cap, jitter, set_in_the_environment = json.loads(stdout.strip().splitlines()[-1])
    assert sleeps == [selfhosted.retry_sleep(k) for k in range(13)]
    assert (cap, jitter, set_in_the_environment) == (selfhosted.MAX_RETRY_DELAY, selfhosted.JITTER, [])
