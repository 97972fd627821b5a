"""End to end: who may call what. The real LiteLLM proxy runs the rendered gateway config with its
workspace-identity module; a stand-in Kubernetes API reviews the tokens. A workspace's pod, with
the projected token the kubelet gives it, reaches its own aliases and nothing else: not another
workspace's alias, not a deployment id, not an admin route, not MCP. What `validate` proves per
workspace (a HIPAA workspace only on providers with a BAA, an on-premises one only in the cluster)
therefore holds per request."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.e2e.gateway import AUDIENCE, SECRETS, chat, get, post, render, running, scrape_token, workspace_token
from tests.e2e.kubeapi import KubeAPI, token
from tests.e2e.standin import StandIn

ORG = """\
organization: e2e-identity
llm_config:
  provider: openai
  model: gpt-4o
providers:
  openai:
    endpoint: http://127.0.0.1:{port}/v1
  ollama:
    endpoint: http://127.0.0.1:{port}
  azure-openai:
    endpoint: http://127.0.0.1:{port}
    api_version: "2024-10-21"
    deployments: {{gpt-4o: clinical-4o}}
    baa: true
self_hosted:
  models: [llama3:8b]
cluster:
  mesh: linkerd  # HIPAA's encryption in transit (HIPAA-007); the mesh is not part of this test
gateway:
  replicas: {{min: 1, max: 1}}
workspaces:
  chat: {{}}
  clinical:
    compliance: [hipaa]
    llm_override:
      provider: azure-openai
      sanitization: {{pii: redact}}
      fallbacks: [{{provider: ollama, model: "llama3:8b"}}]
  onprem:
    data_residency: on-premises
    llm_override: {{provider: ollama, model: "llama3:8b"}}
  sprint:
    llm_override: {{budget: {{monthly_usd: 0.01}}}}
  thrifty:
    llm_override:
      budget: {{monthly_usd: 0.01}}
      fallbacks: [{{provider: openai, model: gpt-4o-mini}}]
  frugal:
    llm_override: {{budget: {{monthly_usd: 0.01}}}}
"""
# What the loopback stand-ins cannot offer a HIPAA workspace: TLS and a Postgres audit log.
WAIVERS = """\
waivers:
  - {rule: HIPAA-005, workspace: clinical, reason: loopback stand-ins, expires: 2099-12-31, approver: e2e@example.com}
  - {rule: HIPAA-004, reason: no Postgres in the test, expires: 2099-12-31, approver: e2e@example.com}
"""
ADMIN_ROUTES = [
    ("POST", "/key/generate"),
    ("POST", "/config/update"),
    ("GET", "/get/config/callbacks"),
    ("POST", "/team/new"),
    ("POST", "/user/new"),
    ("POST", "/model/new"),
    ("GET", "/model/info"),
    ("GET", "/health"),
    ("POST", "/mcp-rest/test/connection"),
    ("POST", "/mcp-rest/test/tools/list"),
    ("POST", "/mcp/"),
    ("GET", "/spend/logs"),
    ("GET", "/global/spend"),
]


@pytest.fixture(scope="module")
def rendered(standin: StandIn, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(ORG.format(port=standin.port), tmp_path_factory, {"policies/waivers.yaml": WAIVERS})


@pytest.fixture(scope="module")
def gateway(
    rendered: Path, standin: StandIn, kubeapi: KubeAPI, litellm: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with running(rendered, standin, kubeapi, litellm, tmp_path_factory) as url:
        yield url


def call(url: str, method: str, path: str, credential: str | None) -> int:
    if method == "GET":
        return get(f"{url}{path}", credential)[0]
    return post(url, path, {"model": "chat", "messages": [{"role": "user", "content": "hi"}]}, credential)[0]


def test_a_workspace_reaches_its_alias_and_its_fallback(gateway: str) -> None:
    assert chat(gateway, "clinical")[0] == 200
    assert chat(gateway, "clinical.fallback-1", credential=workspace_token("clinical"))[0] == 200


def test_a_workspace_is_refused_every_other_alias(gateway: str) -> None:
    for alias in ("chat", "onprem", "clinical.fallback-1"):
        status, body = chat(gateway, alias, credential=workspace_token("onprem") if alias != "onprem" else workspace_token("chat"))
        assert status == 403, (alias, body)


def test_hipaa_and_on_premises_hold_per_request(gateway: str) -> None:
    # The HIPAA workspace may not reach the alias routed to OpenAI, which has no BAA here.
    assert chat(gateway, "chat", credential=workspace_token("clinical"))[0] == 403
    # The on-premises workspace may not reach any commercial alias.
    for alias in ("chat", "clinical"):
        assert chat(gateway, alias, credential=workspace_token("onprem"))[0] == 403
    assert chat(gateway, "onprem")[0] == 200


def test_a_deployment_id_and_routing_fields_are_refused(gateway: str, standin: StandIn) -> None:
    ws = workspace_token("chat")
    assert chat(gateway, "chat.deployment", credential=ws)[0] == 403
    assert chat(gateway, "chat", credential=ws, fallbacks=["clinical"])[0] == 400
    # LiteLLM takes a `model` query parameter over the body's.
    body = {"model": "chat", "messages": [{"role": "user", "content": "hi"}]}
    assert post(gateway, "/chat/completions?model=clinical", body, ws)[0] == 403
    # Only OpenAI's request fields: LiteLLM would let its own override the deployment's settings.
    # (LiteLLM's own guard answers a client-side api_base or price with 500 before hks's module runs.)
    for field, value in [("api_base", "http://169.254.169.254"), ("vertex_location", "us-central1"),
                         ("api_version", "2099-01-01"), ("input_cost_per_token", 0), ("no-log", True)]:  # fmt: skip
        standin.take()
        assert chat(gateway, "clinical" if field == "api_version" else "chat",
                    credential=workspace_token("clinical" if field == "api_version" else "chat"),
                    **{field: value})[0] in ((400, 500) if field in ("api_base", "input_cost_per_token") else (400,)), field  # fmt: skip
        assert not [r for r in standin.take() if "/chat/completions" in r.path], field


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
def test_admin_and_mcp_routes_are_closed_to_workspaces(gateway: str, method: str, path: str) -> None:
    assert call(gateway, method, path, workspace_token("chat")) in (401, 403)


def test_the_scrape_account_reads_metrics_and_nothing_else(gateway: str) -> None:
    assert get(f"{gateway}/metrics", scrape_token())[0] == 200
    assert get(f"{gateway}/metrics", workspace_token("chat"))[0] in (401, 403)  # not for the API's audience
    assert get(f"{gateway}/metrics")[0] == 401
    assert chat(gateway, "chat", credential=scrape_token())[0] in (401, 403)


def test_the_master_key_stays_the_administrators(gateway: str) -> None:
    status, body = get(f"{gateway}/model/info", SECRETS["LITELLM_MASTER_KEY"])
    assert status == 200
    assert {m["model_name"] for m in json.loads(body)["data"]} >= {"chat", "clinical", "onprem"}


def test_a_workspace_lists_only_its_own_models(gateway: str) -> None:
    status, body = get(f"{gateway}/v1/models", workspace_token("clinical"))
    assert status == 200
    assert {m["id"] for m in json.loads(body)["data"]} == {"clinical", "clinical.fallback-1"}


def test_a_workspace_budget_counts_its_alias_and_fallbacks_together(gateway: str, standin: StandIn) -> None:
    assert chat(gateway, "thrifty")[0] == 200  # the stand-in's usage costs far more than $0.01
    for _ in range(20):  # spend is recorded just after the response
        if chat(gateway, "thrifty")[0] == 429:
            break
        time.sleep(0.25)
    standin.take()
    # The fallback's own deployment has spent nothing yet: only the workspace's shared budget refuses.
    status, body = chat(gateway, "thrifty.fallback-1", credential=workspace_token("thrifty"))
    assert status == 429, body
    assert "all its aliases together" in str(body)
    assert not [r for r in standin.take() if r.path.endswith("/chat/completions")]


def test_concurrent_requests_cannot_overrun_the_budget(gateway: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(10) as pool:  # each reserves its estimate before it is sent
        statuses = list(pool.map(lambda _: chat(gateway, "sprint")[0], range(10)))
    assert statuses.count(200) == 1 and statuses.count(429) == 9, statuses


def test_an_input_field_does_not_make_a_chat_request_reserve_nothing(gateway: str) -> None:
    """A reservation counts the answer a completion may have (max_tokens × the output price) even
    when the request also carries an embeddings-style `input`: a burst still gets one through."""
    from concurrent.futures import ThreadPoolExecutor

    body = {"model": "frugal", "prompt": "hi", "input": "", "max_tokens": 1_000}
    with ThreadPoolExecutor(10) as pool:
        statuses = list(pool.map(lambda _: post(gateway, "/v1/completions", body, workspace_token("frugal"))[0], range(10)))
    assert statuses.count(200) == 1 and statuses.count(429) == 9, statuses


INVALID = {
    "no credential": None,
    "an expired token": token("chat", AUDIENCE, expires_in=-60),
    "a token for another audience": token("chat", "https://kubernetes.default.svc.cluster.local"),
    "a token signed by another key": token("chat", AUDIENCE, key=rsa.generate_private_key(public_exponent=65537, key_size=2048)),
    "a random string": "not-a-token",
    "a namespace that is no workspace": token("kube-system", AUDIENCE),
}


@pytest.mark.parametrize("what", sorted(INVALID))
def test_invalid_credentials_are_refused(gateway: str, standin: StandIn, what: str) -> None:
    standin.take()
    status, _ = post(gateway, "/chat/completions", {"model": "chat", "messages": [{"role": "user", "content": "hi"}]}, INVALID[what])
    assert status in (401, 403)
    assert not [r for r in standin.take() if r.path.endswith("/chat/completions")]
