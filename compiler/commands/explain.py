from __future__ import annotations

import os
import sys

import click

from compiler.commands.common import CONFIG_DIR, compile_or_exit, use_colour


@click.command(
    epilog="""\b
Examples:
  hks explain                                     # the config in this folder
  hks explain clinical                            # one workspace
  hks explain -C examples/acme --key temperature  # one setting across workspaces
  hks explain examples/acme --key rate_limit      # a settings block
\b
The config folder is -C DIR or the first argument (the current folder by default); a single
argument that is not a folder is a workspace."""
)
@click.argument("config_dir", required=False, type=CONFIG_DIR)
@click.argument("workspace", required=False)
@click.option("-C", "--directory", "directory", type=CONFIG_DIR, help="The config folder (default: the current folder).")
@click.option("--key", help="Only this setting (e.g. temperature, llm.rate_limit.rpm, compliance).")
@click.option("--format", "fmt", type=click.Choice(["json", "text"]), default="text", show_default=True)
def command(config_dir: str | None, workspace: str | None, directory: str | None, key: str | None, fmt: str) -> None:
    """Show each workspace's effective settings and where every value came from.

    Every value is shown with its layer (org, workspace or built-in default) and the
    file:line:column that set it.
    """
    from compiler.suggest import did_you_mean
    from compiler.tools import explain

    if config_dir is not None and workspace is None and (directory or not os.path.isdir(config_dir)):
        config_dir, workspace = None, config_dir  # `hks explain clinical`: a workspace of this folder's config
    if config_dir and directory and os.path.normpath(config_dir) != os.path.normpath(directory):
        raise click.UsageError(f"two config folders: {config_dir} and -C {directory}; give one")
    compiled = compile_or_exit(config_dir or directory or ".")
    workspaces = compiled.workspaces
    if workspace is not None:
        names = [w.name for w in workspaces]
        if workspace not in names:
            hint = did_you_mean(workspace, names) or f"workspaces: {', '.join(names) or 'none'}"
            raise click.BadParameter(f"no workspace '{workspace}' ({hint})", param_hint="WORKSPACE")
        workspaces = tuple(w for w in workspaces if w.name == workspace)
    if key is not None and key not in explain.known_keys():
        from compiler.suggest import completions

        near = completions(key, explain.known_keys())
        key_hint = did_you_mean(key, explain.known_keys()) or (f"did you mean {' or '.join(repr(k) for k in near)}?" if near else None)
        if key_hint is None:  # nothing near: the settings there are, by their short names
            key_hint = "settings: " + ", ".join(k for k in sorted(explain.known_keys()) if "." not in k)
        raise click.BadParameter(f"no setting '{key}' ({key_hint})", param_hint="--key")
    assert compiled.config is not None
    extra = explain.pool_rows(compiled.config, workspaces)
    click.echo(explain.FORMATS[fmt](workspaces, key, use_colour(sys.stdout), extra), nl=False)
