from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from compiler.commands.common import CONFIG_DIR, use_colour

if TYPE_CHECKING:
    from compiler.diagnostics import Diagnostic
    from compiler.policy.packs import Rule
    from compiler.rules import HksRule

CONFIG_OPTION = click.option(
    "-C", "--directory", "--config", "config_dir", type=CONFIG_DIR,
    help="Also the packs in DIR/policies/, the organisation's own (default: the current folder, when it holds org.yaml).",
)


@click.group(
    epilog="""\b
Examples:
  hks policy list                            # the built-in rules
  hks policy list -C examples/acme           # and the organisation's own
  hks policy show HIPAA-001
  hks policy test                            # every rule's own examples
  hks policy test policies/my-pack.yaml      # a pack being written"""
)
def command() -> None:
    """List, show and test the compliance rules `hks validate` enforces."""


@command.command(name="list", epilog="Examples:\n  hks policy list --format markdown")
@CONFIG_OPTION
@click.option("--format", "fmt", type=click.Choice(["markdown", "text"]), default="text", show_default=True)
def list_rules(config_dir: str | None, fmt: str) -> None:
    """List every rule with its framework, severity and title."""
    rules = _rules(config_dir)
    click.echo(markdown(rules) if fmt == "markdown" else table(rules), nl=False)


@command.command(epilog="Examples:\n  hks policy show GDPR-002")
@click.argument("rule_id")
@CONFIG_OPTION
def show(rule_id: str, config_dir: str | None) -> None:
    """Show one rule: what it checks, why (references) and how to fix a finding; for one of hks's own
    checks (CAP-001), the module that reports it."""
    from compiler import rules as registry
    from compiler.suggest import did_you_mean

    rules = {rule.id: rule for rule in _rules(config_dir)}
    rule = rules.get(rule_id.upper())
    own = {own.id: own for own in registry.registry()}
    if rule is None and rule_id.upper() in own:
        click.echo(describe_own(own[rule_id.upper()]), nl=False)
        return
    if rule is None:
        hint = did_you_mean(rule_id.upper(), [*rules, *own]) or "`hks policy list` shows every rule"
        raise click.BadParameter(f"no rule '{rule_id}' ({hint})", param_hint="RULE_ID")
    click.echo(describe(rule), nl=False)


@command.command(
    epilog="""\b
Exit status: 0 every example behaves as it says, 1 some do not (or a pack is broken).
\b
Examples:
  hks policy test
  hks policy test hipaa
  hks policy test -C examples/acme"""
)
@click.argument("pack", required=False)
@CONFIG_OPTION
def test(pack: str | None, config_dir: str | None) -> None:
    """Run every rule's own examples: passing ones must give no finding, failing ones must.

    PACK is a pack's name, or the path of a pack file (checked on its own).
    """
    from compiler.policy import packs
    from compiler.policy import selftest as policytest

    if pack is not None and Path(pack).is_file():
        builtin = {rule.id for rule in packs.builtin_rules()[0]}
        rules, problems = packs.load_packs([(Path(pack), pack)], taken=builtin)
        _exit_on(problems)
    else:
        rules = _rules(config_dir)
        if pack is not None:
            names = sorted({rule.pack for rule in rules})
            if pack not in names:
                raise click.BadParameter(f"no pack '{pack}' (packs: {', '.join(names)})", param_hint="PACK")
            rules = [rule for rule in rules if rule.pack == pack]
    outcomes = policytest.run(rules)
    lines = []
    for outcome in outcomes:
        verdict = "ok  " if outcome.ok else "FAIL"
        line = f"{outcome.position}: {verdict} {outcome.rule} {outcome.expected}: {outcome.example}"
        lines.append(line + (f"\n  {outcome.problem}" if outcome.problem else ""))
    failed = sum(1 for outcome in outcomes if not outcome.ok)
    lines.append(f"{_count(len(outcomes), 'example')} of {_count(len(rules), 'rule')}: {len(outcomes) - failed} passed, {failed} failed")
    click.echo("\n".join(lines))
    if failed:
        sys.exit(1)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _rules(config_dir: str | None) -> list[Rule]:
    from compiler.policy import packs

    builtin, broken = packs.builtin_rules_with_examples()
    rules = list(builtin)
    _exit_on(list(broken))
    if config_dir is None and Path("org.yaml").is_file():  # in a config repository: its own packs too
        config_dir = "."
    if config_dir is not None:
        from compiler.load.repo import org_packs

        own, problems = packs.rules_of_packs(org_packs(Path(config_dir)), taken={rule.id for rule in rules})
        _exit_on(problems)
        rules += own
    return rules


def _exit_on(problems: list[Diagnostic]) -> None:
    if problems:
        from compiler import report

        click.echo(report.text(problems, use_colour(sys.stderr)), err=True, nl=False)
        sys.exit(1)


def _applies(rule: Rule) -> str:
    parts = [f"{key.replace('_', ' ')} {', '.join(values)}" for key, values in sorted(rule.applies_to.items())]
    if parts:
        return "; ".join(parts)
    return "every workspace" if rule.scope == "workspace" else "always"


def table(rules: list[Rule]) -> str:
    rows = [("RULE", "FRAMEWORK", "SEVERITY", "TITLE")] + [(r.id, r.framework, r.severity, r.title) for r in rules]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join(cell.ljust(widths[i]) if i < 3 else cell for i, cell in enumerate(row)) for row in rows]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def markdown(rules: list[Rule]) -> str:
    lines = ["| Rule | Framework | Severity | Checks | Applies to | References |", "|---|---|---|---|---|---|"]
    for r in rules:
        references = "; ".join(r.references) or "—"
        lines.append(f"| {r.id} | {r.framework} | {r.severity} | {r.title} | {_applies(r)} | {references} |")
    return "\n".join(lines) + "\n"


def describe_own(rule: HksRule) -> str:
    """One of hks's own checks (docs/rules.md): no pack defines it, the module that reports it does."""
    from compiler.checks import catalogue

    fields = [
        ("checked by", f"hks itself, {rule.module.replace('.', '/')}.py (docs/rules.md lists every such rule)"),
        ("waivable", "yes" if rule.id in catalogue.WAIVABLE else "no"),
    ]
    width = max(len(name) for name, _ in fields) + 1
    lines = [f"{rule.id}  {rule.title}"] + [f"  {(name + ':').ljust(width)} {value}" for name, value in fields]
    return "\n".join(lines) + "\n"


def describe(rule: Rule) -> str:
    fields = [
        ("pack", f"{rule.pack} ({rule.defined_at})"),
        ("framework", rule.framework),
        ("severity", rule.severity),
        ("checked", "once for the organisation" if rule.scope == "organization" else "per workspace"),
        ("applies to", _applies(rule)),
        ("references", "; ".join(rule.references) or "none"),
        ("message", rule.message),
        ("remediation", rule.remediation),
        ("waivable", "yes" if rule.waivable else "no"),
        ("examples", f"{len(rule.passing)} passing, {len(rule.failing)} failing (hks policy test {rule.pack})"),
    ]
    width = max(len(name) for name, _ in fields) + 1
    lines = [f"{rule.id}  {rule.title}"] + [f"  {(name + ':').ljust(width)} {value}" for name, value in fields]
    return "\n".join(lines) + "\n"
