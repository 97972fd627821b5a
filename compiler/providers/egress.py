"""Where the gateway may connect outside the cluster: exactly the provider hosts in use.

A workspace kept `on-premises` contributes nothing here: if it names a commercial provider,
validation reports it, and the network refuses it too.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from compiler.merge import Workspace
from compiler.model.config import Config
from compiler.targets import targets

_DEFAULT_HOSTS = {
    "openai": "api.openai.com",
    "anthropic": "api.anthropic.com",
}
_GEMINI_HOST = "generativelanguage.googleapis.com"
_GOOGLE_TOKEN_HOST = "oauth2.googleapis.com"  # Vertex AI: a service account key is exchanged here


CLUSTER_SUFFIXES = (".svc", ".svc.cluster.local", ".cluster.local")  # Kubernetes Service names


@dataclass(frozen=True, order=True)
class Endpoint:
    host: str
    port: int

    @property
    def is_ip(self) -> bool:
        try:
            ipaddress.IPv4Address(self.host)
        except ValueError:
            return False
        return True

    @property
    def is_internal(self) -> bool:
        """In the cluster or on a private network: not "outside" for `on-premises`."""
        if self.is_ip:
            return ipaddress.IPv4Address(self.host).is_private
        return "." not in self.host or self.host.endswith(CLUSTER_SUFFIXES)


def external_endpoints(config: Config, workspaces: tuple[Workspace, ...]) -> list[Endpoint]:
    """Public endpoints of the workspaces allowed to leave the cluster."""
    found: set[Endpoint] = set()
    for workspace in workspaces:
        if is_on_premises(workspace):
            continue
        for target in targets(workspace):
            found.update(e for e in endpoints_of(config, target.provider) if not e.is_internal)
    return sorted(found)


def internal_endpoints(config: Config, workspaces: tuple[Workspace, ...]) -> list[Endpoint]:
    """Endpoints in the cluster or on private addresses, named in the providers' settings."""
    found = {e for w in workspaces for t in targets(w) for e in endpoints_of(config, t.provider)}
    return sorted(e for e in found if e.is_internal)


def is_on_premises(workspace: Workspace) -> bool:
    return workspace.data_residency is not None and workspace.data_residency.value == "on-premises"


def endpoints_of(config: Config, provider: str) -> list[Endpoint]:
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
    if provider in _DEFAULT_HOSTS:
        return [Endpoint(_DEFAULT_HOSTS[provider], 443)]
    return []  # Azure OpenAI without an endpoint: validate reports it (GW-005)


def _parse(url: str) -> Endpoint:
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return Endpoint(parts.hostname or "", port)
    except ValueError:  # validate refuses such endpoints (GW-006) before anything renders
        return Endpoint("", 443)
