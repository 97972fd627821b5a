"""Reads the config repository's YAML files, keeping the line and column of every node.

All input safety limits live here: a file is refused before parsing when it is too large, and
the composed node graph is measured before anything is constructed from it, so an alias bomb
costs a few milliseconds and no memory.
"""

from __future__ import annotations

import datetime
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler.diagnostics import Diagnostic, Position, error
from compiler.errors import InputError

RULES: dict[str, str] = {
    "REPO-001": "org.yaml is missing",
    "REPO-004": "too many workspace files",
    "REPO-006": "more workspaces than the limit",
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
MAX_WORKSPACES = 20_000  # REPO-004 (files, before they are read) and REPO-006 (files + inline)
MAX_WORKSPACE_FILES = MAX_WORKSPACES
WORKSPACE_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class Document:
    """One parsed YAML file: `data` is the round-trip tree, with positions on every node."""

    path: str
    data: Any
    text: str = field(default="", repr=False, compare=False)  # as read: the secret scan reads comments too

    def position(self, loc: tuple[Any, ...] = (), *, key: bool = False) -> Position:
        line, column = locate(self.data, loc, key=key)
        return Position(self.path, line, column)


@dataclass(frozen=True, slots=True)
class Loaded:
    """A file a later stage reads, read here: its document, or the diagnostics that refuse it,
    which that stage reports (they are not load's, so a file no check reads fails nothing)."""

    path: str
    doc: Document | None
    problems: tuple[Diagnostic, ...] = ()
    # The bytes as written, for the secret scan (comments too, and files that do not parse);
    # None for a link, which the scan never reads through, and for a file that was not read.
    text: str | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Sources:
    """The files of a config repository, parsed. `org` is None when it could not be loaded.

    `policies`: the organisation's packs (policies/*.yaml but waivers.yaml), sorted;
    `waivers`: policies/waivers.yaml, None when there is none; `secrets`: secrets/*.yaml, sorted.
    """

    root: str
    org: Document | None
    workspaces: tuple[Document, ...]
    policies: tuple[Loaded, ...] = ()
    waivers: Loaded | None = None
    secrets: tuple[Loaded, ...] = ()


def load_repo(config_dir: str, pending: Mapping[Path, bytes] | None = None) -> tuple[Sources, list[Diagnostic]]:
    """`pending` holds files an editing command is about to write (path → content): they are
    read from there instead of the disk, so the edit is validated before anything is written."""
    from compiler.load.safefs import Unsafe

    root = Path(config_dir)
    if not root.is_dir():
        raise InputError(f"{config_dir}: no such config folder")
    root = _relative_to_cwd(root)
    diagnostics: list[Diagnostic] = []
    org_path = root / "org.yaml"
    org: Document | None = None
    staged = {_resolved(path): raw for path, raw in (pending or {}).items()}

    def read(path: Path) -> tuple[Document | None, list[Diagnostic]]:
        raw = staged.get(_resolved(path)) if staged else None  # no pending edits: no path to resolve
        return load_file(path, root) if raw is None else parse_document(raw, str(path))

    if _present(org_path) or _resolved(org_path) in staged:
        org, found = read(org_path)
        diagnostics += found
    else:
        diagnostics.append(
            error(
                Position(str(org_path)),
                "REPO-001",
                "org.yaml is missing: every config repository needs one with the organisation's defaults",
                hint=_where_is_the_config(root),
            )
        )
    try:
        workspace_files = _workspace_files(root / "workspaces", staged)
    except Unsafe as exc:
        diagnostics.append(error(Position(str(exc.path)), exc.rule, exc.message))
        workspace_files = []
    if len(workspace_files) > MAX_WORKSPACE_FILES:
        diagnostics.append(
            error(
                Position(str(root / "workspaces")),
                "REPO-004",
                f"{len(workspace_files)} workspace files: the limit is {MAX_WORKSPACE_FILES}",
            )
        )
        workspace_files = []
    inline = org.data.get("workspaces") if org is not None else None
    inline_count = len(inline) if isinstance(inline, (dict, list)) else 0
    if workspace_files and inline_count + len(workspace_files) > MAX_WORKSPACES:
        assert org is not None
        diagnostics.append(
            error(
                org.position(("workspaces",), key=True),
                "REPO-006",
                f"{inline_count} workspaces here and {len(workspace_files)} workspace files: "
                f"the limit is {MAX_WORKSPACES} workspaces in all",
            )
        )
        workspace_files = []
    elif inline_count > MAX_WORKSPACES:
        assert org is not None
        diagnostics.append(
            error(
                org.position(("workspaces",), key=True),
                "REPO-006",
                f"{inline_count} workspaces: the limit is {MAX_WORKSPACES}",
            )
        )
    workspaces: list[Document] = []
    for path in workspace_files:
        doc, found = read(path)
        diagnostics += found
        if doc is not None:
            workspaces.append(doc)
    packs = org_packs(root, staged)
    waivers_path = root / POLICIES / WAIVERS_FILE
    present = _present(waivers_path) or _resolved(waivers_path) in staged
    waivers = _loaded(waivers_path, root, staged) if present else None
    # secrets/ is named from the folder as given, as the sealed-secrets check has always named it
    given = Path(config_dir)
    secrets = tuple(_loaded(p, given, staged, scan=False) for p in _listed(given / SECRETS, staged))
    return Sources(config_dir, org, tuple(workspaces), packs, waivers, secrets), diagnostics


POLICIES = "policies"
WAIVERS_FILE = "waivers.yaml"
SECRETS = "secrets"


def org_packs(root: Path, staged: Mapping[Path, bytes] | None = None) -> tuple[Loaded, ...]:
    """The organisation's policy packs: every YAML file in policies/ but the waivers."""
    staged = staged or {}
    return tuple(_loaded(p, root, staged) for p in _listed(root / POLICIES, staged, exclude=WAIVERS_FILE))


def _listed(folder: Path, staged: Mapping[Path, bytes], exclude: str = "") -> list[Path]:
    """The YAML files of `folder` (through a link: each file's own read refuses one that leads
    outside) and those an edit is about to add, sorted."""
    new = {folder / p.name for p in staged if p.parent == _resolved(folder) and p.suffix in WORKSPACE_SUFFIXES}
    found = set(folder.iterdir()) if folder.is_dir() else set()
    return sorted(p for p in found | new if p.suffix in WORKSPACE_SUFFIXES and p.name != exclude)


def _loaded(path: Path, root: Path, staged: Mapping[Path, bytes], *, scan: bool = True) -> Loaded:
    """`path` read and parsed as the stage that uses it reads it; `scan`: keep its text too."""
    raw = staged.get(_resolved(path)) if staged else None
    problem = None
    if raw is None:
        raw, problem = read_input(path, root)
    if raw is None:
        return Loaded(str(path), None, (problem,) if problem else ())
    doc, found = parse_document(raw, str(path))
    text = raw.decode("utf-8-sig", "replace") if scan and len(raw) <= MAX_FILE_BYTES and not path.is_symlink() else None
    return Loaded(str(path), doc, tuple(found), text)


def _relative_to_cwd(root: Path) -> Path:
    """Diagnostics name files relative to the current folder when they are under it."""
    if not root.is_absolute():
        return root
    try:
        return root.relative_to(Path.cwd())
    except ValueError:
        return root


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a looping link: read_input names it
        return path.absolute()


def _present(path: Path) -> bool:
    return path.exists() or path.is_symlink()  # a dangling link is there, and an error


def _workspace_files(folder: Path, staged: Mapping[Path, bytes]) -> list[Path]:
    """Every entry named *.yaml or *.yml, whatever it is: one that is not a readable file is an
    error, never skipped (Argo CD's prune would delete the namespace of a skipped workspace)."""
    from compiler.load.safefs import check_link

    new = {folder / p.name for p in staged if p.parent == folder.resolve() and p.suffix in WORKSPACE_SUFFIXES}
    if not _present(folder):
        return sorted(new)
    check_link(folder, folder.parent)
    try:
        entries = list(folder.iterdir())
    except OSError as exc:
        raise InputError(f"{folder}: cannot list: {exc.strerror}") from exc
    return sorted({p for p in entries if p.suffix in WORKSPACE_SUFFIXES} | new)


def load_file(path: Path, root: Path | None = None) -> tuple[Document | None, list[Diagnostic]]:
    """Parses one YAML file whose top level must be a mapping; `root` is the config repository
    (default: the file's folder), which no link may lead out of."""
    raw, problem = read_input(path, root if root is not None else path.parent)
    if raw is None:
        return None, [problem] if problem else []
    return parse_document(raw, str(path))


def read_input(path: Path, root: Path) -> tuple[bytes | None, Diagnostic | None]:
    """The bytes of an input file, or the diagnostic that refuses it (compiler/load/safefs.py)."""
    from compiler.load.safefs import TooLarge, Unsafe, read_regular

    name = str(path)
    try:
        return read_regular(path, root, MAX_FILE_BYTES), None
    except TooLarge as exc:
        return None, _too_large(name, exc.size)
    except Unsafe as exc:
        return None, error(Position(name), exc.rule, exc.message)
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror}") from exc


def parse_document(raw: bytes, name: str) -> tuple[Document | None, list[Diagnostic]]:
    if len(raw) > MAX_FILE_BYTES:
        return None, [_too_large(name, len(raw))]
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


def _too_large(name: str, size: int) -> Diagnostic:
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
    from compiler.load import numbers as yamlnumbers

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


def _where_is_the_config(root: Path) -> str:
    below = configs_below(root)
    if below:
        more = f" ({len(below) - 1} more below)" if below[1:] else ""
        return f"the config is in {below[0]}/{more}: give it with -C {below[0]}"
    return "run `hks init` to create one, or point hks at the folder that holds org.yaml (-C DIR)"


def configs_below(root: Path, depth: int = 3) -> list[Path]:
    """Folders below `root` (not root itself) that hold an org.yaml, nearest first, as paths
    from where `root` is (`cfg` below `.`, `repo/cfg` below `repo`), as every path is printed."""
    found: list[Path] = []
    level = [root]
    for _ in range(depth):
        level = [
            child for folder in level for child in _subfolders(folder)
        ]
        found += [p for p in level if (p / "org.yaml").is_file()]
    return found


def _subfolders(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name not in SKIPPED)
    except OSError:
        return []


SKIPPED = frozenset({"node_modules", "rendered", "venv", "__pycache__", "secrets", "workspaces", "policies"})
