"""Two edits of one config at the same time: the second refuses instead of losing the first.

An editing command remembers the bytes of each file as it read them. Just before writing, under
an exclusive advisory lock (fcntl.flock on the config folder itself, so no lock file is left in
the repository), it reads each file again: if any changed since, it writes nothing.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


def snapshot(path: Path) -> bytes | None:
    """The file's bytes now; None when there is no file."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Holds an exclusive lock on `folder` (released when the process ends, even by SIGKILL)."""
    import fcntl

    descriptor = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def changed_since(read: dict[Path, bytes | None]) -> list[Path]:
    """The files whose bytes are no longer what was read (call it under `locked`)."""
    return [path for path, before in read.items() if snapshot(path) != before]
