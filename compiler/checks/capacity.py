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
    """Each model must fit the nodes' GPU memory; all of them should stay loaded together."""
    hosted = config.org.self_hosted or SelfHosted()
    memory = selfhosted.gpu_memory_gib(hosted)
    served = selfhosted.served_models(config, workspaces)
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
