"""The stages in order: load → schema → merge → checks. Each returns values and diagnostics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from compiler.checks import check_cluster, check_models, check_self_hosted, check_workspaces, scan_secrets
from compiler.config import Config, assemble
from compiler.diagnostics import Diagnostic, has_errors, sort_diagnostics
from compiler.errors import RenderBug
from compiler.load import load_repo
from compiler.merge import Workspace, merge


@dataclass(frozen=True)
class Compiled:
    config: Config | None
    workspaces: tuple[Workspace, ...] = ()
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.config is not None and not has_errors(self.diagnostics)


def compile_config(config_dir: str, pending: Mapping[Path, bytes] | None = None) -> Compiled:
    """Raises load.InputError when the folder cannot be read at all. `pending`: files an
    editing command is about to write, validated in their place (see load.load_repo)."""
    sources, diagnostics = load_repo(config_dir, pending)
    docs = ([sources.org] if sources.org else []) + list(sources.workspaces)
    diagnostics += scan_secrets(docs)
    config, found = assemble(sources)
    diagnostics += found
    if config is None:
        return Compiled(None, (), sort_diagnostics(_secrets_first(diagnostics)))
    workspaces, found = merge(config)
    diagnostics += found
    diagnostics += check_models(config, workspaces)
    diagnostics += check_self_hosted(config, workspaces)
    diagnostics += check_workspaces(config, workspaces)
    diagnostics += check_cluster(config)
    return Compiled(config, workspaces, sort_diagnostics(_secrets_first(diagnostics)))


def _secrets_first(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Where a value is a leaked secret, that is the one problem worth saying about it."""
    leaked = {d.position for d in diagnostics if d.rule == "SEC-001"}
    return [d for d in diagnostics if d.rule == "SEC-001" or d.position not in leaked]


@dataclass(frozen=True)
class Rendered:
    files: dict[str, str]
    stream: str


def render_checked(compiled: Compiled) -> Rendered:
    """Renders a clean config and validates every document strictly before anything is written."""
    from compiler import k8s, render

    assert compiled.config is not None
    manifests = render.render(compiled.config, compiled.workspaces)
    version = compiled.config.org.cluster.kubernetes_version
    failures = [f"{m.path}: {problem}" for m in manifests for problem in k8s.problems(m.body, version)]
    if failures:
        raise RenderBug("rendered documents fail the Kubernetes schemas:\n  " + "\n  ".join(failures))
    return Rendered(render.files(manifests), render.stream(manifests))
