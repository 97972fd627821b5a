"""Mistral AI's API, La Plateforme (LiteLLM `mistral/`): hosted in the EU by default."""

from __future__ import annotations

from compiler.providers.base import Provider


class Mistral(Provider):
    name = "mistral"
    title = "Mistral AI"
    litellm_prefix = "mistral"
    key_env = "MISTRAL_API_KEY"  # LiteLLM's own name for it (litellm/main.py)
    host = "api.mistral.ai"


PROVIDER = Mistral()
