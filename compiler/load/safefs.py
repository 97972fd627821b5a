"""Reading a file of the config repository without trusting the file system.

Every input file is opened the same way: a link must stay inside the repository and lead to a
file, the file must be a regular one (a FIFO would block, /dev/zero would never end, a folder
cannot be read), and no more than `limit` bytes are read. Anything else is an `Unsafe` that names
the file and what is wrong, never a hang, a crash or a read outside the repository.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

RULES: dict[str, str] = {
    "REPO-012": "link that leads outside the config repository",
    "REPO-013": "input that is not a regular file (FIFO, folder, device, dangling or looping link)",
}

# Where a link leads, and what kind of file is there.
LINK_OUTSIDE = "REPO-012"
NOT_A_FILE = "REPO-013"


class Unsafe(Exception):
    def __init__(self, rule: str, path: Path, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.rule = rule
        self.path = path
        self.message = message


class TooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


def check_link(path: Path, root: Path, folders: dict[Path, Path] | None = None) -> None:
    """Refuses a path that is a link (or under one) leading outside `root`, dangling or looping.

    `folders`: real paths of folders already resolved while reading this repository, filled as
    it goes. A file that is no link is then its folder's real path and its name: one lstat, not a
    walk through every component of the path (twice, with the root's), for each of 1,000 files."""
    target = _beside_known(path, folders) if folders is not None else None
    if target is None:
        target = _resolved(path)
    if not target.is_relative_to(_real(root, folders)):
        raise Unsafe(LINK_OUTSIDE, path, "a link that leads outside the config repository; hks never reads through it")


def _beside_known(path: Path, folders: dict[Path, Path]) -> Path | None:
    """The real path of `path` when it is not a link itself, or None to resolve it in full."""
    if path.name in ("", ".", ".."):
        return None
    try:
        if stat.S_ISLNK(os.lstat(path).st_mode):
            return None
        return _real(path.parent, folders) / path.name
    except (OSError, RuntimeError, ValueError):
        return None


def _real(folder: Path, folders: dict[Path, Path] | None) -> Path:
    if folders is None:
        return folder.resolve()
    if folder not in folders:
        folders[folder] = folder.resolve()
    return folders[folder]


def _resolved(path: Path) -> Path:
    try:
        return path.resolve(strict=True)
    except FileNotFoundError:
        if path.is_symlink():
            raise Unsafe(NOT_A_FILE, path, "a link to nothing (dangling); remove it or make it a file") from None
        raise
    except RuntimeError:  # Python < 3.13 reports a loop so
        raise Unsafe(NOT_A_FILE, path, "a link that loops back on itself; remove it") from None
    except OSError as exc:
        if exc.errno == 40:  # ELOOP
            raise Unsafe(NOT_A_FILE, path, "a link that loops back on itself; remove it") from None
        raise


def read_regular(path: Path, root: Path, limit: int, folders: dict[Path, Path] | None = None) -> bytes:
    """The bytes of `path`, a regular file inside `root` of at most `limit` bytes (`folders`:
    see check_link)."""
    check_link(path, root, folders)
    # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise Unsafe(NOT_A_FILE, path, f"{_kind(info.st_mode)}, not a regular file; hks reads only files")
        if info.st_size > limit:
            raise TooLarge(info.st_size)
        chunks, total = [], 0
        while chunk := os.read(descriptor, 1 << 16):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:  # the file grew while it was read
                raise TooLarge(total)
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"
