"""`hks explain`: each workspace's effective settings, and where every value came from."""

from __future__ import annotations

import json
from typing import Any

from compiler.merge import Sourced, Workspace
from compiler.model.config import Config

LAYER_NAMES = {"org": "org", "workspace": "workspace", "default": "default"}


Extra = dict[str, list[tuple[str, Sourced]]]  # workspace → rows computed from the whole config


def rows(workspace: Workspace, extra: Extra | None = None) -> list[tuple[str, Sourced]]:
    """(key, value) pairs in a stable order: the LLM settings first, then the workspace's own,
    then the rows that need the whole config (the GPU pool serving each self-hosted model)."""
    found = [(f"llm.{key}", sourced) for key, sourced in workspace.llm_sources.items()]
    found.append(("namespace", workspace.namespace))
    found += [("compliance", item) for item in workspace.compliance]
    if workspace.data_residency is not None:
        found.append(("data_residency", workspace.data_residency))
    return found + (extra or {}).get(workspace.name, [])


def pool_rows(config: Config, workspaces: tuple[Workspace, ...]) -> Extra:
    """With `self_hosted.pools`: `pool` rows, one per self-hosted model the workspace uses (its
    model, fallbacks, embedding model), saying which pool serves it, at the line that lists it
    there. Nothing without pools."""
    from compiler.providers import selfhosted
    from compiler.targets import targets

    if not selfhosted.served_pools(config):
        return {}
    found: Extra = {}
    for workspace in workspaces:
        for target in targets(workspace):
            if target.provider != selfhosted.SELF_HOSTED:
                continue
            pools = selfhosted.pools_serving(config, target.model)
            if not pools:
                continue
            where = next(m.position for m in pools[0].models if m.name == target.model)
            value = f"{target.model} → pool {' and '.join(p.name for p in pools)}"
            found.setdefault(workspace.name, []).append(("pool", Sourced(value, where, "org")))
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
    return {"namespace", "compliance", "data_residency", "pool"} | set(llm) | {f"llm.{k}" for k in llm}


def text(workspaces: tuple[Workspace, ...], key: str | None = None, colour: bool = False, extra: Extra | None = None) -> str:
    import click

    blocks = []
    for workspace in workspaces:
        found = select(rows(workspace, extra), key)
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


def as_json(workspaces: tuple[Workspace, ...], key: str | None = None, colour: bool = False, extra: Extra | None = None) -> str:
    document: dict[str, Any] = {}
    for workspace in workspaces:
        entries = []
        for name, sourced in select(rows(workspace, extra), key):
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
