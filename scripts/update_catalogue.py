"""Writes catalogue/litellm-models.yaml from LiteLLM's model map and LiteLLM's parameter rules.

Run it with the Python of the pinned LiteLLM (tests/install-tools.sh installs it):

    .venv-litellm/bin/python scripts/update_catalogue.py [MAP.json] --as-of YYYY-MM-DD

MAP.json defaults to the map inside the installed `litellm` wheel
(`model_prices_and_context_window_backup.json`). `--as-of` is the day the map was read; it dates
the prices `hks cost` prints. The output is deterministic: the same map, LiteLLM and date give the
same bytes (tests/checks/test_catalogue.py holds the shipped file to that).

What comes from where:
- context window, maximum output, price per token, retirement date and successor: the map;
- embedding models (the map's `mode: embedding`): context window, input price, vector size
  (`dimensions`, where the map gives one) and retirement date, marked `kind: embedding`;
- which temperature and top_p values a model accepts, and whether LiteLLM sends max_tokens as
  max_completion_tokens: LiteLLM's own rules, asked through `litellm.utils.get_optional_params`
  with `drop_params=False`, as the proxy asks them for every request.

hks's own facts (Ollama models, default models, provider limits LiteLLM does not check) live in
catalogue/models.yaml; this script never touches that file.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "catalogue" / "litellm-models.yaml"

# hks provider -> (LiteLLM provider in the map, key prefix in the map, provider LiteLLM is asked as)
PROVIDERS = {
    "anthropic": ("anthropic", "", "anthropic"),
    "azure-openai": ("azure", "azure/", "azure"),
    "bedrock": ("bedrock_converse", "", "bedrock"),
    "google": ("gemini", "gemini/", "gemini"),
    "mistral": ("mistral", "mistral/", "mistral"),
    "openai": ("openai", "", "openai"),
}
# Vertex AI serves the same Gemini models and sometimes retires them on other dates.
VERTEX = ("vertex_ai-language-models", "")

TEMPERATURES = (0, 0.3, 1, 1.5, 2)
CHAT_ENDPOINT = "/v1/chat/completions"
EMBEDDINGS_ENDPOINT = "/v1/embeddings"
# A model's name; `:N` ends a Bedrock model id's version (`amazon.nova-pro-v1:0`).
NAME = re.compile(r"[a-z0-9][a-z0-9.\-]*(?::[0-9]+)?")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("map", nargs="?", type=Path, help="LiteLLM's model map (default: the installed wheel's)")
    parser.add_argument("--as-of", required=True, type=datetime.date.fromisoformat, help="the day the map was read")
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # never fetch a newer map at import
    import logging

    import litellm

    logging.getLogger("LiteLLM").setLevel(logging.ERROR)  # its deprecation notes for every Gemini probe
    litellm.suppress_debug_info = True
    path = args.map or Path(litellm.__file__).parent / "model_prices_and_context_window_backup.json"
    entries = json.loads(path.read_text("utf-8"))
    version = importlib.metadata.version("litellm")
    args.output.write_text(render(generate(entries), version, args.as_of.isoformat()), "utf-8")
    return 0


def generate(entries: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    vertex = _models(entries, *VERTEX)
    catalogue: dict[str, dict[str, dict[str, Any]]] = {}
    for provider, (map_provider, prefix, asked_as) in sorted(PROVIDERS.items()):
        models = {}
        for name, entry in sorted(_models(entries, map_provider, prefix).items()):
            model = _figures(entry, prefix)
            if model is None:
                continue
            if provider == "google" and vertex.get(name, {}).get("deprecation_date"):
                model["vertex_retires"] = vertex[name]["deprecation_date"]
            model.update(_parameters(name, asked_as))
            models[name] = model
        for name, entry in sorted(_models(entries, map_provider, prefix, "embedding").items()):
            embedding = _embedding_figures(entry)
            if embedding is not None:
                models[name] = embedding
        catalogue[provider] = dict(sorted(models.items()))
    return catalogue


def _models(entries: dict[str, Any], map_provider: str, prefix: str, mode: str = "chat") -> dict[str, dict[str, Any]]:
    """The chat (or embedding) models of one provider, by the name a config uses."""
    found = {}
    for key, entry in entries.items():
        if not isinstance(entry, dict) or entry.get("litellm_provider") != map_provider or entry.get("mode") != mode:
            continue
        name = key[len(prefix):] if key.startswith(prefix) else key
        endpoints = entry.get("supported_endpoints")
        wanted = CHAT_ENDPOINT if mode == "chat" else EMBEDDINGS_ENDPOINT
        if NAME.fullmatch(name) and (endpoints is None or wanted in endpoints):
            found[name] = entry
    return found


def _figures(entry: dict[str, Any], prefix: str) -> dict[str, Any] | None:
    context, output = entry.get("max_input_tokens"), entry.get("max_output_tokens")
    if not isinstance(context, int) or not isinstance(output, int):
        return None
    model: dict[str, Any] = {"context_window": context, "max_output": output}
    if "input_cost_per_token" in entry and "output_cost_per_token" in entry:
        model["price"] = {
            "input": _per_million(entry["input_cost_per_token"]),
            "output": _per_million(entry["output_cost_per_token"]),
        }
    if entry.get("deprecation_date"):
        model["retires"] = str(entry["deprecation_date"])
    if entry.get("successor_model"):
        successor = str(entry["successor_model"])
        model["successor"] = successor[len(prefix):] if prefix and successor.startswith(prefix) else successor
    return model


def _embedding_figures(entry: dict[str, Any]) -> dict[str, Any] | None:
    """An embedding model answers vectors, not tokens: max_output 0, and only an input price."""
    context = entry.get("max_input_tokens")
    if not isinstance(context, int) or "input_cost_per_token" not in entry:
        return None
    model: dict[str, Any] = {"context_window": context, "max_output": 0, "kind": "embedding"}
    model["price"] = {"input": _per_million(entry["input_cost_per_token"]), "output": 0.0}
    if isinstance(entry.get("output_vector_size"), int):
        model["dimensions"] = entry["output_vector_size"]
    if entry.get("deprecation_date"):
        model["retires"] = str(entry["deprecation_date"])
    return model


def _per_million(per_token: float) -> float:
    return round(float(per_token) * 1_000_000, 6)


def _parameters(name: str, provider: str) -> dict[str, Any]:
    """What LiteLLM refuses for this model: `temperature: 1` when only 1 is accepted (false when
    none is), `top_p: false`
    when top_p is refused; `max_tokens_as` when LiteLLM renames max_tokens."""
    rules: dict[str, Any] = {}
    accepted = [t for t in TEMPERATURES if _accepts(name, provider, temperature=t)]
    if not accepted:
        rules["temperature"] = False
    elif accepted == [1]:
        rules["temperature"] = 1
    elif accepted != list(TEMPERATURES):
        sys.exit(f"{provider}/{name}: LiteLLM accepts temperature {accepted} of {list(TEMPERATURES)}, a rule hks cannot record")
    if not _accepts(name, provider, top_p=0.5):
        rules["top_p"] = False
    if "max_completion_tokens" in _optional(name, provider, max_tokens=1000):
        rules["max_tokens_as"] = "max_completion_tokens"
    return rules


def _accepts(name: str, provider: str, **setting: Any) -> bool:
    from litellm.exceptions import UnsupportedParamsError

    try:
        _optional(name, provider, **setting)
    except UnsupportedParamsError:
        return False
    return True


def _optional(name: str, provider: str, **setting: Any) -> dict[str, Any]:
    from litellm.utils import get_optional_params

    return dict(get_optional_params(model=name, custom_llm_provider=provider, drop_params=False, **setting))


HEADER = """\
# Generated by scripts/update_catalogue.py from LiteLLM {version}'s model map, read {as_of}.
# Do not edit: run the script again (see its docstring). hks's own facts are in models.yaml.
#
# Per model: context_window and max_output in tokens; price in USD per million tokens;
# retires: the provider's retirement date (vertex_retires: Vertex AI's, where it differs);
# successor: the model the map names as its replacement; temperature: 1 when only 1 is accepted,
# false when it is refused; top_p: false when it is refused; max_tokens_as: the name LiteLLM
# sends max_tokens under (it renames it itself: hks renders max_tokens); kind: embedding for an
# embedding model (max_output 0, dimensions: the vector size where the map gives one).
source: {{litellm: "{version}", as_of: "{as_of}"}}
providers:
"""


def render(catalogue: dict[str, dict[str, dict[str, Any]]], version: str, as_of: str) -> str:
    lines = [HEADER.format(version=version, as_of=as_of)]
    for provider, models in catalogue.items():
        lines.append(f"  {provider}:\n")
        for name, model in models.items():
            lines.append(f"    {_scalar(name)}: {_flow(model)}\n")
    return "".join(lines)


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    return _scalar(value)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    return text if NAME.fullmatch(text) and not text[0].isdigit() else json.dumps(text)


if __name__ == "__main__":
    raise SystemExit(main())
