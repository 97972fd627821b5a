from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import click

from compiler.commands.editing import (
    OVERRIDE_KEYS,
    SuggestingChoice,
    SuggestingGroup,
    fail_usage,
    finish,
    llm_options,
    open_or_exit,
    repo_options,
    settings,
)

ENV_WORKSPACE = "HKS_WORKSPACE"


@click.group(
    cls=SuggestingGroup,
    epilog="""\b
Examples:
  hks workspace set-llm production --model gpt-4 --max-tokens 8192
  HKS_WORKSPACE=production hks workspace set-llm --model gpt-4 --max-tokens 8192
  hks workspace set-llm development --unset temperature""",
)
def command() -> None:
    """Edit a workspace's settings (its own file, or its entry in org.yaml)."""


@command.command(
    name="set-llm",
    epilog=f"""\b
Examples:
  hks workspace set-llm production --provider openai --model gpt-4 --temperature 0.3
  hks workspace set-llm development --provider ollama --model codellama:13b
  hks workspace set-llm production --unset max_tokens    # the org default applies again
  {ENV_WORKSPACE}=production hks workspace set-llm --max-tokens 8192
\b
A workspace with its own file (workspaces/NAME.yaml) is edited there, one defined under
`workspaces:` in org.yaml is edited in place, and a new one gets workspaces/NAME.yaml.""",
)
@click.argument("name", required=False)
@llm_options
@click.option("--unset", "unset", multiple=True, type=SuggestingChoice(OVERRIDE_KEYS), help="Remove an override (repeatable).")
@repo_options
def set_llm(name: str | None, unset: tuple[str, ...], directory: str, dry_run: bool, **flags: Any) -> None:
    """Set a workspace's LLM overrides.

    Edits the workspace's llm_override. NAME defaults to $HKS_WORKSPACE."""
    from compiler import changes

    values = settings(**flags)
    if not values and not unset:
        fail_usage("nothing to set: give --provider, --model, --temperature, --max-tokens, --top-p or --unset KEY")
    clash = sorted(set(values) & set(unset))
    if clash:
        fail_usage(f"--{clash[0].replace('_', '-')} and --unset {clash[0]} contradict each other")
    root = Path(directory)
    name = name or os.environ.get(ENV_WORKSPACE) or _no_name(root)
    if not re.match(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", name):
        fail_usage(f"'{name}' is not a workspace name: lowercase letters, digits and '-', at most 63")
    target, at = _locate(root, name)
    if target is None:
        if unset:
            fail_usage(f"workspace '{name}' does not exist; there is nothing to unset")
        from compiler.edit import new_file

        target = new_file(root / "workspaces" / f"{name}.yaml")
        target.data["workspace"] = name
    done = changes.set_llm(target, at, values) if values else []
    done += changes.unset_llm(target, at, list(unset))
    finish(directory, [target], dry_run=dry_run, done=done)


def _locate(root: Path, name: str) -> tuple[Any, tuple[str, ...]]:
    """The file that defines the workspace, and where its llm_override is in it."""
    for suffix in (".yaml", ".yml"):
        path = root / "workspaces" / f"{name}{suffix}"
        if path.is_file():
            return open_or_exit(path), ("llm_override",)
    org_path = root / "org.yaml"
    if org_path.is_file():
        org = open_or_exit(org_path)
        from compiler import edit

        inline = edit.find(org.data, ("workspaces",))
        if inline is not None and hasattr(inline, "keys") and name in inline:
            return org, ("workspaces", name, "llm_override")
    return None, ("llm_override",)


def _no_name(root: Path) -> str:
    names = _workspace_names(root)
    listed = ", ".join(names) if names else "none yet"
    fail_usage(f"which workspace? Give its NAME or set ${ENV_WORKSPACE}. Workspaces: {listed}")


def _workspace_names(root: Path) -> list[str]:
    from compiler import edit

    names = {p.stem for p in (root / "workspaces").glob("*.y*ml")} if (root / "workspaces").is_dir() else set()
    org_path = root / "org.yaml"
    if org_path.is_file():
        found, _ = edit.open_file(org_path)
        inline = edit.find(found.data, ("workspaces",)) if found else None
        names |= {str(k) for k in inline or {}}
    return sorted(names)
