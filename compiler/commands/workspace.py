from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from compiler.commands.common import CONFIG_DIR
from compiler.commands.editing import (
    LazyChoice,
    SuggestingGroup,
    fail,
    fail_usage,
    finish,
    llm_options,
    open_or_exit,
    override_keys,
    repo_options,
    require_org,
    settings,
    with_provider,
)

ENV_WORKSPACE = "HKS_WORKSPACE"


@click.group(
    cls=SuggestingGroup,
    epilog="""\b
Examples:
  hks workspace create production
  hks workspace set-llm production --model gpt-4 --max-tokens 8192
  HKS_WORKSPACE=production hks workspace set-llm --model gpt-4 --max-tokens 8192
  hks workspace set-llm development --unset temperature
  hks workspace list""",
)
def command() -> None:
    """Create, list and edit workspaces (each in its own file, or an entry in org.yaml)."""


@command.command(
    epilog="""\b
Examples:
  hks workspace create production
  hks workspace create research --provider anthropic --model claude-sonnet-4-5
\b
Writes workspaces/NAME.yaml (`workspace: NAME`, and `llm_override:` with any flags given);
refused when the workspace exists.""",
)
@click.argument("name")
@llm_options
@repo_options
def create(name: str, directory: str, dry_run: bool, **flags: Any) -> None:
    """Create the workspace NAME, which inherits the organisation's defaults."""
    require_org(directory, "workspace create")
    _check_name(name)
    root = Path(directory)
    from compiler.tools import workspaces

    target, _ = workspaces.locate(root, name)
    if target is not None:
        fail(f"workspace '{name}' exists already ({target.path})",
             hint=f"change it with hks workspace set-llm {name} ...")
    _write_new(directory, name, settings(**flags), dry_run)


@command.command(name="list", epilog="""\b
Examples:
  hks workspace list
  hks workspace list -C llm-config""")
@click.option("-C", "--directory", "directory", default=".", show_default=True, type=CONFIG_DIR, help="The config repository.")
def list_(directory: str) -> None:
    """List the workspaces, one a line, with the file that defines each."""
    require_org(directory, "workspace list")
    from compiler.tools import workspaces

    for name, where in workspaces.workspaces(Path(directory)):
        click.echo(f"{name}\t{where}")


@command.command(
    name="set-llm",
    epilog=f"""\b
Examples:
  hks workspace set-llm production --provider openai --model gpt-4 --temperature 0.3
  hks workspace set-llm development --provider ollama --model codellama:13b
  hks workspace set-llm production --unset max_tokens    # the org default applies again
  {ENV_WORKSPACE}=production hks workspace set-llm --max-tokens 8192
\b
A workspace with its own file (workspaces/NAME.yaml) is edited there, and one defined under
`workspaces:` in org.yaml is edited in place. A name that is not a workspace is refused (with
the nearest one); --create makes it (workspaces/NAME.yaml), as `hks workspace create` does.
With --model alone, a model the workspace's provider does not offer takes the enabled
provider that does.""",
)
@click.argument("name", required=False)
@llm_options
@click.option("--unset", "unset", multiple=True, type=LazyChoice(override_keys), help="Remove an override (repeatable).")
@click.option("--create", is_flag=True, help="Create the workspace when it does not exist.")
@repo_options
def set_llm(name: str | None, unset: tuple[str, ...], create: bool, directory: str, dry_run: bool, **flags: Any) -> None:
    """Set a workspace's LLM overrides.

    Edits the workspace's llm_override. NAME defaults to $HKS_WORKSPACE."""
    from compiler.tools import edit_changes as changes
    from compiler.tools import workspaces

    values = settings(**flags)
    if not values and not unset:
        fail_usage("nothing to set: give --provider, --model, --temperature, --max-tokens, --top-p, --embeddings or --unset KEY")
    clash = sorted(set(values) & set(unset))
    if clash:
        fail_usage(f"--{clash[0].replace('_', '-')} and --unset {clash[0]} contradict each other")
    org_path = require_org(directory, "workspace set-llm")
    root = Path(directory)
    name = name or os.environ.get(ENV_WORKSPACE) or _no_name(root)
    _check_name(name)
    target, at = workspaces.locate(root, name)
    org = open_or_exit(org_path)
    if target is None:
        if unset:
            fail(f"workspace '{name}' does not exist; there is nothing to unset")
        if not create:
            _unknown(root, name)
        _write_new(directory, name, with_provider(values, workspaces.provider(org, None, ()), org), dry_run)
        return
    values = with_provider(values, workspaces.provider(org, target, at), org)
    done = changes.set_llm(target, at, values) if values else []
    done += changes.unset_llm(target, at, list(unset))
    finish(directory, [target], dry_run=dry_run, done=done)


def _check_name(name: str) -> None:
    from compiler.tools.workspaces import is_name

    if not is_name(name):
        fail_usage(f"{name!r} is not a workspace name: lowercase letters, digits and '-', at most 63")


def _unknown(root: Path, name: str) -> None:
    from compiler.suggest import did_you_mean
    from compiler.tools import workspaces

    names = workspaces.names(root)
    hint = did_you_mean(name, names)
    listed = ", ".join(names) if names else "none yet"
    fail(f"no workspace '{name}'" + (f"; {hint}" if hint else f" (workspaces: {listed})"),
         hint=f"to make a new one: hks workspace create {name}, or add --create")


def _write_new(directory: str, name: str, values: dict[str, Any], dry_run: bool) -> None:
    from compiler.tools import edit_changes as changes

    target, done = changes.new_workspace(Path(directory) / "workspaces" / f"{name}.yaml", name, values)
    finish(directory, [target], dry_run=dry_run, done=done)


def _no_name(root: Path) -> str:
    from compiler.tools import workspaces

    names = workspaces.names(root)
    if not names:
        fail_usage("which workspace? There is none yet: make one with hks workspace create NAME")
    fail_usage(f"which workspace? Give its NAME or set ${ENV_WORKSPACE}. Workspaces: {', '.join(names)}")
