"""Argo CD Applications must not share a name, nor the first 63 characters of one (ARGO-002).

With `applications: per-workspace` render makes `<org>-llm-platform` and one `<org>-llm-<name>`
per workspace: a workspace named `platform` would be the same Application as the platform's,
and with label tracking Argo CD cuts names to 63 characters in the app.kubernetes.io/instance
label, so two long names equal up to there track each other's resources (and prune them).
"""

from __future__ import annotations

from compiler.checks import ARGOCD_NAME_LIMIT
from compiler.config import Config
from compiler.diagnostics import Diagnostic, error
from compiler.merge import Workspace


def check(config: Config, workspaces: tuple[Workspace, ...]) -> list[Diagnostic]:
    from compiler.render import application_name

    cluster = config.org.cluster
    if not cluster.repo_url or cluster.applications != "per-workspace":
        return []
    taken: dict[str, str] = {application_name(config.organization, "platform")[:ARGOCD_NAME_LIMIT]: "the platform's Application"}
    found = []
    for workspace in workspaces:
        name = application_name(config.organization, workspace.name)
        key = name[:ARGOCD_NAME_LIMIT]
        if key in taken:
            same = "is the same as" if len(name) <= ARGOCD_NAME_LIMIT else f"shares its first {ARGOCD_NAME_LIMIT} characters with"
            found.append(error(
                workspace.defined_at,
                "ARGO-002",
                f"workspace '{workspace.name}': its Argo CD Application name '{name}' {same} {taken[key]}: "
                "Argo CD would take their resources for one Application's",
                hint="rename the workspace (Application names are `<organization>-llm-<workspace>`)",
            ))
        else:
            taken[key] = f"the Application of workspace '{workspace.name}'"
    return found

