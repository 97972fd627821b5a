"""The self-hosted models: which ones Ollama serves, and will they fit the LLM nodes' GPUs?

The estimate follows Ollama's own (docs/research/ollama.md §6): the model file plus an f16 KV
cache of 2 × layers × kv_heads × head_dim × 2 bytes per token, for min(context, trained
context) × num_parallel tokens, plus a fixed allowance for compute buffers. When no context is
configured, Ollama picks one from total GPU memory, and so does this estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.builtin import catalogue
from compiler.diagnostics import Position
from compiler.merge import Workspace
from compiler.model.config import Config
from compiler.model.model import CustomModel, SelfHosted
from compiler.providers.registry import SELF_HOSTED as SELF_HOSTED

GIB = 1024**3
COMPUTE_ALLOWANCE_GIB = 0.5


@dataclass(frozen=True)
class Estimate:
    model: str
    weights_gib: float
    kv_cache_gib: float
    context: int
    parallel: int

    @property
    def total_gib(self) -> float:
        return self.weights_gib + self.kv_cache_gib + COMPUTE_ALLOWANCE_GIB

    def explain(self) -> str:
        return (
            f"{self.weights_gib:.1f} GiB weights + {self.kv_cache_gib:.1f} GiB KV cache "
            f"({self.context} tokens × {self.parallel} parallel) + {COMPUTE_ALLOWANCE_GIB} GiB buffers"
        )


def gpu_memory_gib(hosted: SelfHosted) -> float | None:
    gpu = hosted.gpu
    if gpu.vendor == "none" or gpu.memory_gib is None or gpu.count == 0:
        return None
    return gpu.memory_gib * gpu.count


def default_context(total_gib: float | None) -> int:
    """Ollama's choice when OLLAMA_CONTEXT_LENGTH is unset (envconfig, 0.32)."""
    if total_gib is None:
        return 4096
    if total_gib >= 47:
        return 262144
    if total_gib >= 23:
        return 32768
    return 4096


def estimate(hosted: SelfHosted, model: str, num_ctx: int | None = None) -> Estimate | None:
    info = catalogue.lookup(SELF_HOSTED, model)
    if info is None or "layers" not in info.facts:
        return None
    facts = info.facts
    wanted = num_ctx or hosted.context_length or default_context(gpu_memory_gib(hosted))
    context = min(wanted, info.context_window)
    per_token = 2 * facts["layers"] * facts["kv_heads"] * facts["head_dim"] * 2
    kv = per_token * context * hosted.num_parallel / GIB
    weights = facts["download_gb"] * 1e9 / GIB
    return Estimate(info.name, weights, kv, context, hosted.num_parallel)


@dataclass(frozen=True)
class ServedModel:
    name: str
    position: Position
    custom: CustomModel | None = None


def models_to_serve(hosted: SelfHosted, listed: list[Position], used: list[tuple[str, Position]]) -> list[ServedModel]:
    """`self_hosted.models` in order, then any Ollama model a workspace uses that is not listed
    (pulled all the same: a model in use is never missing from the nodes)."""
    served: list[ServedModel] = []
    names: set[str] = set()
    for entry, position in zip(hosted.models, listed, strict=False):
        name = entry if isinstance(entry, str) else entry.name
        if name not in names:
            served.append(ServedModel(name, position, None if isinstance(entry, str) else entry))
            names.add(name)
    for name, position in used:
        if name not in names:
            served.append(ServedModel(name, position))
            names.add(name)
    return served


def served_models(config: Config, workspaces: tuple[Workspace, ...]) -> list[ServedModel]:
    from compiler.model.model import SelfHosted

    hosted = config.org.self_hosted or SelfHosted()
    listed = [config.org_doc.position(("self_hosted", "models", i)) for i in range(len(hosted.models))]
    used: list[tuple[str, Position | None]] = []
    llm = config.org.llm_config
    if llm.provider == SELF_HOSTED:
        used.append((llm.model, config.org_doc.position(("llm_config", "model"))))
    if llm.embeddings and llm.embeddings.provider == SELF_HOSTED:
        used.append((llm.embeddings.model, config.org_doc.position(("llm_config", "embeddings", "model"))))
    for workspace in workspaces:
        if workspace.llm.provider == SELF_HOSTED:
            used.append((workspace.llm.model, workspace.llm_sources["model"].origin))
        for fallback in workspace.llm.fallbacks or ():
            if fallback.provider == SELF_HOSTED:
                used.append((fallback.model, workspace.llm_sources["fallbacks"].origin))
        embeddings = workspace.llm.embeddings
        if embeddings and embeddings.provider == SELF_HOSTED:
            used.append((embeddings.model, workspace.llm_sources["embeddings.model"].origin))
    return models_to_serve(hosted, listed, [(n, p) for n, p in used if p is not None])
