from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from compiler.commands.common import FiniteFloatRange, compile_or_exit, config_dir_arguments

if TYPE_CHECKING:
    from compiler.tools.cost import Estimate


@click.command(
    epilog="""\b
Exit status: 0 estimated, 1 the config has errors (or, with --fail-over-budget, a workspace's
estimate exceeds its budget.monthly_usd), 2 usage or I/O error (such as an unknown revision).
\b
Examples:
  hks cost examples/acme
  hks cost --base origin/main --format markdown   # a pull request comment
  hks cost --fail-over-budget                     # in CI: refuse a change that breaks a budget"""
)
@config_dir_arguments
@click.option("--base", "base_rev", metavar="REV", help="Compare with the config at this Git revision.")
@click.option(
    "--format", "fmt", type=click.Choice(["json", "markdown", "table"]), default="table", show_default=True
)
@click.option("--fail-over-budget", is_flag=True, help="Exit 1 when a workspace's estimate exceeds its budget.")
@click.option(
    "--fallback-share",
    type=FiniteFloatRange(0, 1),
    default=0.05,
    show_default=True,
    help="Share of a workspace's requests assumed to go to its first fallback.",
)
def command(config_dir: str, base_rev: str | None, fmt: str, fail_over_budget: bool, fallback_share: float) -> None:
    """Estimate the monthly LLM spend, per workspace and in total.

    Prices come from the model catalogue (each with its source and date), volumes from each
    workspace's `usage:` block, and self-hosted nodes from `self_hosted.gpu.hourly_usd` ×
    `self_hosted.nodes`. With --base, shows the change against a Git revision.
    """
    from compiler.tools import cost
    from compiler.tools import cost_report as costreport

    compiled = compile_or_exit(config_dir, show_warnings=False)
    assert compiled.config is not None
    estimate = cost.estimate(compiled.config, compiled.workspaces, fallback_share)
    base = None
    if base_rev is not None:
        base = _base_estimate(config_dir, base_rev, compiled.config.organization, fallback_share)
    click.echo(costreport.FORMATS[fmt](estimate, base, base_rev or ""), nl=False)
    if fail_over_budget and costreport.warnings(estimate):
        click.echo("hks: a workspace's estimate exceeds its budget (--fail-over-budget)", err=True)
        sys.exit(1)


def _base_estimate(config_dir: str, revision: str, organization: str, fallback_share: float) -> Estimate:
    """The estimate of the config at REVISION; an empty one, with a note, when there is none to
    compare with (gitrev.compiled_at)."""
    from compiler.tools import cost, gitrev

    with gitrev.compiled_at(config_dir, revision) as (compiled, note):
        if compiled is None or compiled.config is None:
            click.echo(f"hks: note: {note}", err=True)
            return cost.Estimate(organization, (), None, fallback_share)
        return cost.estimate(compiled.config, compiled.workspaces, fallback_share)
