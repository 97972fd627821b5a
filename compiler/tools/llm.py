"""`hks llm`: what is left to do once a provider is enabled, the checks of a model to install
(the catalogue, a custom GGUF file's source, its Modelfile parameters), which workspaces use a
model, and how much of a node's GPU memory it takes.

Refusals are errors.Refused (exit 1) or, for an option that cannot be used, errors.InputError
(exit 2); the command prints them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compiler.errors import InputError, Refused
from compiler.providers.registry import SELF_HOSTED

if TYPE_CHECKING:
    from compiler.pipeline import Compiled
    from compiler.tools.edit import YamlFile

SHA256_CHUNK = 1 << 20


def enable_steps(org: YamlFile, provider: str) -> list[str]:
    """What is left to do after `hks llm enable --provider PROVIDER` edited `org`."""
    from compiler.builtin import catalogue
    from compiler.providers import registry
    from compiler.tools import edit

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
    return steps + chosen.enable_steps()


def check_catalogue(model: str, allow_unknown: bool) -> None:
    """Refuses a tag the catalogue of Ollama models does not know but one close to it (a typo),
    unless `allow_unknown`. Any other unknown tag is installed: the edit shows its CAT-001 warning."""
    from compiler.builtin import catalogue
    from compiler.suggest import closest

    if catalogue.lookup(SELF_HOSTED, model) is not None:
        return
    near = closest(catalogue.normalise(SELF_HOSTED, model), catalogue.models(SELF_HOSTED))
    if near and not allow_unknown:
        raise Refused(f"'{model}' is not in the catalogue of Ollama models; did you mean '{near}'?",
                      hint="pass --allow-unknown to install it anyway")


def custom_model(
    name: str, source: str, sha256: str | None, params: tuple[str, ...], system: str | None, directory: str
) -> dict[str, Any]:
    """self_hosted.models' entry of a custom GGUF model."""
    if not source.startswith(("https://", "http://")):
        _local_source(name, source, directory)
    if sha256 is None:
        raise InputError("--sha256 is required for a remote GGUF file (hks checks the download against it)")
    entry: dict[str, Any] = {"name": name, "source": source, "sha256": sha256.lower()}
    if params:
        entry["parameters"] = dict(parameter(p) for p in params)
    if system is not None:
        entry["system"] = system
    return entry


def _local_source(name: str, source: str, directory: str) -> None:
    """Each LLM node downloads the file itself: a path on this machine means nothing there."""
    local = Path(source)  # from the current folder, as every path on the command line
    if not local.is_file() and (Path(directory) / source).is_file():
        local = Path(directory) / source  # or from the config folder
    digest = file_sha256(local) if local.is_file() else "<sha256 of the file>"
    raise Refused(f"--from {source}: the LLM nodes download the model themselves, so it must be an https:// URL they can reach, "
                  "not a path on this machine",
                  hint=f"upload it (an object store, an internal web server, a Hugging Face repository), then: "
                  f"hks llm install {name} --from https://.../{local.name} --sha256 {digest}")


def parameter(text: str) -> tuple[str, str | int | float]:
    """A Modelfile PARAMETER given as KEY=VALUE, its value a number where it reads as one."""
    from compiler.providers.ollama import MODELFILE_PARAMETERS
    from compiler.suggest import closest

    key, sep, value = text.partition("=")
    if not sep or not key:
        raise InputError(f"--param needs KEY=VALUE, e.g. num_ctx=8192 (got '{text}')")
    near = closest(key, MODELFILE_PARAMETERS)
    if key not in MODELFILE_PARAMETERS and near:
        raise InputError(f"--param {key}: Ollama has no such parameter; did you mean '{near}'?")
    for kind in (int, float):
        try:
            return key, kind(value)
        except ValueError:
            pass
    return key, value


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        while chunk := data.read(SHA256_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def fit(directory: str, name: str) -> str | None:
    """How much of a node's GPU memory the installed model takes (one that does not fit was
    refused), as a line to print; None when hks cannot tell."""
    from compiler.pipeline import compile_config
    from compiler.providers import selfhosted

    compiled = compile_config(directory)
    hosted = compiled.config.org.self_hosted if compiled.config else None
    if compiled.config is None or hosted is None:
        return None
    memory = selfhosted.gpu_memory_gib(hosted)
    served = next((m for m in selfhosted.served_models(compiled.config, compiled.workspaces) if m.name == name), None)
    if served is None:
        return None
    num_ctx = served.custom.parameters.get("num_ctx") if served.custom else None
    found = selfhosted.estimate(hosted, name, num_ctx if isinstance(num_ctx, int) else None)
    if found is None:
        return None
    of = f" of the {memory:g} GiB per LLM node" if memory else " (set self_hosted.gpu.memory_gib to check the fit)"
    return f"{name} needs about {found.total_gib:.1f} GiB{of}: {found.explain()}"


def users(compiled: Compiled, model: str) -> list[str]:
    """Who uses the self-hosted `model`: the organisation's llm_config first, then each
    workspace (its model or a fallback), each with where it is set."""
    from compiler.builtin.catalogue import normalise

    assert compiled.config is not None
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
