"""Will the self-hosted models fit the LLM nodes' GPU memory, alone and kept loaded together?"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from compiler.diagnostics import Diagnostic, Position, error, warning
from compiler.merge import Workspace
from compiler.model.config import Config
from compiler.model.model import SelfHosted
from compiler.providers import selfhosted

RULES: dict[str, str] = {
    "CAP-001": "self-hosted model does not fit the GPU memory",
    "CAP-002": "self-hosted models cannot all stay loaded",
}


@dataclass(frozen=True)
class _Target:
    """What a set of models must fit, and how its findings name it: the LLM nodes, or a pool."""

    hosted: SelfHosted
    memory: float
    each: str  # whose GPU memory: "on each LLM node", "of each pod of pool 'small'"
    served: str  # "{count} models are served", "pool 'small' serves {count} models"
    kept: str  # "the {count} models kept loaded need", "the {count} models pool 'small' keeps loaded need"
    total: str  # "the {memory} GiB of GPU memory", "its {memory} GiB of GPU memory"
    raise_hint: str
    too_many_at: Position
    too_much_at: Position
    fit_hint: Callable[[selfhosted.ServedModel], str]


def check_self_hosted(config: Config, workspaces: tuple[Workspace, ...]) -> list[Diagnostic]:
    """Each model must fit the nodes' GPU memory; all of them should stay loaded together. With
    GPU pools, each pool's models against that pool's GPUs."""
    if config.org.self_hosted is not None and config.org.self_hosted.pools:
        pools = selfhosted.served_pools(config)
        return [d for pool in pools for d in _check_pool(pool, pools)]
    hosted = config.org.self_hosted or SelfHosted()
    memory = selfhosted.gpu_memory_gib(hosted)
    served = selfhosted.loaded_models(selfhosted.served_models(config, workspaces))
    if memory is None or not served:
        return []
    nodes = _Target(
        hosted,
        memory,
        each="on each LLM node",
        served="{count} models are served",
        kept="the {count} models kept loaded need",
        total=f"the {memory:g} GiB of GPU memory",
        raise_hint="raise self_hosted.max_loaded_models if the GPU memory allows it",
        too_many_at=config.org_doc.position(("self_hosted",), key=True) if config.org.self_hosted else served[0].position,
        too_much_at=config.org_doc.position(("self_hosted", "max_loaded_models"))
        if hosted.max_loaded_models
        else served[0].position,
        fit_hint=lambda model: "lower self_hosted.context_length or num_parallel, pick a smaller model or "
        "quantisation, or give the nodes more GPUs (self_hosted.gpu)",
    )
    return _check(served, nodes)


def _check_pool(pool: selfhosted.ServedPool, pools: list[selfhosted.ServedPool]) -> list[Diagnostic]:
    """CAP-001 for a model that does not fit its pool, naming the pool that would fit it or, when
    none does, the biggest and what it lacks; CAP-002 for the pool's models kept loaded together."""
    memory = selfhosted.gpu_memory_gib(pool.hosted)
    if memory is None:
        return []
    target = _Target(
        pool.hosted,
        memory,
        each=f"of each pod of pool '{pool.name}'",
        served=f"pool '{pool.name}' serves {{count}} models",
        kept=f"the {{count}} models pool '{pool.name}' keeps loaded need",
        total=f"its {memory:g} GiB of GPU memory",
        raise_hint="raise self_hosted.max_loaded_models if the GPU memory allows it, or split the pool",
        too_many_at=pool.position,
        too_much_at=pool.position,
        fit_hint=lambda model: _where_it_fits(model, pools, pool),
    )
    return _check(selfhosted.loaded_models(pool.models), target)


def _check(models: list[selfhosted.ServedModel], target: _Target) -> list[Diagnostic]:
    """CAP-001 for each model bigger than the target's GPU memory; CAP-002 when more models are
    served than stay loaded, or when those kept loaded do not fit together."""
    diagnostics: list[Diagnostic] = []
    estimates = []
    for model in models:
        found = _estimate(target.hosted, model)
        if found is None:
            continue
        estimates.append(found)
        if found.total_gib > target.memory:
            diagnostics.append(
                error(
                    model.position,
                    "CAP-001",
                    f"{model.name} needs about {found.total_gib:.1f} GiB ({found.explain()}), more than the "
                    f"{target.memory:g} GiB of GPU memory {target.each}",
                    hint=target.fit_hint(model),
                )
            )
    limit = target.hosted.max_loaded_models
    resident = sorted((e.total_gib for e in estimates), reverse=True)[:limit]
    if len(models) > limit:
        diagnostics.append(
            warning(
                target.too_many_at,
                "CAP-002",
                f"{target.served.format(count=len(models))} but max_loaded_models is {limit}: Ollama will evict "
                "and reload them, and first requests after a switch will be slow",
                hint=target.raise_hint,
            )
        )
    elif len(resident) > 1 and sum(resident) > target.memory:
        diagnostics.append(
            warning(
                target.too_much_at,
                "CAP-002",
                f"{target.kept.format(count=len(resident))} about {sum(resident):.1f} GiB together, more than "
                f"{target.total}: Ollama will evict and reload them",
            )
        )
    return diagnostics


def _estimate(hosted: SelfHosted, model: selfhosted.ServedModel) -> selfhosted.Estimate | None:
    num_ctx = model.custom.parameters.get("num_ctx") if model.custom else None
    return selfhosted.estimate(hosted, model.name, num_ctx if isinstance(num_ctx, int) else None)


def _where_it_fits(model: selfhosted.ServedModel, pools: list[selfhosted.ServedPool], own: selfhosted.ServedPool) -> str:
    """The pool that fits the model, or the biggest pool and what it lacks."""
    sized = [(p, selfhosted.gpu_memory_gib(p.hosted), _estimate(p.hosted, model)) for p in pools if p is not own]
    fitting = [(p, memory) for p, memory, e in sized if memory is not None and e is not None and e.total_gib <= memory]
    if fitting:
        pool, memory = max(fitting, key=lambda item: item[1])
        return f"pool '{pool.name}' ({memory:g} GiB) fits it: list it there instead"
    every = [(p, m) for p in pools for m in [selfhosted.gpu_memory_gib(p.hosted)] if m is not None]
    if not every:
        return "give the pool more GPUs (gpu.count) or bigger ones (gpu.memory_gib)"
    biggest, memory = max(every, key=lambda item: item[1])
    found = _estimate(biggest.hosted, model)
    if found is None:
        return "give the pool more GPUs (gpu.count) or bigger ones (gpu.memory_gib)"
    return (
        f"no pool fits it: the biggest, '{biggest.name}', has {biggest.hosted.gpu.count} × "
        f"{biggest.hosted.gpu.memory_gib:g} GiB = {memory:g} GiB and lacks {found.total_gib - memory:.1f} GiB; give a pool "
        "more or bigger GPUs (gpu.count, gpu.memory_gib), or lower self_hosted.context_length or num_parallel"
    )
