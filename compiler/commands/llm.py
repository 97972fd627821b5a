from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from compiler.commands.editing import (
    PROVIDERS,
    SuggestingChoice,
    SuggestingGroup,
    fail,
    fail_usage,
    finish,
    open_or_exit,
    repo_options,
    require_org,
)


@click.group(
    cls=SuggestingGroup,
    epilog="""\b
Examples:
  # Basic self-hosted setup
  hks llm enable --provider ollama
  hks llm install llama3:8b
  hks org set-llm --model llama3:8b --temperature 0.7
\b
  # Commercial API setup
  hks llm enable --provider openai
  hks secret create openai-api-key --from-literal=key=-
  hks workspace set-llm production --model gpt-4 --max-tokens 8192
\b
  # A custom GGUF model
  hks llm install acme-support:7b --from https://models.example/acme.gguf \\
      --sha256 <hex> --param num_ctx=8192 --system "You answer support tickets."
  hks llm remove codellama:13b""",
)
def command() -> None:
    """Enable LLM providers and manage the self-hosted models (edits org.yaml in place)."""


def _org(directory: str, command: str) -> Any:
    """org.yaml, or a new one in a folder that has no config at all (not even one below)."""
    from compiler.tools.edit import new_file

    path = Path(directory) / "org.yaml"
    if path.exists() or command != "llm enable":
        return open_or_exit(require_org(directory, command))
    from compiler.load.repo import configs_below

    if configs_below(Path(directory)):
        require_org(directory, command)  # says where the config is instead of making a second one
    return new_file(path)


@command.command(
    epilog="""\b
Examples:
  hks llm enable --provider ollama     # adds a self_hosted: block
  hks llm enable --provider openai     # adds providers.openai.api_key_secret: openai-api-key
  hks llm enable --provider anthropic --dry-run"""
)
@click.option("--provider", required=True, type=SuggestingChoice(PROVIDERS), help="The provider to make usable.")
@repo_options
def enable(provider: str, directory: str, dry_run: bool) -> None:
    """Make a provider usable.

    Adds its providers: entry with the default secret name (for ollama, a self_hosted: block),
    sets llm_config.provider when none is set, and says what is left to do."""
    from compiler.tools import edit_changes as changes
    from compiler.tools import llm

    org = _org(directory, "llm enable")
    done = changes.enable(org, provider)
    steps = llm.enable_steps(org, provider)
    finish(directory, [org], dry_run=dry_run, done=done, next_steps=steps)


@command.command(
    epilog="""\b
Examples:
  hks llm install llama3:8b
  hks llm install mistral:7b --dry-run
  hks llm install acme-support:7b --from https://models.example/acme.gguf --sha256 <hex> \\
      --param num_ctx=8192 --system "You answer support tickets."
"""
)
@click.argument("model")
@click.option("--from", "source", metavar="URL", help="A custom GGUF file's https:// URL, which the LLM nodes download.")
@click.option("--sha256", help="The GGUF file's sha256, which the download is checked against.")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="A Modelfile PARAMETER, e.g. num_ctx=8192 (repeatable).")
@click.option("--system", help="The Modelfile SYSTEM prompt.")
@click.option("--allow-unknown", is_flag=True, help="Install a tag the catalogue does not know, even one close to a known tag.")
@repo_options
def install(
    model: str,
    source: str | None,
    sha256: str | None,
    params: tuple[str, ...],
    system: str | None,
    allow_unknown: bool,
    directory: str,
    dry_run: bool,
) -> None:
    """Add an Ollama model to self_hosted.models.

    The model is checked against the catalogue and the GPU memory (self_hosted.gpu.memory_gib);
    a custom GGUF model is given with --from and --sha256."""
    from compiler.tools import edit_changes as changes
    from compiler.tools import llm

    if source is None:
        if sha256 or params or system:
            fail_usage("--sha256, --param and --system describe a custom model: give its GGUF file with --from")
        llm.check_catalogue(model, allow_unknown)
        entry: str | dict[str, Any] = model
    else:
        entry = llm.custom_model(model, source, sha256, params, system, directory)
    org = _org(directory, "llm install")
    done = changes.install(org, entry)
    if finish(directory, [org], dry_run=dry_run, done=done, next_steps=["render and sync: Ollama pulls it on every LLM node"]):
        fit = llm.fit(directory, changes.model_name(entry))
        if fit:
            click.echo(fit)


@command.command(
    epilog="""\b
Examples:
  hks llm remove codellama:13b
  hks llm remove acme-support:7b --dry-run"""
)
@click.argument("model")
@repo_options
def remove(model: str, directory: str, dry_run: bool) -> None:
    """Remove a model from self_hosted.models.

    Refused while a workspace (or the organisation's default) still uses it."""
    from compiler.commands.common import compile_or_exit
    from compiler.tools import edit_changes as changes
    from compiler.tools import llm

    require_org(directory, "llm remove")
    compiled = compile_or_exit(directory, show_warnings=False, allow_errors=True)  # removing may fix them
    users = llm.users(compiled, model)
    if users:
        commands = ["hks workspace set-llm NAME --model ..."] if any(u.startswith("workspace") for u in users) else []
        if users[0].startswith("the organisation"):
            commands.insert(0, "hks org set-llm --model ...")
        fail(f"{model} is still in use, by " + "; ".join(users), hint=f"point those at another model first ({', '.join(commands)})")
    org = open_or_exit(require_org(directory, "llm remove"))
    finish(directory, [org], dry_run=dry_run, done=changes.remove(org, model))
