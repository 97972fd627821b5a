"""The stages in order: load → schema → merge → checks → policy. Each returns values and diagnostics."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from compiler import argo_names, catalogue, metadata_hosts, rbac_checks
from compiler.advisories import check_advisories
from compiler.catalogue_checks import check_models
from compiler.checks import (
    check_cluster,
    check_installed,
    check_self_hosted,
    check_workspaces,
    find_secrets,
    secret_diagnostics,
)
from compiler.config import Config, assemble
from compiler.diagnostics import Diagnostic, has_errors, sort_diagnostics
from compiler.errors import RenderBug
from compiler.gateway_checks import check_gateway
from compiler.facts import Secret
from compiler.load import load_repo
from compiler.merge import Workspace, merge
from compiler.policy import Finding


@dataclass(frozen=True)
class Compiled:
    config: Config | None
    workspaces: tuple[Workspace, ...] = ()
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.config is not None and not has_errors(self.diagnostics)


def compile_config(
    config_dir: str, today: datetime.date | None = None, *, pending: Mapping[Path, bytes] | None = None
) -> Compiled:
    """Raises load.InputError when the folder cannot be read at all. `today` decides which
    waivers have expired (default: the current date). `pending`: files an editing command is
    about to write, validated in their place (see load.load_repo)."""
    sources, diagnostics = load_repo(config_dir, pending)
    docs = ([sources.org] if sources.org else []) + list(sources.workspaces)
    secrets = find_secrets(docs)
    config, found = assemble(sources)
    diagnostics += found
    if config is None:
        diagnostics += secret_diagnostics(secrets)
        return Compiled(None, (), sort_diagnostics(_secrets_first(diagnostics)))
    workspaces, found = merge(config)
    diagnostics += found
    day = today or catalogue.today()
    found, retirements = check_models(config, workspaces, day)
    diagnostics += found
    diagnostics += check_installed(config)
    diagnostics += check_self_hosted(config, workspaces)
    diagnostics += check_workspaces(config, workspaces)
    diagnostics += check_cluster(config)
    diagnostics += check_gateway(config, workspaces)
    diagnostics += metadata_hosts.check(config)
    diagnostics += rbac_checks.check(config)
    diagnostics += argo_names.check(config, workspaces)
    diagnostics += check_advisories(config)
    diagnostics += check_policies(config, workspaces, secrets, day, retirements)
    return Compiled(config, workspaces, sort_diagnostics(_secrets_first(diagnostics)))


def check_policies(
    config: Config,
    workspaces: tuple[Workspace, ...],
    secrets: list[Secret],
    today: datetime.date,
    retirements: Sequence[Finding] = (),
) -> list[Diagnostic]:
    """Built-in and organisation packs over every workspace, then the organisation's waivers (which
    may also name the catalogue's retirement findings)."""
    from compiler import catalogue_checks, packs, policy, waivers

    builtin, diagnostics = packs.builtin_rules()
    if diagnostics:
        problems = [f"{d.position}: {d.message}" for d in diagnostics]
        raise RenderBug("a built-in policy pack is broken:\n  " + "\n  ".join(problems))
    root = str(Path(config.org_doc.path).parent)  # the config folder as diagnostics name it
    files = [(path, str(path)) for path in packs.org_files(root)]
    own, found = packs.load_packs(files, taken={rule.id for rule in builtin})
    rules = list(builtin) + own
    findings = policy.evaluate(rules, config, workspaces, secrets) + list(retirements)
    rules += [catalogue_checks.rule(rule_id) for rule_id in catalogue_checks.WAIVABLE]
    accepted, problems = waivers.load_waivers(root)
    names = [w.name for w in workspaces]
    return found + problems + waivers.apply(findings, accepted, rules, names, today)


def _secrets_first(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Where a value is a leaked secret, that is the one problem worth saying about it."""
    leaked = {d.position for d in diagnostics if d.rule == "SEC-001"}
    return [d for d in diagnostics if d.rule == "SEC-001" or d.position not in leaked]


@dataclass(frozen=True)
class Rendered:
    files: dict[str, str]

    @property
    def stream(self) -> str:
        from compiler import render

        return render.stream(self.files)


def render_checked(compiled: Compiled) -> Rendered:
    """Renders a clean config and validates every document strictly before anything is written.
    Each document is checked and dumped as it is rendered, and only its text kept."""
    from compiler import k8s, render
    from compiler.yamlout import dump

    assert compiled.config is not None
    version = compiled.config.org.cluster.kubernetes_version
    found: dict[str, str] = {}
    failures: list[str] = []
    for manifest in render.manifests(compiled.config, compiled.workspaces):
        failures += [f"{manifest.path}: {problem}" for problem in k8s.problems(manifest.body, version)]
        found[manifest.path] = dump(manifest.body)
    if failures:
        raise RenderBug("rendered documents fail the Kubernetes schemas:\n  " + "\n  ".join(sorted(failures)))
    return Rendered(render.folder(found))
