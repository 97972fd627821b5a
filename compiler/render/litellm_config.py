"""The effective config → the LiteLLM proxy's own `config.yaml` (as a dict).

Every setting here goes through a mechanism LiteLLM 1.80 enforces; docs/research/litellm.md
gives the source of each and how the end-to-end test proves it. Secrets appear only as
`os.environ/VAR` names, fed by `secretrefs`.
"""

from __future__ import annotations

from typing import Any

from compiler.merge import Workspace
from compiler.model.config import Config
from compiler.providers import ollama, registry, secretrefs
from compiler.targets import Target, chat_targets, embedding_alias, targets

GATEWAY_NAME = "llm-gateway"
GATEWAY_PORT = 4000
OLLAMA_PORT = ollama.PORT
PRESIDIO_PORT = 3000
PII_GUARDRAILS = {"redact": "pii-redact", "block": "pii-block"}
PII_ACTIONS = {"redact": "MASK", "block": "BLOCK"}
# Presidio's built-in recognisers that apply to any deployment (LiteLLM's PiiEntityType names).
PII_ENTITIES = (
    "CREDIT_CARD", "CRYPTO", "EMAIL_ADDRESS", "IBAN_CODE", "IP_ADDRESS", "LOCATION", "MEDICAL_LICENSE",
    "PERSON", "PHONE_NUMBER", "UK_NHS", "US_BANK_NUMBER", "US_DRIVER_LICENSE", "US_ITIN", "US_PASSPORT",
    "US_SSN",
)  # fmt: skip
# LiteLLM's scheduler reads an integer `priority` (lower runs first, 0 to 255). Up to 1.108 it
# treats 0 as "no priority" (`kwargs.get("priority") or default`), so the highest level hks uses is 1.
SCHEDULER_PRIORITY = {"critical": 1, "standard": 128, "batch": 255}
# Workspace identity (docs/gateway.md, "Who may call the gateway"): a module LiteLLM loads from
# beside its config.yaml, and the table of workspaces it reads.
AUTH_MODULE = "hks_workspace_auth"
AUTH_TABLE = "workspaces.json"
# Prometheus's scrape credential: the token of a ServiceAccount of its own, in a Secret the
# Kubernetes token controller fills (nothing for the user to create or rotate).
METRICS_ACCOUNT = f"{GATEWAY_NAME}-metrics"
METRICS_TOKEN_SECRET = f"{GATEWAY_NAME}-metrics-token"


def deployment_id(alias: str) -> str:
    """A stable id that differs from every alias: LiteLLM treats a requested model equal to a
    deployment id as "this exact deployment" and skips its budget checks."""
    return f"{alias}.deployment"


def litellm_config(config: Config, workspaces: tuple[Workspace, ...]) -> dict[str, Any]:
    cached = uses_cache(workspaces)
    model_list = [d for w in workspaces for t in targets(w) for d in _deployments(config, w, t, cached)]
    document: dict[str, Any] = {"model_list": model_list}
    router = _router_settings(config, workspaces)
    if router:
        document["router_settings"] = router
    settings = _litellm_settings(config, workspaces)
    if settings:
        document["litellm_settings"] = settings
    document["general_settings"] = _general_settings(config)
    guardrails = _guardrails(workspaces)
    if guardrails:
        document["guardrails"] = guardrails
    return document


def token_audience(config: Config) -> str:
    """The audience a workspace pod's projected ServiceAccount token is made for: this gateway."""
    return f"{GATEWAY_NAME}.{config.org.cluster.namespace}.svc"


def workspace_table(config: Config, workspaces: tuple[Workspace, ...]) -> dict[str, Any]:
    """Who may call which aliases, by the namespace a token's ServiceAccount lives in."""
    table = {
        str(w.namespace.value): {
            "workspace": w.name,
            "aliases": [t.alias for t in chat_targets(w)],
            "embeddings": embedding_alias(w.name) if w.llm.embeddings else None,
            "priority": SCHEDULER_PRIORITY[w.llm.priority],
            "budget_usd": w.llm.budget.monthly_usd if w.llm.budget else None,
            "max_tokens": w.llm.max_tokens,
            # Per token, input and output, for the budget's reservations (as in model_info below).
            "prices": {t.alias: _price_pair(t) for t in targets(w)},
            "cache": bool(w.llm.cache and w.llm.cache.enabled),
            # LiteLLM's Presidio guardrail reads chat messages only: the hooks check embedding input with it.
            "pii_guardrail": PII_GUARDRAILS.get(w.llm.sanitization.pii) if w.llm.sanitization else None,
        }
        for w in workspaces
    }
    scraper = f"system:serviceaccount:{config.org.cluster.namespace}:{METRICS_ACCOUNT}"
    return {
        "audience": token_audience(config),
        "metrics": scraper if config.org.monitoring.enabled else None,
        "workspaces": dict(sorted(table.items())),
    }


def pii_modes(workspaces: tuple[Workspace, ...]) -> list[str]:
    return sorted({w.llm.sanitization.pii for w in workspaces if w.llm.sanitization and w.llm.sanitization.pii != "off"})


# --- model_list -------------------------------------------------------------------------------


def _deployments(config: Config, workspace: Workspace, target: Target, cached: bool) -> list[dict[str, Any]]:
    """The target's deployment; with GPU pools, a self-hosted model's is its pool's Service, and a
    model in `self_hosted.shared_models` has one deployment per pool that lists it, under the same
    alias (LiteLLM spreads the alias's requests across them), each with an id naming its pool."""
    deployment = _deployment(config, workspace, target, cached)
    params = deployment["litellm_params"]
    namespace = config.org.cluster.namespace
    if params.get("api_base") != ollama.service_url(namespace, scheme(config)):
        return [deployment]  # not the Ollama hks renders
    from compiler.providers import selfhosted

    pools = selfhosted.pools_serving(config, target.model)
    if not pools:
        return [deployment]  # the one DaemonSet (or a model no pool serves: POOL-002 stops the render)
    found = []
    for pool in pools:
        url = ollama.service_url(namespace, scheme(config), pool.service)
        info = dict(deployment["model_info"])
        if len(pools) > 1:
            info["id"] = f"{deployment_id(target.alias)}.{pool.name}"
        found.append({**deployment, "litellm_params": {**params, "api_base": url}, "model_info": info})
    return found


def _deployment(config: Config, workspace: Workspace, target: Target, cached: bool) -> dict[str, Any]:
    llm = workspace.llm
    params = _provider_params(config, target)
    if not target.embedding:  # an embedding request has no sampling and no output tokens
        params.update(_sampling(workspace, target))
        params["max_tokens"] = llm.max_tokens
    if llm.timeout_seconds is not None:
        params["timeout"] = llm.timeout_seconds
    if llm.rate_limit and llm.rate_limit.rpm:
        params["rpm"] = llm.rate_limit.rpm
    if llm.rate_limit and llm.rate_limit.tpm:
        params["tpm"] = llm.rate_limit.tpm
    if llm.budget:
        params["max_budget"] = llm.budget.monthly_usd
        params["budget_duration"] = "1mo"
    cache = _cache_params(workspace, cached)
    if cache is not None:
        params["cache"] = cache
    if llm.sanitization and llm.sanitization.pii != "off":
        params["guardrails"] = [PII_GUARDRAILS[llm.sanitization.pii]]
    info: dict[str, Any] = {"id": deployment_id(target.alias)}
    base_model = registry.get(target.provider).base_model(target.model, config.org.providers.get(target.provider))
    if base_model:
        info["base_model"] = base_model
    info.update(_prices(target))
    return {"model_name": target.alias, "litellm_params": params, "model_info": info}


def _price_pair(target: Target) -> list[float]:
    prices = _prices(target)
    return [prices.get("input_cost_per_token", 0.0), prices.get("output_cost_per_token", 0.0)]


def _sampling(workspace: Workspace, target: Target) -> dict[str, Any]:
    """temperature and top_p. A built-in default the model refuses is left out (the model's own
    default applies); a value the config sets is rendered as set: validate refuses it (CAT-006)
    rather than drop it. hks does not render LiteLLM's `drop_params` (docs/catalogue.md)."""
    from compiler.builtin import catalogue
    from compiler.builtin.catalogue import refusal

    info = catalogue.lookup(target.provider, target.model)
    found = {}
    for key in ("temperature", "top_p"):
        value = getattr(workspace.llm, key)
        source = workspace.llm_sources.get(key)
        built_in = source is None or source.origin is None
        if value is None or (built_in and info is not None and refusal(info, key, value)):
            continue
        found[key] = value
    return found


def _prices(target: Target) -> dict[str, float]:
    """The catalogue's price per token, so the gateway's spend (its budgets, its
    `litellm_spend_metric`) and `hks cost` use the same numbers, also for models LiteLLM's own
    price map lacks (custom and self-hosted ones). LiteLLM 1.80 reads these keys from a
    deployment's `model_info` (`CustomPricingLiteLLMParams`, `use_custom_pricing_for_model`)."""
    from compiler.builtin import catalogue

    price = catalogue.token_price(target.provider, target.model)
    if price is None:
        return {}
    return {"input_cost_per_token": price.input_per_token, "output_cost_per_token": price.output_per_token}


def _provider_params(config: Config, target: Target) -> dict[str, Any]:
    settings = config.org.providers.get(target.provider)
    provider = registry.get(target.provider)
    namespace = config.org.cluster.namespace
    params = provider.litellm_params(target.model, target.embedding, settings, namespace)
    if params.get("api_base") == ollama.service_url(namespace):  # the Ollama hks renders, behind TLS
        params["api_base"] = ollama.service_url(namespace, scheme(config))
    return params


def scheme(config: Config) -> str:
    """How hks's own Services are reached: https under `cluster.tls` (render/components/tls.py)."""
    return "https" if config.org.cluster.tls is not None else "http"


def gateway_url(config: Config) -> str:
    return f"{scheme(config)}://{GATEWAY_NAME}.{config.org.cluster.namespace}.svc.cluster.local:{GATEWAY_PORT}"


def presidio_url(config: Config, part: str) -> str:
    return f"{scheme(config)}://presidio-{part}.{config.org.cluster.namespace}.svc.cluster.local:{PRESIDIO_PORT}"


# --- router, cache, general settings, guardrails ----------------------------------------------


def _router_settings(config: Config, workspaces: tuple[Workspace, ...]) -> dict[str, Any]:
    router: dict[str, Any] = {}
    limited = [t.alias for w in workspaces if _rate_limited(w) for t in targets(w)]
    policies: dict[str, dict[str, int]] = {}
    if limited:
        # Under the default simple-shuffle, rpm/tpm only weight the choice; this strategy refuses
        # a request over the limit. Without the retry policy the router would hold the request
        # and retry until the minute is over, instead of answering 429 at once.
        router["routing_strategy"] = "usage-based-routing-v2"
        policies = {alias: {"RateLimitErrorRetries": 0} for alias in limited}
    for alias, policy in _cold_start_policies(config, workspaces).items():
        policies[alias] = {**policy, **policies.get(alias, {})}
    if policies:
        router["model_group_retry_policy"] = policies
    fallbacks = [{w.name: [t.alias for t in chat_targets(w)[1:]]} for w in workspaces if w.llm.fallbacks]
    if fallbacks:
        router["fallbacks"] = fallbacks
    if config.org.gateway.shares_state:
        # Rate-limit and budget counters, cooldowns: one count across the replicas.
        router.update(_redis("redis_host", "redis_port", "redis_password"))
    return router


def _cold_start_policies(config: Config, workspaces: tuple[Workspace, ...]) -> dict[str, dict[str, int]]:
    """For each alias of a model whose GPU pools all scale to zero: retries of a refused
    connection that last until the pool has woken and turned Ready (docs/self-hosted.md, "Scale to
    zero"). A connection error has no field of its own in LiteLLM's RetryPolicy and takes
    `DefaultRetries`; every error with a status keeps what the router gives it without a policy
    (none for 400, 401, 404 and content policy, ORDINARY_RETRIES for the rest), as a policy that
    applies replaces the router's own judgement (`should_retry_this_error`).

    Under a mesh the gateway's connection is not refused. Linkerd's proxy accepts it and, with no
    endpoint, answers 503 after its 3 s failfast timeout (at once while the Service stays in
    failfast): a `ServiceUnavailableError`, so that count waits too. Istio ambient's ztunnel (L4,
    no waypoint rendered) accepts and closes: an `APIConnectionError`, `DefaultRetries` as
    refused; a waypoint the operator adds would answer 503, covered alike."""
    from compiler.providers import selfhosted

    ordinary = selfhosted.ORDINARY_RETRIES
    meshed = config.org.cluster.mesh != "none"
    found: dict[str, dict[str, int]] = {}
    for workspace in workspaces:
        for target in targets(workspace):
            if target.provider != selfhosted.SELF_HOSTED or _external_ollama(config):
                continue
            wait = selfhosted.waits_for(config, target.model)
            if wait is None:
                continue
            found[target.alias] = {
                "DefaultRetries": wait.retries,
                "BadRequestErrorRetries": 0,
                "AuthenticationErrorRetries": 0,
                "NotFoundErrorRetries": 0,
                "ContentPolicyViolationErrorRetries": 0,
                "TimeoutErrorRetries": ordinary,
                "RateLimitErrorRetries": ordinary,
                "InternalServerErrorRetries": ordinary,
                "ServiceUnavailableErrorRetries": wait.retries if meshed else ordinary,
            }
    return found


def _external_ollama(config: Config) -> bool:
    """The gateway reaches an Ollama outside the cluster (`providers.ollama.endpoint`), not the pools."""
    from compiler.providers import selfhosted

    settings = config.org.providers.get(selfhosted.SELF_HOSTED)
    return bool(settings is not None and settings.endpoint)


def _rate_limited(workspace: Workspace) -> bool:
    limit = workspace.llm.rate_limit
    return bool(limit and (limit.rpm or limit.tpm))


def _litellm_settings(config: Config, workspaces: tuple[Workspace, ...]) -> dict[str, Any]:
    # The workspace hooks set each request's priority from its workspace (hks_workspace_auth.py).
    settings: dict[str, Any] = {"callbacks": [f"{AUTH_MODULE}.workspace_hooks"]}
    if config.org.monitoring.enabled:
        # LiteLLM's own Prometheus metrics on the proxy's port, at /metrics (docs/monitoring.md),
        # readable with the scrape token only (the default from 1.84; said for every version).
        settings["callbacks"].append("prometheus")
    settings["require_auth_for_metrics_endpoint"] = True
    # A request's `no-log` would skip every callback, the workspace hooks' spend count with them.
    settings["global_disable_no_log_param"] = True
    if not uses_cache(workspaces):
        return settings
    # `default_on`, with every alias of a workspace without the cache opted out (_cache_params):
    # in `default_off` mode LiteLLM (1.80 to 1.110.2) writes embeddings to the cache and never
    # reads them back, as its embedding read path does not pass a deployment's opt-in on.
    params: dict[str, Any] = {"mode": "default_on"}
    if config.org.gateway.shares_state:
        params = {"type": "redis", **_redis("host", "port", "password"), **params}
    else:
        params = {"type": "local", **params}
    return {**settings, "cache": True, "cache_params": params}


def uses_cache(workspaces: tuple[Workspace, ...]) -> bool:
    return any(w.llm.cache and w.llm.cache.enabled for w in workspaces)


def _cache_params(workspace: Workspace, gateway_caches: bool) -> dict[str, Any] | None:
    """A deployment's `cache` setting: its time to live for a workspace that caches; for one that
    does not, neither read nor write (once another workspace has turned the gateway's cache on)."""
    cache = workspace.llm.cache
    if cache and cache.enabled:
        return {"ttl": cache.ttl_seconds} if cache.ttl_seconds else None
    return {"no-cache": True, "no-store": True} if gateway_caches else None


def _redis(host: str, port: str, password: str) -> dict[str, str]:
    envs = secretrefs.REDIS_ENV
    return {host: f"os.environ/{envs['host']}", port: f"os.environ/{envs['port']}", password: f"os.environ/{envs['password']}"}


def _general_settings(config: Config) -> dict[str, Any]:
    gateway = config.org.gateway
    settings: dict[str, Any] = {
        "master_key": f"os.environ/{secretrefs.MASTER_KEY_ENV}",
        "custom_auth": f"{AUTH_MODULE}.user_api_key_auth",
    }
    if gateway.database_secret:
        settings["database_url"] = f"os.environ/{secretrefs.DATABASE_ENV}"
        if gateway.audit_log.enabled:
            settings["store_prompts_in_spend_logs"] = gateway.audit_log.store_prompts
            if gateway.audit_log.retention_days:
                settings["maximum_spend_logs_retention_period"] = f"{gateway.audit_log.retention_days}d"
        else:
            settings["disable_spend_logs"] = True
    return settings


def _guardrails(workspaces: tuple[Workspace, ...]) -> list[dict[str, Any]]:
    """The Presidio endpoints come from PRESIDIO_ANALYZER_API_BASE / PRESIDIO_ANONYMIZER_API_BASE
    in the Deployment, which LiteLLM reads when the config names none."""
    return [
        {
            "guardrail_name": PII_GUARDRAILS[mode],
            "litellm_params": {
                "guardrail": "presidio",
                "mode": "pre_call",
                "pii_entities_config": {entity: PII_ACTIONS[mode] for entity in PII_ENTITIES},
            },
        }
        for mode in pii_modes(workspaces)
    ]
