"""`hks models` output: the models each provider serves today, as a table or JSON (pure)."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import Any

from compiler.builtin import catalogue
from compiler.builtin.catalogue import ModelInfo


def rows(providers: list[str], day: datetime.date) -> list[dict[str, Any]]:
    """One row per model a provider still serves on `day`, providers and names sorted."""
    found = []
    for provider in providers:
        for _, info in sorted(catalogue.current_models(provider, day).items()):
            found.append(_row(info))
    return found


def _row(info: ModelInfo) -> dict[str, Any]:
    price = info.facts.get("price")
    retires = info.retires()
    embedding = catalogue.is_embedding(info)
    row: dict[str, Any] = {
        "provider": info.provider,
        "model": info.name,
        "kind": "embedding" if embedding else "chat",
        "dimensions": info.facts.get("dimensions"),
        "context_window": info.context_window,
        "max_output": None if embedding else info.max_output,
        "input_per_million": price["input"] if price else None,
        "output_per_million": price["output"] if price else None,
        "retires": retires.isoformat() if retires else None,
        "vertex_retires": info.facts.get("vertex_retires"),
        "settings": _settings(info),
        "memory_gib": _memory(info),
    }
    return row


def _settings(info: ModelInfo) -> list[str]:
    """What kind of model it is (when not chat), and what it refuses or renames."""
    notes = []
    if catalogue.is_embedding(info):
        size = info.facts.get("dimensions")
        notes.append(f"embedding ({size:,} dimensions)" if size else "embedding")
    if info.facts.get("temperature") is False:
        notes.append("no temperature")
    elif info.facts.get("temperature") == 1:
        notes.append("temperature 1 only")
    if info.facts.get("top_p") is False:
        notes.append("no top_p")
    if info.facts.get("max_tokens_as"):
        notes.append(f"max_tokens sent as {info.facts['max_tokens_as']}")
    return notes


def _memory(info: ModelInfo) -> float | None:
    """A self-hosted model's GPU memory need at its trained context, one request at a time."""
    from compiler.providers import registry

    if info.provider != registry.SELF_HOSTED:
        return None
    from compiler.model.model import SelfHosted
    from compiler.providers import selfhosted

    found = selfhosted.estimate(SelfHosted(num_parallel=1), info.name, info.context_window)
    return round(found.total_gib, 1) if found else None


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def table(found: list[dict[str, Any]]) -> str:
    heads = ["PROVIDER", "MODEL", "CONTEXT", "MAX OUTPUT", "$/M IN", "$/M OUT", "RETIRES", "MEMORY GIB", "SETTINGS"]
    keys = ["provider", "model", "context_window", "max_output", "input_per_million", "output_per_million", "retires", "memory_gib"]
    lines = [heads] + [[_cell(r[k]) for k in keys] + [", ".join(r["settings"]) or "-"] for r in found]
    widths = [max(len(line[i]) for line in lines) for i in range(len(heads))]
    text = "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in lines)
    return f"{text}\nprices in USD per million tokens, from {catalogue.map_source()}\n"


def as_json(found: list[dict[str, Any]]) -> str:
    source = catalogue.map_source()
    return json.dumps({"source": {"litellm": source.litellm, "as_of": source.as_of}, "models": found}, indent=2) + "\n"


FORMATS: dict[str, Callable[[list[dict[str, Any]]], str]] = {"json": as_json, "table": table}
