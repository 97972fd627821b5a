from __future__ import annotations

import sys

import click

from compiler.commands.common import config_dir_arguments, quiet_option, use_colour, worth_showing

FORMATS = ["github", "json", "junit", "sarif", "text"]


@click.command(
    epilog="""\b
Exit status: 0 clean (warnings allowed), 1 the config has errors (or, with --strict, warnings),
2 usage or I/O error, 3 an internal error of hks.
\b
Examples:
  hks validate                      # the config repository in this folder
  hks validate -q                   # only warnings and errors; nothing when clean
  hks validate examples/acme --format sarif > hks.sarif
  hks validate --format github      # annotations in a GitHub Actions log"""
)
@config_dir_arguments
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True, help="Output format.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@quiet_option
def command(config_dir: str, fmt: str, strict: bool, quiet: bool) -> None:
    """Check a config repository and report every problem.

    Reads CONFIG_DIR/org.yaml and CONFIG_DIR/workspaces/*.yaml, checks them against the schema
    and the catalogue, merges each workspace's overrides, checks every workspace against the
    policy packs (built-in and CONFIG_DIR/policies/), applies CONFIG_DIR/policies/waivers.yaml,
    and prints each problem as path:line:column: severity[RULE]: message. Waived findings are
    shown as waived and fail nothing.
    """
    from compiler import report
    from compiler.diagnostics import Severity
    from compiler.pipeline import compile_config

    compiled = compile_config(config_dir)
    shown = worth_showing(compiled.diagnostics, quiet)
    if shown or not (quiet and fmt == "text"):  # quiet and clean: nothing to say
        click.echo(report.FORMATS[fmt](shown, use_colour(sys.stdout)), nl=False)
    failing = {Severity.ERROR, Severity.WARNING} if strict else {Severity.ERROR}
    if compiled.config is None or any(d.severity in failing and not d.waiver for d in compiled.diagnostics):
        if strict and not any(d.severity is Severity.ERROR and not d.waiver for d in compiled.diagnostics):
            click.echo("hks: failed because of warnings (--strict treats them as errors)", err=True)
        sys.exit(1)
