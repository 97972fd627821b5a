"""End to end: an OpenAI-compatible server (provider `openai-compatible`, compiler/providers/) is
routed by the real LiteLLM proxy as hks renders it. The stand-in plays the server: chat and
embeddings reach it on /v1 (added to an endpoint written without a path) under the model names
the config gives; with no `api_key_secret` the request carries no key of the gateway's, not even
the OPENAI_API_KEY another workspace's OpenAI model needs, and with one it carries that key; the
gateway counts its tokens and no spend."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.gateway import SECRETS, chat, embed, get, render, running, scrape_token
from tests.e2e.kubeapi import KubeAPI
from tests.e2e.standin import StandIn

MODEL = "meta-llama/Llama-3.1-8B-Instruct"
SERVER_KEY = "e2e-vllm-key-6d41c9e2"
ORG = """\
organization: e2e-openai-compatible
llm_config:
  provider: openai-compatible
  model: {model}
providers:
  openai-compatible:
    endpoint: http://127.0.0.1:{port}{settings}
  openai:
    endpoint: http://127.0.0.1:{port}/v1
gateway:
  replicas: {{min: 1, max: 1}}
workspaces:
  chat: {{}}
  search:
    llm_override:
      embeddings: {{provider: openai-compatible, model: BAAI/bge-m3}}
  other:
    llm_override: {{provider: openai, model: gpt-5.4-mini}}
"""


def start(standin: StandIn, kubeapi: KubeAPI, litellm: Path, factory: pytest.TempPathFactory, settings: str, secrets: dict[str, str]) -> Iterator[str]:
    rendered = render(ORG.format(model=MODEL, port=standin.port, settings=settings), factory)
    with running(rendered, standin, kubeapi, litellm, factory, secrets=secrets) as url:
        yield url


@pytest.fixture(scope="module")
def keyless(standin: StandIn, kubeapi: KubeAPI, litellm: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The server takes no key; the gateway holds OpenAI's key for the `other` workspace."""
    yield from start(standin, kubeapi, litellm, tmp_path_factory, "", {})


@pytest.fixture(scope="module")
def keyed(standin: StandIn, kubeapi: KubeAPI, litellm: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The server wants a key (vLLM's --api-key), from the Secret the org names."""
    yield from start(standin, kubeapi, litellm, tmp_path_factory, "\n    api_key_secret: vllm-key", {"OPENAI_COMPATIBLE_API_KEY": SERVER_KEY})


@pytest.fixture(autouse=True)
def fresh_record(standin: StandIn) -> None:
    standin.take()


def gateway_keys() -> set[str]:
    return {value for name, value in SECRETS.items() if name != "LITELLM_MASTER_KEY"} | {SERVER_KEY}


def test_chat_reaches_the_server_on_v1_without_the_gateways_keys(keyless: str, standin: StandIn) -> None:
    status, body = chat(keyless, "chat")
    assert status == 200, body
    [call] = standin.take()
    assert (call.path, call.body["model"]) == ("/v1/chat/completions", MODEL)
    # hosted_vllm/ sends a placeholder of its own; openai/ would have sent OPENAI_API_KEY here
    assert not any(key in value for key in gateway_keys() for value in call.headers.values()), call.headers
    assert call.headers["authorization"] == "Bearer fake-api-key"


def test_the_openai_workspace_beside_it_does_send_openais_key(keyless: str, standin: StandIn) -> None:
    """The key the server must not see is there to leak: the OpenAI model is sent it."""
    status, body = chat(keyless, "other")
    assert status == 200, body
    [call] = standin.take()
    assert call.headers["authorization"] == f"Bearer {SECRETS['OPENAI_API_KEY']}"


def test_embeddings_reach_the_server_on_v1(keyless: str, standin: StandIn) -> None:
    status, body = embed(keyless, "search.embeddings", "bonjour")
    assert status == 200, body
    [call] = standin.take()
    assert (call.path, call.body["model"], call.body["input"]) == ("/v1/embeddings", "BAAI/bge-m3", ["bonjour"])
    assert not any(key in value for key in gateway_keys() for value in call.headers.values()), call.headers


def test_its_tokens_are_counted_and_cost_nothing(keyless: str, standin: StandIn) -> None:
    for alias in ("chat", "other"):
        assert chat(keyless, alias)[0] == 200
    time.sleep(0.5)  # the spend is settled just after the response
    status, text = get(f"{keyless}/metrics", scrape_token())
    assert status == 200, text

    def total(metric: str, alias: str) -> float:
        lines = [line for line in text.splitlines() if line.startswith(metric + "{") and f'requested_model="{alias}"' in line]
        return sum(float(line.rsplit(" ", 1)[1]) for line in lines)

    assert total("litellm_input_tokens_metric_total", "chat") > 0
    assert total("litellm_spend_metric_total", "chat") == 0
    assert total("litellm_spend_metric_total", "other") > 0  # the meter runs: OpenAI is priced


def test_a_named_secret_is_the_key_the_server_gets(keyed: str, standin: StandIn) -> None:
    status, body = chat(keyed, "chat")
    assert status == 200, body
    [call] = standin.take()
    assert (call.path, call.body["model"]) == ("/v1/chat/completions", MODEL)
    assert call.headers["authorization"] == f"Bearer {SERVER_KEY}"
