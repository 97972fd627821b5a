"""Organisation defaults + workspace overrides = each workspace's effective config.

The merge rule (SPEC "Merge"): mappings merge key by key, scalars and lists replace, an explicit
`null` drops an inherited optional key (a key with a built-in default falls back to it). The
LLM settings are kept flat, as dotted keys (`rate_limit.rpm`), each value with the place that set
it, so that merging is replacing keys and `hks explain` can show every value's origin.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from compiler.diagnostics import Diagnostic, Position, error
from compiler.load.parse import Document, to_plain
from compiler.model import model as m
from compiler.model.config import Config, WorkspaceSource
from compiler.model.model import is_model, unwrap_type

RULES: dict[str, str] = {
    "MERGE-001": "workspace widens the organisation's data residency",
    "MERGE-002": "required key set to null in an override",
}


@dataclass(frozen=True, slots=True)
class Sourced:
    """A value and the place that set it; `origin` None means a built-in default."""

    value: Any
    origin: Position | None
    layer: str = "default"  # "org", "workspace" or "default"


@dataclass(frozen=True, slots=True)
class Workspace:
    """A workspace's effective config."""

    name: str
    defined_at: Position
    namespace: Sourced
    llm: m.LLMConfig
    llm_sources: dict[str, Sourced]  # dotted key → value and origin, in model order
    compliance: tuple[Sourced, ...]
    data_residency: Sourced | None
    members: m.Members
    usage: m.Usage | None


Flat = dict[str, Sourced]


def merge(config: Config) -> tuple[tuple[Workspace, ...], list[Diagnostic]]:
    org_llm = _defaults(m.LLMConfig)
    org_llm.update(_flatten(config.org_doc, ("llm_config",), m.LLMConfig, "org"))
    org_compliance = _sourced_list(config.org_doc, ("compliance",), "org")
    org_residency = _sourced(config.org_doc, ("data_residency",), "org")
    diagnostics: list[Diagnostic] = []
    workspaces: list[Workspace] = []
    for source in config.workspaces:
        workspace, found = _merge_workspace(source, org_llm, org_compliance, org_residency)
        diagnostics += found
        if workspace is not None:
            workspaces.append(workspace)
    return tuple(workspaces), diagnostics


def _merge_workspace(
    source: WorkspaceSource, org_llm: Flat, org_compliance: tuple[Sourced, ...], org_residency: Sourced | None
) -> tuple[Workspace | None, list[Diagnostic]]:
    diagnostics: list[Diagnostic] = []
    llm, found = override(org_llm, source.doc, source.loc + ("llm_override",))
    diagnostics += found
    residency, found = _narrow(org_residency, _sourced(source.doc, source.loc + ("data_residency",), "workspace"))
    diagnostics += found
    compliance = org_compliance + tuple(
        item
        for item in _sourced_list(source.doc, source.loc + ("compliance",), "workspace")
        if item.value not in {c.value for c in org_compliance}
    )
    try:
        typed = m.LLMConfig.model_validate(unflatten(llm))
    except ValidationError as exc:
        problem = exc.errors(include_url=False)[0]
        where = ".".join(str(s) for s in problem["loc"])
        diagnostics.append(
            error(
                source.position("llm_override", key=True),
                "SCHEMA-004",
                f"the effective llm settings of workspace '{source.name}' are incomplete: {where}: {problem['msg']}",
            )
        )
        return None, diagnostics
    namespace = _sourced(source.doc, source.loc + ("namespace",), "workspace") or Sourced(source.name, None)
    workspace = Workspace(
        name=source.name,
        defined_at=source.defined_at,
        namespace=namespace,
        llm=typed,
        llm_sources=_ordered(llm),
        compliance=compliance,
        data_residency=residency,
        members=source.body.members or m.Members(),
        usage=source.body.usage,
    )
    return workspace, diagnostics


def override(base: Flat, doc: Document, loc: tuple[Any, ...]) -> tuple[Flat, list[Diagnostic]]:
    """`base` with the override mapping at `loc` in `doc` applied."""
    merged = dict(base)
    diagnostics: list[Diagnostic] = []
    for key, value in _flatten(doc, loc, m.LLMConfig, "workspace", keep_nulls=True).items():
        if value.value is not None:
            for stale in [k for k in merged if k.startswith(key + ".")]:
                del merged[stale]
            merged[key] = value
            continue
        if key in m.REQUIRED_LLM_KEYS:
            assert value.origin is not None
            diagnostics.append(
                error(
                    value.origin,
                    "MERGE-002",
                    f"'{key}' cannot be dropped with null: every workspace needs one",
                    hint="remove the line to inherit the organisation's value, or set another",
                )
            )
            continue
        for dropped in [k for k in merged if k == key or k.startswith(key + ".")]:
            del merged[dropped]
        defaults = {k: v for k, v in _defaults(m.LLMConfig).items() if k == key or k.startswith(key + ".")}
        merged.update(defaults)
    return merged, diagnostics


def _narrow(org: Sourced | None, workspace: Sourced | None) -> tuple[Sourced | None, list[Diagnostic]]:
    if workspace is None:
        return org, []
    if org is None or workspace.value in (org.value, "on-premises"):
        return workspace, []
    assert workspace.origin is not None
    return org, [
        error(
            workspace.origin,
            "MERGE-001",
            f"data_residency '{workspace.value}' widens the organisation's '{org.value}' (set at {org.origin}): "
            "a workspace may keep it or narrow it to 'on-premises', never widen it",
        )
    ]


def _defaults(model: type[BaseModel], prefix: str = "") -> Flat:
    """Built-in defaults, as flat keys, including those of nested settings blocks."""
    found: Flat = {}
    for name, info in model.model_fields.items():
        nested = unwrap_type(info.annotation)
        if is_model(nested):
            found.update(_defaults(nested, f"{prefix}{name}."))
        elif not info.is_required() and info.default is not None:
            found[prefix + name] = Sourced(info.default, None)
    return found


def _flatten(
    doc: Document, loc: tuple[Any, ...], model: type[BaseModel], layer: str, *, keep_nulls: bool = False
) -> Flat:
    """The mapping at `loc` as dotted keys; nested settings blocks are walked, lists are leaves."""
    node = _node(doc.data, loc)
    found: Flat = {}
    if not isinstance(node, dict):
        return found
    for key, value in node.items():
        known, nested = _field(model, key)
        if not known:
            continue
        if nested is not None and isinstance(value, dict):
            for sub_key, sub_value in _flatten(doc, loc + (key,), nested, layer, keep_nulls=keep_nulls).items():
                found[f"{key}.{sub_key}"] = sub_value
        elif value is not None or keep_nulls:
            found[key] = Sourced(to_plain(value), doc.child_position(node, loc + (key,)), layer)
    return found


@functools.cache  # a few fields of a few models, looked up for every workspace
def _field(model: type[BaseModel], key: Any) -> tuple[bool, type[BaseModel] | None]:
    """Whether `model` has the field `key`, and its settings block's model when it is one."""
    info = model.model_fields.get(key)
    if info is None:
        return False, None
    nested = unwrap_type(info.annotation)
    return True, nested if is_model(nested) else None


def unflatten(flat: Flat) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for key, sourced in flat.items():
        *parents, leaf = key.split(".")
        target = nested
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = sourced.value
    return nested


def _ordered(flat: Flat) -> Flat:
    order = _llm_order()
    return {key: flat[key] for key in sorted(flat, key=lambda k: (order.get(k, len(order)), k))}


@functools.cache
def _llm_order() -> dict[str, int]:
    """Where each llm setting comes in the model, computed once (not once per workspace)."""
    return {key: index for index, key in enumerate(field_order(m.LLMConfig))}


def field_order(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys: list[str] = []
    for name, info in model.model_fields.items():
        keys.append(prefix + name)
        nested = unwrap_type(info.annotation)
        if is_model(nested):
            keys += field_order(nested, f"{prefix}{name}.")
    return keys


def _node(data: Any, loc: tuple[Any, ...]) -> Any:
    for step in loc:
        if not isinstance(data, dict) or step not in data:
            return None
        data = data[step]
    return data


def _sourced(doc: Document, loc: tuple[Any, ...], layer: str) -> Sourced | None:
    value = _node(doc.data, loc)
    return None if value is None else Sourced(to_plain(value), doc.position(loc), layer)


def _sourced_list(doc: Document, loc: tuple[Any, ...], layer: str) -> tuple[Sourced, ...]:
    items = _node(doc.data, loc)
    if not isinstance(items, list):
        return ()
    return tuple(Sourced(to_plain(item), doc.position(loc + (i,)), layer) for i, item in enumerate(items))
