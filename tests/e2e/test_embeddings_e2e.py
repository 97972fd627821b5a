"""End to end: a workspace's embedding model (`llm_override.embeddings`) through the real LiteLLM
proxy, as docs/gateway.md "Embeddings" describes it. Each workspace's pods reach their own
`<workspace>.embeddings` alias on /v1/embeddings, and nothing else there; the stand-in sees the
self-hosted model on Ollama's embedding route and the commercial one on OpenAI's, PII is masked
or blocked before either sees it, and the embedding cache answers repeats for exactly the
workspaces that enable the cache."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import pytest

from tests.e2e.gateway import SECRETS, chat, embed, get, render, running, scrape_token, workspace_token
from tests.e2e.kubeapi import KubeAPI
from tests.e2e.standin import PII_WORD, StandIn, vector

ORG = """\
organization: e2e-embeddings
llm_config:
  provider: openai
  model: gpt-4o
providers:
  openai:
    endpoint: http://127.0.0.1:{port}/v1
  ollama:
    endpoint: http://127.0.0.1:{port}
gateway:
  replicas: {{min: 1, max: 1}}
workspaces:
  search:
    llm_override:
      embeddings: {{provider: ollama, model: "nomic-embed-text:v1.5"}}
  retrieval:
    llm_override:
      embeddings: {{provider: openai, model: text-embedding-3-small}}
  cached:
    llm_override:
      cache: {{enabled: true, ttl_seconds: 600}}
      embeddings: {{provider: openai, model: text-embedding-3-small}}
  masked:
    llm_override:
      sanitization: {{pii: redact}}
      embeddings: {{provider: openai, model: text-embedding-3-small}}
  refused:
    llm_override:
      sanitization: {{pii: block}}
      embeddings: {{provider: ollama, model: "nomic-embed-text:v1.5"}}
  chat-only: {{}}
  budgeted:
    llm_override:
      budget: {{monthly_usd: {budget}}}
      embeddings: {{provider: openai, model: text-embedding-3-small}}
  limited:
    llm_override:
      rate_limit: {{rpm: 1}}
      embeddings: {{provider: openai, model: text-embedding-3-small}}
"""
# The stand-in reports 1,000 tokens per text: $0.00002 at text-embedding-3-small's price, so this
# budget lets two single-text requests through (the second crossing it) and refuses the third.
BUDGET = 0.00003


@pytest.fixture(scope="module")
def gateway(
    standin: StandIn, kubeapi: KubeAPI, litellm: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    rendered = render(ORG.format(port=standin.port, budget=BUDGET), tmp_path_factory)
    with running(rendered, standin, kubeapi, litellm, tmp_path_factory) as url:
        yield url


@pytest.fixture(autouse=True)
def fresh_record(standin: StandIn) -> None:
    standin.take()


def upstream_embeddings(standin: StandIn) -> list[tuple[str, object]]:
    return [(r.path, r.body) for r in standin.take() if r.path.endswith(("/embeddings", "/api/embed"))]


# --- routing --------------------------------------------------------------------------------------


def test_a_self_hosted_embedding_model_is_called_on_ollamas_embedding_route(gateway: str, standin: StandIn) -> None:
    status, body = embed(gateway, "search.embeddings", "llamas are camelids")
    assert status == 200, body
    assert len(body["data"]) == 1 and len(body["data"][0]["embedding"]) == 3
    calls = upstream_embeddings(standin)
    assert [(path, call["model"], call["input"]) for path, call in calls] == [  # type: ignore[index]
        ("/api/embed", "nomic-embed-text:v1.5", ["llamas are camelids"])
    ]


def test_a_commercial_embedding_model_is_called_with_its_key(gateway: str, standin: StandIn) -> None:
    status, body = embed(gateway, "retrieval.embeddings", ["one", "two"])
    assert status == 200, body
    assert [d["index"] for d in body["data"]] == [0, 1]
    requests = [r for r in standin.take() if r.path.endswith("/embeddings")]
    assert [(r.path, r.body["model"], r.body["input"]) for r in requests] == [
        ("/v1/embeddings", "text-embedding-3-small", ["one", "two"])
    ]
    assert requests[0].headers["authorization"] == f"Bearer {SECRETS['OPENAI_API_KEY']}"


def test_a_workspace_may_embed_with_its_own_embedding_alias_only(gateway: str, standin: StandIn) -> None:
    mine = workspace_token("search")
    refused = [
        embed(gateway, "retrieval.embeddings", credential=mine),  # another workspace's
        embed(gateway, "search", credential=mine),  # its chat alias, on the embeddings route
        embed(gateway, "chat-only.embeddings", credential=workspace_token("chat-only")),  # none configured
    ]
    assert [status for status, _ in refused] == [403, 403, 403], refused
    status, body = chat(gateway, "search.embeddings")  # its embedding alias, on the chat route
    assert status == 403 and "may not use model" in body, (status, body)
    assert upstream_embeddings(standin) == []


def test_the_embedding_alias_is_listed_for_its_workspace(gateway: str) -> None:
    from tests.e2e.gateway import get

    status, text = get(f"{gateway}/v1/models", workspace_token("search"))
    assert status == 200, text
    assert '"search.embeddings"' in text and '"retrieval.embeddings"' not in text


# --- budget and rate limit -------------------------------------------------------------------------


def test_embedding_spend_counts_in_the_workspaces_budget(gateway: str, standin: StandIn) -> None:
    statuses = []
    for index in range(3):
        statuses.append(embed(gateway, "budgeted.embeddings", f"text {index}")[0])
        time.sleep(0.5)  # the spend is settled just after the response
    assert statuses == [200, 200, 429], statuses
    status, body = chat(gateway, "budgeted")  # one budget for the workspace's aliases together
    assert status == 429 and "budget" in body, (status, body)
    assert len(upstream_embeddings(standin)) == 2


def test_the_rate_limit_holds_on_the_embedding_alias(gateway: str, standin: StandIn) -> None:
    # rpm: 1 counts per clock minute: of three requests in a row, two share a minute.
    statuses = [embed(gateway, "limited.embeddings", f"text {i}")[0] for i in range(3)]
    assert statuses.count(429) >= 1 and statuses[0] == 200, statuses


# --- PII ------------------------------------------------------------------------------------------


def test_personal_data_is_masked_before_the_provider_embeds_it(gateway: str, standin: StandIn) -> None:
    status, body = embed(gateway, "masked.embeddings", [f"{PII_WORD} has diabetes", "no one here"])
    assert status == 200, body
    calls = upstream_embeddings(standin)
    assert [call["input"] for _, call in calls] == [["<PERSON> has diabetes", "no one here"]]  # type: ignore[index]


def test_personal_data_blocks_the_embedding_request(gateway: str, standin: StandIn) -> None:
    status, body = embed(gateway, "refused.embeddings", f"{PII_WORD} has diabetes")
    assert status == 400 and "PERSON" in body, (status, body)
    assert upstream_embeddings(standin) == []
    assert embed(gateway, "refused.embeddings", "nothing personal")[0] == 200


def test_token_input_is_refused_where_pii_is_checked(gateway: str, standin: StandIn) -> None:
    status, body = embed(gateway, "masked.embeddings", [[101, 202, 303]])
    assert status == 400 and "send text, not tokens" in body, (status, body)
    assert upstream_embeddings(standin) == []


# --- the embedding cache --------------------------------------------------------------------------


def test_a_repeated_embedding_input_is_served_from_the_cache(gateway: str, standin: StandIn) -> None:
    first = embed(gateway, "cached.embeddings", "what is a vector?")
    time.sleep(0.5)  # the cache is written just after the response
    second = embed(gateway, "cached.embeddings", "what is a vector?")
    assert first[0] == second[0] == 200, (first, second)
    assert second[1]["data"] == first[1]["data"]
    assert len(upstream_embeddings(standin)) == 1


def test_a_request_may_skip_the_cache_but_not_set_its_lifetime(gateway: str, standin: StandIn) -> None:
    standin.take()
    for control in ({"ttl": 99_999_999}, {"s-maxage": 1, "namespace": "other"}, "no-cache"):
        status, body = embed(gateway, "cached.embeddings", "kept for years?", cache=control)
        assert status == 400 and "cache may only say no-cache, no-store, use-cache" in str(body), (control, status, body)
    assert not upstream_embeddings(standin)
    assert embed(gateway, "cached.embeddings", "fresh, please", cache={"no-cache": True, "no-store": True})[0] == 200


def test_a_workspace_without_the_cache_is_never_served_from_it(gateway: str, standin: StandIn) -> None:
    assert embed(gateway, "cached.embeddings", "a shared sentence")[0] == 200
    time.sleep(0.5)
    for _ in range(2):
        assert embed(gateway, "retrieval.embeddings", "a shared sentence")[0] == 200
        assert chat(gateway, "retrieval", text="a shared question")[0] == 200
    paths = [r.path for r in standin.take()]
    assert paths.count("/v1/embeddings") == 1 + 2, paths  # the cached workspace's, then each of the other's
    assert paths.count("/v1/chat/completions") == 2, paths


def test_a_batch_with_one_new_input_sends_only_that_input_upstream(gateway: str, standin: StandIn) -> None:
    """Documented in docs/gateway.md "Embeddings": each input of a batch is cached on its own; the
    cached ones are answered from the cache, the new ones go upstream, the answer keeps the order."""
    status, first = embed(gateway, "cached.embeddings", "already seen")
    assert status == 200, first
    time.sleep(0.5)
    status, body = embed(gateway, "cached.embeddings", ["already seen", "brand new"])
    assert status == 200, body
    calls = upstream_embeddings(standin)
    assert [call["input"] for _, call in calls] == ["already seen", ["brand new"]]  # type: ignore[index]
    assert [d["index"] for d in body["data"]] == [0, 1]
    assert body["data"][0]["embedding"] == first["data"][0]["embedding"]
    assert body["data"][1]["embedding"] == vector("brand new")


# --- spend --------------------------------------------------------------------------------------


def spend_and_tokens(gateway: str, alias: str) -> tuple[float, float]:
    """LiteLLM's spend and input-token counters for `alias`, as the ServiceMonitor scrapes them."""
    status, text = get(f"{gateway}/metrics", scrape_token())
    assert status == 200, text

    def total(metric: str) -> float:
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(metric + "{") and f'requested_model="{alias}"' in line)

    return total("litellm_spend_metric_total"), total("litellm_input_tokens_metric_total")


def test_a_cached_answer_counts_its_tokens_but_no_spend(gateway: str, standin: StandIn) -> None:
    """Why the spend rule reads LiteLLM's spend counter and not tokens × price (docs/monitoring.md)."""
    assert embed(gateway, "cached.embeddings", "counted once")[0] == 200
    time.sleep(0.5)
    spend, tokens = spend_and_tokens(gateway, "cached.embeddings")
    for _ in range(2):
        assert embed(gateway, "cached.embeddings", "counted once")[0] == 200
    time.sleep(0.5)
    later_spend, later_tokens = spend_and_tokens(gateway, "cached.embeddings")
    assert later_tokens > tokens and later_spend == pytest.approx(spend)
