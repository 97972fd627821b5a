"""End to end, GPU pools (`self_hosted.pools`, docs/self-hosted.md "GPU pools"): the real LiteLLM
proxy, with the gateway config hks renders, sends each workspace's model to its own pool's Service,
and a model in `self_hosted.shared_models` to both pools that list it. Each pool's Service is a
stand-in Ollama of its own on 127.0.0.1: the test plays the cluster's DNS (`running(resolve=...)`),
so which stand-in a request reaches says which Service the gateway chose. The metrics each
ScaledObject scales on are ones the proxy exports (render/components/autoscaling.py); a pool at zero,
and the metric that wakes it, is test_zero_e2e.py's."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.gateway import chat, get, render, running, scrape_token
from tests.e2e.kubeapi import KubeAPI
from tests.e2e.standin import StandIn

ORG = """\
organization: e2e-pools
llm_config:
  provider: ollama
  model: llama3.1:8b
self_hosted:
  context_length: 8192
  shared_models: [llama3:8b]
  pools:
    - name: small
      node_selector: {node-pool: gpu-small}
      gpu: {vendor: nvidia, count: 1, memory_gib: 24}
      models: [llama3.1:8b, llama3:8b]
      replicas: {min: 1, max: 3}
    - name: large
      node_selector: {node-pool: gpu-large}
      gpu: {vendor: amd, count: 1, memory_gib: 192}
      models: [llama3.1:70b, llama3:8b]
      replicas: {min: 1, max: 2}
gateway:
  replicas: {min: 1, max: 1}
workspaces:
  chat: {}
  research:
    llm_override: {model: "llama3.1:70b"}
  spread:
    llm_override: {model: "llama3:8b"}
"""
SERVICE = "http://ollama-{}.hexabase-aiops.svc.cluster.local:11434"
POOLS = ("small", "large")


@pytest.fixture(scope="module")
def pools() -> Iterator[dict[str, StandIn]]:
    servers = {name: StandIn().start() for name in POOLS}
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(ORG, tmp_path_factory)


@pytest.fixture(scope="module")
def resolve(pools: dict[str, StandIn]) -> dict[str, str]:
    """Each pool's Service → its stand-in."""
    return {SERVICE.format(name): f"http://127.0.0.1:{server.port}" for name, server in pools.items()}


@pytest.fixture(scope="module")
def gateway(
    rendered: Path, resolve: dict[str, str], pools: dict[str, StandIn], kubeapi: KubeAPI, litellm: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with running(rendered, pools["small"], kubeapi, litellm, tmp_path_factory, resolve=resolve) as url:
        yield url


@pytest.fixture(autouse=True)
def fresh_record(pools: dict[str, StandIn]) -> None:
    for server in pools.values():
        server.take()


def reached(pools: dict[str, StandIn]) -> dict[str, list[str]]:
    """The models each pool's stand-in was asked for, by pool."""
    return {name: [r.body["model"] for r in server.take() if r.path == "/api/chat"] for name, server in pools.items()}


@pytest.mark.parametrize(("workspace", "pool", "model"), [("chat", "small", "llama3.1:8b"), ("research", "large", "llama3.1:70b")])
def test_each_model_reaches_its_pools_service(gateway: str, pools: dict[str, StandIn], workspace: str, pool: str, model: str) -> None:
    status, _ = chat(gateway, workspace)
    assert status == 200
    other = next(p for p in POOLS if p != pool)
    assert reached(pools) == {pool: [model], other: []}


def test_a_shared_model_is_spread_across_both_pools(gateway: str, pools: dict[str, StandIn]) -> None:
    for _ in range(24):
        status, _ = chat(gateway, "spread")
        assert status == 200
    found = reached(pools)
    assert set(found["small"]) == set(found["large"]) == {"llama3:8b"}  # both pools, and only this model
    assert len(found["small"]) + len(found["large"]) == 24


# --- autoscaling: the metrics the ScaledObjects read --------------------------------------------


SELECTOR = re.compile(r"(litellm_[A-Za-z0-9_]+)\{([^}]*)\}")
MATCHER = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
SAMPLE = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)(\{[^}]*\})? ", re.M)


def _samples(text: str) -> list[tuple[str, dict[str, str]]]:
    return [
        (name, dict(re.findall(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"', labels or "")))
        for name, labels in SAMPLE.findall(text)
    ]


def _matches(labels: dict[str, str], matchers: list[tuple[str, str, str]]) -> bool:
    for label, op, quoted in matchers:
        pattern = quoted.encode().decode("unicode_escape")  # a PromQL string's escapes
        value = labels.get(label, "")
        hit = re.fullmatch(pattern, value) is not None if op in ("=~", "!~") else value == pattern
        if hit != (op in ("=", "=~")):
            return False
    return True


def test_every_scaling_selector_matches_what_litellm_reports(
    gateway: str, pools: dict[str, StandIn], rendered: Path, resolve: dict[str, str]
) -> None:
    """The ScaledObjects' load selectors (successful calls by model) each select a series the real
    proxy exports, with the Service's address in `api_base` as the cluster has it (the test's
    loopback mapped back)."""
    from ruamel.yaml import YAML

    for workspace in ("chat", "research"):
        assert chat(gateway, workspace)[0] == 200
    answered: set[str] = set()
    for _ in range(40):  # the shared model, until both pools have answered it
        assert chat(gateway, "spread")[0] == 200
        answered |= {name for name, models in reached(pools).items() if "llama3:8b" in models}
        if answered == set(POOLS):
            break
    yaml = YAML(typ="safe", pure=True)
    scaled = {p.stem: yaml.load(p.read_text()) for p in sorted((rendered / "platform/ollama").glob("scaledobject-*.yaml"))}
    assert sorted(scaled) == ["scaledobject-ollama-large", "scaledobject-ollama-small"]
    selectors = [
        (f"{stem} {trigger['name']}", metric, matchers)
        for stem, body in scaled.items()
        for trigger in body["spec"]["triggers"]
        for metric, matchers in SELECTOR.findall(trigger["metadata"]["query"])
    ]
    assert len(selectors) >= 3
    back = {loopback: service for service, loopback in resolve.items()}
    deadline = time.monotonic() + 30
    while True:  # the callbacks run just after each response
        code, text = get(f"{gateway}/metrics", scrape_token())
        assert code == 200, text
        samples = []
        for name, reported in _samples(text):
            base = reported.get("api_base", "")
            # The cluster's address of what the test's loopback played.
            cluster = next((service + base[len(lo) :] for lo, service in back.items() if base.startswith(lo + "/")), base)
            samples.append((name, {**reported, "api_base": cluster} if base else reported))
        missing = [
            f"{where}: {metric}{{{matchers}}}"
            for where, metric, matchers in selectors
            if not any(n == metric and _matches(found, MATCHER.findall(matchers)) for n, found in samples)
        ]
        if not missing:
            break
        assert time.monotonic() < deadline, f"no series the real LiteLLM exports matches {missing}"
        time.sleep(0.5)
