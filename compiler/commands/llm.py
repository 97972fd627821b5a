from __future__ import annotations

import hashlib
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
from compiler.providers.registry import SELF_HOSTED

SHA256_CHUNK = 1 << 20
# Ollama's model options a Modelfile PARAMETER may set (api.Options and api.Runner); a key close
# to one of these is a typo, any other is passed on as written.
MODELFILE_PARAMETERS = (
    "frequency_penalty", "main_gpu", "min_p", "mirostat", "mirostat_eta", "mirostat_tau", "num_batch",
    "num_ctx", "num_gpu", "num_keep", "num_predict", "num_thread", "presence_penalty", "repeat_last_n",
    "repeat_penalty", "seed", "stop", "temperature", "top_k", "top_p", "typical_p", "use_mmap",
)  # fmt: skip


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
    from compiler.builtin import catalogue
    from compiler.providers import registry
    from compiler.tools import edit
    from compiler.tools import edit_changes as changes

    org = _org(directory, "llm enable")
    done = changes.enable(org, provider)
    chosen = registry.get(provider)
    steps: list[str] = []
    if provider == SELF_HOSTED:
        steps = [f"install a model: hks llm install {catalogue.default_model(provider)}"]
        if edit.find(org.data, ("self_hosted", "gpu", "memory_gib")) is None:
            steps.append("set self_hosted.gpu.memory_gib so hks can check that models fit the GPUs")
    elif chosen.secrets(None):
        secret = edit.find(org.data, ("providers", provider, "api_key_secret")) or chosen.default_secret()
        if (edit.find(org.data, ("secrets", "backend")) or "none") == "none":  # hks only references it
            namespace = edit.find(org.data, ("cluster", "namespace")) or "hexabase-aiops"
            steps = [
                "choose where the API key lives: hks secret backend sealed-secrets --cert sealed-secrets.pem "
                "(after kubeseal --fetch-cert > sealed-secrets.pem), then hks secret create "
                f"{secret} --from-literal=key=-; or make it in the cluster: kubectl create secret generic {secret} "
                f"-n {namespace} --from-literal=key=..."
            ]
        else:
            steps = [f"store the API key: hks secret create {secret} --from-literal=key=-   (reads it from stdin)"]
    steps += chosen.enable_steps()
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

    if source is None:
        if sha256 or params or system:
            fail_usage("--sha256, --param and --system describe a custom model: give its GGUF file with --from")
        _check_catalogue(model, allow_unknown)
        entry: str | dict[str, Any] = model
    else:
        entry = _custom(model, source, sha256, params, system, directory)
    org = _org(directory, "llm install")
    done = changes.install(org, entry)
    if finish(directory, [org], dry_run=dry_run, done=done, next_steps=["render and sync: Ollama pulls it on every LLM node"]):
        _say_fit(directory, changes.model_name(entry))


def _say_fit(directory: str, name: str) -> None:
    """How much of a node's GPU memory the model takes (a model that does not fit was refused)."""
    from compiler.pipeline import compile_config
    from compiler.providers import selfhosted

    compiled = compile_config(directory)
    hosted = compiled.config.org.self_hosted if compiled.config else None
    if compiled.config is None or hosted is None:
        return
    memory = selfhosted.gpu_memory_gib(hosted)
    served = next((m for m in selfhosted.served_models(compiled.config, compiled.workspaces) if m.name == name), None)
    if served is None:
        return
    num_ctx = served.custom.parameters.get("num_ctx") if served.custom else None
    found = selfhosted.estimate(hosted, name, num_ctx if isinstance(num_ctx, int) else None)
    if found is None:
        return
    of = f" of the {memory:g} GiB per LLM node" if memory else " (set self_hosted.gpu.memory_gib to check the fit)"
    click.echo(f"{name} needs about {found.total_gib:.1f} GiB{of}: {found.explain()}")


def _check_catalogue(model: str, allow_unknown: bool) -> None:
    from compiler.builtin import catalogue
    from compiler.suggest import closest

    if catalogue.lookup(SELF_HOSTED, model) is not None:
        return
    near = closest(catalogue.normalise(SELF_HOSTED, model), catalogue.models(SELF_HOSTED))
    if near and not allow_unknown:
        fail(f"'{model}' is not in the catalogue of Ollama models; did you mean '{near}'?",
             hint="pass --allow-unknown to install it anyway")
    # An unknown tag is installed: the edit then shows the CAT-001 warning it adds.


def _custom(
    name: str, source: str, sha256: str | None, params: tuple[str, ...], system: str | None, directory: str
) -> dict[str, Any]:
    if not source.startswith(("https://", "http://")):
        _local_source(name, source, directory)
    if sha256 is None:
        fail_usage("--sha256 is required for a remote GGUF file (hks checks the download against it)")
    entry: dict[str, Any] = {"name": name, "source": source, "sha256": sha256.lower()}
    if params:
        entry["parameters"] = dict(_parameter(p) for p in params)
    if system is not None:
        entry["system"] = system
    return entry


def _local_source(name: str, source: str, directory: str) -> None:
    """Each LLM node downloads the file itself: a path on this machine means nothing there."""
    local = Path(source)  # from the current folder, as every path on the command line
    if not local.is_file() and (Path(directory) / source).is_file():
        local = Path(directory) / source  # or from the config folder
    digest = _file_sha256(local) if local.is_file() else "<sha256 of the file>"
    fail(f"--from {source}: the LLM nodes download the model themselves, so it must be an https:// URL they can reach, "
         "not a path on this machine",
         hint=f"upload it (an object store, an internal web server, a Hugging Face repository), then: "
         f"hks llm install {name} --from https://.../{local.name} --sha256 {digest}")


def _parameter(text: str) -> tuple[str, str | int | float]:
    from compiler.suggest import closest

    key, sep, value = text.partition("=")
    if not sep or not key:
        fail_usage(f"--param needs KEY=VALUE, e.g. num_ctx=8192 (got '{text}')")
    near = closest(key, MODELFILE_PARAMETERS)
    if key not in MODELFILE_PARAMETERS and near:
        fail_usage(f"--param {key}: Ollama has no such parameter; did you mean '{near}'?")
    for kind in (int, float):
        try:
            return key, kind(value)
        except ValueError:
            pass
    return key, value


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        while chunk := data.read(SHA256_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


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

    require_org(directory, "llm remove")
    compiled = compile_or_exit(directory, show_warnings=False, allow_errors=True)  # removing may fix them
    users = _users(compiled, model)
    if users:
        commands = ["hks workspace set-llm NAME --model ..."] if any(u.startswith("workspace") for u in users) else []
        if users[0].startswith("the organisation"):
            commands.insert(0, "hks org set-llm --model ...")
        fail(f"{model} is still in use, by " + "; ".join(users), hint=f"point those at another model first ({', '.join(commands)})")
    org = open_or_exit(require_org(directory, "llm remove"))
    finish(directory, [org], dry_run=dry_run, done=changes.remove(org, model))


def _users(compiled: Any, model: str) -> list[str]:
    from compiler.builtin.catalogue import normalise

    wanted = normalise(SELF_HOSTED, model)
    found = []
    llm = compiled.config.org.llm_config
    if llm.provider == SELF_HOSTED and normalise(SELF_HOSTED, llm.model) == wanted:
        found.append(f"the organisation's llm_config ({compiled.config.org_doc.position(('llm_config', 'model'))})")
    for workspace in compiled.workspaces:
        uses = [("model", workspace.llm.provider, workspace.llm.model)]
        uses += [("fallbacks", f.provider, f.model) for f in workspace.llm.fallbacks or ()]
        for key, provider, name in uses:
            if provider == SELF_HOSTED and normalise(SELF_HOSTED, name) == wanted:
                origin = workspace.llm_sources[key].origin
                found.append(f"workspace '{workspace.name}' ({origin})")
                break
    return found
