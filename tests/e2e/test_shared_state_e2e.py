"""End to end: two gateway replicas share one Redis (`gateway.cache.redis_secret`), as docs/gateway.md
promises ("Two replicas, one Redis"). Two real LiteLLM proxies run the same rendered config against
one real Redis server; each workspace's pods call them with their own projected token. What the
replicas share, and how late, is measured here against the bounds the docs state."""

from __future__ import annotations

import concurrent.futures
import contextlib
import re
import time
from pathlib import Path
from typing import Callable, ContextManager, Iterator, TypeVar

import pytest

from tests.e2e.gateway import chat, embed, render, running
from tests.e2e.kubeapi import KubeAPI
from tests.e2e.redisserver import RedisServer
from tests.e2e.standin import StandIn

CACHE_KEY = re.compile(r"[0-9a-f]{64}")  # LiteLLM names a cache entry by the sha256 of its key
RPM = 3
# The stand-in's usage (100,000 tokens in, 50,000 out) costs $0.75 on gpt-4o at the catalogue's
# prices: a $0.90 budget lets exactly two requests through, the second crossing it.
BUDGET = 0.9
WITHIN_BUDGET = 2
BURST = 12  # requests sent at once, half to each replica

ORG = """\
organization: e2e-shared
llm_config:
  provider: openai
  model: gpt-4o
providers:
  openai:
    endpoint: http://127.0.0.1:{port}/v1
gateway:
  replicas: {{min: 2, max: 2}}
  cache: {{redis_secret: llm-gateway-redis}}
workspaces:
  alternating:
    llm_override: {{rate_limit: {{rpm: {rpm}}}}}
  alternating-again:
    llm_override: {{rate_limit: {{rpm: {rpm}}}}}
  bursting:
    llm_override: {{rate_limit: {{rpm: {rpm}}}}}
  single:
    llm_override: {{rate_limit: {{rpm: {rpm}}}}}
  budgeted:
    llm_override: {{budget: {{monthly_usd: {budget}}}}}
  stampede:
    llm_override: {{budget: {{monthly_usd: {budget}}}}}
  restarted:
    llm_override: {{budget: {{monthly_usd: {budget}}}}}
  recounted:
    llm_override: {{rate_limit: {{rpm: {rpm}}}}}
  recounted-again:
    llm_override: {{rate_limit: {{rpm: {rpm}}}}}
  cached:
    llm_override:
      cache: {{enabled: true, ttl_seconds: 600}}
      embeddings: {{provider: openai, model: text-embedding-3-small}}
  twin:
    llm_override: {{cache: {{enabled: true, ttl_seconds: 600}}}}
  uncached:
    llm_override:
      embeddings: {{provider: openai, model: text-embedding-3-small}}
"""


class Replicas:
    """Two proxies on the same rendered config and Redis; the second can be restarted."""

    def __init__(self, start: Callable[[], ContextManager[str]]) -> None:
        self._start = start
        self._stack = contextlib.ExitStack()
        self.a = self._stack.enter_context(start())
        self._b: ContextManager[str] = start()
        self.b = self._b.__enter__()

    def restart_b(self) -> None:
        self._b.__exit__(None, None, None)
        self._b = self._start()
        self.b = self._b.__enter__()

    def stop(self) -> None:
        self._b.__exit__(None, None, None)
        self._stack.close()


@pytest.fixture(scope="module")
def replicas(
    standin: StandIn, kubeapi: KubeAPI, redis: RedisServer, litellm: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Replicas]:
    rendered = render(ORG.format(port=standin.port, rpm=RPM, budget=BUDGET), tmp_path_factory)
    pair = Replicas(lambda: running(rendered, standin, kubeapi, litellm, tmp_path_factory, redis.env()))
    yield pair
    pair.stop()


@pytest.fixture(autouse=True)
def fresh_record(standin: StandIn) -> None:
    standin.take()


def same_minute(seconds: float) -> None:
    """LiteLLM counts rate limits per clock minute: start where `seconds` still fit in this one."""
    if time.time() % 60 > 60 - seconds:
        time.sleep(61 - time.time() % 60)


T = TypeVar("T")


def in_one_minute(workspaces: tuple[str, str], attempt: Callable[[str], T]) -> T:
    """LiteLLM counts rate limits per clock minute: runs `attempt` at once with the first workspace
    and, if a minute turned meanwhile, once more with the second (which then has nearly a whole
    minute to itself), instead of waiting for a fresh minute first."""
    for workspace in workspaces:
        minute = time.time() // 60
        result = attempt(workspace)
        if time.time() // 60 == minute:
            return result
    raise AssertionError(f"a clock minute turned during both tries ({', '.join(workspaces)})")


def burst(calls: list[tuple[str, str]]) -> list[int]:
    with concurrent.futures.ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(lambda call: chat(*call)[0], calls))


# --- rate limits --------------------------------------------------------------------------------


def test_alternating_requests_hold_the_rate_limit_exactly(replicas: Replicas) -> None:
    def alternate(workspace: str) -> list[int]:
        statuses = []
        for index in range(2 * RPM):
            statuses.append(chat((replicas.a, replicas.b)[index % 2], workspace)[0])
            time.sleep(0.3)  # longer than the 0.1 s in which a replica syncs its count with Redis
        return statuses

    assert in_one_minute(("alternating", "alternating-again"), alternate) == [200] * RPM + [429] * RPM


def test_a_burst_to_one_replica_never_passes_the_rate_limit(replicas: Replicas) -> None:
    same_minute(5)  # a burst is answered within a second
    statuses = burst([(replicas.a, "single")] * (2 * RPM))
    # Never more than the limit; 1.108.14 refuses one request early (2 of 3 in every burst).
    assert 1 <= statuses.count(200) <= RPM, statuses


def test_a_burst_across_replicas_stays_within_the_documented_bound(replicas: Replicas) -> None:
    """Each replica counts its own requests at once and the others' up to 0.1 s late, so a burst
    split over R replicas can pass up to rpm × R in the minute, never more (docs/gateway.md)."""
    same_minute(5)  # a burst is answered within a second
    statuses = burst([((replicas.a, replicas.b)[i % 2], "bursting") for i in range(BURST)])
    assert 1 <= statuses.count(200) <= RPM * 2, statuses
    assert set(statuses) == {200, 429}


# --- budgets --------------------------------------------------------------------------------------


def test_the_other_replica_refuses_once_the_budget_is_crossed(replicas: Replicas, standin: StandIn) -> None:
    for _ in range(WITHIN_BUDGET):
        assert chat(replicas.a, "budgeted")[0] == 200
    crossed = time.monotonic()
    passed = 0
    while (status := chat(replicas.b, "budgeted"))[0] == 200 and time.monotonic() - crossed < 5:
        passed += 1
    delay = time.monotonic() - crossed
    # Measured at 1.108.14 and 1.110.2: the very next request is refused, 15 ms after the crossing.
    # The spend is added by a log callback just after the crossing response, so on a loaded machine
    # one request sent in that gap has passed (twice in full-suite runs): never more, never later.
    assert passed <= 1 and delay < 1.0, (passed, delay)
    assert status[0] == 429 and "budget" in str(status[1]), status
    assert chat(replicas.a, "budgeted")[0] == 429
    assert len(standin.take()) == WITHIN_BUDGET + passed  # the one in the gap reached the provider


def test_a_burst_spends_what_was_in_flight_then_both_refuse(replicas: Replicas) -> None:
    """The budget is checked before a call and spent after it: requests in flight together all
    pass (docs/gateway.md states it); once their spend is in Redis, both replicas refuse."""
    statuses = burst([((replicas.a, replicas.b)[i % 2], "stampede") for i in range(BURST)])
    assert statuses.count(200) >= WITHIN_BUDGET, statuses
    time.sleep(0.5)  # the last responses' spend is written just after them
    assert chat(replicas.a, "stampede")[0] == 429
    assert chat(replicas.b, "stampede")[0] == 429


# --- a restart ------------------------------------------------------------------------------------


def test_a_restarted_replica_keeps_the_spend_and_the_count(replicas: Replicas) -> None:
    for _ in range(WITHIN_BUDGET):
        assert chat(replicas.b, "restarted")[0] == 200  # the second crosses the budget

    def restart(workspace: str) -> list[int]:
        """The requests before and after the restart (a fork: a few seconds), in one minute."""
        for _ in range(RPM - 1):
            assert chat(replicas.b, workspace)[0] == 200
        replicas.restart_b()
        return [chat(replicas.b, workspace)[0] for _ in range(2)]

    statuses = in_one_minute(("recounted", "recounted-again"), restart)
    status, body = chat(replicas.b, "restarted")
    assert status == 429 and "budget" in str(body), (status, body)
    # Without the count in Redis the new replica would pass RPM more. Measured at both releases:
    # it refuses even the one request the minute still allowed (it errs on the strict side).
    assert statuses.count(200) <= 1 and statuses[-1] == 429, statuses


# --- the response cache ---------------------------------------------------------------------------


def cache_written(redis: RedisServer, before: set[str]) -> None:
    """Waits until the answer is in Redis: LiteLLM writes the cache just after it responds, later
    still on a busy machine (a fixed half second was not always enough)."""
    deadline = time.monotonic() + 15
    while not any(CACHE_KEY.fullmatch(k) for k in redis.keys() - before):
        assert time.monotonic() < deadline, "no cache entry appeared in Redis"
        time.sleep(0.1)


def test_an_answer_cached_by_one_replica_is_a_hit_on_the_other(replicas: Replicas, standin: StandIn, redis: RedisServer) -> None:
    before = redis.keys()
    assert chat(replicas.a, "cached", text="what is shared?")[0] == 200
    cache_written(redis, before)
    assert chat(replicas.b, "cached", text="what is shared?")[0] == 200
    assert len(standin.take()) == 1


def test_workspaces_never_share_a_cache_entry(replicas: Replicas, standin: StandIn, redis: RedisServer) -> None:
    """The cache key holds the model group, which is the workspace's own alias."""
    before = redis.keys()
    assert chat(replicas.a, "cached", text="the same prompt")[0] == 200
    cache_written(redis, before)
    assert chat(replicas.b, "twin", text="the same prompt")[0] == 200
    time.sleep(0.5)
    assert chat(replicas.a, "twin", text="the same prompt")[0] == 200
    assert [c.body["messages"][-1]["content"] for c in standin.take()] == ["the same prompt"] * 2


def test_a_workspace_without_the_cache_is_never_served_from_it(replicas: Replicas, standin: StandIn) -> None:
    assert chat(replicas.a, "cached", text="a common question")[0] == 200
    time.sleep(0.5)
    for url in (replicas.a, replicas.b):
        assert chat(url, "uncached", text="a common question")[0] == 200
    assert len(standin.take()) == 3


def test_a_workspace_without_the_cache_cannot_opt_in_from_the_request(replicas: Replicas, standin: StandIn) -> None:
    """A request's own `cache` is merged over its alias's `no-cache`/`no-store`: the gateway refuses
    it from a workspace whose config does not enable the cache (a cached workspace may send it)."""
    status, body = chat(replicas.a, "uncached", text="let me in", cache={"use-cache": True})
    assert status == 403 and "does not use the response cache" in body, (status, body)
    assert chat(replicas.a, "cached", text="let me in", cache={"use-cache": True})[0] == 200
    assert len(standin.take()) == 1


def test_an_embedding_cached_by_one_replica_is_a_hit_on_the_other(replicas: Replicas, standin: StandIn, redis: RedisServer) -> None:
    """The embedding cache is the same Redis: the second identical input never reaches upstream."""
    before = redis.keys()
    status, first = embed(replicas.a, "cached.embeddings", "a shared passage")
    assert status == 200, first
    cache_written(redis, before)
    status, second = embed(replicas.b, "cached.embeddings", "a shared passage")
    assert status == 200 and second["data"] == first["data"], second
    assert [r.path for r in standin.take()] == ["/v1/embeddings"]


def test_a_workspace_without_the_cache_never_gets_a_cached_embedding(replicas: Replicas, standin: StandIn) -> None:
    assert embed(replicas.a, "cached.embeddings", "a common passage")[0] == 200
    time.sleep(0.5)
    for url in (replicas.a, replicas.b, replicas.a):
        assert embed(url, "uncached.embeddings", "a common passage")[0] == 200
        time.sleep(0.3)
    assert [r.path for r in standin.take()] == ["/v1/embeddings"] * 4
