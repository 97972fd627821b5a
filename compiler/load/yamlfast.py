"""The fast path of repo.py (and of `hks diff`'s reading of rendered files): libyaml's C composer
(PyYAML's CSafeLoader), whose nodes carry their line and column, turned into dicts and lists that
answer `lc` as ruamel's round-trip tree does.

It takes only what it can read exactly as the ruamel path would: plain YAML with the scalars of
the YAML 1.2 core schema in their common spellings, dates, anchors and aliases. Anything else (a
libyaml error, a tag, a merge key, a duplicate key, an unusual number or date, characters ruamel's
reader refuses, deep flow nesting) returns UNSURE, and repo.py reads the file with ruamel, which
gives the diagnostics their exact wording. tests/load/test_yamlfast.py holds the two paths equal.
"""

from __future__ import annotations

import datetime
import functools
import re
from typing import Any

from compiler.load import numbers

UNSURE = object()  # "read it with ruamel"

# Characters ruamel's reader refuses (ruamel.yaml.reader.NON_PRINTABLE), a byte-order mark
# anywhere but the start, and the line breaks of YAML 1.1 that libyaml reads as text (NEL, U+2028,
# U+2029).
_NOT_PRINTABLE = "[^\x09\x0a\x0d\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffc\U00010000-\U0010ffff]"
# The same class for a text of ASCII only (the common file), which compiles in a tenth of the
# time: the full class took 3 ms of every command's start.
_NOT_PRINTABLE_ASCII = re.compile("[^\x09\x0a\x0d\x20-\x7e]")
# libyaml composes recursively in C: more than this many flow brackets could nest past its stack.
_MAX_FLOW_BRACKETS = 10_000
# Where libyaml and ruamel read the same text differently: a directive (`%YAML 1.1` makes ruamel
# read YAML 1.1), an anchor or alias whose name holds a character ruamel ends it at (`&x:`), and
# a block scalar's header followed by `#` with no space. A plain scalar that only looks like one
# of these (`a & b`) costs the ruamel way, nothing else.
_READ_APART = re.compile(r"^%|(?<![^\s\[\]{},])[&*](?![A-Za-z0-9_-]+(?![^\s\[\]{},]))|[|>][0-9+-]*#", re.MULTILINE)

_NULL = re.compile(r"~|null|Null|NULL|")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_FLOAT = re.compile(r"[-+]?(?:[0-9]+\.[0-9]*(?:[eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+)")
_SPECIAL_FLOAT = {
    **{f"{sign}.{inf}": float(f"{sign}inf") for sign in ("", "+", "-") for inf in ("inf", "Inf", "INF")},
    **{f".{nan}": float("nan") for nan in ("nan", "NaN", "NAN")},
}
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Plain scalars that ruamel's 1.2 resolver reads as a number, timestamp, merge key or value
# indicator in a spelling this module does not construct itself.
_TRICKY = re.compile(
    r"[-+]?(?:0b[0-1_]+|0o?[0-7_]+|[0-9_]+|0x[0-9a-fA-F_]+)"  # ints ruamel reads (0o17, 1_000, 017)
    r"|[-+]?(?:[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[0-9][0-9_]*[eE][-+]?[0-9]+|\.[0-9_]+(?:[eE][-+][0-9]+)?)"
    r"|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+).*"  # a timestamp with a time
    r"|<<|="
)
_PLAIN = "hks:plain"  # an untagged plain scalar, resolved here by YAML 1.2 rules
_STR, _SEQ, _MAP = "tag:yaml.org,2002:str", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"


class _Position:
    """What parse.locate reads from a ruamel node's `lc`: its own line and column, and those of
    each key and value (mappings: key → (key line, key column, value line, value column)) or
    item (lists), all 0-based. One dict per node, slots everywhere: at 10,000 workspaces the
    positions were half of what validate kept in memory."""

    __slots__ = ("_at", "col", "line")

    def __init__(self, line: int, col: int) -> None:
        self.line, self.col = line, col
        self._at: dict[Any, tuple[int, ...]] = {}

    def key(self, key: Any) -> tuple[int, int]:
        line, col, _, _ = self._at[key]
        return line, col

    def value(self, key: Any) -> tuple[int, int]:
        _, _, line, col = self._at[key]
        return line, col

    def item(self, index: int) -> tuple[int, int]:
        line, col = self._at[index]
        return line, col


class PositionedMap(dict):  # type: ignore[type-arg]
    __slots__ = ("lc",)
    lc: _Position


class PositionedList(list):  # type: ignore[type-arg]
    __slots__ = ("lc",)
    lc: _Position


class _Unsure(Exception):
    pass


def compose(text: str, max_depth: int) -> Any:
    """The document's node graph (libyaml's composer, aliases shared, nothing expanded), None
    for an empty document, or UNSURE. Deeper than `max_depth` is UNSURE too: the ruamel path
    names the line where the limit is crossed."""
    node = _single_node(text)
    if node is not None and node is not UNSURE and _deeper_than(node, max_depth):
        return UNSURE
    return node


def _single_node(text: str) -> Any:
    """libyaml's node graph of the document, None when it is empty, or UNSURE where libyaml and
    ruamel may disagree or libyaml cannot read it."""
    import yaml

    loader_class = _loader_class()
    # A tab: libyaml allows it in places where ruamel refuses it (YAML-003).
    if loader_class is None or "\t" in text or _not_printable(text) or _too_many_brackets(text) or _READ_APART.search(text):
        return UNSURE
    loader = loader_class(text)
    try:
        return loader.get_single_node()
    except yaml.YAMLError:
        return UNSURE
    finally:
        loader.dispose()


def node_past(text: str, limit: int) -> tuple[int, int] | None:
    """The 0-based (line, column) of the first node past `limit`, counted on libyaml's event
    stream before anything is built (aliases count once: load/repo.py measures what they expand
    to), or None. A file libyaml cannot read is left to the ruamel path, which counts too."""
    import yaml

    try:
        from yaml._yaml import CParser
    except ImportError:  # PyYAML without libyaml
        return None
    parser, count = CParser(text), 0
    nodes = (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent)
    try:
        while (event := parser.get_event()) is not None:
            if isinstance(event, nodes):
                count += 1
                if count > limit:
                    mark = event.start_mark
                    return (mark.line, mark.column) if mark else (0, 0)
    except yaml.YAMLError:
        return None
    finally:
        parser.dispose()
    return None


def build(node: Any) -> Any:
    """The data of a composed (and measured) node graph, with positions, or UNSURE."""
    try:
        return _Builder().build(node)
    except _Unsure:
        return UNSURE


def read(text: str, max_depth: int, max_nodes: int, max_chars: int) -> Any:
    """compose, parse._measure and build in one pass over the node graph: the data with
    positions, None for an empty document, or UNSURE. UNSURE also when the graph crosses a limit
    (`max_depth`, `max_nodes` expanded, a string over `max_chars`) or holds a number
    load/numbers.py refuses: parse.py then takes the three steps one by one, which name the
    problem. So the common file is walked once in Python, not three times, and nothing that
    is off takes another road than before."""
    node = _single_node(text)
    if node is None or node is UNSURE:
        return node
    try:
        return _read(node, max_depth, max_nodes, max_chars)
    except _Unsure:
        return UNSURE


# The first characters of the plain scalars _construct may read as something other than their
# text (null, a boolean, a number, a date, ruamel's own spellings: `_1`, `<<`, `=`): any other
# plain scalar is its text, and load/numbers.py has nothing to say about it.
_SPECIAL_START = frozenset("~nNtTfF0123456789+-._<=")


def plain_scalar(text: str) -> Any:
    """_construct(text), taking the short way for the common word (tests/load/test_yamlfast.py
    holds the two equal)."""
    if text and text[0] not in _SPECIAL_START:
        return text
    return _construct(text)


def _read(root: Any, max_depth: int, max_nodes: int, max_chars: int) -> Any:
    done: dict[int, tuple[Any, int, int]] = {}  # id → (data, nodes expanded, height): aliases share
    active: set[int] = set()  # mappings and lists being read: met again, a recursive alias
    problem = numbers.problem

    def scalar(node: Any) -> Any:
        tag, text = node.tag, node.value
        if len(text) > max_chars:
            raise _Unsure
        if node.style not in ("|", ">") and node.end_mark.line != node.start_mark.line:
            raise _Unsure  # a flow scalar over several lines: ruamel places what follows differently
        if tag == _PLAIN:
            if text and text[0] not in _SPECIAL_START:
                return text
            if problem(text):
                raise _Unsure
            return _construct(text)
        if tag == _STR:
            return text
        raise _Unsure  # an explicit tag: ruamel decides what it means

    def value_mark(node: Any) -> tuple[int, int]:
        if node.id == "scalar" and node.tag == _PLAIN and node.value == "":
            raise _Unsure  # an empty value: libyaml and ruamel place it differently
        mark = node.start_mark
        return mark.line, mark.column

    def visit(node: Any, depth: int) -> tuple[Any, int, int]:
        key = id(node)
        found = done.get(key)
        if found is not None:
            return found
        if depth > max_depth or key in active:
            raise _Unsure
        kind, mark = node.id, node.start_mark
        if kind == "scalar":
            result = (scalar(node), 1, 1)
            done[key] = result
            return result
        count, height = 1, 0
        active.add(key)
        if kind == "sequence":
            if node.tag != _SEQ:
                raise _Unsure
            items = PositionedList()
            position = items.lc = _Position(mark.line, mark.column)
            at = position._at
            for index, child in enumerate(node.value):
                at[index] = value_mark(child)
                data, child_count, child_height = visit(child, depth + 1)
                items.append(data)
                count += child_count
                height = child_height if child_height > height else height
            value: Any = items
        else:
            if node.tag != _MAP:
                raise _Unsure
            mapping = PositionedMap()
            position = mapping.lc = _Position(mark.line, mark.column)
            at = position._at
            for key_node, value_node in node.value:
                if key_node.id != "scalar":
                    raise _Unsure  # a complex key
                name, _, _ = visit(key_node, depth + 1)
                if name in mapping or isinstance(name, float):
                    raise _Unsure  # a duplicate key (ruamel names it), or a float key
                key_mark = key_node.start_mark
                at[name] = (key_mark.line, key_mark.column, *value_mark(value_node))
                data, child_count, child_height = visit(value_node, depth + 1)
                mapping[name] = data
                count += child_count + 1
                height = child_height if child_height > height else height
            value = mapping
        active.discard(key)
        height += 1
        if count > max_nodes or height > max_depth:
            raise _Unsure
        result = (value, count, height)
        done[key] = result
        return result

    return visit(root, 1)[0]


def _deeper_than(root: Any, limit: int) -> bool:
    pending, seen = [(root, 1)], set()
    while pending:
        node, depth = pending.pop()
        if depth > limit:
            return True
        if id(node) in seen or node.id == "scalar":
            continue
        seen.add(id(node))
        children = [c for pair in node.value for c in pair] if node.id == "mapping" else node.value
        pending += [(child, depth + 1) for child in children]
    return False


@functools.cache  # one class for every file
def _loader_class() -> Any:
    """libyaml's parser and composer with a resolver that leaves plain scalars to this module
    (PyYAML's would apply YAML 1.1: `yes`, `on` and `no` as booleans)."""
    import yaml

    try:
        from yaml._yaml import CParser as parser
    except ImportError:  # PyYAML without libyaml
        return None

    class Loader(parser, yaml.resolver.BaseResolver):
        def __init__(self, stream: str) -> None:
            parser.__init__(self, stream)
            yaml.resolver.BaseResolver.__init__(self)

        def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
            if kind is yaml.ScalarNode and implicit[0]:
                return _PLAIN
            if not (implicit[1] if kind is yaml.ScalarNode else implicit):
                return "!"  # the non-specific tag `!`, which ruamel reads otherwise: UNSURE
            return str(yaml.resolver.BaseResolver.resolve(self, kind, value, implicit))  # type: ignore[no-untyped-call]

    return Loader


def _not_printable(text: str) -> bool:
    if text.isascii():
        return _NOT_PRINTABLE_ASCII.search(text) is not None
    return _not_printable_any().search(text) is not None


@functools.cache
def _not_printable_any() -> re.Pattern[str]:
    return re.compile(_NOT_PRINTABLE)


def _too_many_brackets(text: str) -> bool:
    return text.count("[") + text.count("{") > _MAX_FLOW_BRACKETS


def _mark(node: Any) -> tuple[int, int]:
    return node.start_mark.line, node.start_mark.column


def _value_mark(node: Any) -> tuple[int, int]:
    if node.id == "scalar" and node.tag == _PLAIN and node.value == "":
        raise _Unsure  # an empty value: libyaml and ruamel place it differently
    return _mark(node)


class _Builder:
    """Builds each node once, so aliases share their object as ruamel's do. load/repo.py measures the
    node graph (alias bombs, depth) before it calls this."""

    def __init__(self) -> None:
        self._built: dict[int, Any] = {}

    def build(self, node: Any) -> Any:
        key = id(node)
        if key in self._built:
            return self._built[key]
        if node.tag not in {"scalar": (_PLAIN, _STR), "sequence": (_SEQ,), "mapping": (_MAP,)}[node.id]:
            raise _Unsure  # an explicit tag: ruamel decides what it means
        if node.id == "scalar":
            value = _scalar(node)
        elif node.id == "sequence":
            value = PositionedList()
            value.lc = _Position(*_mark(node))
            self._built[key] = value
            for index, child in enumerate(node.value):
                value.lc._at[index] = _value_mark(child)
                value.append(self.build(child))
        else:
            value = PositionedMap()
            value.lc = _Position(*_mark(node))
            self._built[key] = value
            for key_node, value_node in node.value:
                if key_node.id != "scalar":
                    raise _Unsure  # a complex key
                name = self.build(key_node)
                if name in value or isinstance(name, float):
                    raise _Unsure  # a duplicate key (ruamel names it), or a float key
                value.lc._at[name] = _mark(key_node) + _value_mark(value_node)
                value[name] = self.build(value_node)
        self._built[key] = value
        return value


def _scalar(node: Any) -> Any:
    if node.style not in ("|", ">") and node.end_mark.line != node.start_mark.line:
        raise _Unsure  # a flow scalar over several lines: ruamel places what follows differently
    return _construct(node.value) if node.tag == _PLAIN else node.value


def _construct(text: str) -> Any:
    if _NULL.fullmatch(text):
        return None
    if text in _BOOL:
        return _BOOL[text]
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    if text in _SPECIAL_FLOAT:
        return _SPECIAL_FLOAT[text]
    if _DATE.fullmatch(text):
        try:
            return datetime.date.fromisoformat(text)
        except ValueError as exc:
            raise _Unsure from exc  # ruamel says which date is wrong
    if _TRICKY.fullmatch(text):
        raise _Unsure
    return text
