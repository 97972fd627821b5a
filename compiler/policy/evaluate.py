"""Evaluates policy rules (data, from packs) over the documents of `facts.py`.

A rule's condition is a JSON Schema that a compliant document satisfies; every place the
document breaks it is one finding, reported where the user's files set the offending value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from compiler.checks.secrets import Secret
from compiler.diagnostics import Diagnostic, Position, Severity, error
from compiler.merge import Workspace
from compiler.model.config import Config
from compiler.policy import facts
from compiler.policy.packs import Rule
from compiler.redact import secret_kind

RULES: dict[str, str] = {
    "POLICY-004": "policy rule cannot be evaluated",
}

PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.-]+)\}")


@dataclass(frozen=True)
class Finding:
    rule: Rule
    workspace: str | None  # None for an organisation-scope rule
    diagnostic: Diagnostic


def check_rule(rule_id: str, title: str, severity: str, framework: str) -> Rule:
    """A rule of hks's own checks that waivers may name (the catalogue's retirements), as the
    waivers know rules: it has no condition of its own, its check raised the finding."""
    return Rule(
        id=rule_id, framework=framework, severity=severity, title=title, message=title, remediation="",
        references=(), scope="workspace", applies_to={}, condition=None, at=None, waivable=True, passing=(),
        failing=(), pack=framework, defined_at=Position("<built-in>"),
    )


def evaluate(
    rules: list[Rule], config: Config, workspaces: tuple[Workspace, ...], secrets: list[Secret]
) -> list[Finding]:
    validators = _Validators(rules)
    org, org_origins = facts.org_document(config, workspaces, secrets)
    residencies = {str(w.data_residency.value) for w in workspaces if w.data_residency}
    if config.org.data_residency:
        residencies.add(config.org.data_residency)
    findings: list[Finding] = []
    for rule in rules:
        if rule.scope == "organization" and rule.applies(set(org["compliance"]), residencies):
            findings += _check(rule, validators, org, lambda: org_origins, None)
    sources = {source.name: source for source in config.workspaces}
    for workspace in workspaces:
        document, origins = facts.workspace_document(config, sources[workspace.name], workspace, org, org_origins)
        residency = {document["data_residency"]} if document["data_residency"] else set()
        for rule in rules:
            if rule.scope == "workspace" and rule.applies(set(document["compliance"]), residency):
                findings += _check(rule, validators, document, origins, workspace.name)
    return findings


class _Validators:
    """Each rule's compiled check (policy/fastcheck.py), which only accepts, and its jsonschema
    validator, built at the first document the check does not accept (or at the first document
    when the condition is not compiled): jsonschema finds each place and says why."""

    def __init__(self, rules: list[Rule]) -> None:
        from compiler.policy import fastcheck

        self.fast = {rule.id: fastcheck.compile_condition(rule.condition) for rule in rules}
        self._slow: dict[str, Any] = {}

    def slow(self, rule: Rule) -> Any:
        if rule.id not in self._slow:
            from compiler.policy import safe_regex

            self._slow[rule.id] = safe_regex.validator_class()(rule.condition)
        return self._slow[rule.id]


def _check(
    rule: Rule, validators: _Validators, document: dict[str, Any], origins: facts.LaterOrigins, workspace: str | None
) -> list[Finding]:
    fast = validators.fast[rule.id]
    if fast is not None and _accepts(fast, document):
        return []
    validator, findings = validators.slow(rule), []
    try:
        problems = list(validator.iter_errors(document))
    except Exception as exc:  # a condition jsonschema accepts but cannot evaluate (an unresolvable $ref)
        message = f"rule {rule.id} cannot be evaluated: {type(exc).__name__}"
        return [Finding(rule, workspace, error(rule.defined_at, "POLICY-004", message, "fix the rule's condition"))]
    for problem in problems:
        path = tuple(problem.absolute_path)
        diagnostic = Diagnostic(
            facts.origin(origins(), rule.at or path),
            Severity(rule.severity),
            rule.id,
            fill(rule.message, document, path),
            fill(rule.remediation, document, path),
        )
        findings.append(Finding(rule, workspace, diagnostic))
    unique = {f.diagnostic: f for f in findings}
    return list(unique.values())


def _accepts(check: Any, document: dict[str, Any]) -> bool:
    try:
        return bool(check(document))
    except Exception:  # whatever the compiled check cannot take, jsonschema judges
        return False


def fill(template: str, document: dict[str, Any], path: tuple[Any, ...]) -> str:
    """Replaces {placeholders}: `{item.x}` is x of the innermost mapping on the failing path,
    `{value}` the failing value itself, anything else a dotted path from the document's top."""
    item, value = _item_and_value(document, path)

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        head, _, rest = name.partition(".")
        if head == "value":
            return _show(value)
        start, steps = (item, rest) if head == "item" else (document, name)
        return _show(_lookup(start, steps))

    return PLACEHOLDER.sub(replace, template)


def _item_and_value(document: dict[str, Any], path: tuple[Any, ...]) -> tuple[Any, Any]:
    node: Any = document
    item: Any = document
    for step in path:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return item, None
        if isinstance(node, dict):
            item = node
    return item, node


def _lookup(node: Any, steps: str) -> Any:
    for step in steps.split(".") if steps else ():
        if isinstance(node, dict):
            node = node.get(step)
        elif isinstance(node, list) and step.isdigit() and int(step) < len(node):
            node = node[int(step)]
        else:
            return None
    return node


def _show(value: Any) -> str:
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(_show(v) for v in value) or "none"
    if isinstance(value, dict):
        return "set"
    text = str(value)
    return "a value that looks like a secret" if secret_kind(text) else text
