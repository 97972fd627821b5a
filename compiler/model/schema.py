"""Checks a parsed file against the pydantic model and maps each error to its line and column.

Also generates the JSON Schemas in `schemas/` from the same model.
"""

from __future__ import annotations

import json
import re
import typing
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from compiler.diagnostics import Diagnostic, error
from compiler.load.parse import Document, to_plain
from compiler.model import model as m
from compiler.model.model import is_model, unwrap_type
from compiler.redact import describe, secret_kind
from compiler.suggest import did_you_mean

RULES: dict[str, str] = {
    "SCHEMA-001": "unknown key",
    "SCHEMA-002": "value has the wrong type",
    "SCHEMA-003": "value out of range",
    "SCHEMA-004": "required key missing",
    "SCHEMA-005": "value not allowed",
    "SCHEMA-006": "value has the wrong format",
}

SCHEMAS: dict[str, type[BaseModel]] = {"org": m.OrgFile, "workspace": m.WorkspaceFile}
SCHEMA_BASE_URL = "https://hks.dev/schemas"

PATTERN_MEANINGS = {
    m.DNS_LABEL: "a DNS-1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit",
    m.DNS_SUBDOMAIN: "a Kubernetes object name: lowercase letters, digits and '-', in parts separated by '.', each starting and ending with a letter or digit",
    m.SUBJECT: "a user or group name: not empty, no control characters",
    m.RESIDENCY: "a two-letter region such as 'eu', 'us' or 'jp', or 'on-premises'",
    m.DURATION: "a duration such as '5m', '1h' or '30s', '0', or '-1' for forever",
    m.SHA256: "64 lowercase hexadecimal digits",
    m.NO_TRIPLE_QUOTES: 'text without """ (it would end the Modelfile\'s SYSTEM block)',
    m.REL_FOLDER: "a folder below the config folder such as 'rendered' or 'deploy/llm': letters, digits, '.', '_' and '-', no part starting with '.'",
    m.REPO_FOLDER: "'.' or a folder in the repository such as 'llm-config': letters, digits, '.', '_' and '-', no part starting with '.'",
    m.ENDPOINT: "an http(s) URL of a host name or IPv4 address, an optional port and path, and no user, query or fragment",
    m.PROVIDER_MODEL: "a model name such as 'gpt-4o' or 'llama3:8b': letters, digits, '.', '_', '-', '/', ':', '@' and '+', starting with a letter or digit",
    m.SOURCE: "a URL without spaces or control characters, not starting with '-'",
    m.PARAMETER_KEY: "a Modelfile parameter name such as 'num_ctx': lowercase letters, digits and '_'",
    m.MODEL_NAME: "an Ollama model name such as 'llama3:8b': letters, digits, '.', '_', '-', '/' and ':'",
    m.LABEL_KEY: "a Kubernetes label key such as 'release' or 'example.com/team'",
    m.LABEL_VALUE: "a Kubernetes label value: up to 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit",
}

TYPE_NAMES = {
    "float_type": "a number",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "string_type": "a string",
    "bool_type": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "date_type": "a date (YYYY-MM-DD)",
}


def validate(doc: Document, model: type[BaseModel]) -> tuple[Any, list[Diagnostic]]:
    """The typed object for `doc`, or None with one diagnostic per problem."""
    try:
        return model.model_validate(to_plain(doc.data)), []
    except ValidationError as exc:
        return None, [_diagnostic(doc, model, e) for e in exc.errors(include_url=False)]


def _diagnostic(doc: Document, model: type[BaseModel], err: Any) -> Diagnostic:
    kind = err["type"]
    loc = tuple(step for step in err["loc"] if step not in m.UNION_TAGS)
    if err["loc"] and not loc:  # the user's own key is named like a union tag
        loc = tuple(err["loc"])
    if loc and loc[-1] == "[key]":
        return _bad_key(doc, loc[:-1], err)
    where = _dotted(loc[:-1]) if loc else ""
    name = _dotted(loc) or "the file"
    if kind == "extra_forbidden":
        allowed = _keys_at(model, loc[:-1])
        key = str(loc[-1])
        hint = did_you_mean(key, allowed) or (f"allowed keys: {', '.join(sorted(allowed))}" if allowed else None)
        context = f" in {where}" if where else " at the top level"
        return error(doc.position(loc, key=True), "SCHEMA-001", f"unknown key '{key}'{context}", hint)
    if kind == "missing":
        context = f" in {where}" if where else ""
        shape = _shape(_model_at(model, loc[:-1]), loc[-2] if len(loc) > 1 else None, None, defaults=False)
        return error(doc.position(loc[:-1], key=True), "SCHEMA-004", f"missing required key '{loc[-1]}'{context}",
                     shape and f"the keys it needs: {shape}")
    position = doc.position(loc)
    value = describe(err.get("input"))
    if kind in TYPE_NAMES or kind.startswith("union_tag"):
        expected = TYPE_NAMES.get(kind, "a string or a mapping")
        hint = None
        if kind == "bool_type" and isinstance(err.get("input"), str):
            hint = "YAML 1.2 reads only true and false as booleans; yes, no, on and off are strings"
        elif kind in ("model_type", "model_attributes_type"):
            shape = _shape(_model_at(model, loc), loc[-1] if loc else None, err.get("input"))
            hint = shape and f"write it as a mapping: {shape}"
        return error(position, "SCHEMA-002", f"{name} must be {expected}, not {value}", hint)
    if kind in ("less_than_equal", "greater_than_equal", "less_than", "greater_than"):
        return error(position, "SCHEMA-003", f"{name} must be {_range(model, loc, err)}, not {value}")
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", err["ctx"]["expected"])
        raw = err.get("input")
        hint = did_you_mean(raw, choices) if isinstance(raw, str) else None
        return error(position, "SCHEMA-005", f"{name} must be one of {_choices(choices)}, not {value}", hint)
    if kind == "string_pattern_mismatch":
        meaning = PATTERN_MEANINGS.get(err["ctx"]["pattern"], f"match {err['ctx']['pattern']}")
        return error(position, "SCHEMA-006", f"{name} must be {meaning}, not {value}")
    if kind in ("string_too_short", "too_short"):
        return error(position, "SCHEMA-003", f"{name} must not be empty")
    if kind in ("string_too_long", "too_long"):
        return error(position, "SCHEMA-003", f"{name} is too long: {err['msg'].lower()}")
    return error(position, "SCHEMA-002", f"{name}: {err['msg']}")


def _shape(expected: type[BaseModel] | None, key: Any, given: Any, defaults: bool = True) -> str | None:
    """The mapping a key takes, written out: its required keys (and those with a text default).
    A plain word given instead becomes the first required key's value, as it most likely is.
    None for a list item or a map entry, whose own name is not the key to write."""
    if expected is None or not isinstance(key, str):
        return None
    word = given if isinstance(given, str) and re.fullmatch(r"[A-Za-z0-9_.-]+", given) and not secret_kind(given) else None
    parts: list[str] = []
    for name, field in expected.model_fields.items():
        if field.is_required():
            parts.append(f"{name}: {word if word and not parts else name.upper()}")
        elif defaults and isinstance(field.default, str):
            parts.append(f"{name}: {field.default}")
    return f"{key}: {{{', '.join(parts)}}}" if parts else None


def _bad_key(doc: Document, loc: tuple[Any, ...], err: Any) -> Diagnostic:
    raw = err.get("input")
    position = doc.position(loc, key=True)
    where = _dotted(loc[:-1]) or "the top level"
    if err["type"] == "literal_error":
        choices = re.findall(r"'([^']*)'", err["ctx"]["expected"])
        hint = did_you_mean(raw, choices) if isinstance(raw, str) else None
        return error(position, "SCHEMA-005", f"{describe(raw)} under {where} must be one of {_choices(choices)}", hint)
    if err["type"] == "string_pattern_mismatch":
        meaning = PATTERN_MEANINGS.get(err["ctx"]["pattern"], "a valid name")
        return error(position, "SCHEMA-006", f"the name {describe(raw)} under {where} must be {meaning}")
    return error(position, "SCHEMA-002", f"the key {describe(raw)} under {where}: {err['msg']}")


def _dotted(loc: tuple[Any, ...]) -> str:
    text = ""
    for step in loc:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


def _choices(choices: list[str]) -> str:
    return ", ".join(f"'{c}'" for c in choices)


def _range(model: type[BaseModel], loc: tuple[Any, ...], err: Any) -> str:
    info = _field_at(model, loc)
    low = high = None
    for item in info.metadata if info else ():
        low = getattr(item, "ge", None) if getattr(item, "ge", None) is not None else low
        high = getattr(item, "le", None) if getattr(item, "le", None) is not None else high
        if getattr(item, "gt", None) is not None:
            return f"greater than {_number(item.gt)}"
    if low is not None and high is not None:
        return f"between {_number(low)} and {_number(high)}"
    ctx = err.get("ctx", {})
    for key, words in (("ge", "at least"), ("le", "at most"), ("gt", "greater than"), ("lt", "less than")):
        if key in ctx:
            return f"{words} {_number(ctx[key])}"
    return "in range"


def _number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _field_at(model: type[BaseModel], loc: tuple[Any, ...]) -> FieldInfo | None:
    parent = _model_at(model, loc[:-1])
    if parent is None or not loc:
        return None
    return parent.model_fields.get(str(loc[-1]))


def _keys_at(model: type[BaseModel], loc: tuple[Any, ...]) -> set[str]:
    found = _model_at(model, loc)
    return set(found.model_fields) if found else set()


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class that describes the mapping at `loc`, if any."""
    current: Any = model
    for step in loc:
        if is_model(current) and isinstance(step, str) and step in current.model_fields:
            current = current.model_fields[step].annotation
        elif isinstance(step, int):
            current = _element(current, list)
        else:
            current = _element(current, dict)
        current = unwrap_type(current)
        if current is None:
            return None
    return current if is_model(current) else None


def _element(tp: Any, container: type) -> Any:
    tp = unwrap_type(tp)
    if typing.get_origin(tp) is container:
        return typing.get_args(tp)[-1]
    return None


def json_schema(name: str) -> dict[str, Any]:
    schema = SCHEMAS[name].model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{SCHEMA_BASE_URL}/{name}.schema.json",
        **schema,
    }


def json_schema_text(name: str) -> str:
    return json.dumps(json_schema(name), indent=2, ensure_ascii=False) + "\n"
