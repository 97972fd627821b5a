"""End to end: the real LiteLLM proxy (the pinned release, in its own venv) runs the gateway config
hks renders, unmodified, against a local stand-in for every upstream. Each workspace's alias
must reach the right upstream with the right model, parameters and key, and rate limits,
budgets, the cache and the PII guardrail must act, not merely be written down."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.conftest import hks_process
from tests.e2e.gateway import SECRETS, chat, render, running
from tests.e2e.kubeapi import KubeAPI
from tests.e2e.standin import FAILING_MODEL, PII_WORD, StandIn

ORG = """\
organization: e2e
llm_config:
  provider: openai
  model: gpt-4o
  temperature: 0.7
  max_tokens: 1000
providers:
  openai:
    endpoint: http://127.0.0.1:{port}/v1
  anthropic:
    endpoint: http://127.0.0.1:{port}
  ollama:
    endpoint: http://127.0.0.1:{port}
  azure-openai:
    endpoint: http://127.0.0.1:{port}
    api_version: "2024-10-21"
    deployments: {{gpt-4o: clinical-4o}}
self_hosted:
  models: [llama3:8b]
gateway:
  replicas: {{min: 1, max: 1}}
workspaces:
  chat:
    llm_override: {{temperature: 0.2, max_tokens: 111, top_p: 0.9}}
  claude:
    llm_override: {{provider: anthropic, model: claude-sonnet-4-6, temperature: 0.3, max_tokens: 222}}
  local:
    llm_override: {{provider: ollama, model: "llama3:8b", temperature: 0.4, max_tokens: 333}}
  azure:
    llm_override: {{provider: azure-openai, model: gpt-4o, temperature: 0.5, max_tokens: 444}}
  limited:
    llm_override: {{model: gpt-4o-mini, rate_limit: {{rpm: 1}}}}
  budgeted:
    llm_override: {{budget: {{monthly_usd: 0.01}}}}
  private:
    llm_override: {{sanitization: {{pii: redact}}}}
  strict:
    llm_override: {{sanitization: {{pii: block}}}}
  resilient:
    llm_override:
      model: gpt-4.1
      fallbacks: [{{provider: anthropic, model: claude-haiku-4-5}}]
"""


# The cache is proven on a gateway of its own (LiteLLM 1.80 ran Presidio's logging hook for every
# request once the cache was on; the releases hks supports no longer do).
CACHE_ORG = """\
organization: e2e-cache
llm_config:
  provider: openai
  model: gpt-4o
providers:
  openai:
    endpoint: http://127.0.0.1:{port}/v1
gateway:
  replicas: {{min: 1, max: 1}}
workspaces:
  chat: {{}}
  cached:
    llm_override: {{cache: {{enabled: true, ttl_seconds: 600}}}}
"""


@pytest.fixture(scope="module")
def rendered(standin: StandIn, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(ORG.format(port=standin.port), tmp_path_factory)


@pytest.fixture(scope="module")
def gateway(
    rendered: Path, standin: StandIn, kubeapi: KubeAPI, litellm: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with running(rendered, standin, kubeapi, litellm, tmp_path_factory) as url:
        yield url


@pytest.fixture(scope="module")
def cache_gateway(
    standin: StandIn, kubeapi: KubeAPI, litellm: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    rendered = render(CACHE_ORG.format(port=standin.port), tmp_path_factory)
    with running(rendered, standin, kubeapi, litellm, tmp_path_factory) as url:
        yield url


@pytest.fixture(autouse=True)
def fresh_record(standin: StandIn) -> None:
    standin.take()  # each test sees only the requests it caused


def upstream_calls(standin: StandIn) -> list[Any]:
    return [r for r in standin.take() if not r.path.endswith(("/analyze", "/anonymize"))]


# --- routing ------------------------------------------------------------------------------------


def test_openai_alias_reaches_openai_with_its_parameters(gateway: str, standin: StandIn) -> None:
    status, _ = chat(gateway, "chat")
    assert status == 200
    [call] = upstream_calls(standin)
    assert call.path == "/v1/chat/completions"
    assert call.body["model"] == "gpt-4o"
    assert (call.body["temperature"], call.body["max_tokens"], call.body["top_p"]) == (0.2, 111, 0.9)
    assert call.headers["authorization"] == f"Bearer {SECRETS['OPENAI_API_KEY']}"


def test_the_clients_own_values_win_over_the_defaults(gateway: str, standin: StandIn) -> None:
    status, _ = chat(gateway, "chat", temperature=1.5, max_tokens=7)
    assert status == 200
    [call] = upstream_calls(standin)
    assert (call.body["temperature"], call.body["max_tokens"]) == (1.5, 7)


def test_anthropic_alias_reaches_anthropic_with_its_key(gateway: str, standin: StandIn) -> None:
    status, _ = chat(gateway, "claude")
    assert status == 200
    [call] = upstream_calls(standin)
    assert call.path == "/v1/messages"
    assert call.body["model"] == "claude-sonnet-4-6"
    assert (call.body["temperature"], call.body["max_tokens"]) == (0.3, 222)
    assert call.headers["x-api-key"] == SECRETS["ANTHROPIC_API_KEY"]


def test_azure_alias_reaches_its_deployment_with_version_and_key(gateway: str, standin: StandIn) -> None:
    status, _ = chat(gateway, "azure")
    assert status == 200
    [call] = upstream_calls(standin)
    assert call.path.startswith("/openai/deployments/clinical-4o/chat/completions?")
    assert "api-version=2024-10-21" in call.path
    assert (call.body["temperature"], call.body["max_tokens"]) == (0.5, 444)
    assert call.headers["api-key"] == SECRETS["AZURE_API_KEY"]


def test_ollama_alias_reaches_ollama(gateway: str, standin: StandIn) -> None:
    status, _ = chat(gateway, "local")
    assert status == 200
    [call] = upstream_calls(standin)
    assert call.path == "/api/chat"
    assert call.body["model"] == "llama3:8b"
    assert call.body["options"]["temperature"] == 0.4
    assert call.body["options"]["num_predict"] == 333
    assert "authorization" not in call.headers


def test_a_failing_model_falls_back(gateway: str, standin: StandIn) -> None:
    status, _ = chat(gateway, "resilient")
    assert status == 200
    calls = upstream_calls(standin)
    assert [c.body["model"] for c in calls if c.path == "/v1/chat/completions"][0] == FAILING_MODEL
    assert calls[-1].path == "/v1/messages"
    assert calls[-1].body["model"] == "claude-haiku-4-5"
    assert calls[-1].headers["x-api-key"] == SECRETS["ANTHROPIC_API_KEY"]
    assert (calls[-1].body["temperature"], calls[-1].body["max_tokens"]) == (0.7, 1000)


# --- limits, cache, PII ---------------------------------------------------------------------------


def test_rate_limit_refuses_the_second_request_in_a_minute(gateway: str, standin: StandIn) -> None:
    if time.time() % 60 > 57:  # LiteLLM counts per clock minute: keep both requests (0.1 s) in one
        time.sleep(61 - time.time() % 60)
    assert chat(gateway, "limited")[0] == 200
    status, _ = chat(gateway, "limited")
    assert status == 429
    assert len(upstream_calls(standin)) == 1


def test_budget_refuses_once_spend_crosses_it(gateway: str, standin: StandIn) -> None:
    assert chat(gateway, "budgeted")[0] == 200  # the stand-in's usage costs far more than $0.01
    refused = None
    for _ in range(20):  # spend is recorded just after the response
        status, body = chat(gateway, "budgeted")
        if status != 200:
            refused = (status, body)
            break
        time.sleep(0.25)
    assert refused is not None, "the budget never refused a request"
    assert refused[0] == 429, refused
    assert "budget" in str(refused[1]).lower()


def test_cache_answers_repeats_only_for_workspaces_that_enable_it(cache_gateway: str, standin: StandIn) -> None:
    for alias in ("cached", "chat"):
        for _ in range(2):
            assert chat(cache_gateway, alias, text="the same question")[0] == 200
            time.sleep(0.3)  # the cache is written just after the response
    models = [c.body["model"] for c in upstream_calls(standin)]
    assert len(models) == 3  # cached: once; chat: twice


def test_pii_guardrail_runs_for_exactly_the_workspaces_that_ask(gateway: str, standin: StandIn) -> None:
    text = f"my name is {PII_WORD}"
    assert chat(gateway, "private", text=text)[0] == 200
    calls = standin.take()
    # One analysis per guarded request up to 1.84; from 1.110 the guardrail asks twice.
    assert {c.path for c in calls if "/analyzer/" in c.path} == {"/analyzer/analyze"}
    [upstream] = [c for c in calls if c.path == "/v1/chat/completions"]
    assert PII_WORD not in json.dumps(upstream.body)

    status, body = chat(gateway, "strict", text=text)
    # LiteLLM answers a blocked entity with HTTP 400 (500 up to 1.80) and says why; the provider
    # never sees it.
    assert status == 400
    assert "Blocked entity detected: PERSON" in body
    calls = standin.take()
    assert [c for c in calls if "/analyzer/" in c.path]
    assert not [c for c in calls if c.path == "/v1/chat/completions"]

    for alias in ("chat", "claude", "local"):
        assert chat(gateway, alias, text=text)[0] == 200
    assert not [c for c in standin.take() if "/analyze" in c.path or "/anonymize" in c.path]


def test_no_secret_value_is_in_the_rendered_folder(rendered: Path) -> None:
    for path in rendered.rglob("*"):
        if path.is_file():
            text = path.read_text()
            for value in SECRETS.values():
                assert value not in text, path


LEAKS = {
    "an OpenAI key as a setting": ("  openai:\n", "  openai:\n    region: sk-proj-Zq4XbT9wLm2RkVfN8sHd3JcYpA6uE1oG\n"),
    "a password in an endpoint": ("http://127.0.0.1:{port}/v1", "https://hks:{secret}@api.example.com/v1"),
    "a key in an endpoint's query": ("http://127.0.0.1:{port}/v1", "https://api.example.com/v1?api-key={secret}"),
}


@pytest.mark.parametrize("leak", sorted(LEAKS))
def test_a_secret_given_to_hks_is_refused_and_never_repeated(leak: str, tmp_path: Path) -> None:
    old, new = LEAKS[leak]
    secret = SECRETS["OPENAI_API_KEY"]
    text = ORG.replace(old, new.replace("{secret}", secret)).format(port=1)
    value = secret if "{secret}" in new else "sk-proj-Zq4XbT9wLm2RkVfN8sHd3JcYpA6uE1oG"
    assert value in text
    (tmp_path / "org.yaml").write_text(text)
    out = tmp_path / "out"
    result = hks_process("render", str(tmp_path), "-o", str(out))
    assert result.returncode == 1
    assert "SEC-001" in result.stdout + result.stderr
    assert value not in result.stdout + result.stderr
    assert not out.exists()
