"""`hks policy test`: runs every rule's own examples, as `conftest verify` or `kyverno test` do.

An example is an org.yaml (workspaces inline) written in the pack. A passing example must give
no finding of its rule; a failing one at least one, and, when it names `at`, one at that place
of the example (so the line a finding reports is tested too).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from compiler.checks.secrets import find_secrets
from compiler.diagnostics import Position, has_errors
from compiler.load.parse import Document
from compiler.load.repo import Sources
from compiler.merge import merge
from compiler.model.config import assemble
from compiler.policy.evaluate import Finding, evaluate
from compiler.policy.packs import Example, Rule


@dataclass(frozen=True)
class Outcome:
    rule: str
    example: str
    expected: str  # "pass" or "fail"
    problem: str | None  # None: as expected
    position: Position

    @property
    def ok(self) -> bool:
        return self.problem is None


def run(rules: list[Rule]) -> list[Outcome]:
    outcomes = []
    for rule in rules:
        for expected, examples in (("pass", rule.passing), ("fail", rule.failing)):
            if not examples:  # a rule no example can fail is not tested
                outcomes.append(Outcome(rule.id, "(none)", expected, f"the rule has no {expected}ing example", rule.defined_at))
        outcomes += [_run(rule, example, "pass") for example in rule.passing]
        outcomes += [_run(rule, example, "fail") for example in rule.failing]
    return outcomes


def _run(rule: Rule, example: Example, expected: str) -> Outcome:
    findings, problem = findings_of(rule, example)
    if problem is None:
        problem = _verdict(findings, example, expected)
    return Outcome(rule.id, example.name, expected, problem, example.position)


def findings_of(rule: Rule, example: Example) -> tuple[list[Finding], str | None]:
    doc = Document(example.path, example.config)
    config, diagnostics = assemble(Sources("example", doc, ()))
    if config is None or has_errors(diagnostics):
        first = next((d for d in diagnostics if d.is_error), None)
        return [], f"the example is not a valid config: {first.position}: {first.message}" if first else "invalid"
    workspaces, diagnostics = merge(config)
    if has_errors(diagnostics):
        return [], f"the example does not merge: {diagnostics[0].position}: {diagnostics[0].message}"
    return evaluate([rule], config, workspaces, find_secrets([doc])), None


def _verdict(findings: list[Finding], example: Example, expected: str) -> str | None:
    if expected == "pass":
        if findings:
            return f"expected no finding, got {len(findings)}: {findings[0].diagnostic.message}"
        return None
    if not findings:
        return "expected a finding, got none (does a workspace of the example match the rule's applies_to?)"
    if example.at is None:
        return None
    if not _exists(example.config, example.at):
        return f"`at: {'.'.join(map(str, example.at))}` is not a key of the example's config"
    config = Document(example.path, example.config)
    wanted = {config.position(example.at), config.position(example.at, key=True)}  # the value or its key
    got = {f.diagnostic.position for f in findings}
    if not wanted & got:
        want = config.position(example.at)
        return f"expected a finding at {want}, got {', '.join(sorted(map(str, got)))}"
    return None


def _exists(node: Any, path: tuple[Any, ...]) -> bool:
    for step in path:
        if (isinstance(node, dict) and step in node) or (isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node)):
            node = node[step]
        else:
            return False
    return True
