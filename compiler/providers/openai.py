"""OpenAI's API (LiteLLM `openai/`), with or without a data-residency project (`region`)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from compiler.providers.base import HTTPS, Endpoint, Provider, Settings

HOST = "api.openai.com"
# A residency project's region that has a host of its own, `<region>.api.openai.com`; the other
# regions are served through HOST.
REGIONAL_HOSTS = ("eu",)
REGIONAL_HOST = re.compile(r"^([a-z]{2})\." + re.escape(HOST) + "$")


class OpenAI(Provider):
    name = "openai"
    title = "OpenAI"
    litellm_prefix = "openai"
    key_env = "OPENAI_API_KEY"
    host = HOST

    def endpoints(self, settings: Settings | None) -> list[Endpoint]:
        regional = _regional_host(settings)
        if regional and not (settings and settings.endpoint):
            return [Endpoint(regional, HTTPS)]
        return super().endpoints(settings)

    def litellm_params(self, model: str, embedding: bool, settings: Settings | None, namespace: str) -> dict[str, Any]:
        params = super().litellm_params(model, embedding, settings, namespace)
        regional = _regional_host(settings)
        if "api_base" not in params and regional:
            params["api_base"] = f"https://{regional}/v1"
        return params

    def mode(self, settings: Settings | None) -> tuple[str, str | None]:
        region = (settings.region if settings else None) or _host_region(settings)
        return ("openai-residency", region) if region else ("openai", None)


def _regional_host(settings: Settings | None) -> str | None:
    region = settings.region if settings else None
    return f"{region}.{HOST}" if region in REGIONAL_HOSTS else None


def _host_region(settings: Settings | None) -> str | None:
    """The residency region an `endpoint` of `<region>.api.openai.com` names."""
    if not settings or not settings.endpoint:
        return None
    try:
        host = urlsplit(settings.endpoint).hostname or ""
    except ValueError:  # `http://[::1`: GW-006 reports it (found by the fuzzer)
        host = ""
    match = REGIONAL_HOST.match(host)
    return match.group(1) if match else None


PROVIDER = OpenAI()
