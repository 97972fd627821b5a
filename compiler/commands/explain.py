from __future__ import annotations

import sys

import click

from compiler.commands.common import CONFIG_DIR, compile_or_exit, use_colour


@click.command(
    epilog="""\b
Examples:
  hks explain examples/acme                       # every workspace, every value
  hks explain examples/acme clinical              # one workspace
  hks explain examples/acme --key temperature     # one setting across workspaces
  hks explain examples/acme --key rate_limit      # a settings block"""
)
@click.argument("config_dir", type=CONFIG_DIR)
@click.argument("workspace", required=False)
@click.option("--key", help="Only this setting (e.g. temperature, llm.rate_limit.rpm, compliance).")
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="text", show_default=True)
def command(config_dir: str, workspace: str | None, key: str | None, fmt: str) -> None:
    """Show each workspace's effective settings and where every value came from.

    Every value is shown with its layer (org, workspace or built-in default) and the
    file:line:column that set it.
    """
    from compiler import explain
    from compiler.suggest import did_you_mean

    compiled = compile_or_exit(config_dir)
    workspaces = compiled.workspaces
    if workspace is not None:
        names = [w.name for w in workspaces]
        if workspace not in names:
            hint = did_you_mean(workspace, names) or f"workspaces: {', '.join(names) or 'none'}"
            raise click.BadParameter(f"no workspace '{workspace}' ({hint})", param_hint="WORKSPACE")
        workspaces = tuple(w for w in workspaces if w.name == workspace)
    if key is not None and key not in explain.known_keys():
        hint = did_you_mean(key, explain.known_keys())
        raise click.BadParameter(f"no setting '{key}'" + (f" ({hint})" if hint else ""), param_hint="--key")
    click.echo(explain.FORMATS[fmt](workspaces, key, use_colour(sys.stdout)), nl=False)
