"""The stages in order: load → model → merge → checks → policy (compiler/README.md draws them).
Each returns values and diagnostics; render and write follow in the commands that need them."""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from compiler.builtin import catalogue
from compiler.checks import argocd as argo_names
from compiler.checks import metadata_hosts
from compiler.checks import rbac as rbac_checks
from compiler.checks.advisories import check_advisories
from compiler.checks.capacity import check_self_hosted
from compiler.checks.catalogue import Retirement, check_installed, check_models
from compiler.checks.cluster import check_cluster, check_workspaces
from compiler.checks.gateway import check_gateway
from compiler.checks.pools import check_pools, check_storage
from compiler.checks.reserved import check_host_path, check_namespaces
from compiler.checks.secrets import Secret, scan_config, secret_diagnostics
from compiler.diagnostics import Diagnostic, has_errors, sort_diagnostics
from compiler.errors import RenderBug
from compiler.load.repo import load_repo
from compiler.merge import Workspace, merge
from compiler.model.config import Config, assemble


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
    """Raises errors.InputError when the folder cannot be read at all. `today` decides which
    waivers have expired (default: the current date). `pending`: files an editing command is
    about to write, validated in their place (see load/repo.py, load_repo)."""
    sources, diagnostics = load_repo(config_dir, pending)
    docs = ([sources.org] if sources.org else []) + list(sources.workspaces)
    secrets = scan_config(docs, [*sources.policies, *([sources.waivers] if sources.waivers else [])])
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
    diagnostics += check_pools(config, workspaces) + check_storage(config)
    diagnostics += check_workspaces(config, workspaces)
    diagnostics += check_namespaces(config, workspaces) + check_host_path(config)
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
    retirements: Sequence[Retirement] = (),
) -> list[Diagnostic]:
    """Built-in and organisation packs over every workspace, then the organisation's waivers (which
    may also name the catalogue's retirement findings)."""
    from compiler.checks import catalogue as catalogue_checks
    from compiler.policy import evaluate as policy
    from compiler.policy import packs, waivers

    builtin, diagnostics = packs.builtin_rules()
    if diagnostics:
        broken = [f"{d.position}: {d.message}" for d in diagnostics]
        raise RenderBug("a built-in policy pack is broken:\n  " + "\n  ".join(broken))
    own, found = packs.rules_of_packs(config.policies, taken={rule.id for rule in builtin})
    rules = list(builtin) + own
    waivable = {
        rule_id: policy.check_rule(rule_id, catalogue_checks.RULES[rule_id], "error" if rule_id == "CAT-004" else "warning", "catalogue")
        for rule_id in catalogue_checks.WAIVABLE
    }
    findings = policy.evaluate(rules, config, workspaces, secrets)
    findings += [policy.Finding(waivable[r.diagnostic.rule], r.workspace, r.diagnostic) for r in retirements]
    rules += list(waivable.values())
    accepted, problems = waivers.waivers_of(config.waivers)
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
        from compiler.render import kustomize

        return kustomize.stream(self.files)


def for_render(compiled: Compiled) -> Compiled:
    """`compiled` without what only the checks read: the workspace files' parsed trees (render
    reads their merged values) and the diagnostics. At 10,000 workspaces the trees are a tenth
    of render's memory."""
    import dataclasses

    from compiler.load.parse import Document

    config = compiled.config
    if config is None:
        return compiled
    sources = tuple(dataclasses.replace(w, doc=Document(w.doc.path, None)) if not w.loc else w for w in config.workspaces)
    return Compiled(dataclasses.replace(config, workspaces=sources), compiled.workspaces)


def render_checked(compiled: Compiled) -> Rendered:
    """Renders a clean config, every document validated strictly, as one mapping of files."""
    return Rendered(dict(sorted(rendered_files(compiled))))


def rendered_files(compiled: Compiled) -> Iterator[tuple[str, str]]:
    """Each rendered file (path, YAML) as soon as its document has passed its schema, the
    kustomizations last, so `hks render` writes each one and lets it go: at 10,000 workspaces
    the texts of all of them at once were a fifth of its memory. A document that fails raises
    RenderBug once every document has been checked, before the last file is given: the
    caller's staging folder is then thrown away whole."""
    from compiler.builtin import kubeschemas as k8s
    from compiler.render import kustomize
    from compiler.render import manifests as render
    from compiler.yamlout import dump

    assert compiled.config is not None
    version = compiled.config.org.cluster.kubernetes_version
    paths: list[str] = []
    failures: list[str] = []
    for manifest in render.manifests(compiled.config, compiled.workspaces):
        problems = k8s.problems(manifest.body, version)
        failures += [f"{manifest.path}: {problem}" for problem in problems]
        if not failures:
            paths.append(manifest.path)
            yield manifest.path, dump(manifest.body)
    if failures:
        raise RenderBug("rendered documents fail the Kubernetes schemas:\n  " + "\n  ".join(sorted(failures)))
    yield from kustomize.kustomizations(paths).items()
