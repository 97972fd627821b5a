"""Reads a config folder as it was at a Git revision, without touching the working tree.

The files come from Git's object store exactly as committed (`git ls-tree` lists the config
folder's subtree, `git cat-file --batch` reads its files): no `.gitattributes` applies, where
`git archive` would drop `export-ignore` files and rewrite `export-subst` ones. Only the files
validate reads are read (org.yaml and the YAML files of workspaces/, policies/ and secrets/),
and only up to repo.py's limits: a larger blob is copied as a sparse file of its size, which
the loader refuses by its size (YAML-008) without anything reading it, and past the number of
workspace files the rest are left empty (REPO-004 refuses them before reading). The index, the working tree and HEAD stay exactly as they
were. The copy keeps the repository folder's name, because an org.yaml without `organization:`
takes its name from its folder.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from compiler.errors import InputError

if TYPE_CHECKING:
    from compiler.pipeline import Compiled

# The folders whose YAML files validate reads (compiler/load/repo.py, the only reader).
CONFIG_FOLDERS = ("workspaces", "policies", "secrets")
YAML_SUFFIXES = (".yaml", ".yml")
SYMBOLIC_LINK = b"120000"  # a config never needs one; the working tree's copy is not followed either
LFS_POINTER = b"version https://git-lfs.github.com/spec/"


def _run(cwd: str | Path, args: list[str], stdin: bytes | None = None) -> bytes:
    try:
        result = subprocess.run(["git", "-C", str(cwd), *args], input=stdin, capture_output=True, check=False)
    except FileNotFoundError:
        raise InputError("git is not installed: --base needs it") from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputError(f"git {args[0]}: {message[-1] if message else 'failed'}")
    return result.stdout


def _git(cwd: str | Path, *args: str) -> str:
    return _run(cwd, list(args), stdin=b"").decode("utf-8", "surrogateescape").rstrip("\n")


def _has_commits(top: Path) -> bool:
    try:
        _git(top, "rev-parse", "--verify", "--quiet", "HEAD")
    except InputError:
        return False
    return True


def snapshot(config_dir: str, rev: str, into: Path) -> tuple[Path, str]:
    """Copies CONFIG_DIR as it was at REV below INTO; returns the copy (which does not exist
    when the config is new since REV) and REV's commit id."""
    if not Path(config_dir).is_dir():
        raise InputError(f"{config_dir}: no such config folder")
    try:
        top = Path(_git(config_dir, "rev-parse", "--show-toplevel"))
    except InputError:
        raise InputError(f"{config_dir}: not inside a Git repository (--base reads the config from Git)") from None
    prefix = _git(config_dir, "rev-parse", "--show-prefix")
    try:
        commit = _git(config_dir, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except InputError:
        if not _has_commits(top):
            raise InputError(f"{rev}: {top.name} has no commits yet, so there is nothing to compare with (commit first)") from None
        raise InputError(f"{rev}: no such revision in {top.name}") from None
    folder = into / top.name / prefix
    tree = f"{commit}:{prefix}"  # gitrevisions(7): the tree at that path in the commit
    if _object_type(top, tree) != "tree":
        (into / top.name).mkdir(parents=True)
        return folder, commit
    folder.mkdir(parents=True)
    entries, oversized = _entries(top, tree)
    for path, size in oversized:
        target = folder.joinpath(*path.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as sparse:
            sparse.truncate(size)
    for (path, _), content in zip(entries, _contents(top, [oid for _, oid in entries]), strict=True):
        if path.suffix in (".yaml", ".yml") and content.startswith(LFS_POINTER):
            raise InputError(f"{Path(config_dir, path)}: stored with Git LFS at {rev}, so --base cannot read it")
        target = folder.joinpath(*path.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return folder, commit


def _object_type(top: Path, name: str) -> str | None:
    try:
        return _git(top, "cat-file", "-t", name)
    except InputError:
        return None  # no such path in the commit


def _entries(top: Path, tree: str) -> tuple[list[tuple[PurePosixPath, str]], list[tuple[PurePosixPath, int]]]:
    """The config files below TREE to read (path relative to it, blob id), and those too large
    to read (path, size); never symbolic links, submodules or paths that would leave the copy."""
    from compiler.load.parse import MAX_FILE_BYTES
    from compiler.load.repo import MAX_WORKSPACE_FILES

    top_level = _listing(top, tree)  # TREE is `<commit>:<prefix>`, the prefix empty or ending in /
    listed = [(PurePosixPath(name), oid, size) for name, oid, size in _blobs(top_level) if name == "org.yaml"]
    for folder in CONFIG_FOLDERS:
        if any(kind == b"tree" and name == folder for _, kind, name, _, _ in top_level):
            blobs = _blobs(_listing(top, f"{tree}{folder}"))
            listed += [(PurePosixPath(folder, name), oid, size) for name, oid, size in blobs if name.endswith(YAML_SUFFIXES)]
    read, oversized, workspace_files = [], [], 0
    for path, oid, size in listed:
        workspace_files += path.parts[0] == "workspaces"
        if size > MAX_FILE_BYTES or workspace_files > MAX_WORKSPACE_FILES:
            oversized.append((path, size if size > MAX_FILE_BYTES else 0))
        else:
            read.append((path, oid))
    return read, oversized


def _listing(top: Path, tree: str) -> list[tuple[bytes, bytes, str, str, str]]:
    """`git ls-tree -l` of TREE, one level: (mode, kind, name, oid, size)."""
    found = []
    for record in _run(top, ["ls-tree", "-z", "-l", tree]).split(b"\0"):
        if not record:
            continue
        info, _, name = record.partition(b"\t")
        mode, kind, oid, size = info.split()
        found.append((mode, kind, os.fsdecode(name), oid.decode("ascii"), size.decode("ascii")))
    return found


def _blobs(listing: list[tuple[bytes, bytes, str, str, str]]) -> list[tuple[str, str, int]]:
    return [
        (name, oid, int(size))
        for mode, kind, name, oid, size in listing
        if kind == b"blob" and mode != SYMBOLIC_LINK and _safe(PurePosixPath(name))
    ]


def _safe(path: PurePosixPath) -> bool:
    return not path.is_absolute() and all(part not in ("", ".", "..") for part in path.parts)


def _contents(top: Path, oids: list[str]) -> list[bytes]:
    """The blobs' bytes as Git stores them, in one `git cat-file --batch`: each answer is
    `<oid> SP <type> SP <size> LF <contents> LF` (git-cat-file(1), BATCH OUTPUT)."""
    if not oids:
        return []
    out = _run(top, ["cat-file", "--batch"], stdin="".join(f"{oid}\n" for oid in oids).encode("ascii"))
    found, at = [], 0
    for oid in oids:
        end = out.index(b"\n", at)
        header = out[at:end].split(b" ")
        if len(header) != 3:
            raise InputError(f"git cat-file: {oid}: {out[at:end].decode('utf-8', 'replace')}")
        size = int(header[2])
        found.append(out[end + 1 : end + 1 + size])
        at = end + 1 + size + 1
    return found


@contextlib.contextmanager
def compiled_at(config_dir: str, rev: str) -> Iterator[tuple[Compiled | None, str | None]]:
    """The config in CONFIG_DIR as it was at REV, compiled in a temporary copy (removed after).
    (None, a note) when REV has no config there or one with errors: a pull request that adds
    or repairs the config is compared with nothing rather than refused."""
    from compiler.pipeline import compile_config

    with tempfile.TemporaryDirectory(prefix="hks-base-") as temporary:
        folder, _ = snapshot(config_dir, rev, Path(temporary))
        if not (folder / "org.yaml").is_file():
            yield None, f"{rev} has no config in this folder: everything is new"
            return
        compiled = compile_config(str(folder))
        if not compiled.ok:
            errors = sum(1 for d in compiled.diagnostics if d.is_error)
            yield None, f"the config at {rev} has {errors} error(s): compared with nothing"
            return
        yield compiled, None
