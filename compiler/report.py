"""Diagnostics as text, json, sarif, junit and github annotations: each a pure function to str."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable

from compiler import __version__
from compiler.diagnostics import Diagnostic, Severity
from compiler.rules import title

INFORMATION_URI = "https://github.com/hexabase/hks"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
COLOURS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def summary(diagnostics: list[Diagnostic]) -> str:
    counts = Counter(d.severity for d in diagnostics if d.waiver is None)
    parts = [
        f"{counts[s]} {s.value}{'' if counts[s] == 1 else 's'}"
        for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)
        if counts[s]
    ]
    waived = sum(1 for d in diagnostics if d.waiver is not None)
    if waived:
        parts.append(f"{waived} waived")
    return ", ".join(parts) if parts else "no problems"


def _text(diagnostics: list[Diagnostic], colour: bool = False) -> str:
    import click

    lines = []
    for d in diagnostics:
        severity = "waived" if d.waiver else d.severity.value
        if colour:
            severity = click.style(severity, fg="green" if d.waiver else COLOURS[d.severity], bold=True)
        lines.append(f"{d.position}: {severity}[{d.rule}]: {d.message}")
        if d.waiver:
            lines.append(f"  {d.waiver}")
        elif d.hint:
            lines.append(f"  hint: {d.hint}")
    lines.append(summary(diagnostics))
    return "\n".join(lines) + "\n"


def _as_json(diagnostics: list[Diagnostic], colour: bool = False) -> str:
    items = [
        {
            "path": d.position.path,
            "line": d.position.line,
            "column": d.position.column,
            "severity": d.severity.value,
            "rule": d.rule,
            "message": d.message,
            "hint": d.hint,
            "waiver": d.waiver,
        }
        for d in diagnostics
    ]
    counts = Counter(d.severity.value for d in diagnostics if d.waiver is None)
    totals = {s.value: counts[s.value] for s in Severity}
    totals["waived"] = sum(1 for d in diagnostics if d.waiver is not None)
    document = {"diagnostics": items, "summary": totals}
    return json.dumps(document, indent=2) + "\n"


def _sarif(diagnostics: list[Diagnostic], colour: bool = False) -> str:
    rule_ids = sorted({d.rule for d in diagnostics})
    rules = [{"id": rule, "shortDescription": {"text": title(rule)}} for rule in rule_ids]
    results = []
    for d in diagnostics:
        message = d.message + (f"\nhint: {d.hint}" if d.hint else "")
        location: dict[str, object] = {"artifactLocation": {"uri": d.position.path}}
        if d.position.line:
            location["region"] = {"startLine": d.position.line, "startColumn": max(d.position.column, 1)}
        result: dict[str, object] = {
            "ruleId": d.rule,
            "ruleIndex": rule_ids.index(d.rule),
            "level": SARIF_LEVELS[d.severity],
            "message": {"text": message},
            "locations": [{"physicalLocation": location}],
        }
        if d.waiver:  # code scanning shows it as dismissed, with the waiver as justification
            result["suppressions"] = [{"kind": "external", "status": "accepted", "justification": d.waiver}]
        results.append(result)
    driver = {"name": "hks", "version": __version__, "informationUri": INFORMATION_URI, "rules": rules}
    document = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{"tool": {"driver": driver}, "results": results}]}
    return json.dumps(document, indent=2) + "\n"


def _junit(diagnostics: list[Diagnostic], colour: bool = False) -> str:
    from xml.sax.saxutils import quoteattr  # here: it imports urllib.request, 20 ms of every other report

    failures = [d for d in diagnostics if d.is_error]
    skipped = [d for d in diagnostics if d.waiver]
    cases = []
    for d in diagnostics:
        name = quoteattr(f"{d.rule} at {d.position}")
        classname = quoteattr(d.position.path)
        body = d.message + (f"\nhint: {d.hint}" if d.hint else "")
        if d.waiver:
            inner = f"<skipped message={quoteattr(d.waiver)}>{_xml_text(body)}</skipped>"
        elif d.is_error:
            inner = f"<failure message={quoteattr(d.message)} type={quoteattr(d.rule)}>{_xml_text(body)}</failure>"
        else:
            inner = f"<system-out>{_xml_text(f'{d.severity.value}: {body}')}</system-out>"
        cases.append(f'    <testcase classname={classname} name={name}>{inner}</testcase>')
    if not diagnostics:
        cases.append('    <testcase classname="hks" name="hks validate"/>')
    tests = max(len(diagnostics), 1)
    head = (
        f'  <testsuite name="hks validate" tests="{tests}" failures="{len(failures)}" errors="0" skipped="{len(skipped)}">'
    )
    return "\n".join(
        ['<?xml version="1.0" encoding="UTF-8"?>', "<testsuites>", head, *cases, "  </testsuite>", "</testsuites>"]
    ) + "\n"


def _xml_text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _github(diagnostics: list[Diagnostic], colour: bool = False) -> str:
    commands = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
    lines = []
    for d in diagnostics:
        props = [f"file={_gh_property(d.position.path)}"]
        if d.position.line:
            props += [f"line={d.position.line}", f"col={d.position.column}"]
        waived = " (waived)" if d.waiver else ""
        props.append(f"title={_gh_property(f'{d.rule} {title(d.rule)}{waived}')}")
        message = d.message + (f"\n{d.waiver}" if d.waiver else f"\nhint: {d.hint}" if d.hint else "")
        command = "notice" if d.waiver else commands[d.severity]
        lines.append(f"::{command} {','.join(props)}::{_gh_data(message)}")
    return "".join(line + "\n" for line in lines)


def _gh_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_property(value: str) -> str:
    return _gh_data(value).replace(":", "%3A").replace(",", "%2C")


Formatter = Callable[[list[Diagnostic], bool], str]


def _printable(formatter: Formatter) -> Formatter:
    """Every format gets the diagnostics with control characters and undecodable bytes escaped
    (compiler/printable.py): one point, so no format can forget it."""
    from compiler.printable import diagnostic

    def printable(diagnostics: list[Diagnostic], colour: bool = False) -> str:
        return formatter([diagnostic(d) for d in diagnostics], colour)

    return printable


github, as_json, junit, sarif, text = (_printable(f) for f in (_github, _as_json, _junit, _sarif, _text))
FORMATS: dict[str, Formatter] = {
    "github": github,
    "json": as_json,
    "junit": junit,
    "sarif": sarif,
    "text": text,
}
