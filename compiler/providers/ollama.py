"""Ollama: the self-hosted server hks renders from `self_hosted:` (render/components/ollama.py),
or one outside the cluster at `providers.ollama.endpoint`. Nothing leaves the cluster; no key."""

from __future__ import annotations

from typing import Any

from compiler.providers.base import Endpoint, Provider, Settings

PORT = 11434
# Where `ollama pull` connects, read at Ollama 0.32.15. A model name's host is the part before its
# namespace (`host/namespace/model:tag`; types/model/name.go:146-176, ParseNameBare), and
# `registry.ollama.ai` when it names none (:39, defaultHost), always over HTTPS unless pulled with
# `--insecure` (:42; server/images.go:1371-1372), which hks never passes. Ollama's registry answers
# a blob request with a redirect to another host, and the download follows it there
# (server/download.go:231-275: the first redirect to a different host ends the lookup, and its
# Location is where every part is fetched from, :289). That host is Ollama's Cloudflare R2
# bucket, named by Ollama's maintainers for proxy allow-lists (github.com/ollama/ollama issue
# 4307, 2024-08-23; issue 2390). Both clients, the registry's (images.go:1403, an http.Client
# with no Transport) and the blob download's (download.go:345, http.DefaultClient), use Go's
# http.DefaultTransport, whose Proxy is ProxyFromEnvironment: they honour HTTPS_PROXY and
# NO_PROXY, as Ollama's FAQ says ("How do I use Ollama behind a proxy?", docs/faq.mdx:129-136,
# which also warns against HTTP_PROXY).
REGISTRY = "registry.ollama.ai"
REGISTRY_BLOB_HOSTS = ("dd20bb891979d25aebc8bec07b2b3bbc.r2.cloudflarestorage.com",)
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


def pull_endpoints(model: str) -> list[Endpoint]:
    """The hosts (and ports) `ollama pull MODEL` connects to: the name's registry, and for
    Ollama's own registry the host its blobs are downloaded from."""
    rest = model.strip()
    if rest.rfind(":") > rest.rfind("/"):
        rest = rest[: rest.rfind(":")]
    parts = rest.split("/")
    host = "/".join(parts[:-2]).split("://")[-1] if len(parts) > 2 else REGISTRY
    name, _, port = host.lower().partition(":")
    endpoint = Endpoint(name, int(port) if port.isdigit() else 443)
    if endpoint == Endpoint(REGISTRY, 443):
        return [endpoint, *(Endpoint(blobs, 443) for blobs in REGISTRY_BLOB_HOSTS)]
    return [endpoint]


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
