"""Waivers: findings an organisation has accepted, each with a reason, an approver and an expiry.

They live in the config repo's `policies/waivers.yaml`. A waived finding is still reported, as
waived, and does not fail the run; an expired waiver is an error (the finding fails again); a
waiver that matches no finding is a warning, so stale ones get cleaned up.
"""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass
from typing import Any

from compiler.diagnostics import Diagnostic, Position, error, warning
from compiler.load.parse import Document
from compiler.load.repo import Loaded
from compiler.policy.evaluate import Finding
from compiler.policy.packs import Rule, schema, schema_problems
from compiler.redact import secret_kind
from compiler.suggest import did_you_mean

RULES: dict[str, str] = {
    "WAIVER-001": "waiver expired",
    "WAIVER-002": "waiver matches no finding",
    "WAIVER-003": "waiver names an unknown rule",
    "WAIVER-004": "waiver for a rule that cannot be waived",
    "WAIVER-005": "waivers file does not match its schema",
}


@dataclass(frozen=True)
class Waiver:
    rule: str
    workspace: str | None
    reason: str
    expires: datetime.date
    approver: str
    position: Position  # of the entry
    rule_at: Position
    expires_at: Position

    def note(self) -> str:
        reason = "(reason hidden: it looks like a secret)" if secret_kind(self.reason) else " ".join(self.reason.split())
        return f"waived until {self.expires.isoformat()}, approved by {self.approver} ({self.position}): {reason}"


def waivers_of(loaded: Loaded | None) -> tuple[list[Waiver], list[Diagnostic]]:
    """The waivers of policies/waivers.yaml as load read it (None: there is no such file)."""
    if loaded is None:
        return [], []
    doc, diagnostics = loaded.doc, list(loaded.problems)
    if doc is None:
        return [], diagnostics
    problems = schema_problems(doc, schema("waivers.schema.json"), "WAIVER-005")
    if problems:
        return [], diagnostics + problems
    return [_waiver(doc, index, entry) for index, entry in enumerate(doc.data["waivers"])], diagnostics


def _waiver(doc: Document, index: int, entry: Any) -> Waiver:
    loc = ("waivers", index)
    expires = entry["expires"]
    if not isinstance(expires, datetime.date):
        expires = datetime.date.fromisoformat(str(expires))
    return Waiver(
        rule=str(entry["rule"]),
        workspace=str(entry["workspace"]) if entry.get("workspace") is not None else None,
        reason=str(entry["reason"]),
        expires=expires,
        approver=str(entry["approver"]),
        position=doc.position(loc),
        rule_at=doc.position(loc + ("rule",)),
        expires_at=doc.position(loc + ("expires",)),
    )


def apply(
    findings: list[Finding], waivers: list[Waiver], rules: list[Rule], workspaces: list[str], today: datetime.date
) -> list[Diagnostic]:
    """The findings' diagnostics, waived where a waiver holds, and the waivers' own problems."""
    by_id = {rule.id: rule for rule in rules}
    diagnostics: list[Diagnostic] = []
    active: list[Waiver] = []
    for waiver in waivers:
        problem = _problem(waiver, by_id, workspaces, today)
        if problem is None:
            active.append(waiver)
        else:
            diagnostics.append(problem)
    used: set[int] = set()
    for finding in findings:
        match = next((i for i, w in enumerate(active) if _matches(w, finding)), None)
        if match is None:
            diagnostics.append(finding.diagnostic)
            continue
        used.add(match)
        diagnostics.append(dataclasses.replace(finding.diagnostic, waiver=active[match].note()))
    for index, waiver in enumerate(active):
        if index not in used:
            diagnostics.append(_unmatched(waiver, by_id[waiver.rule]))
    return diagnostics


def _matches(waiver: Waiver, finding: Finding) -> bool:
    return waiver.rule == finding.rule.id and waiver.workspace == finding.workspace


def _problem(waiver: Waiver, rules: dict[str, Rule], workspaces: list[str], today: datetime.date) -> Diagnostic | None:
    rule = rules.get(waiver.rule)
    if rule is None:
        hint = did_you_mean(waiver.rule, rules) or "`hks policy list` shows every rule"
        return error(waiver.rule_at, "WAIVER-003", f"waiver for rule '{waiver.rule}', which no pack defines", hint)
    if not rule.waivable:
        return error(
            waiver.rule_at, "WAIVER-004", f"{rule.id} ({rule.title}) cannot be waived", "fix the config instead"
        )
    if waiver.expires < today:
        where = f" for workspace '{waiver.workspace}'" if waiver.workspace else ""
        return error(
            waiver.expires_at,
            "WAIVER-001",
            f"the waiver of {rule.id}{where} expired on {waiver.expires.isoformat()} (approved by {waiver.approver}): "
            "its findings fail again",
            hint="fix the finding, or renew the waiver with a new expiry date and approval",
        )
    if waiver.workspace is not None and waiver.workspace not in workspaces:
        suggestion = did_you_mean(waiver.workspace, workspaces)
        message = f"waiver of {rule.id} names workspace '{waiver.workspace}', which does not exist"
        return warning(waiver.position, "WAIVER-002", message, suggestion)
    return None


def _unmatched(waiver: Waiver, rule: Rule) -> Diagnostic:
    if rule.scope == "organization" and waiver.workspace is not None:
        hint = f"{rule.id} is checked once for the organisation: remove `workspace:` from the waiver"
    elif rule.scope == "workspace" and waiver.workspace is None:
        hint = f"{rule.id} is checked per workspace: add `workspace:` to the waiver"
    else:
        hint = "remove the waiver: the finding it accepted is gone"
    where = f" in workspace '{waiver.workspace}'" if waiver.workspace else ""
    return warning(waiver.position, "WAIVER-002", f"the waiver of {rule.id}{where} matches no finding", hint)
