"""One YAML file of the config repository, parsed: every node keeps its line and column.

All input safety limits live here: a file is refused before parsing when it is too large, and
the composed node graph is measured before anything is constructed from it, so an alias bomb
costs a few milliseconds and no memory. libyaml reads when it can (yamlfast.py); ruamel otherwise
and for the editing tools, whose comments must survive.
"""

from __future__ import annotations

import datetime
import warnings
from dataclasses import dataclass, field
from typing import Any

from compiler.diagnostics import Diagnostic, Position, error
from compiler.load import numbers as yamlnumbers

RULES: dict[str, str] = {
    "YAML-001": "YAML syntax error",
    "YAML-002": "duplicate key",
    "YAML-003": "tab character used for indentation",
    "YAML-004": "file is not valid UTF-8",
    "YAML-005": "file is empty",
    "YAML-006": "top level is not a mapping",
    "YAML-007": "more nodes than the node limit (a large file, or aliases: an alias bomb)",
    "YAML-008": "file is larger than the size limit",
    "YAML-009": "nesting deeper than the depth limit",
    "YAML-010": "more than one YAML document in a file",
    "YAML-011": "string longer than the length limit",
    "YAML-012": "number that is not finite or does not fit in 64 bits",
}

# The input limits, each refused with a diagnostic that names it (docs/security.md#limits).
MAX_FILE_BYTES = 4 * 1024 * 1024  # YAML-008: one file, before it is parsed
MAX_NODES = 200_000  # YAML-007: nodes one file expands to, aliases included
MAX_DEPTH = 64  # YAML-009: nesting of mappings and lists
MAX_STRING_CHARS = 16_384  # YAML-011: one key or value (a long Modelfile SYSTEM prompt fits)


@dataclass(frozen=True, slots=True)
class Document:
    """One parsed YAML file: `data` is the round-trip tree, with positions on every node."""

    path: str
    data: Any
    text: str = field(default="", repr=False, compare=False)  # as read: the secret scan reads comments too

    def position(self, loc: tuple[Any, ...] = (), *, key: bool = False) -> Position:
        line, column = locate(self.data, loc, key=key)
        return Position(self.path, line, column)

    def child_position(self, parent: Any, loc: tuple[Any, ...]) -> Position:
        """position(loc) for a value whose `parent` mapping or list (the node at loc[:-1]) the
        caller holds: one step, not a walk from the top (merge asks it of every value)."""
        found = _child_position(parent, loc[-1], key=False)
        if found is None:
            return self.position(loc)
        return Position(self.path, *found)


def parse_document(raw: bytes, name: str) -> tuple[Document | None, list[Diagnostic]]:
    if len(raw) > MAX_FILE_BYTES:
        return None, [too_large(name, len(raw))]
    text, problem = _decode(raw, name)
    if problem:
        return None, [problem]
    data, problem = _parse(text, name)
    if problem:
        return None, [problem]
    if data is None:
        return None, [error(Position(name, 1, 1), "YAML-005", "the file is empty: it needs a mapping of keys")]
    if not isinstance(data, dict):
        line, column = locate(data, ())
        kind = "a list" if isinstance(data, list) else "a single value"
        return None, [
            error(Position(name, line, column), "YAML-006", f"the top level is {kind}; it must be a mapping of keys")
        ]
    return Document(name, data, text), []


def too_large(name: str, size: int) -> Diagnostic:
    return error(
        Position(name),
        "YAML-008",
        f"the file is {size} bytes, over the limit of {MAX_FILE_BYTES} bytes",
        hint="split workspaces into workspaces/*.yaml files",
    )


def _decode(raw: bytes, name: str) -> tuple[str, Diagnostic | None]:
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        message = f"invalid UTF-8 byte 0x{raw[exc.start]:02x}: hks reads YAML as UTF-8"
        return "", error(Position(name, line, column), "YAML-004", message)


def _parse(text: str, name: str) -> tuple[Any, Diagnostic | None]:
    """libyaml's fast path first; ruamel for whatever it is not sure of (compiler/load/yamlfast.py)."""
    from compiler.load import yamlfast

    # Every node but an empty scalar starts at a character of its own, and an empty scalar
    # needs an indicator beside it: a file of fewer than MAX_NODES / 2 characters cannot hold
    # more nodes than the limit, so the common small file is not parsed twice.
    past = yamlfast.node_past(text, MAX_NODES) if len(text) > MAX_NODES // 2 else None
    if past is not None:
        return None, _too_many_nodes(Position(name, past[0] + 1, past[1] + 1))
    data = yamlfast.read(text, MAX_DEPTH, MAX_NODES, MAX_STRING_CHARS)
    if data is not yamlfast.UNSURE:
        return data, None
    # One by one, so that what is off is named as before (or left to ruamel).
    node = yamlfast.compose(text, MAX_DEPTH)
    if node is None:
        return None, None
    if node is not yamlfast.UNSURE:
        problem = _measure(node, name)
        if problem:
            return None, problem
        data = yamlfast.build(node)
        if data is not yamlfast.UNSURE:
            return data, None
    return _parse_round_trip(text, name)


def _parse_round_trip(text: str, name: str) -> tuple[Any, Diagnostic | None]:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.reader import ReaderError

    yaml = YAML(typ="rt")  # YAML 1.2: `no`, `on` and `yes` stay strings
    parser = None
    try:
        constructor, parser = yaml.get_constructor_parser(text)
        _limit_depth(constructor.composer, name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a redefined anchor is valid YAML; ruamel warns on stderr
            node = constructor.composer.get_single_node()
        if node is None:
            return None, None
        problem = _measure(node, name)
        if problem:
            return None, problem
        try:
            return constructor.construct_document(node), None
        except ValueError:  # a scalar that looks like a date but is none, such as 2026-13-45
            return None, _bad_date(node, name)
    except _Refused as refused:
        return None, refused.diagnostic
    except MarkedYAMLError as exc:
        return None, _yaml_error(exc, name, text)
    except ReaderError as exc:
        line, column = _offset_position(text, exc.position)
        message = f"character U+{exc.character:04X} is not allowed in YAML"
        return None, error(Position(name, line, column), "YAML-001", message)
    except YAMLError as exc:
        return None, error(Position(name, 1, 1), "YAML-001", str(exc).splitlines()[0])
    except RecursionError:
        return None, _too_deep(Position(name, 1, 1))
    except (AttributeError, IndexError, KeyError, TypeError):
        # ruamel's own failures on hostile input (found by fuzzing: a `%TAG` directive before
        # the first document, a `!!set` tag on a scalar): the file cannot be read, which is
        # the user's problem to fix, not a crash.
        return None, error(Position(name, 1, 1), "YAML-001", "YAML syntax error: the file cannot be read as YAML")
    finally:
        if parser is not None:
            parser.dispose()


def _bad_date(root: Any, name: str) -> Diagnostic:
    pending = [root]
    while pending:
        node = pending.pop(0)
        if node.id == "mapping":
            pending += [child for pair in node.value for child in pair]
        elif node.id == "sequence":
            pending += list(node.value)
        elif node.tag.endswith(":timestamp") and not _is_date(node.value):
            position = Position(name, node.start_mark.line + 1, node.start_mark.column + 1)
            return error(position, "YAML-001", "not a valid date: write YYYY-MM-DD, or quote the value if it is text")
    return error(Position(name, 1, 1), "YAML-001", "a value cannot be read")


def _is_date(text: str) -> bool:
    try:
        datetime.date.fromisoformat(text[:10])
    except ValueError:
        return False
    return True


def _limit_depth(composer: Any, name: str) -> None:
    """Stops composing at MAX_DEPTH or MAX_NODES, before ruamel's own recursion gets slow or overflows."""
    compose_node = composer.compose_node
    depth = nodes = 0

    def limited(parent: Any, index: Any) -> Any:
        nonlocal depth, nodes
        depth += 1
        nodes += 1
        try:
            if depth > MAX_DEPTH or nodes > MAX_NODES:
                mark = composer.parser.peek_event().start_mark
                position = Position(name, mark.line + 1, mark.column + 1)
                raise _Refused(_too_deep(position) if depth > MAX_DEPTH else _too_many_nodes(position))
            return compose_node(parent, index)
        finally:
            depth -= 1

    composer.compose_node = limited


def _yaml_error(exc: Any, name: str, text: str) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    position = Position(name, mark.line + 1, mark.column + 1) if mark else Position(name, 1, 1)
    problem = (exc.problem or "").strip()
    context = (exc.context or "").strip()
    kind = type(exc).__name__
    if kind == "DuplicateKeyError":
        key = problem.split('"')[1] if '"' in problem else "?"
        first = _first_key_line(text, key, exc.context_mark, mark) if exc.context_mark and mark else None
        where = f" (first defined on line {first})" if first else ""
        return error(position, "YAML-002", f"duplicate key '{key}'{where}", hint="each key may appear once in a mapping")
    if "'\\t'" in problem:
        return error(position, "YAML-003", "tab character: YAML indents with spaces only", hint="replace tabs with spaces")
    if "expected a single document" in problem or "expected a single document" in context:
        return error(position, "YAML-010", "more than one YAML document: hks expects one per file")
    if context and exc.context_mark and mark and exc.context_mark.line != mark.line:
        context += f" that starts on line {exc.context_mark.line + 1}"
    message = problem if not context else f"{problem} ({context})"
    return error(position, "YAML-001", f"YAML syntax error: {message}")


def _first_key_line(text: str, key: str, start: Any, duplicate: Any) -> int | None:
    """The line of the key's first appearance in the mapping (ruamel marks only the mapping)."""
    lines = text.splitlines()
    for number in range(start.line, duplicate.line):
        if lines[number][duplicate.column :].split(":", 1)[0].strip().strip("'\"") == key:
            return number + 1
    return None


def _offset_position(text: str, offset: int) -> tuple[int, int]:
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def _too_many_nodes(position: Position) -> Diagnostic:
    return error(
        position,
        "YAML-007",
        f"the file has more than {MAX_NODES} nodes (keys, values and list items)",
        hint="split workspaces into workspaces/*.yaml files",
    )


def _too_deep(position: Position) -> Diagnostic:
    return error(position, "YAML-009", f"nesting deeper than {MAX_DEPTH} levels")


def _measure(root: Any, name: str) -> Diagnostic | None:
    """Counts the nodes and depth the graph expands to, sharing the work between aliases (on
    ruamel's nodes or libyaml's, which name their kind alike)."""
    sizes: dict[int, tuple[int, int]] = {}
    active: set[int] = set()

    def where(node: Any) -> Position:
        return Position(name, node.start_mark.line + 1, node.start_mark.column + 1)

    def visit(node: Any) -> tuple[int, int]:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise _Refused(error(where(node), "YAML-007", "a recursive alias refers to itself"))
        if node.id == "mapping":
            children = [child for pair in node.value for child in pair]
        elif node.id == "sequence":
            children = list(node.value)
        else:
            children = []
            number = _number_problem(node)
            if number:
                raise _Refused(error(where(node), "YAML-012", number, hint="write a finite number in range, or quote it if it is text"))
            if isinstance(node.value, str) and len(node.value) > MAX_STRING_CHARS:
                raise _Refused(
                    error(
                        where(node),
                        "YAML-011",
                        f"a string of {len(node.value)} characters: the limit is {MAX_STRING_CHARS}",
                        hint="keep long text (prompts, certificates) in the files that need it",
                    )
                )
        active.add(key)
        count, depth = 1, 0
        for child in children:
            child_count, child_depth = visit(child)
            count += child_count
            depth = max(depth, child_depth)
        active.discard(key)
        result = (count, depth + 1)
        if count > MAX_NODES:
            raise _Refused(
                error(
                    where(node),
                    "YAML-007",
                    f"aliases here expand to more than {MAX_NODES} nodes (an alias bomb?)",
                    hint="use fewer nested aliases",
                )
            )
        if result[1] > MAX_DEPTH:
            raise _Refused(_too_deep(where(node)))
        sizes[key] = result
        return result

    try:
        visit(root)
    except _Refused as refused:
        return refused.diagnostic
    return None


def _number_problem(node: Any) -> str | None:
    """Checks scalars YAML reads as a number: plain ones on libyaml's fast path (tagged
    `hks:plain`), those ruamel resolves to int or float, and explicitly tagged ones."""
    tag = node.tag or ""
    if tag == "hks:plain" or tag.endswith((":int", ":float")):
        return yamlnumbers.problem(node.value)
    return None


class _Refused(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic


def locate(data: Any, loc: tuple[Any, ...], *, key: bool = False) -> tuple[int, int]:
    """The 1-based (line, column) of the node at `loc`, or of its nearest ancestor.

    Elements of `loc` that are not in the data (pydantic's union tags) are skipped.
    """
    line, column = _own_position(data)
    node = data
    for index, step in enumerate(loc):
        last = index == len(loc) - 1
        found = _child_position(node, step, key=key and last)
        if found is None:
            continue
        line, column = found
        node = node[step]
    return line, column


def _own_position(node: Any) -> tuple[int, int]:
    lc = getattr(node, "lc", None)
    if lc is None or lc.line is None:
        return 1, 1
    return lc.line + 1, lc.col + 1


def _child_position(node: Any, step: Any, *, key: bool) -> tuple[int, int] | None:
    lc = getattr(node, "lc", None)
    if lc is None:  # a plain tree (libyaml's, or one built in code) has no positions
        return None
    try:
        if isinstance(node, dict) and step in node:
            line, column = lc.key(step) if key else lc.value(step)
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            line, column = lc.item(step)
        else:
            return None
    except (AttributeError, KeyError, TypeError):
        return None
    return line + 1, column + 1


def to_plain(node: Any) -> Any:
    """The round-trip tree as plain dicts, lists and scalars, for validation."""
    if isinstance(node, dict):
        return {to_plain(k): to_plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [to_plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return bool(node) if type(node).__name__ == "ScalarBoolean" else int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, datetime.datetime):
        return node if node.hour or node.minute or node.second else node.date()
    return node
