"""Workspace identity for the LiteLLM gateway, rendered by hks (docs/gateway.md, "Who may call
the gateway"). LiteLLM loads it from beside its config.yaml, read-only from the gateway's
ConfigMap: `general_settings.custom_auth` names `user_api_key_auth`, `litellm_settings.callbacks`
names `workspace_hooks`. It runs inside the proxy, so it uses only what the LiteLLM image has.

A caller presents one of three credentials as `Authorization: Bearer …`:
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

TABLE = json.loads((Path(__file__).parent / "workspaces.json").read_text())
AUDIENCE: str = TABLE["audience"]
WORKSPACES: dict[str, dict[str, Any]] = TABLE["workspaces"]  # by namespace

# The inference API: what a workspace may call. Each needs a `model` that is one of its aliases,
# except the listings, which LiteLLM narrows to the caller's `models`.
MODEL_ROUTES = frozenset(
    ("/chat/completions", "/v1/chat/completions", "/completions", "/v1/completions", "/embeddings", "/v1/embeddings")
)
LISTING_ROUTES = frozenset(("/models", "/v1/models"))
METRICS_ROUTES = frozenset(("/metrics", "/metrics/"))
# Request fields with which a caller could reach a model other than the one it names.
ROUTING_FIELDS = frozenset(
    (
        "fallbacks", "context_window_fallbacks", "content_policy_fallbacks", "mock_testing_fallbacks",
        "specific_deployment", "deployment_id", "model_list", "api_base", "base_url", "api_key", "user_config",
    )
)  # fmt: skip

SERVICE_ACCOUNT = Path("/var/run/secrets/kubernetes.io/serviceaccount")
CACHE_SECONDS = 60  # a verified token is trusted this long (never past its own expiry)
_verified: dict[tuple[str, str | None], tuple[float, str]] = {}  # (sha256, audience) -> (until, account)


async def user_api_key_auth(request: Request, api_key: str) -> UserAPIKeyAuth:
    route = request.url.path
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
        _check_request(await _body(request), workspace)
    elif route not in LISTING_ROUTES:
        raise HTTPException(status_code=403, detail=f"workspace {workspace['workspace']} may not call {route}")
    return UserAPIKeyAuth(
        api_key=f"hks-workspace-{workspace['workspace']}",
        user_id=f"workspace:{workspace['workspace']}",
        key_alias=workspace["workspace"],
        models=list(workspace["aliases"]),
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
        _check_request(data, workspace)
        budget = workspace.get("budget_usd")
        if budget is not None and await _spent(name) >= budget:
            raise HTTPException(
                status_code=429,
                detail=f"workspace {name} has spent its budget of ${budget:g} for this month (all its aliases together)",
            )
        if workspace.get("priority") is not None and call_type in ("completion", "acompletion", "text_completion", "atext_completion"):
            data["priority"] = workspace["priority"]
        return data

    async def async_log_success_event(self, kwargs: dict, response_obj: Any, start_time: Any, end_time: Any) -> None:
        logged = kwargs.get("standard_logging_object") or {}
        user = str((logged.get("metadata") or {}).get("user_api_key_user_id") or "")
        cost = logged.get("response_cost") or kwargs.get("response_cost") or 0.0
        if user.startswith("workspace:") and cost > 0 and _by_name(user[len("workspace:") :]).get("budget_usd") is not None:
            await _spend(user[len("workspace:") :], float(cost))


workspace_hooks = WorkspaceHooks()


def _by_name(name: str) -> dict[str, Any]:
    return next(w for w in WORKSPACES.values() if w["workspace"] == name)


# --- the monthly spend of a workspace, across its aliases -----------------------------------------
# In the router's cache: Redis when the replicas share one (gateway.cache.redis_secret), else this
# replica's memory. The month is the calendar month in UTC, as `hks cost` estimates it.


def _spend_key(name: str) -> str:
    return f"hks:workspace-spend:{name}:{time.strftime('%Y-%m', time.gmtime())}"


def _router_cache() -> Any:
    from litellm.proxy.proxy_server import llm_router

    return llm_router.cache


async def _spent(name: str) -> float:
    cache = _router_cache()
    store = cache.redis_cache or cache.in_memory_cache
    return float(await store.async_get_cache(_spend_key(name)) or 0.0)


async def _spend(name: str, cost: float) -> None:
    cache = _router_cache()
    store = cache.redis_cache or cache.in_memory_cache
    await store.async_increment(_spend_key(name), cost, ttl=32 * 24 * 3600)


def _check_request(body: dict[str, Any], workspace: dict[str, Any]) -> None:
    model = body.get("model")
    if not isinstance(model, str) or model not in workspace["aliases"]:
        raise HTTPException(status_code=403, detail=f"workspace {workspace['workspace']} may not use model {model!r}")
    named = sorted(ROUTING_FIELDS.intersection(body))
    if named:
        raise HTTPException(status_code=403, detail=f"the gateway decides routing: remove {', '.join(named)}")
    # The cache is opt-in per deployment; a request's own `cache` would opt any workspace in.
    if "cache" in body and not workspace["cache"]:
        raise HTTPException(status_code=403, detail=f"workspace {workspace['workspace']} does not use the response cache: remove cache")


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


# --- the token --------------------------------------------------------------------------------


async def _account_of(token: str, audience: str | None) -> str:
    """`system:serviceaccount:<namespace>:<name>` of a token valid for `audience` (None: the
    API server's own), as the Kubernetes API judges it."""
    key = (hashlib.sha256(token.encode()).hexdigest(), audience)
    now = time.monotonic()
    cached = _verified.get(key)
    if cached and cached[0] > now:
        return cached[1]
    account = await _token_review(token, audience)
    if len(_verified) > 10_000:
        _verified.clear()
    _verified[key] = (now + min(CACHE_SECONDS, _seconds_left(token)), account)
    return account


async def _token_review(token: str, audience: str | None) -> str:
    review = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenReview",
        "spec": {"token": token, **({"audiences": [audience]} if audience else {})},
    }
    try:
        async with httpx.AsyncClient(verify=_api_tls(), timeout=10) as client:
            response = await client.post(
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


def _seconds_left(token: str) -> float:
    """The token's own expiry, read only to bound the cache (the API server checked it)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return max(0.0, float(claims["exp"]) - time.time())
    except (IndexError, ValueError, KeyError, TypeError):
        return 0.0


def _api_url() -> str:
    host = os.environ["KUBERNETES_SERVICE_HOST"]
    host = f"[{host}]" if ":" in host else host
    return f"https://{host}:{os.environ.get('KUBERNETES_SERVICE_PORT', '443')}"


def _api_tls() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=os.environ.get("HKS_KUBERNETES_CA_FILE", str(SERVICE_ACCOUNT / "ca.crt")))


def _own_token() -> str:
    # Read at each review: the kubelet rotates the projected token in place.
    return Path(os.environ.get("HKS_KUBERNETES_TOKEN_FILE", str(SERVICE_ACCOUNT / "token"))).read_text().strip()
