"""An OpenAI-compatible server (vLLM, TGI, llama.cpp's server, or any such) at
`providers.openai-compatible.endpoint`, in the cluster or outside it.

LiteLLM calls it through `hosted_vllm/`, not `openai/`: an `openai/` deployment without a key of
its own sends the gateway's OPENAI_API_KEY to the server (and fails without one), while
`hosted_vllm/` reads only an `api_key` it is given, else sends a placeholder
(litellm/llms/hosted_vllm/chat/transformation.py). Neither adds `/v1` to `api_base`, so hks adds
it to an endpoint written without a path, where vLLM, TGI and llama.cpp serve their API.

The server serves whatever models it loaded: no catalogue to check names against, no price
(its cost is the hardware's). Where it processes follows from where it is: in the cluster or on a
private network it is like the self-hosted Ollama; outside, `region` says where, and a BAA must
cover it for PHI.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from compiler.providers.base import Provider, Settings, parse_endpoint

EXAMPLE_ENDPOINT = "http://vllm.llm.svc:8000/v1"  # a vLLM Service in the namespace `llm`
API_PATH = "/v1"


def api_base(endpoint: str) -> str:
    """The base URL LiteLLM appends `/chat/completions` or `/embeddings` to: the endpoint as
    written, with `/v1` added when it names no path."""
    try:
        path = urlsplit(endpoint).path
    except ValueError:  # GW-006 reports a malformed endpoint before anything renders
        return endpoint
    return endpoint if path.strip("/") else endpoint.rstrip("/") + API_PATH


class OpenAICompatible(Provider):
    name = "openai-compatible"
    title = "OpenAI-compatible server"
    litellm_prefix = "hosted_vllm"
    key_env = "OPENAI_COMPATIBLE_API_KEY"  # a name LiteLLM does not read by itself
    commercial = False
    catalogued = False

    def api_key_env(self, settings: Settings | None) -> str:
        """A key only when the org names its Secret: most such servers take none."""
        return self.key_env if settings and settings.api_key_secret else ""

    def litellm_params(self, model: str, embedding: bool, settings: Settings | None, namespace: str) -> dict[str, Any]:
        params: dict[str, Any] = {"model": f"{self.litellm_prefix}/{model}"}
        if settings and settings.endpoint:  # GW-005 refuses a config without one
            params["api_base"] = api_base(settings.endpoint)
        env = self.api_key_env(settings)
        if env:
            params["api_key"] = f"os.environ/{env}"
        return params

    def mode(self, settings: Settings | None) -> tuple[str, str | None]:
        if settings and settings.endpoint and parse_endpoint(settings.endpoint).is_internal:
            return "in-cluster", None
        return "external", settings.region if settings else None

    def problems(self, settings: Settings | None) -> list[str]:
        if settings and settings.endpoint:
            return []
        return [
            f"an OpenAI-compatible server is used, and providers.{self.name} has no endpoint: "
            "hks cannot tell LiteLLM where it is"
        ]

    def starter(self, model: str) -> str:
        return f"""
providers:
  {self.name}:
    # The server's OpenAI-compatible API (vLLM, TGI, llama.cpp's server, ...): a Service in the
    # cluster, as here, or a URL outside it. A URL without a path gets /v1.
    endpoint: {EXAMPLE_ENDPOINT}
    # When the server wants a key (vLLM's --api-key): the Secret (data key `key`) holding it.
    # api_key_secret: {self.default_secret()}
    # Outside the cluster: the residency area it processes in (eu, us, ...).
    # region: eu
"""

    def enable_settings(self) -> dict[str, Any]:
        return {"endpoint": EXAMPLE_ENDPOINT}

    def enable_steps(self) -> list[str]:
        return [
            f"set providers.{self.name}.endpoint to your server's URL (now {EXAMPLE_ENDPOINT}), and "
            "api_key_secret if it wants a key"
        ]


PROVIDER = OpenAICompatible()
