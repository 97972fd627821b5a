from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import click

from compiler.commands.common import CONFIG_DIR
from compiler.commands.editing import (
    OVERRIDE_KEYS,
    SuggestingChoice,
    SuggestingGroup,
    fail,
    fail_usage,
    finish,
    llm_options,
    open_or_exit,
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
    target, _ = _locate(root, name)
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
    for name, where in _workspaces(Path(directory)):
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
@click.option("--unset", "unset", multiple=True, type=SuggestingChoice(OVERRIDE_KEYS), help="Remove an override (repeatable).")
@click.option("--create", is_flag=True, help="Create the workspace when it does not exist.")
@repo_options
def set_llm(name: str | None, unset: tuple[str, ...], create: bool, directory: str, dry_run: bool, **flags: Any) -> None:
    """Set a workspace's LLM overrides.

    Edits the workspace's llm_override. NAME defaults to $HKS_WORKSPACE."""
    from compiler.tools import edit_changes as changes

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
    target, at = _locate(root, name)
    org = open_or_exit(org_path)
    if target is None:
        if unset:
            fail(f"workspace '{name}' does not exist; there is nothing to unset")
        if not create:
            _unknown(root, name)
        _write_new(directory, name, with_provider(values, _provider(org, None, ()), org), dry_run)
        return
    values = with_provider(values, _provider(org, target, at), org)
    done = changes.set_llm(target, at, values) if values else []
    done += changes.unset_llm(target, at, list(unset))
    finish(directory, [target], dry_run=dry_run, done=done)


def _check_name(name: str) -> None:
    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", name):
        fail_usage(f"{name!r} is not a workspace name: lowercase letters, digits and '-', at most 63")


def _unknown(root: Path, name: str) -> None:
    from compiler.suggest import did_you_mean

    names = _workspace_names(root)
    hint = did_you_mean(name, names)
    listed = ", ".join(names) if names else "none yet"
    fail(f"no workspace '{name}'" + (f"; {hint}" if hint else f" (workspaces: {listed})"),
         hint=f"to make a new one: hks workspace create {name}, or add --create")


def _provider(org: Any, target: Any, at: tuple[str, ...]) -> str | None:
    """The provider a workspace uses now: its override's, or the organisation's."""
    from compiler.tools import edit

    own = edit.find(target.data, at + ("provider",)) if target is not None else None
    return str(own or edit.find(org.data, ("llm_config", "provider")) or "") or None


def _write_new(directory: str, name: str, values: dict[str, Any], dry_run: bool) -> None:
    from compiler.tools import edit_changes as changes
    from compiler.tools.edit import new_file

    target = new_file(Path(directory) / "workspaces" / f"{name}.yaml")
    target.data["workspace"] = name
    done = [f"{target.path}: workspace '{name}' (inherits org.yaml's llm_config)"]
    done += changes.set_llm(target, ("llm_override",), values) if values else []
    finish(directory, [target], dry_run=dry_run, done=done)


def _workspaces(root: Path) -> list[tuple[str, str]]:
    from compiler.tools import edit

    found = {}
    org_path = root / "org.yaml"
    loaded, _ = edit.open_file(org_path)
    for key in (edit.find(loaded.data, ("workspaces",)) if loaded else None) or {}:
        found[str(key)] = str(org_path)
    folder = root / "workspaces"
    for path in sorted(folder.glob("*.y*ml")) if folder.is_dir() else []:
        found[path.stem] = str(path)
    return sorted(found.items())


def _locate(root: Path, name: str) -> tuple[Any, tuple[str, ...]]:
    """The file that defines the workspace, and where its llm_override is in it."""
    for suffix in (".yaml", ".yml"):
        path = root / "workspaces" / f"{name}{suffix}"
        if path.is_file():
            return open_or_exit(path), ("llm_override",)
    org_path = root / "org.yaml"
    if org_path.is_file():
        org = open_or_exit(org_path)
        from compiler.tools import edit

        inline = edit.find(org.data, ("workspaces",))
        if inline is not None and hasattr(inline, "keys") and name in inline:
            return org, ("workspaces", name, "llm_override")
    return None, ("llm_override",)


def _no_name(root: Path) -> str:
    names = _workspace_names(root)
    if not names:
        fail_usage("which workspace? There is none yet: make one with hks workspace create NAME")
    fail_usage(f"which workspace? Give its NAME or set ${ENV_WORKSPACE}. Workspaces: {', '.join(names)}")


def _workspace_names(root: Path) -> list[str]:
    return [name for name, _ in _workspaces(root)]
