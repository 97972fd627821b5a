"""Surgical edits of the config repository's YAML files, for the editing commands.

A file is loaded as a ruamel.yaml round-trip tree, changed, and dumped with the file's own
indentation. ruamel still normalises a few things it does not keep (an explicit `null`, some
spacing), so the result is not the dump itself: the lines the edit changed in the dump are
transplanted into the original text, and every other line stays byte-identical.

Then the whole config is validated in memory with the new text in place of the old, exactly as
`hks validate` would read it, and only an edit that adds no error is written, atomically.
"""

from __future__ import annotations

import difflib
import io
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler.diagnostics import Diagnostic, Severity
from compiler.load.parse import parse_document

MAP_TOKEN, SEQ_TOKEN = 2, 0  # where ruamel keeps the comment that follows a map value / list item


@dataclass(frozen=True)
class Indent:
    mapping: int = 2
    sequence: int = 4
    offset: int = 2


@dataclass
class YamlFile:
    """One file being edited: `data` is changed in place, `text()` is the file afterwards."""

    path: Path
    original: str | None  # None: a new file
    data: Any
    indent: Indent
    baseline: str = field(default="")
    newline: str = "\n"
    bom: str = ""
    disk: bytes | None = None  # the bytes read (None: no file), checked again just before writing

    def text(self) -> str:
        from compiler.errors import InputError

        dumped = _dump(self.data, self.indent).replace("\n", self.newline)
        if self.original is None:
            return dumped
        placed = transplant(self.original, self.baseline, dumped)
        if placed is not None and not _holds(placed, self.data):  # a safety net: never a wrong merge
            placed = None
        if placed is None:
            raise InputError(
                f"{self.path}: hks cannot make this change without rewriting lines it should not touch "
                "(the edit falls inside lines the YAML library would reformat); make it by hand"
            )
        return self.bom + placed

    @property
    def changed(self) -> bool:
        return self.text() != self.bom + (self.original or "")  # text() keeps the byte-order mark


def _yaml(indent: Indent) -> Any:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long line the user wrote on one
    yaml.indent(mapping=indent.mapping, sequence=indent.sequence, offset=indent.offset)
    yaml.representer.add_representer(
        type(None), lambda rep, _: rep.represent_scalar("tag:yaml.org,2002:null", "null")
    )
    return yaml


def _dump(data: Any, indent: Indent) -> str:
    out = io.StringIO()
    _yaml(indent).dump(data, out)
    return out.getvalue()


def open_file(path: Path) -> tuple[YamlFile | None, list[Diagnostic]]:
    """Loads a file for editing, through the same parser and limits as `hks validate`; a link is
    edited only when it stays in its folder, as writing replaces it with a file."""
    from compiler.load.repo import read_input

    raw, problem = read_input(path, path.parent)
    if raw is None:
        return None, [problem] if problem else []
    doc, diagnostics = parse_document(raw, str(path))
    if doc is None:
        return None, diagnostics
    found, diagnostics = open_file_text(path, raw.decode("utf-8-sig"), bom="\ufeff" if raw.startswith(b"\xef\xbb\xbf") else "")
    if found is not None:
        found.disk = raw
    return found, diagnostics


def open_file_text(path: Path, text: str, bom: str = "") -> tuple[YamlFile | None, list[Diagnostic]]:
    doc, diagnostics = parse_document(text.encode("utf-8"), str(path))
    if doc is None:
        return None, diagnostics
    data = _yaml(Indent()).load(text)
    indent = detect_indent(data)
    newline = "\r\n" if "\r\n" in text else "\n"
    baseline = _dump(data, indent).replace("\n", newline)
    return YamlFile(path, text, data, indent, baseline, newline, bom), []


def new_file(path: Path) -> YamlFile:
    from ruamel.yaml.comments import CommentedMap

    return YamlFile(path, None, CommentedMap(), Indent())


def detect_indent(data: Any) -> Indent:
    """The file's own indentation: of the first nested block mapping, and of the first block list
    (the column of its dash and of its items, relative to the key that holds it)."""
    mapping: int | None = None
    sequence: tuple[int, int] | None = None
    for key_col, child in _block_children(data):
        # measured from the first key and item, not the node's start, which an anchor moves
        if mapping is None and _is_map(child) and len(child):
            mapping = child.lc.key(next(iter(child)))[1] - key_col
        if sequence is None and _is_seq(child) and len(child) and not _is_map(child[0]):
            item = child.lc.item(0)[1] - key_col
            anchored = getattr(getattr(child, "anchor", None), "value", None)
            sequence = (item, item - 2 if anchored else child.lc.col - key_col)
    mapping = mapping if mapping and mapping > 0 else 2
    if sequence is None or sequence[0] <= sequence[1]:
        return Indent(mapping, mapping + 2, mapping)
    return Indent(mapping, sequence[0], sequence[1])


def _block_children(node: Any) -> list[tuple[int, Any]]:
    found: list[tuple[int, Any]] = []
    if _is_map(node) and not _is_flow(node):
        for key in node:
            child = node[key]
            if (_is_map(child) or _is_seq(child)) and not _is_flow(child):
                key_col = node.lc.key(key)[1]
                found.append((key_col, child))
                found += _block_children(child)
    elif _is_seq(node) and not _is_flow(node):
        for item in node:
            found += _block_children(item)
    return found


def _is_map(node: Any) -> bool:
    from ruamel.yaml.comments import CommentedMap

    return isinstance(node, CommentedMap)


def _is_seq(node: Any) -> bool:
    from ruamel.yaml.comments import CommentedSeq

    return isinstance(node, CommentedSeq)


def _is_flow(node: Any) -> bool:
    return bool(getattr(node, "fa", None) and node.fa.flow_style())


# --- changing the tree ------------------------------------------------------------------------


def check_unshared(data: Any, keys: tuple[str, ...]) -> None:
    """Refuses to edit through a YAML anchor or merge key: the change would silently reach every
    other place that uses it."""
    from compiler.errors import InputError

    node = data
    for depth, key in enumerate(keys):
        if not _is_map(node) or key not in node:
            return
        node = node[key]
        anchor = getattr(getattr(node, "anchor", None), "value", None)
        merged = bool(getattr(node, "merge", None))
        if anchor or merged:
            where = ".".join(keys[: depth + 1])
            how = f"the anchor &{anchor}" if anchor else "a merge key (<<)"
            raise InputError(f"{where} is shared through {how}: change it by hand so the other users stay as they are")


def set_path(data: Any, keys: tuple[str, ...], value: Any, original: str | None = None) -> bool:
    """Sets the value at `keys`, making the missing mappings on the way in one piece (so comments
    that followed the parent stay after the whole new block). Returns whether anything changed."""
    check_unshared(data, keys)
    node = data
    for index, key in enumerate(keys[:-1]):
        if not _is_map(node.get(key)):
            nested: Any = value
            for outer in reversed(keys[index + 1 :]):
                nested = {outer: nested}
            return add_section(node, key, nested, original) if node is data else set_value(node, key, nested)
        node = node[key]
    if node is data and keys[-1] not in data:
        return add_section(data, keys[-1], value, original)
    return set_value(node, keys[-1], value)


def find(data: Any, keys: tuple[str, ...]) -> Any:
    node = data
    for key in keys:
        if not _is_map(node) or key not in node:
            return None
        node = node[key]
    return node


def set_value(mapping: Any, key: str, value: Any) -> bool:
    """Sets `mapping[key]`, keeping the old value's quoting style and the key's comments.
    Returns whether anything changed."""
    value = _styled(mapping.get(key), commented(value))
    if key in mapping:
        if same(mapping[key], value):
            return False
        mapping[key] = value
        return True
    _append_key(mapping, key, value)
    return True


def add_section(data: Any, key: str, value: Any, original: str | None) -> bool:
    """A new top-level key; after a blank line when the file separates its sections so (as a
    file hks makes does)."""
    if key in data:
        return set_value(data, key, value)
    separated = original is None or "\n\n" in original.rstrip("\n")
    if not (separated and len(data)):
        return set_value(data, key, value)
    leaf = _last_leaf(data)
    rest = _take_following_lines(*leaf)
    data[key] = commented(value)
    _give_to(*leaf, "\n")
    if rest:
        _give_following_lines(data, rest)
    return True


def delete_key(mapping: Any, key: str, carry: str = "") -> str:
    """Deletes `mapping[key]`. The comment lines that followed it (and `carry`, lines left over
    from deleting inside it) stay where they were; returns them when `mapping` is left empty
    and they have no place in it."""
    if key not in mapping:
        return carry
    index = list(mapping).index(key)
    rest = carry + _take_following_lines(mapping, key)
    del mapping[key]
    mapping.ca.items.pop(key, None)
    return _keep_lines(mapping, index, rest)


def append_item(seq: Any, value: Any) -> None:
    value = commented(value)
    rest = _take_following_lines(*_last_leaf(seq)) if len(seq) else ""
    seq.append(value)
    if rest:
        _give_following_lines(seq, rest)


def remove_item(seq: Any, index: int) -> str:
    """Like delete_key, for a list item."""
    rest = _take_following_lines(seq, index)
    del seq[index]  # ruamel shifts the comments of the items after it
    return _keep_lines(seq, index, rest)


def give_after(container: Any, key: Any, rest: str) -> None:
    """Puts comment lines after the entry `key` (after its whole block)."""
    if not rest:
        return
    value = container[key]
    if (_is_map(value) or _is_seq(value)) and len(value) and not _is_flow(value):
        _give_following_lines(value, rest)
        return
    if _is_map(value) or _is_seq(value):
        value.fa.set_flow_style()  # `{}` on the key's line, so the lines can follow it
    _give_to(container, key, rest)


def _keep_lines(container: Any, index: int, rest: str) -> str:
    """Lines that followed a deleted entry go after the entry before it; when it was the first,
    before the new first entry; when none is left, back to the caller."""
    if not rest:
        return ""
    if index > 0:
        give_after(container, list(container)[index - 1] if _is_map(container) else index - 1, rest)
        return ""
    if len(container):
        _start_comment(container, rest)
        return ""
    return rest


def _start_comment(container: Any, text: str) -> None:
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    if container.ca.comment is None:
        container.ca.comment = [None, []]
    if container.ca.comment[1] is None:
        container.ca.comment[1] = []
    container.ca.comment[1].append(CommentToken(text, CommentMark(0), None))


def _append_key(mapping: Any, key: str, value: Any) -> None:
    """A new key goes last; the comments and blank lines that followed the old last entry (often
    the heading of the next section) move after it, so they stay where they were in the file."""
    rest = _take_following_lines(*_last_leaf(mapping)) if len(mapping) else ""
    mapping[key] = value
    if rest:
        _give_following_lines(mapping, rest)


def _last_leaf(node: Any) -> tuple[Any, Any]:
    """The container and key of the last scalar entry in `node`'s block: where ruamel keeps the
    comment lines that follow the whole block."""
    while True:
        last = list(node)[-1] if _is_map(node) else len(node) - 1
        child = node[last]
        if (_is_map(child) or _is_seq(child)) and len(child) and not _is_flow(child):
            node = child
            continue
        return node, last


def _token_index(container: Any) -> int:
    return MAP_TOKEN if _is_map(container) else SEQ_TOKEN


def _take_following_lines(container: Any, key: Any) -> str:
    """Detaches the full lines that follow entry `key` (keeping its end-of-line comment) and
    returns them."""
    if _is_map(container[key]) or _is_seq(container[key]):
        child = container[key]
        if len(child) and not _is_flow(child):
            return _take_following_lines(*_last_leaf(child))
    slot = container.ca.items.get(key)
    token = slot[_token_index(container)] if slot else None
    if token is None or "\n" not in token.value:
        return ""
    own, rest = str(token.value).split("\n", 1)
    if own:
        token.value = own + "\n"
    else:
        slot[_token_index(container)] = None
    return rest


def _give_following_lines(node: Any, rest: str) -> None:
    _give_to(*_last_leaf(node), rest)


def _give_to(container: Any, key: Any, rest: str) -> None:
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    slot = container.ca.items.setdefault(key, [None, None, None, None])
    index = _token_index(container)
    if slot[index] is not None:
        slot[index].value = slot[index].value + rest
    else:
        slot[index] = CommentToken("\n" + rest, CommentMark(0), None)


def commented(value: Any) -> Any:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(value, dict) and not _is_map(value):
        made = CommentedMap()
        for key, item in value.items():
            made[key] = commented(item)
        return made
    if isinstance(value, list) and not _is_seq(value):
        return CommentedSeq(commented(item) for item in value)
    return value


def _styled(old: Any, new: Any) -> Any:
    from ruamel.yaml.scalarstring import ScalarString

    if isinstance(old, ScalarString) and isinstance(new, str) and not isinstance(new, ScalarString):
        return type(old)(new)
    return new


def same(old: Any, new: Any) -> bool:
    from compiler.load.parse import to_plain

    return type(to_plain(old)) is type(to_plain(new)) and to_plain(old) == to_plain(new)


# --- from the dump back to the file ------------------------------------------------------------


def transplant(original: str, before: str, after: str) -> str | None:
    """Applies the change from `before` to `after` (two dumps) to `original`, the file as written.

    `before` differs from `original` only where ruamel normalised something; each changed stretch
    of `before` is found in `original` through the lines the two share. An edit that cuts into a
    normalised stretch cannot be placed: then None (never a wrong merge, never a reformatted file).
    """
    if before == original:
        return after
    old, base, new = original.splitlines(True), before.splitlines(True), after.splitlines(True)
    boundary = _boundaries(base, old)
    hunks = [op for op in difflib.SequenceMatcher(None, base, new, autojunk=False).get_opcodes() if op[0] != "equal"]
    for _, i1, i2, j1, j2 in reversed(hunks):
        start, end = boundary.get(i1), boundary.get(i2)
        if start is None or end is None or end < start:
            return None
        replaced = new[j1:j2]
        if end - start == j2 - j1:
            replaced = [_align_comment(a, _keep_spacing(a, b)) for a, b in zip(old[start:end], replaced, strict=True)]
        old[start:end] = replaced
    return "".join(old)


def _boundaries(base: list[str], old: list[str]) -> dict[int, int]:
    """For each place between lines of `base` that has one in `old`, where it is in `old`: the
    places inside stretches both share, and the edges of every stretch."""
    found: dict[int, int] = {}
    for tag, a1, a2, b1, b2 in difflib.SequenceMatcher(None, base, old, autojunk=False).get_opcodes():
        found[a1], found[a2] = b1, b2
        if tag == "equal" or (tag == "replace" and _respaced(base[a1:a2], old[b1:b2])):
            found.update({a1 + k: b1 + k for k in range(a2 - a1)})
    return found


def _respaced(dumped: list[str], written: list[str]) -> bool:
    """Lines ruamel only re-spaced (`model:       x`), which correspond one to one."""
    if len(dumped) != len(written):
        return False
    return len(dumped) == 1 or all(" ".join(a.split()) == " ".join(b.split()) for a, b in zip(dumped, written, strict=True))


_KEY_VALUE = re.compile(r"^(\s*(?:-\s+)?[^\s#'\"][^:#]*:)([ \t]+)(\S.*)$", re.DOTALL)


def _keep_spacing(old: str, new: str) -> str:
    """`model:       llama3:8b` keeps its column when only the value changes."""
    before, after = _KEY_VALUE.match(old), _KEY_VALUE.match(new)
    if not before or not after or before.group(1) != after.group(1):
        return new
    return after.group(1) + before.group(2) + after.group(3)


def _holds(text: str, data: Any) -> bool:
    """Whether `text` reads back as `data` (compared with the tree, not with ruamel's dump of it,
    which can round an untouched float)."""
    from compiler.load.parse import to_plain

    return bool(to_plain(_yaml(Indent()).load(text)) == to_plain(data))


def _align_comment(old: str, new: str) -> str:
    """Keeps an end-of-line comment in its column when ruamel moved it (it does in flow style)."""
    before, after = _comment_start(old), _comment_start(new)
    if before is None or after is None or old[before:] != new[after:]:
        return new
    code = new[:after].rstrip()
    return code + " " * max(before - len(code), 1) + new[after:]


def _comment_start(line: str) -> int | None:
    quote = ""
    for index, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and index and line[index - 1] in " \t":
            return index
    return None


def _line_map(base: list[str], old: list[str]) -> dict[int, int]:
    mapping: dict[int, int] = {}
    for block in difflib.SequenceMatcher(None, base, old, autojunk=False).get_matching_blocks():
        for k in range(block.size):
            mapping[block.a + k] = block.b + k
    return mapping


def _locate(where: dict[int, int], i1: int, i2: int, n_base: int, n_old: int) -> tuple[int, int] | None:
    if i1 == i2:  # an insertion before base line i1
        if i1 == n_base:
            return (n_old, n_old) if n_base - 1 in where or n_base == 0 else None
        if i1 in where:
            return where[i1], where[i1]
        if i1 - 1 in where:
            return where[i1 - 1] + 1, where[i1 - 1] + 1
        return None
    if all(i in where for i in range(i1, i2)) and where[i2 - 1] - where[i1] == i2 - 1 - i1:
        return where[i1], where[i2 - 1] + 1
    return None


# --- checking and writing ---------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    introduced: list[Diagnostic]  # errors the edit would add: it is refused
    remaining: list[Diagnostic]  # errors that were there before and still are
    warnings: list[Diagnostic] = field(default_factory=list)  # warnings the edit would add: shown, not refused


def check(root: str, changes: dict[Path, str]) -> Verdict:
    """Validates the config with `changes` in place of the files on disk, like `hks validate`."""
    from compiler.pipeline import compile_config

    before = compile_config(root)
    after = compile_config(root, pending={path: text.encode("utf-8") for path, text in changes.items()})
    known = {_identity(d) for d in before.diagnostics if d.severity == Severity.ERROR}
    errors = [d for d in after.diagnostics if d.severity == Severity.ERROR]
    if after.config is None and not errors:  # cannot happen, but never write an unreadable config
        raise AssertionError("config did not assemble but reported no error")
    introduced = [d for d in errors if _identity(d) not in known]
    warned = {_identity(d) for d in before.diagnostics if d.severity == Severity.WARNING}
    warnings = [d for d in after.diagnostics if d.severity == Severity.WARNING and _identity(d) not in warned]
    return Verdict(introduced, [d for d in errors if _identity(d) in known], warnings)


def _identity(d: Diagnostic) -> tuple[str, str, str]:
    """Lines move when an edit inserts some; a problem is the same problem wherever it moved."""
    return (d.position.path, d.rule, d.message)


def unified_diff(root: Path, changes: dict[Path, str]) -> str:
    chunks: list[str] = []
    for path in sorted(changes):
        # the file as it is, line endings and byte-order mark included, as changes[path] is written
        before = path.read_bytes().decode("utf-8") if path.exists() else None
        name = _relative(path, root)
        chunks += difflib.unified_diff(
            (before or "").splitlines(True),
            changes[path].splitlines(True),
            fromfile=f"a/{name}" if before is not None else "/dev/null",
            tofile=f"b/{name}",
        )
    return "".join(chunks)


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def write_atomic(path: Path, text: str) -> None:
    """Writes a temporary file beside `path`, then renames it over: readers see the old file or
    the new one, never half of one. The file keeps its permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o7777 if path.exists() else 0o644
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".hks-tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
