"""Will the self-hosted models fit the LLM nodes' GPU memory, alone and kept loaded together?"""

from __future__ import annotations

from compiler.diagnostics import Diagnostic, error, warning
from compiler.merge import Workspace
from compiler.model.config import Config
from compiler.model.model import SelfHosted
from compiler.providers import selfhosted

RULES: dict[str, str] = {
    "CAP-001": "self-hosted model does not fit the GPU memory",
    "CAP-002": "self-hosted models cannot all stay loaded",
}


def check_self_hosted(config: Config, workspaces: tuple[Workspace, ...]) -> list[Diagnostic]:
    """Each model must fit the nodes' GPU memory; all of them should stay loaded together. With
    GPU pools, each pool's models against that pool's GPUs."""
    if config.org.self_hosted is not None and config.org.self_hosted.pools:
        pools = selfhosted.served_pools(config)
        return [d for pool in pools for d in _check_pool(pool, pools)]
    hosted = config.org.self_hosted or SelfHosted()
    memory = selfhosted.gpu_memory_gib(hosted)
    served = selfhosted.loaded_models(selfhosted.served_models(config, workspaces))
    diagnostics: list[Diagnostic] = []
    if memory is None or not served:
        return diagnostics
    estimates = []
    for model in served:
        num_ctx = model.custom.parameters.get("num_ctx") if model.custom else None
        found = selfhosted.estimate(hosted, model.name, num_ctx if isinstance(num_ctx, int) else None)
        if found is None:
            continue
        estimates.append(found)
        if found.total_gib > memory:
            diagnostics.append(
                error(
                    model.position,
                    "CAP-001",
                    f"{model.name} needs about {found.total_gib:.1f} GiB ({found.explain()}), "
                    f"more than the {memory:g} GiB of GPU memory on each LLM node",
                    hint="lower self_hosted.context_length or num_parallel, pick a smaller model or "
                    "quantisation, or give the nodes more GPUs (self_hosted.gpu)",
                )
            )
    resident = sorted((e.total_gib for e in estimates), reverse=True)[: hosted.max_loaded_models]
    where = config.org_doc.position(("self_hosted", "max_loaded_models")) if hosted.max_loaded_models else served[0].position
    if len(served) > hosted.max_loaded_models:
        diagnostics.append(
            warning(
                config.org_doc.position(("self_hosted",), key=True) if config.org.self_hosted else served[0].position,
                "CAP-002",
                f"{len(served)} models are served but max_loaded_models is {hosted.max_loaded_models}: "
                "Ollama will evict and reload them, and first requests after a switch will be slow",
                hint="raise self_hosted.max_loaded_models if the GPU memory allows it",
            )
        )
    elif len(resident) > 1 and sum(resident) > memory:
        diagnostics.append(
            warning(
                where,
                "CAP-002",
                f"the {len(resident)} models kept loaded need about {sum(resident):.1f} GiB together, "
                f"more than the {memory:g} GiB of GPU memory: Ollama will evict and reload them",
            )
        )
    return diagnostics


def _check_pool(pool: selfhosted.ServedPool, pools: list[selfhosted.ServedPool]) -> list[Diagnostic]:
    """CAP-001 for a model that does not fit its pool, naming the pool that would fit it or, when
    none does, the biggest and what it lacks; CAP-002 for the pool's models kept loaded together."""
    hosted = pool.hosted
    memory = selfhosted.gpu_memory_gib(hosted)
    if memory is None:
        return []
    diagnostics: list[Diagnostic] = []
    estimates = []
    loaded = selfhosted.loaded_models(pool.models)
    for model in loaded:
        found = _estimate(hosted, model)
        if found is None:
            continue
        estimates.append(found)
        if found.total_gib > memory:
            diagnostics.append(
                error(
                    model.position,
                    "CAP-001",
                    f"{model.name} needs about {found.total_gib:.1f} GiB ({found.explain()}), more than the "
                    f"{memory:g} GiB of GPU memory of each pod of pool '{pool.name}'",
                    hint=_where_it_fits(model, pools, pool),
                )
            )
    resident = sorted((e.total_gib for e in estimates), reverse=True)[: hosted.max_loaded_models]
    if len(loaded) > hosted.max_loaded_models:
        diagnostics.append(
            warning(
                pool.position,
                "CAP-002",
                f"pool '{pool.name}' serves {len(loaded)} models but max_loaded_models is "
                f"{hosted.max_loaded_models}: Ollama will evict and reload them, and first requests after a switch "
                "will be slow",
                hint="raise self_hosted.max_loaded_models if the GPU memory allows it, or split the pool",
            )
        )
    elif len(resident) > 1 and sum(resident) > memory:
        diagnostics.append(
            warning(
                pool.position,
                "CAP-002",
                f"the {len(resident)} models pool '{pool.name}' keeps loaded need about {sum(resident):.1f} GiB "
                f"together, more than its {memory:g} GiB of GPU memory: Ollama will evict and reload them",
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
