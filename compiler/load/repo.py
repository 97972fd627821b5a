"""Reads the config repository: org.yaml, every workspace, the organisation's policy packs and
waivers, and secrets/. The only reader of the repository; each file is parsed by parse.py."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from compiler.diagnostics import Diagnostic, Position, error
from compiler.errors import InputError
from compiler.load.parse import MAX_FILE_BYTES, Document, parse_document, too_large

RULES: dict[str, str] = {
    "REPO-001": "org.yaml is missing",
    "REPO-004": "too many workspace files",
    "REPO-006": "more workspaces than the limit",
}

# The input limits, each refused with a diagnostic that names it (docs/security.md#limits).
MAX_WORKSPACES = 20_000  # REPO-004 (files, before they are read) and REPO-006 (files + inline)
MAX_WORKSPACE_FILES = MAX_WORKSPACES
WORKSPACE_SUFFIXES = (".yaml", ".yml")


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
    folders: dict[Path, Path] = {}  # resolved once for every file in them (safefs.check_link)

    def read(path: Path) -> tuple[Document | None, list[Diagnostic]]:
        raw = staged.get(_resolved(path)) if staged else None  # no pending edits: no path to resolve
        return load_file(path, root, folders) if raw is None else parse_document(raw, str(path))

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


def workspace_files_named(root: Path) -> list[Path]:
    """The files of workspaces/ whose names say they are YAML, sorted, to name the workspaces
    (the editing commands); a folder that cannot be listed has none here (validate says why)."""
    folder = root / "workspaces"
    return sorted(folder.glob("*.y*ml")) if folder.is_dir() else []


def load_file(
    path: Path, root: Path | None = None, folders: dict[Path, Path] | None = None
) -> tuple[Document | None, list[Diagnostic]]:
    """Parses one YAML file whose top level must be a mapping; `root` is the config repository
    (default: the file's folder), which no link may lead out of (`folders`: safefs.check_link)."""
    raw, problem = read_input(path, root if root is not None else path.parent, folders)
    if raw is None:
        return None, [problem] if problem else []
    return parse_document(raw, str(path))


def read_input(
    path: Path, root: Path, folders: dict[Path, Path] | None = None
) -> tuple[bytes | None, Diagnostic | None]:
    """The bytes of an input file, or the diagnostic that refuses it (compiler/load/safefs.py)."""
    from compiler.load.safefs import TooLarge, Unsafe, read_regular

    name = str(path)
    try:
        return read_regular(path, root, MAX_FILE_BYTES, folders), None
    except TooLarge as exc:
        return None, too_large(name, exc.size)
    except Unsafe as exc:
        return None, error(Position(name), exc.rule, exc.message)
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror}") from exc


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
