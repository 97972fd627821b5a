"""What belongs to the cluster, not to the config: system namespaces and node folders.

A workspace named `kube-system` would get a default-deny NetworkPolicy and Pod Security labels
on the cluster's own namespace; a `storage.host_path` of `/etc` would have a root init
container change its owner on every LLM node.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.diagnostics import Diagnostic, error

if TYPE_CHECKING:
    from compiler.merge import Workspace
    from compiler.model.config import Config

RULES: dict[str, str] = {
    "REPO-014": "namespace that belongs to Kubernetes, Argo CD or Prometheus",
    "SCHEMA-010": "storage.host_path not a folder of its own under a safe prefix",
}

# Kubernetes' own namespaces; every `kube-` name is reserved for the system.
SYSTEM_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
SYSTEM_PREFIX = "kube-"
# `storage.host_path` must be a folder of its own below one of these.
HOST_PATH_PREFIXES = ("/var/lib/hks/", "/mnt/", "/srv/", "/data/")


def reserved_namespaces(config: Config) -> dict[str, str]:
    """Namespace → whose it is, for every namespace a workspace must not take."""
    from compiler.names import ARGOCD_NAMESPACE

    found = {name: "Kubernetes" for name in SYSTEM_NAMESPACES}
    found[ARGOCD_NAMESPACE] = "Argo CD"
    found[config.org.monitoring.prometheus_namespace] = "Prometheus (monitoring.prometheus_namespace)"
    return found


def _owner(namespace: str, reserved: dict[str, str]) -> str | None:
    if namespace.startswith(SYSTEM_PREFIX):
        return "Kubernetes"
    return reserved.get(namespace)


def check_namespaces(config: Config, workspaces: tuple[Workspace, ...]) -> list[Diagnostic]:
    reserved = reserved_namespaces(config)
    diagnostics = []
    platform = config.org.cluster.namespace
    if owner := _owner(platform, reserved):
        diagnostics.append(error(config.org_doc.position(("cluster", "namespace")), "REPO-014",
                                 f"cluster.namespace '{platform}' is {owner}'s namespace: hks would put its "
                                 "default-deny policy and Pod Security labels on it",
                                 hint="name a namespace of the platform's own, such as hexabase-aiops"))
    for workspace in workspaces:
        namespace = str(workspace.namespace.value)
        if owner := _owner(namespace, reserved):
            diagnostics.append(error(workspace.namespace.origin or workspace.defined_at, "REPO-014",
                                     f"namespace '{namespace}' of workspace '{workspace.name}' is {owner}'s: hks "
                                     "would put its default-deny policy and Pod Security labels on it",
                                     hint="set `namespace:` to a name of the workspace's own"))
    return diagnostics


def check_host_path(config: Config) -> list[Diagnostic]:
    hosted = config.org.self_hosted
    if hosted is None or hosted.storage.type != "host-path":
        return []
    path = hosted.storage.host_path
    parts = path.split("/")[1:]
    if path.startswith(HOST_PATH_PREFIXES) and all(part not in ("", ".", "..") for part in parts):
        return []
    return [error(config.org_doc.position(("self_hosted", "storage", "host_path")), "SCHEMA-010",
                  f"storage.host_path '{path}' is not a folder of its own under "
                  f"{', '.join(HOST_PATH_PREFIXES)}: a root init container takes ownership of it on every LLM node",
                  hint="use the default /var/lib/hks/ollama, or a new folder such as /mnt/models/ollama")]
