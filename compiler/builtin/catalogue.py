"""The provider and model catalogue: `catalogue/litellm-models.yaml` (generated from LiteLLM's
model map by scripts/update_catalogue.py) with hks's own facts (`catalogue/models.yaml`) merged
over it."""

from __future__ import annotations

import datetime
import functools
import os
from dataclasses import dataclass
from typing import Any

from compiler.builtin import datafiles

# A model retiring within this many days is a warning (CAT-005).
RETIRING_SOON_DAYS = 90


@dataclass(frozen=True)
class ModelInfo:
    provider: str
    name: str
    context_window: int
    max_output: int
    facts: dict[str, Any]

    def retires(self, vertex: bool = False) -> datetime.date | None:
        """The provider's retirement date; Vertex AI's own where the map gives one."""
        found = self.facts.get("vertex_retires") if vertex else None
        found = found or self.facts.get("retires")
        return datetime.date.fromisoformat(str(found)) if found else None


@dataclass(frozen=True)
class MapSource:
    """Which LiteLLM's map the generated part came from, and the day it was read."""

    litellm: str
    as_of: str

    def __str__(self) -> str:
        return f"LiteLLM {self.litellm}'s model map, read {self.as_of}"


@functools.cache
def _merged() -> dict[str, dict[str, Any]]:
    generated = datafiles.load("catalogue", "litellm-models.yaml")["providers"]
    own = datafiles.load("catalogue", "models.yaml")["providers"]
    merged: dict[str, dict[str, Any]] = {}
    for provider in sorted(set(generated) | set(own)):
        facts = dict(own.get(provider, {}))
        models = {name: dict(entry) for name, entry in (generated.get(provider) or {}).items()}
        for name, entry in (facts.pop("models", None) or {}).items():
            models[name] = {**models.get(name, {}), **entry}
        merged[provider] = {"facts": facts, "models": models}
    return merged


@functools.cache
def _catalogue() -> dict[str, dict[str, ModelInfo]]:
    return {
        provider: {
            name: ModelInfo(provider, name, entry["context_window"], entry["max_output"], entry)
            for name, entry in block["models"].items()
        }
        for provider, block in _merged().items()
    }


def models(provider: str) -> dict[str, ModelInfo]:
    return _catalogue().get(provider, {})


def is_embedding(info: ModelInfo) -> bool:
    """An embedding model: it answers /v1/embeddings with vectors, never chat."""
    return info.facts.get("kind") == "embedding"


def offers_embeddings(provider: str) -> bool:
    return any(is_embedding(info) for info in models(provider).values())


def provider_names() -> list[str]:
    return sorted(_catalogue())


def normalise(provider: str, name: str) -> str:
    """The catalogue's name for a model as written (Ollama's `llama3` is `llama3:latest`)."""
    from compiler.providers import registry

    return registry.get(provider).normalise(name) if provider in registry.NAMES else name


def lookup(provider: str, name: str) -> ModelInfo | None:
    return models(provider).get(normalise(provider, name))


def is_cloud(provider: str, name: str) -> bool:
    """A model the provider runs elsewhere, not on the LLM nodes: an entry marked `cloud: true`, or,
    for a provider whose facts say `cloud_tags: true` (Ollama), a tag spelled the way that provider
    marks its cloud models (is_cloud_tag)."""
    info = lookup(provider, name)
    if info is not None and info.facts.get("cloud") is True:
        return True
    return provider_fact(provider, "cloud_tags") is True and is_cloud_tag(name)


def is_cloud_tag(name: str) -> bool:
    """Ollama's spelling of a cloud model, `NAME:cloud` or a tag ending in `-cloud`
    (`gpt-oss:120b-cloud`), read as Ollama 0.32.15 reads it (internal/modelref/modelref.go:99-118,
    parseSourceSuffix): the text after the last `:`, trimmed and compared without case; `-cloud`
    counts only when that text has no `/` (`registry:5000/team/x-cloud` is a registry's port).
    `cloudy:7b`, `wordcloud:latest`, `foo-cloud:7b` and a tagless `foo-cloud` are local models."""
    raw = name.strip()
    colon = raw.rfind(":")
    if colon < 0:
        return False
    tag = raw[colon + 1 :].strip()
    lowered = tag.lower()
    return lowered == "cloud" or ("/" not in tag and lowered.endswith("-cloud"))


def local_counterpart(provider: str, name: str) -> str | None:
    """The catalogued local model a cloud tag is the remote copy of (`gpt-oss:120b-cloud` to
    `gpt-oss:120b`), None when the catalogue has none."""
    raw = name.strip()
    head, _, tag = raw.rpartition(":")
    base = head if tag.strip().lower() == "cloud" else f"{head}:{tag.strip()[: -len('-cloud')]}"
    info = lookup(provider, base)
    return info.name if info is not None and not is_cloud(provider, info.name) else None


def providers_offering(name: str) -> list[str]:
    return sorted(p for p, entries in _catalogue().items() if name in entries)


def rank_providers(names: list[str], enabled: frozenset[str] | set[str]) -> list[str]:
    """Providers to suggest for a model, best first: those the organisation has set up, then the
    model's maker before Azure OpenAI (which serves OpenAI's models only through deployments)."""
    from compiler.providers import registry

    return sorted(names, key=lambda p: (p not in enabled, p in registry.NAMES and registry.get(p).suggest_last, p))


def provider_fact(provider: str, key: str) -> Any:
    """One of hks's own facts about a provider (catalogue/models.yaml), None when absent."""
    return _merged().get(provider, {}).get("facts", {}).get(key)


def default_model(provider: str) -> str:
    """The provider's everyday model: what `hks llm enable` sets and what hints suggest."""
    return str(provider_fact(provider, "default_model"))


@functools.cache
def map_source() -> MapSource:
    source = datafiles.load("catalogue", "litellm-models.yaml")["source"]
    return MapSource(str(source["litellm"]), str(source["as_of"]))


def source(provider: str) -> str:
    """Where the provider's figures come from: its own `source` in models.yaml (the self-hosted
    models' figures), else LiteLLM's map (their date is the map's `as_of`)."""
    own = provider_fact(provider, "source")
    return str(own) if own else f"LiteLLM {map_source().litellm}'s model map"


def today() -> datetime.date:
    """The day retirement is judged on: HKS_TODAY (YYYY-MM-DD) when set, so a CI run or a test
    can fix it; otherwise the machine's date."""
    fixed = os.environ.get("HKS_TODAY")
    return datetime.date.fromisoformat(fixed) if fixed else datetime.date.today()


def is_current(info: ModelInfo, day: datetime.date, vertex: bool = False) -> bool:
    retires = info.retires(vertex)
    return retires is None or retires > day


def current_models(provider: str, day: datetime.date, vertex: bool = False) -> dict[str, ModelInfo]:
    """The models a provider still serves on `day`."""
    return {name: info for name, info in models(provider).items() if is_current(info, day, vertex)}


def replacements(provider: str, name: str, day: datetime.date, vertex: bool = False, embedding: bool = False) -> list[str]:
    """Current models of the same provider and kind to suggest instead of `name`: the map's
    successor (while it is current), then the provider's everyday model (for an embedding
    model, its first current embedding model)."""
    current = {n: i for n, i in current_models(provider, day, vertex).items() if is_embedding(i) == embedding}
    info = lookup(provider, name)
    found = [str(info.facts["successor"])] if info and info.facts.get("successor") else []
    found += list(current)[:1] if embedding else [default_model(provider)]
    return list(dict.fromkeys(n for n in found if n in current and n != name))


def refusal(info: ModelInfo, key: str, value: object) -> str | None:
    """Why the model refuses `key: value`, or None when it takes it."""
    rule = info.facts.get(key)
    if rule is False:
        return f"takes no {key}"
    if key == "temperature" and rule == 1 and value != 1:
        return "accepts only temperature 1"
    limit = provider_fact(info.provider, f"{key}_max")
    if isinstance(limit, (int, float)) and isinstance(value, (int, float)) and value > limit:
        return f"accepts {key} up to {limit:g}"
    return None


@dataclass(frozen=True)
class Price:
    """USD per million tokens, and where the figure comes from."""

    input: float
    output: float
    source: str
    as_of: str

    @property
    def input_per_token(self) -> float:
        return round(self.input / 1_000_000, 12)

    @property
    def output_per_token(self) -> float:
        return round(self.output / 1_000_000, 12)


def token_price(provider: str, model: str) -> Price | None:
    """The catalogue's price, 0 for self-hosted models, None when the catalogue has no price."""
    from compiler.providers import registry

    if not registry.get(provider).commercial:
        return Price(0.0, 0.0, "self-hosted: no per-token price", "")
    info = lookup(provider, model)
    if info is None or "price" not in info.facts:
        return None
    price = info.facts["price"]
    as_of = str(info.facts.get("as_of") or map_source().as_of)
    return Price(float(price["input"]), float(price["output"]), source(provider), as_of)
