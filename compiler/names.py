"""The names hks gives what it renders, shared by the checks that guard them and the render
that uses them: Argo CD's Applications, and the config repository's own folders."""

from __future__ import annotations

ARGOCD_FOLDER = "argocd"
ARGOCD_NAMESPACE = "argocd"  # where Argo CD looks for Applications by default
ARGOCD_PROJECT = "default"

# Folders of the config repository itself: a rendered folder there would replace them.
CONFIG_FOLDERS = ("workspaces", "policies", "schemas", "secrets")

KUSTOMIZATION_HEADER = "# Rendered by hks. Do not edit: `hks render` replaces this folder whole.\n"


def application_name(organization: str, part: str | None = None) -> str:
    """The Application's name: `<organization>-llm`, and `-<workspace>` or `-platform` per part."""
    return f"{organization}-llm" + (f"-{part}" if part else "")
