from __future__ import annotations

import click

from compiler.commands.editing import (
    SuggestingGroup,
    fail_usage,
    finish,
    llm_options,
    open_or_exit,
    repo_options,
    require_org,
    settings,
    with_provider,
)


@click.group(
    cls=SuggestingGroup,
    epilog="""\b
Examples:
  hks org set-llm --model llama3:8b --temperature 0.7
  hks org set-llm --provider openai --model gpt-4o --max-tokens 8192 --dry-run""",
)
def command() -> None:
    """Edit the organisation's defaults in org.yaml."""


@command.command(
    name="set-llm",
    epilog="""\b
Examples:
  hks org set-llm --model llama3:8b --temperature 0.7
  hks org set-llm --provider anthropic --model claude-sonnet-4-20250514
  hks org set-llm --top-p 0.9 --dry-run
  hks org set-llm --embeddings ollama/nomic-embed-text:v1.5""",
)
@llm_options
@repo_options
def set_llm(directory: str, dry_run: bool, **flags: object) -> None:
    """Set the organisation's default LLM settings.

    Edits llm_config, which every workspace inherits."""
    from compiler.tools import edit_changes as changes

    values = settings(**flags)
    if not values:
        fail_usage("nothing to set: give at least one of --provider, --model, --temperature, --max-tokens, --top-p, --embeddings")
    from compiler.tools import edit

    org = open_or_exit(require_org(directory, "org set-llm"))
    values = with_provider(values, edit.find(org.data, ("llm_config", "provider")), org)
    finish(directory, [org], dry_run=dry_run, done=changes.set_llm(org, ("llm_config",), values))
