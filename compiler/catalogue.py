"""The provider and model catalogue (data in `catalogue/models.yaml`)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from compiler import datafiles


# Each provider's everyday model: what `hks llm enable` sets and what hints suggest.
DEFAULT_MODELS = {
    "anthropic": "claude-sonnet-4-20250514",
    "azure-openai": "gpt-4o",
    "google": "gemini-2.5-flash",
    "ollama": "llama3:8b",
    "openai": "gpt-4o",
}


@dataclass(frozen=True)
class ModelInfo:
    provider: str
    name: str
    context_window: int
    max_output: int
    facts: dict[str, Any]


@functools.cache
def _catalogue() -> dict[str, dict[str, ModelInfo]]:
    raw = datafiles.load("catalogue", "models.yaml")
    return {
        provider: {
            name: ModelInfo(provider, name, entry["context_window"], entry["max_output"], dict(entry))
            for name, entry in block["models"].items()
        }
        for provider, block in raw["providers"].items()
    }


def models(provider: str) -> dict[str, ModelInfo]:
    return _catalogue().get(provider, {})


def normalise(provider: str, name: str) -> str:
    """Ollama's `llama3` means `llama3:latest`; the catalogue lists the default tag explicitly."""
    if provider == "ollama" and ":" not in name:
        return f"{name}:latest"
    return name


def lookup(provider: str, name: str) -> ModelInfo | None:
    return models(provider).get(normalise(provider, name))


def providers_offering(name: str) -> list[str]:
    return sorted(p for p, entries in _catalogue().items() if name in entries)


def rank_providers(names: list[str], enabled: frozenset[str] | set[str]) -> list[str]:
    """Providers to suggest for a model, best first: those the organisation has set up, then the
    model's maker before Azure OpenAI (which serves OpenAI's models only through deployments)."""
    return sorted(names, key=lambda p: (p not in enabled, p == "azure-openai", p))


@functools.cache
def _sources() -> dict[str, str]:
    raw = datafiles.load("catalogue", "models.yaml")
    return {provider: str(block.get("source", "")) for provider, block in raw["providers"].items()}


def source(provider: str) -> str:
    """Where the provider's figures come from (the catalogue's `source:` of that provider)."""
    return _sources().get(provider, "")
