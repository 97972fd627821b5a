"""The only module that touches the output folder: written whole, or not at all.

The new tree is written to a temporary folder beside OUT_DIR and exchanged with it in one
atomic rename (renameat2 RENAME_EXCHANGE on Linux; elsewhere two renames), so on any error or
interruption OUT_DIR is exactly as it was.
"""

from __future__ import annotations

import ctypes
import difflib
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from compiler.errors import InputError
from compiler.render import KUSTOMIZATION_HEADER


def write_tree(out_dir: Path, files: Iterable[tuple[str, str]]) -> int:
    """Writes `files` (path, text), which may be produced as they are written, and returns how
    many there were; an exception while producing them leaves OUT_DIR as it was."""
    _check_replaceable(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.hks-", dir=out_dir.parent))
    count = 0
    made: set[Path] = {staging}
    try:
        for relative, text in files:
            target = staging / relative
            if target.parent not in made:  # a folder each workspace: one mkdir, not one a file
                target.parent.mkdir(parents=True, exist_ok=True)
                made.add(target.parent)
            target.write_text(text, encoding="utf-8")
            count += 1
        staging.chmod(0o755)
        if out_dir.exists():
            _exchange(staging, out_dir)  # staging now holds the old tree
        else:
            staging.rename(out_dir)
        return count
    finally:
        if staging.exists():
            shutil.rmtree(staging)


def _check_replaceable(out_dir: Path) -> None:
    """Never replace a folder hks did not write: `-o ~` must not delete a home folder."""
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise InputError(f"{out_dir}: exists and is not a folder")
    if not any(out_dir.iterdir()):
        return
    kustomization = out_dir / "kustomization.yaml"
    if not (kustomization.is_file() and kustomization.read_text("utf-8", "replace").startswith(KUSTOMIZATION_HEADER)):
        raise InputError(f"{out_dir}: not empty and not written by hks; refusing to replace it")


def _exchange(a: Path, b: Path) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is not None:
        at_fdcwd, rename_exchange = -100, 2
        if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
            return
    old = a.with_name(a.name + "-old")
    b.rename(old)
    a.rename(b)
    old.rename(a)


def read_tree(out_dir: Path) -> dict[str, str]:
    if not out_dir.is_dir():
        return {}
    return {
        str(p.relative_to(out_dir)): p.read_text("utf-8", "replace")
        for p in sorted(out_dir.rglob("*"))
        if p.is_file()
    }


def diff_tree(out_dir: Path, files: dict[str, str]) -> str:
    """A unified diff from what OUT_DIR holds to what it should hold; empty when current."""
    current = read_tree(out_dir)
    chunks = []
    for name in sorted(set(current) | set(files)):
        before, after = current.get(name), files.get(name)
        if before == after:
            continue
        chunks += difflib.unified_diff(
            (before or "").splitlines(keepends=True),
            (after or "").splitlines(keepends=True),
            fromfile=f"a/{name}" if before is not None else "/dev/null",
            tofile=f"b/{name}" if after is not None else "/dev/null",
        )
    return "".join(chunks)
