"""The stages in order: load → schema → merge → checks. Each returns values and diagnostics."""

from __future__ import annotations

from dataclasses import dataclass, field

from compiler.checks import check_models, scan_secrets
from compiler.config import Config, assemble
from compiler.diagnostics import Diagnostic, has_errors, sort_diagnostics
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


def compile_config(config_dir: str) -> Compiled:
    """Raises load.InputError when the folder cannot be read at all."""
    sources, diagnostics = load_repo(config_dir)
    docs = ([sources.org] if sources.org else []) + list(sources.workspaces)
    diagnostics += scan_secrets(docs)
    config, found = assemble(sources)
    diagnostics += found
    if config is None:
        return Compiled(None, (), sort_diagnostics(_secrets_first(diagnostics)))
    workspaces, found = merge(config)
    diagnostics += found
    diagnostics += check_models(config, workspaces)
    return Compiled(config, workspaces, sort_diagnostics(_secrets_first(diagnostics)))


def _secrets_first(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Where a value is a leaked secret, that is the one problem worth saying about it."""
    leaked = {d.position for d in diagnostics if d.rule == "SEC-001"}
    return [d for d in diagnostics if d.rule == "SEC-001" or d.position not in leaked]
