"""The config repository as one typed value: org.yaml plus every workspace, wherever defined."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler.diagnostics import Diagnostic, Position, error
from compiler.load.parse import Document
from compiler.load.repo import Loaded, Sources
from compiler.model import model as m
from compiler.model.schema import validate

RULES: dict[str, str] = {
    "REPO-002": "workspace name disagrees with its file name",
    "REPO-003": "workspace defined twice",
}


@dataclass(frozen=True, slots=True)
class WorkspaceSource:
    """A workspace's own settings and where they are written."""

    name: str
    body: m.WorkspaceBody
    doc: Document
    loc: tuple[Any, ...]  # where the body sits in doc: () for a workspace file

    def position(self, *keys: Any, key: bool = False) -> Position:
        return self.doc.position(self.loc + keys, key=key)

    @property
    def defined_at(self) -> Position:
        return self.doc.position(self.loc, key=True) if self.loc else Position(self.doc.path, 1, 1)


@dataclass(frozen=True)
class Config:
    root: str
    organization: str
    org: m.OrgFile
    org_doc: Document
    workspaces: tuple[WorkspaceSource, ...]  # sorted by name
    # read by load for the policy stage and the sealed-secrets check and render (load.repo.Sources)
    policies: tuple[Loaded, ...] = ()
    waivers: Loaded | None = None
    secrets: tuple[Loaded, ...] = ()


def assemble(sources: Sources) -> tuple[Config | None, list[Diagnostic]]:
    diagnostics: list[Diagnostic] = []
    org = None
    if sources.org is not None:
        org, found = validate(sources.org, m.OrgFile)
        diagnostics += found
    files: list[WorkspaceSource] = []
    for doc in sources.workspaces:
        workspace, found = _workspace_file(doc)
        diagnostics += found
        if workspace is not None:
            files.append(workspace)
    if org is None or sources.org is None:
        return None, diagnostics
    inline = [WorkspaceSource(name, body, sources.org, ("workspaces", name)) for name, body in org.workspaces.items()]
    workspaces, found = _unique(inline + files)
    diagnostics += found
    name = org.organization or _folder_name(sources.root)
    extra = (sources.policies, sources.waivers, sources.secrets)
    return Config(sources.root, name, org, sources.org, workspaces, *extra), diagnostics


def _workspace_file(doc: Document) -> tuple[WorkspaceSource | None, list[Diagnostic]]:
    body, diagnostics = validate(doc, m.WorkspaceFile)
    name = Path(doc.path).stem
    if not re.fullmatch(m.DNS_LABEL, name):  # fullmatch: `$` alone lets a trailing newline through
        diagnostics.append(
            error(
                Position(doc.path, 1, 1),
                "SCHEMA-006",
                f"the file name '{name}' is the workspace's name and must be a DNS-1123 label: "
                "lowercase letters, digits and '-'",
                hint="rename the file",
            )
        )
        return None, diagnostics
    if body is None:
        return None, diagnostics
    if body.workspace is not None and body.workspace != name:
        diagnostics.append(
            error(
                doc.position(("workspace",)),
                "REPO-002",
                f"workspace '{body.workspace}' is in the file for '{name}': a workspace file's name is its workspace's name",
                hint=f"rename the file to {body.workspace}.yaml, or set `workspace: {name}`",
            )
        )
        return None, diagnostics
    fields = body.model_dump(exclude={"workspace"}, exclude_unset=True)
    return WorkspaceSource(name, m.WorkspaceBody.model_validate(fields, strict=False), doc, ()), diagnostics


def _unique(workspaces: list[WorkspaceSource]) -> tuple[tuple[WorkspaceSource, ...], list[Diagnostic]]:
    diagnostics: list[Diagnostic] = []
    seen: dict[str, WorkspaceSource] = {}
    for workspace in workspaces:
        first = seen.get(workspace.name)
        if first is None:
            seen[workspace.name] = workspace
            continue
        diagnostics.append(
            error(
                workspace.defined_at,
                "REPO-003",
                f"workspace '{workspace.name}' is defined twice: here and at {first.defined_at}",
                hint=_one_definition(first, workspace),
            )
        )
    return tuple(seen[name] for name in sorted(seen)), diagnostics


def _one_definition(first: WorkspaceSource, second: WorkspaceSource) -> str:
    if first.loc or second.loc:  # one of them is inline in org.yaml
        return "keep one definition: either inline under `workspaces:` in org.yaml or in its own file"
    return f"keep one of the two files, {first.doc.path} or {second.doc.path} (.yaml and .yml name the same workspace)"


def _folder_name(root: str) -> str:
    folder = Path(root).resolve()
    name = (_argocd_folder_name() if folder == Path.cwd().resolve() else None) or folder.name
    label = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")[:63].strip("-")
    return label or "organization"


def _argocd_folder_name() -> str | None:
    """The folder's name in the repository when Argo CD's plugin server runs hks: it unpacks
    the repository into a folder with a random name, which would rename the organisation (and
    relabel everything) on every sync. Argo CD says which repository and path it checked out."""
    url = os.environ.get("ARGOCD_APP_SOURCE_REPO_URL", "").rstrip("/")
    if not url:
        return None
    path = os.environ.get("ARGOCD_APP_SOURCE_PATH", "").strip("/")
    if path not in ("", "."):
        return path.rsplit("/", 1)[-1]
    return re.split(r"[/:]", url)[-1].removesuffix(".git")
