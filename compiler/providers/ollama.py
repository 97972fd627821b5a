"""Ollama: the self-hosted server hks renders from `self_hosted:` (render/components/ollama.py),
or one outside the cluster at `providers.ollama.endpoint`. Nothing leaves the cluster; no key."""

from __future__ import annotations

from typing import Any

from compiler.providers.base import Provider, Settings

PORT = 11434
# Ollama's model options a Modelfile PARAMETER may set (api.Options and api.Runner); a key close
# to one of these is a typo, any other is passed on as written (`hks llm install --param`).
MODELFILE_PARAMETERS = (
    "frequency_penalty", "main_gpu", "min_p", "mirostat", "mirostat_eta", "mirostat_tau", "num_batch",
    "num_ctx", "num_gpu", "num_keep", "num_predict", "num_thread", "presence_penalty", "repeat_last_n",
    "repeat_penalty", "seed", "stop", "temperature", "top_k", "top_p", "typical_p", "use_mmap",
)  # fmt: skip


def service_url(namespace: str, scheme: str = "http", service: str = "ollama") -> str:
    """The in-cluster Service's URL (https under `cluster.tls`): the DaemonSet's `ollama`, or a
    GPU pool's `ollama-POOL`."""
    return f"{scheme}://{service}.{namespace}.svc.cluster.local:{PORT}"


class Ollama(Provider):
    name = "ollama"
    title = "Ollama"
    commercial = False

    def litellm_params(self, model: str, embedding: bool, settings: Settings | None, namespace: str) -> dict[str, Any]:
        base = settings.endpoint if settings and settings.endpoint else service_url(namespace)
        # LiteLLM embeds through `ollama/` (/api/embed); `ollama_chat/` has no embedding route.
        prefix = "ollama" if embedding else "ollama_chat"
        return {"model": f"{prefix}/{model}", "api_base": base}

    def normalise(self, model: str) -> str:
        """Ollama's `llama3` means `llama3:latest`; the catalogue lists the default tag explicitly."""
        return model if ":" in model else f"{model}:latest"

    def mode(self, settings: Settings | None) -> tuple[str, str | None]:
        return "self-hosted", None

    def starter(self, model: str) -> str:
        return f"""
self_hosted:
  # Ollama on the nodes labelled node-role=llm; models are pulled once per node.
  models:
    - {model}
"""


PROVIDER = Ollama()
