"""Where the gateway may connect outside the cluster: exactly the provider hosts in use.

A workspace kept `on-premises` contributes nothing here: if it names a commercial provider,
validation reports it, and the network refuses it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from compiler import gateway
from compiler.config import Config
from compiler.merge import Workspace

_DEFAULT_HOSTS = {
    "openai": "api.openai.com",
    "anthropic": "api.anthropic.com",
}
_GEMINI_HOST = "generativelanguage.googleapis.com"
_GOOGLE_TOKEN_HOST = "oauth2.googleapis.com"  # Vertex AI: a service account key is exchanged here


@dataclass(frozen=True, order=True)
class Endpoint:
    host: str
    port: int


def external_endpoints(config: Config, workspaces: tuple[Workspace, ...]) -> list[Endpoint]:
    found: set[Endpoint] = set()
    for workspace in workspaces:
        if workspace.data_residency and workspace.data_residency.value == "on-premises":
            continue
        for target in gateway.targets(workspace):
            found.update(_endpoints(config, target.provider))
    return sorted(found)


def _endpoints(config: Config, provider: str) -> list[Endpoint]:
    settings = config.org.providers.get(provider)
    endpoint = settings.endpoint if settings else None
    if endpoint:
        return [_parse(endpoint)]
    if provider == "ollama":
        return []  # the in-cluster Service
    if provider == "openai" and settings and settings.region == "eu":
        return [Endpoint("eu.api.openai.com", 443)]
    if provider == "google":
        if settings and settings.project:
            location = settings.location or "us-central1"
            host = "aiplatform.googleapis.com" if location == "global" else f"{location}-aiplatform.googleapis.com"
            return [Endpoint(host, 443), Endpoint(_GOOGLE_TOKEN_HOST, 443)]
        return [Endpoint(_GEMINI_HOST, 443)]
    return [Endpoint(_DEFAULT_HOSTS[provider], 443)]


def _parse(url: str) -> Endpoint:
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return Endpoint(parts.hostname or "", port)
    except ValueError:  # validate refuses such endpoints (GW-006) before anything renders
        return Endpoint("", 443)
