"""End to end: a provider added through the registry (compiler/providers/) is routed by the real
LiteLLM proxy as hks renders it: Mistral AI's chat and embedding models reach the stand-in on
Mistral's (OpenAI-shaped) routes, with Mistral's key, under the model names the config gives."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.gateway import chat, embed, render, running
from tests.e2e.kubeapi import KubeAPI
from tests.e2e.standin import StandIn

MISTRAL_KEY = "e2e-mistral-key-3e8a1f60"
ORG = """\
organization: e2e-providers
llm_config:
  provider: mistral
  model: mistral-small-latest
providers:
  mistral:
    endpoint: http://127.0.0.1:{port}/v1
gateway:
  replicas: {{min: 1, max: 1}}
workspaces:
  chat: {{}}
  search:
    llm_override:
      embeddings: {{provider: mistral, model: mistral-embed}}
"""


@pytest.fixture(scope="module")
def gateway(standin: StandIn, kubeapi: KubeAPI, litellm: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    rendered = render(ORG.format(port=standin.port), tmp_path_factory)
    with running(rendered, standin, kubeapi, litellm, tmp_path_factory, secrets={"MISTRAL_API_KEY": MISTRAL_KEY}) as url:
        yield url


@pytest.fixture(autouse=True)
def fresh_record(standin: StandIn) -> None:
    standin.take()


def test_mistral_chat_is_routed_with_its_key(gateway: str, standin: StandIn) -> None:
    status, body = chat(gateway, "chat")
    assert status == 200, body
    [call] = [r for r in standin.take() if r.path.endswith("/chat/completions")]
    assert (call.path, call.body["model"]) == ("/v1/chat/completions", "mistral-small-latest")
    assert call.headers["authorization"] == f"Bearer {MISTRAL_KEY}"


def test_mistral_embeddings_are_routed_with_its_key(gateway: str, standin: StandIn) -> None:
    status, body = embed(gateway, "search.embeddings", "bonjour")
    assert status == 200, body
    [call] = [r for r in standin.take() if r.path.endswith("/embeddings")]
    assert (call.path, call.body["model"], call.body["input"]) == ("/v1/embeddings", "mistral-embed", "bonjour")  # as the client sent it
    assert call.headers["authorization"] == f"Bearer {MISTRAL_KEY}"
