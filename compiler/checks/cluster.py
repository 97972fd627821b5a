"""The cluster settings and the namespaces: a Kubernetes version hks has schemas for, a rendered
folder outside the config's own folders, no namespace used twice."""

from __future__ import annotations

from compiler.checks.argocd import check_application_names
from compiler.diagnostics import Diagnostic, error
from compiler.merge import Workspace
from compiler.model.config import Config
from compiler.names import CONFIG_FOLDERS

RULES: dict[str, str] = {
    "K8S-001": "Kubernetes version without schemas",
    "REPO-005": "namespace used twice",
    "REPO-007": "rendered folder inside one of the config's own folders",
}


def check_workspaces(config: Config, workspaces: tuple[Workspace, ...]) -> list[Diagnostic]:
    """Namespaces must not collide: with each other, or with the platform's own."""
    diagnostics: list[Diagnostic] = []
    taken: dict[str, str] = {config.org.cluster.namespace: "the platform services (cluster.namespace)"}
    for workspace in workspaces:
        namespace = str(workspace.namespace.value)
        if namespace in taken:
            diagnostics.append(
                error(
                    workspace.namespace.origin or workspace.defined_at,
                    "REPO-005",
                    f"namespace '{namespace}' of workspace '{workspace.name}' is already used by {taken[namespace]}",
                    hint="set `namespace:` to a name of its own",
                )
            )
        else:
            taken[namespace] = f"workspace '{workspace.name}'"
    return diagnostics


def check_cluster(config: Config) -> list[Diagnostic]:
    version = config.org.cluster.kubernetes_version
    diagnostics = check_application_names(config) + check_rendered_folder(config)
    if supported(version):
        return diagnostics
    return [
        error(
            config.org_doc.position(("cluster", "kubernetes_version")),
            "K8S-001",
            f"hks has no schemas for Kubernetes {version}; it validates against 1.19 to {latest_version()[:4]}",
        )
    ] + diagnostics


def check_rendered_folder(config: Config) -> list[Diagnostic]:
    first = config.org.cluster.path.strip("/").split("/")[0]
    if first not in CONFIG_FOLDERS:
        return []
    return [
        error(
            config.org_doc.position(("cluster", "path")),
            "REPO-007",
            f"cluster.path '{config.org.cluster.path}' is inside the config's own {first}/ folder",
            hint="name a folder of its own, such as 'rendered'",
        )
    ]


def latest_version() -> str:
    from compiler.builtin.kubeschemas import versions

    return versions()[-1]


def supported(version: str) -> bool:
    """kubernetes-validate ships the schemas render validates against, one set per release."""
    from compiler.builtin.kubeschemas import major_minor, versions

    return any(major_minor(v) == version for v in versions())
