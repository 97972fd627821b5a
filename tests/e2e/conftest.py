"""Fixtures shared by the end-to-end tests: the loopback stand-in for every upstream."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.e2e.standin import StandIn


@pytest.fixture(scope="module")
def standin() -> Iterator[StandIn]:
    server = StandIn().start()
    yield server
    server.stop()
