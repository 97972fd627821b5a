"""The registry of every rule id hks itself reports (policy packs bring their own), with a one-line title.

A rule lives with its check: each module that reports rules declares them right after its imports,
`RULES: dict[str, str] = {"CAP-001": "self-hosted model does not fit the GPU memory", ...}`, sorted
by id. This module gathers those tables from the explicit, sorted list `DECLARING_MODULES`
(a module that starts reporting rules is added there; tests/test_rules.py says when one is missing).
The modules are imported only when a title is asked for (SARIF, GitHub annotations, docs), so
`hks --help` imports none of them.

Reporters use the titles for SARIF rule metadata and annotation titles. Titles of the built-in
policy packs' rules come from the packs (SEC-001 is both: the pack reports it when the config can
be evaluated).
"""

from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True, slots=True)
class HksRule:
    id: str
    title: str
    module: str  # the module that declares and reports it, such as compiler.checks.capacity


# Every module that declares rules, sorted by name.
DECLARING_MODULES = (
    "compiler.checks.advisories",
    "compiler.checks.argocd",
    "compiler.checks.capacity",
    "compiler.checks.catalogue",
    "compiler.checks.cluster",
    "compiler.checks.gateway",
    "compiler.checks.metadata_hosts",
    "compiler.checks.pools",
    "compiler.checks.rbac",
    "compiler.checks.reserved",
    "compiler.checks.sealed",
    "compiler.checks.secrets",
    "compiler.load.parse",
    "compiler.load.repo",
    "compiler.load.safefs",
    "compiler.merge",
    "compiler.model.config",
    "compiler.model.schema",
    "compiler.policy.evaluate",
    "compiler.policy.packs",
    "compiler.policy.waivers",
)


def _declaring_modules() -> tuple[ModuleType, ...]:
    return tuple(importlib.import_module(name) for name in DECLARING_MODULES)


@functools.cache
def registry() -> tuple[HksRule, ...]:
    """Every rule hks declares, sorted by id; an id declared by two modules is a bug of hks."""
    found: dict[str, HksRule] = {}
    for module in _declaring_modules():
        declared: dict[str, str] = module.RULES
        for rule_id, rule_title in declared.items():
            if rule_id in found:
                raise ValueError(f"rule {rule_id} is declared by both {found[rule_id].module} and {module.__name__}")
            found[rule_id] = HksRule(rule_id, rule_title, module.__name__)
    return tuple(found[rule_id] for rule_id in sorted(found))


def titles() -> dict[str, str]:
    """Each rule id hks declares and its title, sorted by id."""
    return {rule.id: rule.title for rule in registry()}


def title(rule: str) -> str:
    own = titles()
    if rule in own:
        return own[rule]
    from compiler.policy.packs import builtin_rules

    return next((r.title for r in builtin_rules()[0] if r.id == rule), rule)


def markdown() -> str:
    """The table docs/rules.md shows (a test keeps it current)."""
    rows = ["| Rule | Finding | Module |", "|---|---|---|"]
    rows += [f"| {rule.id} | {rule.title} | `{rule.module.replace('.', '/')}.py` |" for rule in registry()]
    return "".join(row + "\n" for row in rows)
