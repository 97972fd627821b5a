"""Checks of the effective config against the catalogue, and the plaintext-secret scan."""

from __future__ import annotations

from typing import Any

from compiler import catalogue
from compiler.config import Config
from compiler.diagnostics import Diagnostic, Position, error, warning
from compiler.load import Document, locate
from compiler.merge import Sourced, Workspace
from compiler.redact import secret_kind
from compiler.suggest import did_you_mean


def check_models(config: Config, workspaces: tuple[Workspace, ...]) -> list[Diagnostic]:
    custom = _custom_models(config)
    diagnostics = _check_defaults(config, custom)
    for workspace in workspaces:
        sources = workspace.llm_sources
        llm = workspace.llm
        diagnostics += _check_model(llm.provider, llm.model, sources["model"], custom, sources.get("max_tokens"))
        for fallback in llm.fallbacks or ():
            diagnostics += _check_model(fallback.provider, fallback.model, sources["fallbacks"], custom, None)
    return diagnostics


def _check_defaults(config: Config, custom: set[str]) -> list[Diagnostic]:
    """The org's own llm_config, which every workspace inherits (and which stands alone when
    there are no workspaces yet)."""
    llm = config.org.llm_config
    doc = config.org_doc

    def at(*keys: str) -> Sourced:
        return Sourced(None, doc.position(("llm_config", *keys)), "org")

    max_tokens = Sourced(llm.max_tokens, doc.position(("llm_config", "max_tokens")), "org")
    found = _check_model(llm.provider, llm.model, at("model"), custom, max_tokens)
    for fallback in llm.fallbacks or ():
        found += _check_model(fallback.provider, fallback.model, at("fallbacks"), custom, None)
    return found


def _custom_models(config: Config) -> set[str]:
    hosted = config.org.self_hosted
    return {m.name for m in hosted.models if not isinstance(m, str)} if hosted else set()


def _check_model(
    provider: str, name: str, where: Sourced, custom: set[str], max_tokens: Sourced | None
) -> list[Diagnostic]:
    origin = where.origin or Position("<built-in>")
    if provider == "ollama" and name in custom:
        return []
    info = catalogue.lookup(provider, name)
    if info is None:
        others = [p for p in catalogue.providers_offering(name) if p != provider]
        if others:
            return [
                error(
                    origin,
                    "CAT-003",
                    f"model '{name}' is offered by {', '.join(others)}, not by {provider}",
                    hint=f"set provider: {others[0]}",
                )
            ]
        hint = did_you_mean(name, catalogue.models(provider)) or "hks knows nothing of its limits or price"
        return [warning(origin, "CAT-001", f"model '{name}' is not in the catalogue of {provider} models", hint)]
    if max_tokens is not None and isinstance(max_tokens.value, int) and max_tokens.value > info.max_output:
        return [
            error(
                max_tokens.origin or origin,
                "CAT-002",
                f"max_tokens {max_tokens.value} is above {name}'s output limit of {info.max_output} tokens",
                hint=f"set max_tokens to {info.max_output} or less",
            )
        ]
    return []


def scan_secrets(docs: list[Document]) -> list[Diagnostic]:
    """Every string that looks like a credential, wherever it is: hks takes names, never values."""
    diagnostics: list[Diagnostic] = []
    for doc in docs:
        for loc, text in _strings(doc.data, ()):
            kind = secret_kind(text)
            if kind:
                line, column = locate(doc.data, loc)
                diagnostics.append(
                    error(
                        Position(doc.path, line, column),
                        "SEC-001",
                        f"this value looks like {kind}: config files hold secret names, never secret values",
                        hint="remove it from the file (and from Git history), rotate the key, "
                        "and store it with `hks secret create`",
                    )
                )
    return diagnostics


def _strings(node: Any, loc: tuple[Any, ...]) -> list[tuple[tuple[Any, ...], str]]:
    found: list[tuple[tuple[Any, ...], str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _strings(value, loc + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _strings(value, loc + (index,))
    elif isinstance(node, str):
        found.append((loc, node))
    return found
