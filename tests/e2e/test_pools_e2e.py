"""End to end, GPU pools (`self_hosted.pools`, docs/self-hosted.md "GPU pools"): the real LiteLLM
proxy, with the gateway config hks renders, sends each workspace's model to its own pool's Service,
and a model in `self_hosted.shared_models` to both pools that list it. Each pool's Service is a
stand-in Ollama of its own on 127.0.0.1: the test plays the cluster's DNS (`running(resolve=...)`),
so which stand-in a request reaches says which Service the gateway chose."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.gateway import chat, render, running
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
    - name: large
      node_selector: {node-pool: gpu-large}
      gpu: {vendor: amd, count: 1, memory_gib: 192}
      models: [llama3.1:70b, llama3:8b]
gateway:
  replicas: {min: 1, max: 1}
workspaces:
  chat: {}
  research:
    llm_override: {model: "llama3.1:70b"}
  spread:
    llm_override: {model: "llama3:8b"}
"""
POOLS = ("small", "large")


@pytest.fixture(scope="module")
def pools() -> Iterator[dict[str, StandIn]]:
    servers = {name: StandIn().start() for name in POOLS}
    yield servers
    for server in servers.values():
        server.stop()


@pytest.fixture(scope="module")
def gateway(pools: dict[str, StandIn], kubeapi: KubeAPI, litellm: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    rendered = render(ORG, tmp_path_factory)
    resolve = {
        f"http://ollama-{name}.hexabase-aiops.svc.cluster.local:11434": f"http://127.0.0.1:{server.port}" for name, server in pools.items()
    }
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
