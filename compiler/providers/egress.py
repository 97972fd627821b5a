"""Where the gateway may connect outside the cluster: exactly the provider hosts in use.

A workspace kept `on-premises` contributes nothing here: if it names a commercial provider,
validation reports it, and the network refuses it too.
"""

from __future__ import annotations

from compiler.merge import Workspace
from compiler.model.config import Config
from compiler.providers import registry
from compiler.providers.base import CLUSTER_SUFFIXES as CLUSTER_SUFFIXES
from compiler.providers.base import Endpoint as Endpoint
from compiler.targets import targets


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
    return registry.get(provider).endpoints(config.org.providers.get(provider))
