"""The only module that touches the output folder: written whole, or not at all.

The new tree is written to a temporary folder beside OUT_DIR and exchanged with it in one
atomic rename (renameat2 RENAME_EXCHANGE on Linux; elsewhere two renames), so on any error or
interruption OUT_DIR is exactly as it was. Only a folder hks wrote, holding nothing else, is
ever replaced, and nothing in it is read through a link.
"""

from __future__ import annotations

import contextlib
import ctypes
import difflib
import os
import re
import shutil
import signal
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from compiler.errors import InputError
from compiler.names import CONFIG_FOLDERS, KUSTOMIZATION_HEADER

MAX_RENDERED_FILE_BYTES = 64 * 1024 * 1024  # one file of a rendered folder, read by --check


def write_tree(out_dir: Path, files: Iterable[tuple[str, str]]) -> int:
    """Writes `files` (path, text), which may be produced as they are written, and returns how
    many there were; an exception while producing them leaves OUT_DIR as it was."""
    _check_replaceable(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_staging(out_dir)
    with _terminate_as_interrupt():
        staging = Path(tempfile.mkdtemp(prefix=_staging_prefix(out_dir, os.getpid()), dir=out_dir.parent))
        count = 0
        made: set[Path] = {staging}
        try:
            for relative, text in files:
                target = staging / relative
                if target.parent not in made:  # a folder each workspace: one mkdir, not one a file
                    target.parent.mkdir(parents=True, exist_ok=True)
                    made.add(target.parent)
                _write(target, text.encode("utf-8"))
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


def _write(path: Path, data: bytes) -> None:
    """Three system calls a file, where a text-mode open makes seven: at 60,000 files they added
    up (the floor of bench/compare.py writes the same bytes)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def refuse_config_folders(out_dir: Path, config_dir: Path) -> None:
    """OUT_DIR must not be the config, hold it, or lie in a folder hks reads (workspaces/,
    policies/, ...): replacing it would delete the config. REPO-007 says so for cluster.path."""

    out, root = out_dir.resolve(), config_dir.resolve()
    if root.is_relative_to(out):
        raise InputError(f"{out_dir}: holds the config {config_dir} itself; render into a folder of its own, "
                         "such as rendered (nothing was changed)")
    for folder in CONFIG_FOLDERS:
        if out.is_relative_to(root / folder):
            raise InputError(f"{out_dir}: inside the config's own {folder}/ folder, which hks reads; render into "
                             "a folder of its own, such as rendered (nothing was changed)")


def _staging_prefix(out_dir: Path, pid: int) -> str:
    return f".{out_dir.name}.hks-{pid}-"


def _remove_stale_staging(out_dir: Path) -> None:
    """A render killed with SIGKILL leaves its staging folder: the next one removes it, when the
    process that made it is gone."""
    pattern = re.compile(re.escape(f".{out_dir.name}.hks-") + r"(\d+)-[^/]*$")
    for entry in out_dir.parent.iterdir():
        found = pattern.match(entry.name)
        if found and not entry.is_symlink() and entry.is_dir() and not _alive(int(found.group(1))):
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (a CI job cancelled) unwinds like Ctrl-C, so the staging folder is removed."""
    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _check_replaceable(out_dir: Path) -> None:
    """Never replace a folder hks did not write, or one that holds anything else: `-o ~` must not
    delete a home folder, nor a render a Git checkout or a README put there since."""
    if out_dir.is_symlink():
        raise InputError(f"{out_dir}: is a link; give the folder it leads to (nothing was changed)")
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise InputError(f"{out_dir}: exists and is not a folder")
    if not any(out_dir.iterdir()):
        return
    if not _is_kustomization(out_dir / "kustomization.yaml"):
        raise InputError(f"{out_dir}: not empty and not written by hks; refusing to replace it")
    foreign = foreign_entries(out_dir)
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise InputError(f"{out_dir}: holds what hks did not write ({shown}); refusing to replace it "
                         "(move them away, or render into another folder; nothing was changed)")


def foreign_entries(out_dir: Path) -> list[str]:
    """Paths under OUT_DIR (relative, sorted) that hks did not write: anything but folders and the
    regular files a kustomization.yaml of hks's lists (or is), such as .git, a README or a link."""
    written: set[str] = set()
    found: list[str] = []
    for relative, mode in _entries(out_dir):
        if Path(relative).name.startswith("."):  # .git, .gitignore: hks writes no such name
            found.append(relative)
        elif stat.S_ISDIR(mode):
            continue
        elif not stat.S_ISREG(mode):
            found.append(relative)
        elif Path(relative).name == "kustomization.yaml" and _is_kustomization(out_dir / relative):
            folder = Path(relative).parent
            written.add(relative)
            written.update(os.path.normpath(folder / name) for name in _resources(out_dir / relative))
    found += [
        relative for relative, mode in _entries(out_dir)
        if stat.S_ISREG(mode) and relative not in written and not Path(relative).name.startswith(".")
    ]
    return sorted(found)


def _entries(out_dir: Path) -> Iterator[tuple[str, int]]:
    """(path relative to OUT_DIR, lstat mode) of everything below it; links are not followed,
    and a folder whose name starts with a dot (.git) is not entered: it is foreign whole."""
    for folder, folders, names in os.walk(out_dir, followlinks=False):
        for name in sorted(folders + names):
            path = Path(folder) / name
            relative = str(path.relative_to(out_dir))
            mode = path.lstat().st_mode
            yield relative, mode
        folders[:] = [f for f in folders if not f.startswith(".")]


def _is_kustomization(path: Path) -> bool:
    if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_RENDERED_FILE_BYTES:
        return False
    with path.open("rb") as handle:
        return handle.read(len(KUSTOMIZATION_HEADER)) == KUSTOMIZATION_HEADER.encode()


def _resources(path: Path) -> list[str]:
    """The `resources:` entries of a kustomization.yaml hks wrote (one `- name` a line)."""
    listed, inside = [], False
    with path.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if not line.startswith((" ", "-")):
                inside = line.rstrip() == "resources:"
            elif inside and line.startswith("- "):
                listed.append(line[2:].strip().strip("'\""))
    return listed


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
    """The regular files under OUT_DIR, read without following any link (foreign_entries names
    the links and other kinds of file: `render --check` reports them, never their contents)."""
    if out_dir.is_symlink() or not out_dir.is_dir():
        return {}
    return {
        relative: _read_no_follow(out_dir / relative)
        for relative, mode in _entries(out_dir)
        if stat.S_ISREG(mode)
    }


def _read_no_follow(path: Path) -> str:
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return ""
        raw = handle.read(MAX_RENDERED_FILE_BYTES + 1)
    return raw.decode("utf-8", "replace")


def diff_tree(out_dir: Path, files: dict[str, str]) -> str:
    """A unified diff from what OUT_DIR holds to what it should hold; empty when current."""
    current = read_tree(out_dir)
    chunks: list[str] = []
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


def write_files(folder: Path, files: dict[str, str]) -> Iterator[Path]:
    """Each of `files` written into `folder` (made when missing), over a file there of that
    name, in sorted order; yields each path once written (`hks schema --output-dir`)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in sorted(files.items()):
        path = folder / name
        path.write_text(text, encoding="utf-8")
        yield path
