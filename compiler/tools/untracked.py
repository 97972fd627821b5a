"""Files of a rendered folder that Git does not track: `render --check` counts them as stale.

pre-commit stashes unstaged changes before a hook runs but leaves untracked files in place, so
without this a render whose new files were never `git add`ed passes the hook, and the commit
holds a kustomization.yaml that lists files it lacks.
"""

from __future__ import annotations

import subprocess
from pathlib import Path


def untracked(folder: Path) -> list[str]:
    """Paths below FOLDER (relative to it) that Git neither tracks nor ignores; [] outside Git.

    Runs in the caller's Git environment: in a hook, GIT_INDEX_FILE names the index being
    committed."""
    if not folder.is_dir():
        return []
    try:
        result = subprocess.run(
            ["git", "-C", str(folder), "ls-files", "-z", "--others", "--exclude-standard", "--", "."],
            capture_output=True,
            check=False,
            stdin=subprocess.DEVNULL,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    if result.returncode != 0:  # not a Git work tree
        return []
    return sorted(name.decode("utf-8", "replace") for name in result.stdout.split(b"\0") if name)


def in_git(folder: Path) -> bool:
    """Whether FOLDER is inside a Git work tree (false when Git is missing)."""
    try:
        result = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "--is-inside-work-tree"],
            capture_output=True,
            check=False,
            stdin=subprocess.DEVNULL,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return result.returncode == 0 and result.stdout.strip() == b"true"
