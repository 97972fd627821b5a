"""Where the running hks came from, as a place pre-commit and pip can fetch the same hks from.

`hks init` pins a new config repository's hooks and CI to it, so they run the hks that wrote
the repository. In order:
1. the Git checkout hks runs from (an editable install, or a source tree on PYTHONPATH);
2. what pip recorded when it installed hks (PEP 610 `direct_url.json`): a Git URL and its
   commit, or the local checkout it was built from;
3. the published repository at this version's tag.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from compiler import __version__

PUBLISHED_REPO = "https://github.com/hexabase/hks"
HOOKS_FILE = ".pre-commit-hooks.yaml"


@dataclass(frozen=True)
class Source:
    repo: str  # what pre-commit clones: a URL, or a local checkout's absolute path
    rev: str  # a tag or a full commit id
    local: bool = False
    notes: tuple[str, ...] = ()  # for the user, when the pin only works on this machine

    @property
    def pip_url(self) -> str:
        """The pip requirement URL of the same hks (`hks @ <this>`)."""
        if self.local:
            url = Path(self.repo).as_uri()
        else:  # pip takes no scp-like `git@host:path`: it needs ssh://git@host/path
            url = re.sub(r"^([^/:]+@[^/:]+):(?!//)", r"ssh://\1/", self.repo)
        return f"git+{url}@{self.rev}"


def published() -> Source:
    return Source(PUBLISHED_REPO, f"v{__version__}")


def running() -> Source:
    package_root = Path(__file__).resolve().parents[2]  # compiler/tools/ -> the checkout
    return checkout(package_root) or recorded() or published()


# What may reach the generated CI steps and hooks (`pip install "hks @ git+URL@REV"`, YAML
# scalars): plain URLs and Git revisions only, so no quote, space, `$` or newline can end the
# string it is written into, and no leading `-` can turn it into an option. A folder is written
# as a file:// URI (percent-encoded) and a quoted YAML scalar, so any path is safe.
_PLAIN_URL = re.compile(r"(?:https?|ssh|git|file)://[A-Za-z0-9][A-Za-z0-9._~%+:@/-]*|[A-Za-z0-9][A-Za-z0-9._-]*@[A-Za-z0-9][A-Za-z0-9.-]*:[A-Za-z0-9._~/-]+")
_PLAIN_REV = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+/-]{0,254}")


def chosen(repo: str | None, rev: str | None) -> Source:
    """The source `hks init --hks-repo/--hks-rev` names; what is not named comes from `running()`."""
    from compiler.errors import InputError

    if repo is not None and is_url(repo) and not _PLAIN_URL.fullmatch(repo):
        raise InputError("--hks-repo must be a plain URL (https://, ssh://, git://, file:// or git@host:path, of "
                         "letters, digits and . _ ~ % + : @ / -) or a folder")
    if rev is not None and (not _PLAIN_REV.fullmatch(rev) or ".." in rev):
        raise InputError("--hks-rev must be a tag, branch or commit id: letters, digits and . _ + / -, not starting with '-'")
    return _chosen(repo, rev)


def _chosen(repo: str | None, rev: str | None) -> Source:
    if repo is None:
        source = running()
        return Source(source.repo, rev, source.local, source.notes) if rev else source
    if is_url(repo):
        return Source(repo, rev or f"v{__version__}")
    folder = Path(repo).expanduser().resolve()
    if not (folder / HOOKS_FILE).is_file():
        from compiler.errors import InputError

        raise InputError(f"{repo}: not a checkout of hks (it has no {HOOKS_FILE})")

    if rev is None:
        found = checkout(folder)
        if found:
            return found
    return Source(str(folder), rev or f"v{__version__}", local=True, notes=(_local_note(folder),))


def is_url(repo: str) -> bool:
    """`https://…`, `ssh://…`, `file://…` or scp-like `git@host:path`; anything else is a path."""
    return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", repo) or re.match(r"^[^/:]+@[^/:]+:", repo))


def checkout(folder: Path) -> Source | None:
    """`folder` at its HEAD commit, when it is the top of a Git checkout of hks."""
    if not (folder / HOOKS_FILE).is_file():
        return None
    top = _git(folder, "rev-parse", "--show-toplevel")
    head = _git(folder, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    if top is None or head is None or Path(top).resolve() != folder.resolve():
        return None
    notes = [_local_note(folder)]
    if _git(folder, "status", "--porcelain", "--untracked-files=no"):
        notes.append(f"{folder} has uncommitted changes: the hooks and CI run commit {head[:12]} without them")
    return Source(str(folder), head, local=True, notes=tuple(notes))


def recorded() -> Source | None:
    """What pip wrote in hks's `direct_url.json`, if hks was installed from a URL or a folder."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        text = distribution("hks").read_text("direct_url.json")
    except PackageNotFoundError:
        return None
    try:
        return from_direct_url(json.loads(text)) if text else None
    except (ValueError, AttributeError):
        return None


def from_direct_url(data: dict[str, object]) -> Source | None:
    url = data.get("url")
    if not isinstance(url, str):
        return None
    vcs = data.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("vcs") == "git" and isinstance(vcs.get("commit_id"), str):
        if url.startswith("file://"):
            folder = _path(url)
            return Source(str(folder), vcs["commit_id"], local=True, notes=(_local_note(folder),))
        return Source(url, vcs["commit_id"])
    if "dir_info" in data and url.startswith("file://"):
        return checkout(_path(url))
    return None


def _path(file_url: str) -> Path:
    return Path(unquote(urlparse(file_url).path))


def _local_note(folder: Path) -> str:
    return (
        f"{folder} is a folder on this machine: pre-commit works here, but CI and other machines "
        "cannot fetch it (pin a published hks with --hks-repo URL --hks-rev TAG)"
    )


def _git(folder: Path, *args: str) -> str | None:
    env = {k: v for k, v in os.environ.items() if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")}
    try:
        result = subprocess.run(
            ["git", "-C", str(folder), *args], capture_output=True, text=True, stdin=subprocess.DEVNULL, env=env, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None
