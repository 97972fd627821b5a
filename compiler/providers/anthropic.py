"""Anthropic's API (LiteLLM `anthropic/`): `region: us` asks for `inference_geo` us."""

from __future__ import annotations

from compiler.providers.base import Provider, Settings


class Anthropic(Provider):
    name = "anthropic"
    title = "Anthropic"
    litellm_prefix = "anthropic"
    key_env = "ANTHROPIC_API_KEY"
    host = "api.anthropic.com"

    def mode(self, settings: Settings | None) -> tuple[str, str | None]:
        region = settings.region if settings else None
        return ("anthropic-us", region) if region else ("anthropic", None)


PROVIDER = Anthropic()
