"""Workspace identity for the LiteLLM gateway, rendered by hks (docs/gateway.md, "Who may call
the gateway"). LiteLLM loads it from beside its config.yaml, read-only from the gateway's
ConfigMap: `general_settings.custom_auth` names `user_api_key_auth`, `litellm_settings.callbacks`
names `workspace_hooks`. It runs inside the proxy, so it uses only what the LiteLLM image has.

A caller presents one of three credentials as `Authorization: Bearer ...`:
- a workspace pod's projected ServiceAccount token, made for the gateway's audience. The Kubernetes
  API checks it (a TokenReview: signature, expiry, audience, and that its pod still exists); its
  namespace names the workspace. It may call the inference routes, for its own aliases only.
- Prometheus's ServiceAccount token (the `llm-gateway-metrics` account's, reviewed the same way
  for the API server's own audience): `/metrics` only.
- the master key (`LITELLM_MASTER_KEY`): the administrator, every route.
Everything else is refused. The table of workspaces is `workspaces.json`, beside this file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import ssl
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi import HTTPException, Request
from litellm.integrations.custom_logger import CustomLogger
from litellm.proxy._types import LitellmUserRoles, UserAPIKeyAuth
from litellm.proxy.auth.auth_utils import get_request_route

TABLE = json.loads((Path(__file__).parent / "workspaces.json").read_text())
AUDIENCE: str = TABLE["audience"]
WORKSPACES: dict[str, dict[str, Any]] = TABLE["workspaces"]  # by namespace

# The inference API: what a workspace may call. Each needs a `model` that is one of its aliases
# for that route (its chat aliases, or its embedding alias on the embeddings routes), except the
# listings, which LiteLLM narrows to the caller's `models`.
CHAT_ROUTES = frozenset(("/chat/completions", "/v1/chat/completions", "/completions", "/v1/completions"))
EMBEDDING_ROUTES = frozenset(("/embeddings", "/v1/embeddings"))
MODEL_ROUTES = CHAT_ROUTES | EMBEDDING_ROUTES
LISTING_ROUTES = frozenset(("/models", "/v1/models"))
CACHE_CONTROLS = frozenset(("no-cache", "no-store", "use-cache"))
METRICS_ROUTES = frozenset(("/metrics", "/metrics/"))
# The request fields of OpenAI's chat, completions and embeddings APIs. Anything else is refused:
# LiteLLM lets a request's own fields override a deployment's settings (its upstream, region,
# prices, logging), so only what the OpenAI API defines may pass.
REQUEST_FIELDS = frozenset(
    (
        "model", "messages", "prompt", "input", "encoding_format", "dimensions", "suffix", "echo", "best_of",
        "frequency_penalty", "presence_penalty", "logit_bias", "logprobs", "top_logprobs", "max_tokens",
        "max_completion_tokens", "n", "response_format", "seed", "stop", "stream", "stream_options",
        "temperature", "top_p", "tools", "tool_choice", "parallel_tool_calls", "functions", "function_call",
        "user", "modalities", "audio", "prediction", "reasoning_effort", "verbosity", "store",
        "web_search_options", "priority",
    )
)  # fmt: skip

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
CACHE_SECONDS = 60  # a verified token is trusted this long (never past its own expiry)
REFUSED_SECONDS = 5  # a refused token is not reviewed again for this long
_verified: dict[tuple[str, str | None], tuple[float, str | None]] = {}  # (sha256, audience) -> (until, account)
_api: list[httpx.AsyncClient] = []  # one client for every review


async def user_api_key_auth(request: Request, api_key: str) -> UserAPIKeyAuth:
    route = get_request_route(request)  # as LiteLLM itself routes the request
    token = _bearer(request, api_key)
    if _equal(token, os.environ.get("LITELLM_MASTER_KEY")):
        # As LiteLLM keeps a key: its SHA-256, never the key itself (it reaches logs and metrics).
        digest = hashlib.sha256(token.encode()).hexdigest()
        return UserAPIKeyAuth(api_key=digest, user_role=LitellmUserRoles.PROXY_ADMIN, user_id="hks-admin", key_alias="admin")
    if not token:
        raise HTTPException(status_code=401, detail="no credential: send the workspace's projected token as a Bearer token")
    if route in METRICS_ROUTES:
        if TABLE.get("metrics") is None or await _account_of(token, None) != TABLE["metrics"]:
            raise HTTPException(status_code=403, detail="/metrics is for the gateway's scrape account only")
        return UserAPIKeyAuth(api_key="hks-metrics", user_id="hks-metrics", key_alias="metrics", models=[])
    namespace = (await _account_of(token, AUDIENCE)).split(":")[2]
    workspace = WORKSPACES.get(namespace)
    if workspace is None:
        raise HTTPException(status_code=403, detail=f"namespace {namespace} is not a workspace of this gateway")
    if route in MODEL_ROUTES:
        aliases = _aliases_for(workspace, route)
        _check_request(await _body(request), workspace, aliases)
        # LiteLLM takes `?model=` over the body's model: it must be one of the aliases too.
        if "model" in request.query_params:
            _check_request({"model": request.query_params["model"]}, workspace, aliases)
    elif route not in LISTING_ROUTES:
        raise HTTPException(status_code=403, detail=f"workspace {workspace['workspace']} may not call {route}")
    return UserAPIKeyAuth(
        api_key=f"hks-workspace-{workspace['workspace']}",
        user_id=f"workspace:{workspace['workspace']}",
        key_alias=workspace["workspace"],
        models=_all_aliases(workspace),
        metadata={"hks_workspace": workspace["workspace"]},
    )


class WorkspaceHooks(CustomLogger):
    """Applies the workspace's own decisions to each of its requests, whatever the client sent:
    its aliases only, its priority, and one monthly budget for its alias and fallbacks together."""

    async def async_pre_call_hook(self, user_api_key_dict: UserAPIKeyAuth, cache: Any, data: dict, call_type: Any) -> dict:
        name = (user_api_key_dict.metadata or {}).get("hks_workspace")
        if name is None:
            return data  # the administrator
        workspace = _by_name(name)
        _check_request(data, workspace, _all_aliases(workspace), merged=True)
        if data.get("model") == workspace.get("embeddings"):
            await _check_embedding_pii(workspace, data)
        await _reserve(workspace, data)
        if workspace.get("priority") is not None and call_type in ("completion", "acompletion", "text_completion", "atext_completion"):
            data["priority"] = workspace["priority"]
        return data

    async def async_log_success_event(self, kwargs: dict, response_obj: Any, start_time: Any, end_time: Any) -> None:
        logged = kwargs.get("standard_logging_object") or {}
        await _settle(kwargs.get("litellm_call_id"), float(logged.get("response_cost") or kwargs.get("response_cost") or 0.0))

    async def async_log_failure_event(self, kwargs: dict, response_obj: Any, start_time: Any, end_time: Any) -> None:
        logged = kwargs.get("standard_logging_object") or {}
        error = (logged.get("error_information") or {}).get("error_code")
        if str(error) != "499":  # a client that hung up mid-answer keeps its reservation: it was served
            await _settle(kwargs.get("litellm_call_id"), float(logged.get("response_cost") or 0.0))


workspace_hooks = WorkspaceHooks()


def _by_name(name: str) -> dict[str, Any]:
    return next(w for w in WORKSPACES.values() if w["workspace"] == name)


def _aliases_for(workspace: dict[str, Any], route: str) -> list[str]:
    if route in EMBEDDING_ROUTES:
        return [workspace["embeddings"]] if workspace.get("embeddings") else []
    return list(workspace["aliases"])


def _all_aliases(workspace: dict[str, Any]) -> list[str]:
    return list(workspace["aliases"]) + ([workspace["embeddings"]] if workspace.get("embeddings") else [])


def _check_request(body: dict[str, Any], workspace: dict[str, Any], aliases: list[str], *, merged: bool = False) -> None:
    model = body.get("model")
    if not isinstance(model, str) or model not in aliases:
        raise HTTPException(status_code=403, detail=f"workspace {workspace['workspace']} may not use model {model!r}")
    if merged:
        return  # LiteLLM's own fields are in the request by now
    # The cache is opt-in per deployment; a request's own `cache` would opt any workspace in.
    if "cache" in body and not workspace["cache"]:
        raise HTTPException(status_code=403, detail=f"workspace {workspace['workspace']} does not use the response cache: remove cache")
    # A workspace with the cache may skip it (or ask for it) for one request; nothing else: a `ttl` of its own
    # would keep answers longer than the organisation allows.
    if "cache" in body and not (isinstance(body["cache"], dict) and set(body["cache"]) <= CACHE_CONTROLS):
        raise HTTPException(status_code=400, detail=f"cache may only say {', '.join(sorted(CACHE_CONTROLS))}")
    allowed = REQUEST_FIELDS | ({"cache"} if workspace["cache"] else set())
    unknown = sorted(str(key) for key in body if key not in allowed)
    if unknown:
        raise HTTPException(status_code=400, detail=f"the gateway accepts OpenAI's request fields only, not: {', '.join(unknown)}")


async def _check_embedding_pii(workspace: dict[str, Any], data: dict[str, Any]) -> None:
    """Masks or blocks personal data in the text to embed with the workspace's own Presidio
    guardrail: LiteLLM's Presidio hook reads chat `messages` only and passes `input` unseen."""
    name = workspace.get("pii_guardrail")
    if not name:
        return
    import litellm

    guardrail = next((c for c in litellm.callbacks if getattr(c, "guardrail_name", None) == name), None)
    if guardrail is None:
        raise HTTPException(status_code=503, detail=f"the gateway has no {name} guardrail to check the input with")
    given = data.get("input")
    texts = [given] if isinstance(given, str) else given
    if not isinstance(texts, list) or not all(isinstance(text, str) for text in texts):
        raise HTTPException(status_code=400, detail="this workspace's input is checked for personal data: send text, not tokens")
    checked = [await guardrail.check_pii(text=text, output_parse_pii=False, presidio_config=None, request_data=data) for text in texts]
    data["input"] = checked[0] if isinstance(given, str) else checked


def _bearer(request: Request, api_key: str) -> str:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return (api_key or "").removeprefix("Bearer ").strip()


def _equal(token: str, secret: str | None) -> bool:
    return bool(token and secret) and hmac.compare_digest(token.encode(), str(secret).encode())


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError as exc:
        raise HTTPException(status_code=400, detail="the request body is not JSON") from exc
    if not isinstance(body, dict):
        raise HTTPException(status_code=400, detail="the request body is not a JSON object")
    return body


# --- the monthly spend of a workspace, across its aliases -----------------------------------------
# Each request reserves an estimate of its cost before it is sent (its prompt at one token per
# three characters and its whole max_tokens, at the alias's prices), so concurrent requests see
# each other; the cost LiteLLM reports settles it. A request whose answer is dropped halfway stays
# charged its reservation. The count is in Redis when the replicas share one (gateway.cache.redis_secret), else in this replica's
# memory; the month is the calendar month in UTC, as `hks cost` estimates it.

_reserved: dict[str, tuple[str, float]] = {}  # LiteLLM's call id -> (workspace, amount)
_memory: dict[str, float] = {}  # spend by key, without Redis


async def _reserve(workspace: dict[str, Any], data: dict[str, Any]) -> None:
    budget = workspace.get("budget_usd")
    if budget is None:
        return
    name = workspace["workspace"]
    estimate = _estimate(workspace, data)
    total = await _add(name, estimate)
    if total - estimate >= budget:
        await _add(name, -estimate)
        raise HTTPException(
            status_code=429,
            detail=f"workspace {name} has spent its budget of ${budget:g} for this month (all its aliases together)",
        )
    call = data.get("litellm_call_id")
    if call:
        _reserved[str(call)] = (name, estimate)


def _estimate(workspace: dict[str, Any], data: dict[str, Any]) -> float:
    price = workspace["prices"].get(data.get("model"), [0.0, 0.0])
    if data.get("model") == workspace.get("embeddings"):  # the alias decides, not the fields sent
        return float(len(json.dumps(data.get("input") or "")) / 3 * price[0])  # embeddings answer no tokens
    prompt = len(json.dumps(data.get("messages") or data.get("prompt") or "")) / 3
    answer = data.get("max_tokens") or data.get("max_completion_tokens") or workspace.get("max_tokens") or 0
    return float(prompt * price[0] + float(answer) * price[1])


async def _settle(call: Any, cost: float) -> None:
    reserved = _reserved.pop(str(call), None)
    if reserved is not None:
        name, estimate = reserved
        try:
            await _add(name, cost - estimate)
        except HTTPException:
            pass  # Redis is down: the next request's reservation refuses (503) until it is back


async def _add(name: str, amount: float) -> float:
    key = f"hks:workspace-spend:{name}:{time.strftime('%Y-%m', time.gmtime())}"
    redis = _router_redis()
    if redis is None:
        _memory[key] = _memory.get(key, 0.0) + amount
        return _memory[key]
    try:
        total = float(await redis.incrbyfloat(key, amount))
        await redis.expire(key, 32 * 24 * 3600)
    except Exception as exc:  # any Redis failure: refuse rather than spend unseen
        raise HTTPException(status_code=503, detail="the gateway cannot reach its Redis to count the budget") from exc
    return total


def _router_redis() -> Any:
    from litellm.proxy.proxy_server import llm_router

    cache = getattr(llm_router, "cache", None)
    redis = getattr(cache, "redis_cache", None)
    return None if redis is None else redis.init_async_client()


# --- the token --------------------------------------------------------------------------------


async def _account_of(token: str, audience: str | None) -> str:
    """`system:serviceaccount:<namespace>:<name>` of a token valid for `audience` (None: the
    API server's own), as the Kubernetes API judges it."""
    key = (hashlib.sha256(token.encode()).hexdigest(), audience)
    now = time.monotonic()
    cached = _verified.get(key)
    if cached and cached[0] > now:
        if cached[1] is None:
            raise HTTPException(status_code=401, detail="the token is not valid for this gateway")
        return cached[1]
    if len(_verified) > 10_000:
        _verified.clear()
    try:
        _precheck(token, audience)
        account = await _token_review(token, audience)
    except HTTPException as refused:
        if refused.status_code == 401:
            _verified[key] = (now + REFUSED_SECONDS, None)
        raise
    _verified[key] = (now + min(CACHE_SECONDS, _seconds_left(token)), account)
    return account


def _precheck(token: str, audience: str | None) -> None:
    """What the token says of itself, before the API is asked: a workspace token that cannot
    pass (wrong audience, expired, another namespace) costs the API server nothing."""
    claims = _claims(token)
    if claims is None or float(claims.get("exp", float("inf"))) <= time.time():  # legacy tokens never expire
        raise HTTPException(status_code=401, detail="the token is not valid for this gateway")
    if audience is not None:
        audiences = claims.get("aud") if isinstance(claims.get("aud"), list) else [claims.get("aud")]
        namespace = (claims.get("kubernetes.io") or {}).get("namespace")
        if audience not in audiences or namespace not in WORKSPACES:
            raise HTTPException(status_code=401, detail="the token is not valid for this gateway")


async def _token_review(token: str, audience: str | None) -> str:
    review = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenReview",
        "spec": {"token": token, **({"audiences": [audience]} if audience else {})},
    }
    try:
        response = await _api_client().post(
            f"{_api_url()}/apis/authentication.k8s.io/v1/tokenreviews",
            json=review,
            headers={"Authorization": f"Bearer {_own_token()}"},
        )
    except httpx.HTTPError as exc:
        raise HTTPException(status_code=503, detail="cannot reach the Kubernetes API to verify the token") from exc
    if response.status_code not in (200, 201):
        raise HTTPException(status_code=503, detail=f"the Kubernetes API refused the TokenReview ({response.status_code})")
    status = response.json().get("status", {})
    # An API server that ignores spec.audiences would accept any audience: demand ours back.
    if not status.get("authenticated") or (audience and audience not in (status.get("audiences") or ())):
        raise HTTPException(status_code=401, detail="the token is not valid for this gateway")
    account = str(status.get("user", {}).get("username", ""))
    parts = account.split(":")
    if len(parts) != 4 or parts[:2] != ["system", "serviceaccount"]:
        raise HTTPException(status_code=401, detail="the token is not a ServiceAccount's")
    return account


def _claims(token: str) -> dict[str, Any] | None:
    """The token's claims, unverified (the API server verifies; these only spare it work)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    return claims if isinstance(claims, dict) else None


def _seconds_left(token: str) -> float:
    claims = _claims(token) or {}
    try:
        return max(0.0, float(claims.get("exp", time.time() + CACHE_SECONDS)) - time.time())
    except (TypeError, ValueError):
        return 0.0


def _api_client() -> httpx.AsyncClient:
    if not _api:
        ca = os.environ.get("HKS_KUBERNETES_CA_FILE", str(SERVICE_ACCOUNT / "ca.crt"))
        _api.append(httpx.AsyncClient(verify=ssl.create_default_context(cafile=ca), timeout=10))
    return _api[0]


def _api_url() -> str:
    host = os.environ["KUBERNETES_SERVICE_HOST"]
    host = f"[{host}]" if ":" in host else host
    return f"https://{host}:{os.environ.get('KUBERNETES_SERVICE_PORT', '443')}"


def _own_token() -> str:
    # Read at each review: the kubelet rotates the projected token in place.
    return Path(os.environ.get("HKS_KUBERNETES_TOKEN_FILE", str(SERVICE_ACCOUNT / "token"))).read_text().strip()
