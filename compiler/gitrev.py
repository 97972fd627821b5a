"""Reads a config repository as it was at a Git revision, without touching the working tree.

`git archive REV` streams the commit's files into a temporary folder; the index, the working
tree and HEAD stay exactly as they were. The copy keeps the repository folder's name, because
an org.yaml without `organization:` takes its name from its folder.
"""

from __future__ import annotations

import contextlib
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Iterator

from compiler.errors import InputError


def _git(config_dir: str, *args: str) -> str:
    try:
        result = subprocess.run(["git", "-C", config_dir, *args], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    except FileNotFoundError:
        raise InputError("git is not installed: --base needs it") from None
    if result.returncode != 0:
        message = result.stderr.strip().splitlines()
        raise InputError(f"git {args[0]}: {message[-1] if message else 'failed'}")
    return result.stdout.rstrip("\n")


def snapshot(config_dir: str, rev: str, into: Path) -> tuple[Path, str]:
    """Extracts the repository holding CONFIG_DIR at REV below INTO; returns the config folder
    inside the copy (which may not exist: the config is new since REV) and REV's commit id."""
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
        raise InputError(f"{rev}: no such revision in {top.name}") from None
    root = into / top.name
    root.mkdir(parents=True)
    if not _git(config_dir, "ls-tree", "--name-only", commit):
        return root / prefix, commit  # an empty commit: nothing to extract
    process = subprocess.Popen(
        ["git", "-C", str(top), "archive", "--format=tar", commit],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    with tarfile.open(fileobj=process.stdout, mode="r|") as archive:
        if hasattr(tarfile, "data_filter"):  # Python 3.11.4 and later
            archive.extractall(root, filter=_skip_unsafe)
        else:
            for member in archive:
                if _safe(member):
                    archive.extract(member, root)
    _, err = process.communicate()
    if process.returncode != 0:
        raise InputError(f"git archive {rev}: {err.decode('utf-8', 'replace').strip()}")
    return root / prefix, commit


def _skip_unsafe(member: tarfile.TarInfo, path: str) -> tarfile.TarInfo | None:
    """tarfile's data filter, skipping (not failing on) what it refuses, such as a symbolic link
    out of the repository: the working tree's copy of such a file is not read either."""
    try:
        return tarfile.data_filter(member, path)
    except tarfile.FilterError:
        return None


def _safe(member: tarfile.TarInfo) -> bool:
    """Without tarfile's data filter: only plain files and folders inside the target (a commit
    can hold symbolic links, which a config never needs)."""
    parts = Path(member.name).parts
    return (member.isfile() or member.isdir()) and not Path(member.name).is_absolute() and ".." not in parts


@contextlib.contextmanager
def config_at(config_dir: str, rev: str) -> Iterator[Path]:
    """CONFIG_DIR as it was at REV, in a temporary folder removed afterwards; InputError when
    the folder did not exist then."""
    with tempfile.TemporaryDirectory(prefix="hks-base-") as temporary:
        folder, _ = snapshot(config_dir, rev, Path(temporary))
        if not folder.is_dir():
            raise InputError(f"{config_dir} did not exist at {rev}")
        yield folder
