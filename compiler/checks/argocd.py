"""Argo CD Applications must not share a name, nor the first 63 characters of one (ARGO-002).

With `applications: per-workspace` render makes `<org>-llm-platform` and one `<org>-llm-<name>`
per workspace: a workspace named `platform` would be the same Application as the platform's,
and with label tracking Argo CD cuts names to 63 characters in the app.kubernetes.io/instance
label, so two long names equal up to there track each other's resources (and prune them).
"""

from __future__ import annotations

from compiler.diagnostics import Diagnostic, error, warning
from compiler.merge import Workspace
from compiler.model.config import Config
from compiler.names import application_name

RULES: dict[str, str] = {
    "ARGO-001": "Argo CD Application name longer than a tracking label",
    "ARGO-002": "two Argo CD Applications with one name or tracking label",
}

# With label tracking (Argo CD before 3.0, or application.resourceTrackingMethod: label) the
# Application's name goes in the app.kubernetes.io/instance label, which holds 63 characters.
ARGOCD_NAME_LIMIT = 63


def check(config: Config, workspaces: tuple[Workspace, ...]) -> list[Diagnostic]:
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


def check_application_names(config: Config) -> list[Diagnostic]:
    """Names of the Argo CD Applications render makes that a tracking label cannot hold."""
    cluster = config.org.cluster
    if not cluster.repo_url:
        return []
    parts = [None] if cluster.applications == "single" else ["platform"] + [w.name for w in config.workspaces]
    too_long = [application_name(config.organization, part) for part in parts]
    too_long = [name for name in too_long if len(name) > ARGOCD_NAME_LIMIT]
    if not too_long:
        return []
    where = ("organization",) if config.org.organization else ("cluster", "repo_url")
    return [
        warning(
            config.org_doc.position(where),
            "ARGO-001",
            f"the Argo CD Application name '{too_long[0]}' is {len(too_long[0])} characters: with label "
            f"tracking, Argo CD cuts it to {ARGOCD_NAME_LIMIT} in the app.kubernetes.io/instance label",
            hint="shorten the organization or workspace name, use applications: single, or annotation tracking (Argo CD 3's default)",
        )
    ]
