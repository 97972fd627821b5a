"""The documents policy conditions are evaluated over: the effective config plus provider facts.

Each document comes with `origins`, a map from a path in the document to the place in the user's
files that set it, so a finding points at the line that caused it (docs/policies.md describes
the shape).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from compiler.checks.secrets import Secret
from compiler.diagnostics import Position
from compiler.merge import Workspace
from compiler.model import model as m
from compiler.model.config import Config, WorkspaceSource
from compiler.providers import registry
from compiler.providers.base import CLUSTER_SUFFIXES

DocPath = tuple[Any, ...]  # keys and list indexes from the document's top
Origins = dict[DocPath, Position]
# A workspace's origins, worked out when a finding needs them: at 1,000 clean workspaces no
# finding does, and finding them all took a tenth of the policy stage.
LaterOrigins = Callable[[], Origins]

LOOPBACK = {"localhost", "127.0.0.1", "::1"}


@dataclass(frozen=True)
class Mode:
    provider: str
    key: str
    title: str
    baa: str  # "eligible", "not-eligible" or "not-required"
    region_from: str | None
    regions: dict[str, str]
    default_area: str | None



@functools.cache
def _modes() -> dict[str, dict[str, Mode]]:
    from compiler.builtin import datafiles

    raw = datafiles.load("catalogue", "providers.yaml")
    return {
        provider: {
            key: Mode(
                provider,
                key,
                entry["title"],
                entry["baa"],
                entry.get("region_from"),
                {str(k): str(v) for k, v in (entry.get("regions") or {}).items()},
                entry.get("default_area"),
            )
            for key, entry in block["modes"].items()
        }
        for provider, block in raw["providers"].items()
    }


def mode_of(provider: str, settings: m.ProviderSettings | None) -> tuple[Mode, str | None]:
    """The deployment mode a provider runs in, and the region chosen for it (if any)."""
    key, region = registry.get(provider).mode(settings)
    return _modes()[provider][key], region


def _hostname(url: str) -> str:
    """The URL's host, or "" when it has none or is malformed (`http://[::1` raises in urlsplit;
    GW-006 reports such endpoints: found by the fuzzer)."""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def area_of(mode: Mode, region: str | None) -> str:
    """Where inference runs: a residency area, "global" (anywhere), "on-premises" or "unknown"."""
    if region is None:
        return mode.default_area or "unknown"
    return mode.regions.get(region, "unknown")


def target(
    role: str, provider: str, model: str, settings: m.ProviderSettings | None, residency: str | None
) -> dict[str, Any]:
    mode, region = mode_of(provider, settings)
    area = area_of(mode, region)
    self_hosted = mode.baa == "not-required"
    within: bool | None = None
    if residency is not None and residency != "on-premises":
        within = self_hosted or area == residency
    return {
        "role": role,
        "provider": provider,
        "model": model,
        "mode": mode.key,
        "mode_title": mode.title,
        "self_hosted": self_hosted,
        "baa_eligible": mode.baa != "not-eligible",
        "baa_required": mode.baa == "eligible",
        "baa_signed": bool(settings and settings.baa),
        "region": region,
        "area": area,
        "where": _where(mode, region, area),
        "within_residency": within,
        "endpoint": settings.endpoint if settings else None,
    }


def _where(mode: Mode, region: str | None, area: str) -> str:
    if area == "on-premises":
        return "the cluster"
    if area == "global":
        return f"any region ({mode.title}{f', {region}' if region else ''})"
    if area == "unknown":
        chosen = f"region '{region}', which hks does not know" if region else "no region set"
        return f"an unknown place ({mode.title}, {chosen})"
    return f"'{area}' ({mode.title}{f', {region}' if region else ''})"


# --- the organisation's part of every document -------------------------------------------------


def org_document(
    config: Config, workspaces: tuple[Workspace, ...], secrets: list[Secret]
) -> tuple[dict[str, Any], Origins]:
    org = config.org
    doc = config.org_doc
    frameworks = set(org.compliance) | {str(c.value) for w in workspaces for c in w.compliance}
    audit = org.gateway.audit_log
    cache = org.gateway.cache or m.GatewayCache()
    document: dict[str, Any] = {
        "organization": config.organization,
        "compliance": sorted(frameworks),
        "gateway": {
            "audit_log": {"enabled": audit.enabled, "retention_days": audit.retention_days},
            "cache": {"shared": cache.redis_secret is not None, "phi_approved": cache.phi_approved},
        },
        # Encryption in transit inside the cluster: a mesh's mutual TLS, or cert-manager TLS.
        "cluster": {"mesh": org.cluster.mesh, "tls": org.cluster.tls is not None},
        "endpoints": [],
        "images": [],
        "plaintext_secrets": [{"kind": s.kind} for s in secrets],
    }
    origins: Origins = {(): Position(doc.path, 1, 1)}
    for path in (
        ("gateway",),
        ("gateway", "audit_log"),
        ("gateway", "audit_log", "enabled"),
        ("gateway", "audit_log", "retention_days"),
        ("gateway", "cache"),
        ("gateway", "cache", "phi_approved"),
        ("cluster",),
        ("cluster", "mesh"),
        ("cluster", "tls"),
    ):
        origins[path] = doc.position(path, key=path[-1] in ("gateway", "cluster", "tls"))
    for name, settings in sorted(org.providers.items()):
        if settings.endpoint:
            index = len(document["endpoints"])
            document["endpoints"].append(_endpoint(name, settings.endpoint, org.cluster.mesh != "none"))
            origins[("endpoints", index)] = doc.position(("providers", name, "endpoint"))
    images = [("gateway", org.gateway.image, ("gateway", "image"))]
    if org.self_hosted is not None:
        images.append(("ollama", org.self_hosted.image, ("self_hosted", "image")))
    for component, image, loc in images:
        if image:
            origins[("images", len(document["images"]))] = doc.position(loc)
            document["images"].append(_image(component, image))
    for index, secret in enumerate(secrets):
        origins[("plaintext_secrets", index)] = secret.position
    return document, origins


def _endpoint(provider: str, url: str, meshed: bool) -> dict[str, Any]:
    """An endpoint and what carries it: `covered` when plain http is encrypted anyway (on
    loopback it never leaves the pod; a mesh's mutual TLS carries it inside the cluster)."""
    host = _hostname(url)
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    loopback = host in LOOPBACK
    in_cluster = loopback or "." not in host or host.endswith(CLUSTER_SUFFIXES)
    return {
        "provider": provider,
        "url": url,
        "scheme": scheme,
        "host": host,
        "in_cluster": in_cluster,
        "commercial": registry.get(provider).commercial,
        "covered": scheme == "https" or loopback or (in_cluster and meshed),
    }


def _image(component: str, image: str) -> dict[str, Any]:
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else None
    return {"component": component, "image": image, "tag": tag, "digest": digest or None}


# --- a workspace's document --------------------------------------------------------------------


def workspace_document(
    config: Config, source: WorkspaceSource, workspace: Workspace, org: dict[str, Any], org_origins: Origins
) -> tuple[dict[str, Any], LaterOrigins]:
    residency = workspace.data_residency.value if workspace.data_residency else None
    llm = workspace.llm.model_dump(mode="json")
    llm["cache"] = llm["cache"] or m.Cache().model_dump(mode="json")
    llm["sanitization"] = llm["sanitization"] or m.Sanitization().model_dump(mode="json")
    providers = config.org.providers
    targets = [target("primary", llm["provider"], llm["model"], providers.get(llm["provider"]), residency)]
    targets += [
        target("fallback", f.provider, f.model, providers.get(f.provider), residency)
        for f in workspace.llm.fallbacks or ()
    ]
    embeddings = workspace.llm.embeddings
    if embeddings is not None:
        targets.append(target("embedding", embeddings.provider, embeddings.model, providers.get(embeddings.provider), residency))
    document = {
        **org,
        "workspace": workspace.name,
        "compliance": [str(c.value) for c in workspace.compliance],
        "data_residency": residency,
        "llm": llm,
        "targets": targets,
    }

    @functools.cache
    def origins() -> Origins:
        found = dict(org_origins)
        found[()] = workspace.defined_at
        found.update(_workspace_origins(config, source, workspace, targets))
        return found

    return document, origins


def _workspace_origins(
    config: Config, source: WorkspaceSource, workspace: Workspace, targets: list[dict[str, Any]]
) -> Origins:
    origins: Origins = {}
    override = source.position("llm_override", key=True) if _has(source, "llm_override") else workspace.defined_at
    origins[("llm",)] = override
    for key, sourced in workspace.llm_sources.items():
        if sourced.origin is not None:
            origins[("llm", *key.split("."))] = sourced.origin
    fallbacks = workspace.llm_sources.get("fallbacks")
    fallback_at = [_fallback_position(config, source, fallbacks, i) for i in range(len(workspace.llm.fallbacks or ()))]
    primary = workspace.llm_sources["provider"].origin or override
    embedding = workspace.llm_sources.get("embeddings.provider")
    places = [primary, *fallback_at, (embedding.origin if embedding else None) or override]
    for index, item in enumerate(targets):
        origins[("targets", index)] = places[index]
        endpoint = config.org_doc.position(("providers", item["provider"], "endpoint"))
        if item["endpoint"]:
            origins[("targets", index, "endpoint")] = endpoint
    if workspace.data_residency is not None and workspace.data_residency.origin is not None:
        origins[("data_residency",)] = workspace.data_residency.origin
    for index, framework in enumerate(workspace.compliance):
        if framework.origin is not None:
            origins[("compliance", index)] = framework.origin
    return origins


def _has(source: WorkspaceSource, key: str) -> bool:
    node: Any = source.doc.data
    for step in source.loc:
        node = node.get(step) if isinstance(node, dict) else None
    return isinstance(node, dict) and key in node


def _fallback_position(config: Config, source: WorkspaceSource, fallbacks: Any, index: int) -> Position:
    if fallbacks is None or fallbacks.origin is None:
        return source.defined_at
    if fallbacks.layer == "org":
        return config.org_doc.position(("llm_config", "fallbacks", index))
    return source.doc.position(source.loc + ("llm_override", "fallbacks", index))


def origin(origins: Origins, path: DocPath) -> Position:
    """The place for `path`: its own origin, or that of its nearest ancestor that has one."""
    for end in range(len(path), -1, -1):
        found = origins.get(tuple(path[:end]))
        if found is not None:
            return found
    raise KeyError(path)
