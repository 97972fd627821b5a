"""One canonical YAML form for everything hks writes: block style, keys in the order given,
and every string that a YAML 1.1 or 1.2 reader could take for something else quoted.

Kubernetes tools read YAML with YAML 1.1 rules (`on`, `no` and `10:30` are not strings there),
so plain scalars are kept to a small, unambiguous alphabet and everything else is quoted.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./-]*")
_YAML11_WORDS = {
    "y", "yes", "n", "no", "true", "false", "on", "off", "null", "nan", "inf",
}  # fmt: skip


def dump_all(documents: list[Any]) -> str:
    return "---\n".join(dump(d) for d in documents)


def dump(document: Any) -> str:
    lines: list[str] = []
    if isinstance(document, dict) and document:
        _emit_map(document, 0, lines)
    elif isinstance(document, list) and document:
        _emit_list(document, 0, lines)
    else:
        lines = _node(document, 0)
    return "\n".join(lines) + "\n"  # not a copy of each line with its newline: megabytes


def scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if value == value and value not in (float("inf"), float("-inf")) else _quote(str(value))
    if isinstance(value, str):
        return _string(value)
    raise TypeError(f"cannot write a {type(value).__name__} as YAML")


@functools.lru_cache(maxsize=16_384)  # keys and labels repeat in every document
def _string(text: str) -> str:
    return text if _is_plain(text) else _quote(text)


def _is_plain(text: str) -> bool:
    return bool(_PLAIN.fullmatch(text)) and text.lower() not in _YAML11_WORDS


def _quote(text: str) -> str:
    return _printable(json.dumps(text, ensure_ascii=False))


def _printable(encoded: str) -> str:
    """`encoded` (JSON) with every character a terminal or editor could hide escaped. The
    character loop runs only when there is one: it was a fifth of render at 2,000 workspaces."""
    if encoded.isprintable():
        return encoded
    return "".join(c if c.isprintable() else _escape(c) for c in encoded)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


_TRAILING_BLANK = re.compile(r"[ \t](?:\n|$)")
_LINE_START = re.compile(r"^(?=.)", re.MULTILINE)


def _literal(text: str, indent: int) -> list[str] | None:
    """A multi-line string as a literal block, when it can be one exactly."""
    if "\n" not in text or "\r" in text or not text.replace("\n", "").replace("\t", "").isprintable():
        return None
    body = text.rstrip("\n")
    trailing = len(text) - len(body)
    chomp = "-" if trailing == 0 else ("" if trailing == 1 else "+")
    if not body or body.startswith(("\n", " ", "\t")) or _TRAILING_BLANK.search(body):
        return None
    # One string for the whole block, not a line each: the gateway's config is megabytes.
    block = _LINE_START.sub(" " * (indent + 2), body) + "\n" * (trailing - 1 if chomp == "+" else 0)
    return [f"|{chomp}", block]


def _node(value: Any, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return [pad + "{}"]
        lines = []
        for key, item in value.items():
            lines += _entry(pad + scalar(str(key)) + ":", item, indent, nested_indent=indent + 2)
        return lines
    if isinstance(value, list):
        if not value:
            return [pad + "[]"]
        lines = []
        for item in value:
            if isinstance(item, (dict, list)) and item:
                inner = _node(item, indent + 2)
                lines.append(pad + "- " + inner[0][indent + 2 :])
                lines += inner[1:]
            else:
                lines += _entry(pad + "-", item, indent, nested_indent=indent + 2)
        return lines
    literal = _literal(value, indent - 2) if isinstance(value, str) else None
    return [pad + (literal[0] if literal else scalar(value))] + (literal[1:] if literal else [])


def _entry(head: str, value: Any, indent: int, nested_indent: int) -> list[str]:
    if isinstance(value, (dict, list)) and value:
        if isinstance(value, list):
            return [head] + _node(value, indent)
        return [head] + _node(value, nested_indent)
    if isinstance(value, str):
        literal = _literal(value, indent)
        if literal:
            return [f"{head} {literal[0]}"] + literal[1:]
    if isinstance(value, (dict, list)):
        return [f"{head} {'{}' if isinstance(value, dict) else '[]'}"]
    return [f"{head} {scalar(value)}"]


# The emitter dump() uses: the lines _node and _entry make, appended to one list in place of the
# lists they build and join (a fifth of render at 1,000 workspaces); tests/test_yamlout.py holds
# the two equal.


def _emit_map(mapping: dict[Any, Any], indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for key, item in mapping.items():
        _emit_entry(f"{pad}{_string(key) if type(key) is str else scalar(str(key))}:", item, indent, lines)


def _emit_list(items: list[Any], indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for item in items:
        if item and isinstance(item, (dict, list)):
            first = len(lines)
            if isinstance(item, dict):
                _emit_map(item, indent + 2, lines)
            else:
                _emit_list(item, indent + 2, lines)
            lines[first] = pad + "- " + lines[first][indent + 2 :]
        else:
            _emit_entry(pad + "-", item, indent, lines)


def _emit_entry(head: str, value: Any, indent: int, lines: list[str]) -> None:
    if type(value) is str:
        literal = _literal(value, indent) if "\n" in value else None
        if literal:
            lines.append(f"{head} {literal[0]}")
            lines += literal[1:]
        else:
            lines.append(f"{head} {_string(value)}")
    elif isinstance(value, dict):
        if value:
            lines.append(head)
            _emit_map(value, indent + 2, lines)
        else:
            lines.append(head + " {}")
    elif isinstance(value, list):
        if value:
            lines.append(head)
            _emit_list(value, indent, lines)
        else:
            lines.append(head + " []")
    elif isinstance(value, str):  # a subclass of str
        lines += _entry(head, value, indent, indent + 2)
    else:
        lines.append(f"{head} {scalar(value)}")


def flow(value: Any) -> str:
    """A value as one line of flow YAML (JSON is YAML), for templates: it cannot add structure."""
    return _printable(json.dumps(value, ensure_ascii=False))
