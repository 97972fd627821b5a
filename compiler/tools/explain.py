"""`hks explain`: each workspace's effective settings, and where every value came from."""

from __future__ import annotations

import json
from typing import Any

from compiler.merge import Sourced, Workspace

LAYER_NAMES = {"org": "org", "workspace": "workspace", "default": "default"}


def rows(workspace: Workspace) -> list[tuple[str, Sourced]]:
    """(key, value) pairs in a stable order: the LLM settings first, then the workspace's own."""
    found = [(f"llm.{key}", sourced) for key, sourced in workspace.llm_sources.items()]
    found.append(("namespace", workspace.namespace))
    found += [("compliance", item) for item in workspace.compliance]
    if workspace.data_residency is not None:
        found.append(("data_residency", workspace.data_residency))
    return found


def select(found: list[tuple[str, Sourced]], key: str | None) -> list[tuple[str, Sourced]]:
    if not key:
        return found
    wanted = {key, f"llm.{key}"}
    return [(k, s) for k, s in found if k in wanted or any(k.startswith(w + ".") for w in wanted)]


def known_keys() -> set[str]:
    """Every key --key accepts: dotted model keys, with or without `llm.`, and their blocks."""
    from compiler.merge import field_order
    from compiler.model import model as m

    llm = field_order(m.LLMConfig)
    return {"namespace", "compliance", "data_residency"} | set(llm) | {f"llm.{k}" for k in llm}


def text(workspaces: tuple[Workspace, ...], key: str | None = None, colour: bool = False) -> str:
    import click

    blocks = []
    for workspace in workspaces:
        found = select(rows(workspace), key)
        key_width = max((len(k) for k, _ in found), default=0)
        value_width = min(max((len(_show(s.value)) for _, s in found), default=0), 40)
        header = f"{workspace.name}  ({workspace.defined_at.path})"
        lines = [click.style(header, bold=True) if colour else header]
        previous = None
        for name, sourced in found:
            label = name if name != previous else ""
            previous = name
            layer = LAYER_NAMES[sourced.layer]
            origin = str(sourced.origin) if sourced.origin else "built-in default"
            value = _show(sourced.value).ljust(value_width)
            if colour and sourced.layer == "workspace":
                value = click.style(value, fg="green", bold=True)
            elif colour and sourced.layer == "default":
                value = click.style(value, dim=True)
            lines.append(f"  {label.ljust(key_width)}  {value}  {layer.ljust(9)}  {origin}".rstrip())
        if not found:
            lines.append("  (not set)")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def as_json(workspaces: tuple[Workspace, ...], key: str | None = None, colour: bool = False) -> str:
    document: dict[str, Any] = {}
    for workspace in workspaces:
        entries = []
        for name, sourced in select(rows(workspace), key):
            origin = sourced.origin
            entries.append(
                {
                    "key": name,
                    "value": sourced.value,
                    "layer": sourced.layer,
                    "origin": None
                    if origin is None
                    else {"path": origin.path, "line": origin.line, "column": origin.column},
                }
            )
        document[workspace.name] = entries
    return json.dumps(document, indent=2, default=str) + "\n"


def _show(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, dict) and set(v) == {"provider", "model"} for v in value):
        return ", ".join(f"{v['provider']}/{v['model']}" for v in value) or "[]"
    return json.dumps(value, separators=(", ", ": "), default=str)


FORMATS = {"json": as_json, "text": text}
