"""What the config asks of the gateway that LiteLLM cannot do, or does differently than it reads.

Each finding names the setting and what LiteLLM actually does (docs/research/litellm.md).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from compiler.checks import sealed
from compiler.diagnostics import Diagnostic, Position, error, info, warning
from compiler.merge import Workspace
from compiler.model.config import Config
from compiler.providers import egress, registry, secretrefs
from compiler.targets import targets

RULES: dict[str, str] = {
    "GW-001": "gateway replicas: min above max",
    "GW-002": "audit log the gateway cannot keep",
    "GW-003": "limit counted per gateway replica or lost on restart",
    "GW-004": "budget on a model that costs nothing",
    "GW-005": "Azure OpenAI without endpoint or API version",
    "GW-006": "provider endpoint is not a usable URL",
    "GW-008": "on-premises workspace with a self-hosted server outside the cluster",
    "GW-009": "limit counted per fallback alias",
    "GW-012": "rate limit too small for the replicas to share exactly",
    "SEC-004": "external-secrets backend without a store",
}


def check_gateway(config: Config, workspaces: tuple[Workspace, ...]) -> list[Diagnostic]:
    return (
        _check_replicas(config)
        + _check_audit(config)
        + _check_shared_counters(config, workspaces)
        + _check_small_shared_limits(config, workspaces)
        + _check_budgets(workspaces)
        + _check_providers(config, workspaces)
        + _check_endpoints(config)
        + _check_secrets_backend(config, workspaces)
        # No GW-007 any more: with the response cache on, LiteLLM 1.80 ran Presidio's logging hook for
        # every request; from 1.108.14 it does not (docs/research/litellm.md, "PII: the Presidio guardrail").
        + _check_fallback_limits(workspaces)
        + _check_on_premises_endpoints(config, workspaces)
    )


def _at(config: Config, *keys: str) -> Position:
    return config.org_doc.position(keys)


def _check_replicas(config: Config) -> list[Diagnostic]:
    replicas = config.org.gateway.replicas
    if replicas.min <= replicas.max:
        return []
    return [
        error(
            _at(config, "gateway", "replicas"),
            "GW-001",
            f"gateway.replicas.min ({replicas.min}) is above gateway.replicas.max ({replicas.max})",
        )
    ]


def _check_audit(config: Config) -> list[Diagnostic]:
    gateway = config.org.gateway
    if gateway.audit_log.enabled and not gateway.database_secret:
        return [
            error(
                _at(config, "gateway", "audit_log", "enabled"),
                "GW-002",
                "the audit log needs gateway.database_secret: LiteLLM keeps request records only in Postgres",
                hint="name the Secret holding the Postgres URL (data key `url`) in gateway.database_secret",
            )
        ]
    if not gateway.audit_log.enabled and (gateway.audit_log.retention_days or gateway.audit_log.store_prompts):
        return [
            warning(
                _at(config, "gateway", "audit_log"),
                "GW-002",
                "audit_log.retention_days and store_prompts have no effect while audit_log.enabled is false",
            )
        ]
    return []


def _check_shared_counters(config: Config, workspaces: tuple[Workspace, ...]) -> list[Diagnostic]:
    """Without Redis each replica counts requests and spend alone, in memory. One finding per
    setting, naming every workspace that has it."""
    if config.org.gateway.shares_state:
        return []
    replicas = config.org.gateway.replicas.max
    users: dict[tuple[Position, str], list[str]] = {}
    for workspace in workspaces:
        for what, attr, keys in _COUNTED:
            if what == "rate limit" and replicas < 2:
                continue  # one replica counts them all, and a minute's window loses little on restart
            source = next((workspace.llm_sources[k] for k in keys if k in workspace.llm_sources), None)
            if getattr(workspace.llm, attr) is not None and source is not None:
                users.setdefault((source.origin or workspace.defined_at, what), []).append(workspace.name)
    return [
        warning(where, "GW-003", _counted_alone(what, replicas) + f" (workspaces: {', '.join(names)})", hint=_REDIS_HINT)
        for (where, what), names in users.items()
    ]


def _counted_alone(what: str, replicas: int) -> str:
    if what == "rate limit":
        return f"each of up to {replicas} gateway replicas counts this rate limit alone, so up to {replicas} times it can pass"
    spread = f"each of up to {replicas} gateway replicas counts it alone, and " if replicas > 1 else ""
    return f"this budget is counted in the gateway's memory: {spread}a restart or rollout starts it again from zero"


# Measured with two real proxies on one Redis (tests/e2e/test_shared_state_e2e.py, docs/gateway.md
# "Two replicas, one Redis"): LiteLLM syncs its rate-limit counts with Redis every 0.1 s (hard-coded
# in router_strategy/lowest_tpm_rpm_v2.py, 1.108.14 and 1.110.2), so requests that reach different
# replicas together can pass up to rpm × replicas in a minute. Below this many requests per extra
# replica, one request per replica late is already over a tenth of the limit.
SHARED_RPM_PER_EXTRA_REPLICA = 10


def _check_small_shared_limits(config: Config, workspaces: tuple[Workspace, ...]) -> list[Diagnostic]:
    replicas = config.org.gateway.replicas.max
    if not config.org.gateway.shares_state or replicas < 2:
        return []
    found = []
    for workspace in workspaces:
        rpm = workspace.llm.rate_limit.rpm if workspace.llm.rate_limit else None
        source = workspace.llm_sources.get("rate_limit.rpm")
        if rpm is None or rpm >= SHARED_RPM_PER_EXTRA_REPLICA * (replicas - 1) or source is None:
            continue
        found.append(
            warning(
                source.origin or workspace.defined_at,
                "GW-012",
                f"workspace '{workspace.name}': rate_limit.rpm {rpm} is too small for {replicas} gateway replicas to "
                f"hold exactly: each sees the others' counts up to 0.1 s late, so requests arriving together can pass "
                f"up to {rpm * replicas} in a minute",
                hint=f"allow at least {SHARED_RPM_PER_EXTRA_REPLICA * (replicas - 1)} requests a minute, or accept "
                "the overshoot (docs/gateway.md, \"Two replicas, one Redis\")",
            )
        )
    return found


_REDIS_HINT = "name a Redis Secret in gateway.cache.redis_secret so the replicas share their counts"


def _check_fallback_limits(workspaces: tuple[Workspace, ...]) -> list[Diagnostic]:
    """LiteLLM counts a deployment's rpm/tpm per alias and falls back when one is reached (the
    fallback serves the next request and has a count of its own: seen on 1.108.14 and 1.110.2).
    The budget is not multiplied: the workspace hooks count it across the alias and its fallbacks
    (templates/gateway/hks_workspace_auth.py)."""
    found = []
    for workspace in workspaces:
        llm = workspace.llm
        if not llm.fallbacks or not llm.rate_limit:
            continue
        source = workspace.llm_sources.get("fallbacks")
        times = len(llm.fallbacks) + 1
        found.append(
            info(
                source.origin if source and source.origin else workspace.defined_at,
                "GW-009",
                f"workspace '{workspace.name}': LiteLLM counts rate limits per model alias and falls back when "
                f"one is reached, so with its fallbacks up to {times} times the rate limit can pass",
                hint="set the workspace's rate limit to what one alias may use, or drop the fallbacks",
            )
        )
    return found


def _check_on_premises_endpoints(config: Config, workspaces: tuple[Workspace, ...]) -> list[Diagnostic]:
    """An on-premises workspace cannot reach a self-hosted server outside the cluster (a
    commercial provider there is the residency policy's finding)."""
    found = []
    for workspace in workspaces:
        if not egress.is_on_premises(workspace):
            continue
        for target in targets(workspace):
            outside = [e for e in egress.endpoints_of(config, target.provider) if not e.is_internal]
            if outside and not registry.get(target.provider).commercial:
                found.append(
                    error(
                        _at(config, "providers", target.provider, "endpoint"),
                        "GW-008",
                        f"workspace '{workspace.name}' is on-premises, and providers.{target.provider}.endpoint is outside the "
                        f"cluster ({outside[0].host}): nothing it sends may leave, so the gateway cannot reach it",
                        hint="serve the model in the cluster, or on a private address",
                    )
                )
    return found


_COUNTED = (
    ("rate limit", "rate_limit", ("rate_limit.rpm", "rate_limit.tpm")),
    ("budget", "budget", ("budget.monthly_usd",)),
)


def _check_budgets(workspaces: tuple[Workspace, ...]) -> list[Diagnostic]:
    found = []
    for workspace in workspaces:
        llm = workspace.llm
        paid = [t for t in targets(workspace) if registry.get(t.provider).commercial]
        if llm.budget and not paid:
            source = workspace.llm_sources.get("budget.monthly_usd")
            found.append(
                warning(
                    source.origin if source and source.origin else workspace.defined_at,
                    "GW-004",
                    f"workspace '{workspace.name}': self-hosted models cost nothing in LiteLLM's price list, "
                    "so this budget can never be reached",
                )
            )
    return found


def _check_providers(config: Config, workspaces: tuple[Workspace, ...]) -> list[Diagnostic]:
    """What a provider's settings lack for LiteLLM to call it."""
    found = []
    for name in secretrefs.providers_in_use(workspaces):
        settings = config.org.providers.get(name)
        where = _at(config, "providers", name) if settings else config.org_doc.position(())
        found += [error(where, "GW-005", problem) for problem in registry.get(name).problems(settings)]
    return found


def _check_endpoints(config: Config) -> list[Diagnostic]:
    found = []
    for name, settings in config.org.providers.items():
        if not settings.endpoint:
            continue
        try:
            parts = urlsplit(settings.endpoint)
            parts.port  # noqa: B018 - raises on a port out of range
            ok = bool(parts.hostname)
        except ValueError:
            ok = False
        if not ok:
            found.append(
                error(
                    _at(config, "providers", name, "endpoint"),
                    "GW-006",
                    f"providers.{name}.endpoint is not a usable URL: it needs a host name and a port from 1 to 65535",
                )
            )
    return found


def _check_secrets_backend(config: Config, workspaces: tuple[Workspace, ...]) -> list[Diagnostic]:
    backend = config.org.secrets.backend
    if backend == "external-secrets" and config.org.secrets.store is None:
        return [
            error(
                _at(config, "secrets", "backend"),
                "SEC-004",
                "the external-secrets backend needs secrets.store: the SecretStore to read from",
                hint="add under secrets: `store: {name: NAME, kind: ClusterSecretStore}` (or SecretStore, in "
                "cluster.namespace), or run hks secret backend external-secrets --store NAME",
            )
        ]
    if backend == "sealed-secrets":
        needed: dict[str, list[str]] = {}
        for ref in secretrefs.references(config, workspaces):
            if ref.env != secretrefs.REDIS_ENV["password"]:
                needed.setdefault(ref.secret, []).append(ref.key)
        return sealed.check(config, needed, _at(config, "secrets", "backend"))
    return []
