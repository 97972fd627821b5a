"""Fixtures shared by the end-to-end tests: the loopback stand-ins for every upstream and for the
Kubernetes API, a real Redis server, and the LiteLLM releases the suite runs against (tests/install-tools.sh installs
both: the pinned one and the oldest hks still supports; `$HKS_LITELLM` runs one other)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.conftest import LITELLM_RELEASES as RELEASES
from tests.e2e.kubeapi import KubeAPI
from tests.e2e.redisserver import RedisServer
from tests.e2e.standin import StandIn


@pytest.fixture(scope="session", params=sorted(RELEASES))
def litellm(request: pytest.FixtureRequest) -> Path:
    path = RELEASES[request.param]
    assert path.exists(), f"{path} is missing: run tests/install-tools.sh (CI does)"
    return path


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    server = StandIn().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def kubeapi(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeAPI]:
    server = KubeAPI(tmp_path_factory.mktemp("kubeapi")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def redis(litellm: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A fresh, empty Redis for each module and LiteLLM release: no count carries over."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()
