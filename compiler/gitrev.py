"""A config folder as it was at a Git revision, for the commands that compare against a base
(`hks cost --base REV`; `hks diff --base REV` can share it).

The revision's files are exported with `git archive` into a temporary folder: the working tree,
the index and HEAD are never touched, so this is safe in CI and in a dirty checkout. The folder
keeps the config folder's own name, so an organisation named after its folder keeps its name.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Iterator

from compiler.errors import InputError


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, timeout=120)
    except FileNotFoundError as exc:
        raise InputError("git is not installed; --base needs it") from exc


@contextlib.contextmanager
def config_at(config_dir: str, revision: str) -> Iterator[Path]:
    """Yields the path of CONFIG_DIR's contents at `revision`; raises InputError when the
    folder is not in a Git repository, the revision does not exist or the folder did not."""
    folder = Path(config_dir).resolve()
    if not folder.is_dir():
        raise InputError(f"{config_dir}: no such folder")
    top = _git(["rev-parse", "--show-toplevel"], folder)
    if top.returncode != 0:
        raise InputError(f"{config_dir} is not in a Git repository, so --base has nothing to compare with")
    root = Path(top.stdout.decode().strip())
    commit = _git(["rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"], root)
    if commit.returncode != 0:
        raise InputError(f"no Git revision '{revision}' in {root.name}")
    sha = commit.stdout.decode().strip()
    prefix = folder.relative_to(root).as_posix()
    tree = sha if prefix == "." else f"{sha}:{prefix}"
    name = folder.name or "config"
    archive = _git(["archive", "--format=tar", f"--prefix={name}/", tree], root)
    if archive.returncode != 0:
        raise InputError(f"{config_dir} did not exist at {revision}")
    with tempfile.TemporaryDirectory(prefix="hks-base-") as temp:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(temp, filter="data")
        yield Path(temp) / name
