"""Where `hks init` pins the hooks and CI: a Git checkout of hks at its HEAD, what pip recorded
when it installed hks (PEP 610), or the published repository at the version's tag."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler import __version__
from compiler.tools.hks_source import PUBLISHED_REPO, Source, checkout, chosen, from_direct_url, is_url, published
from tests.conftest import git

def hks_checkout(folder: Path) -> str:
    """A Git repository with a hooks file, committed; its HEAD."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ".pre-commit-hooks.yaml").write_text("- id: hks-validate\n")
    (folder / "tracked.txt").write_text("one\n")
    git(folder, "init", "-q", "-b", "main")
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "first")
    return git(folder, "rev-parse", "HEAD")


def test_a_checkout_is_pinned_at_its_head(tmp_path: Path) -> None:
    head = hks_checkout(tmp_path / "hks")
    source = checkout(tmp_path / "hks")
    assert source is not None
    assert (source.repo, source.rev, source.local) == (str(tmp_path / "hks"), head, True)
    assert len(source.notes) == 1 and "cannot fetch it" in source.notes[0]


def test_uncommitted_changes_are_noted(tmp_path: Path) -> None:
    head = hks_checkout(tmp_path / "hks")
    (tmp_path / "hks" / "tracked.txt").write_text("two\n")
    source = checkout(tmp_path / "hks")
    assert source is not None and source.rev == head
    assert source.notes[1] == f"{tmp_path / 'hks'} has uncommitted changes: the hooks and CI run commit {head[:12]} without them"


def test_untracked_files_are_not_uncommitted_changes(tmp_path: Path) -> None:
    hks_checkout(tmp_path / "hks")
    (tmp_path / "hks" / "scratch.txt").write_text("x\n")
    source = checkout(tmp_path / "hks")
    assert source is not None and len(source.notes) == 1


def test_what_is_not_a_checkout_of_hks(tmp_path: Path) -> None:
    assert checkout(tmp_path) is None  # no hooks file
    (tmp_path / ".pre-commit-hooks.yaml").write_text("[]\n")
    assert checkout(tmp_path) is None  # not a Git repository
    git(tmp_path, "init", "-q")
    assert checkout(tmp_path) is None  # no commit yet
    hks_checkout(tmp_path / "outer")
    inner = tmp_path / "outer" / "sub"
    inner.mkdir()
    (inner / ".pre-commit-hooks.yaml").write_text("[]\n")
    assert checkout(inner) is None  # pre-commit reads the hooks file at the top only


def test_pip_records(tmp_path: Path) -> None:
    commit = "0123456789abcdef0123456789abcdef01234567"
    vcs = {"url": "https://git.example.com/hks.git", "vcs_info": {"vcs": "git", "commit_id": commit, "requested_revision": "v1"}}
    assert from_direct_url(vcs) == Source("https://git.example.com/hks.git", commit)
    local_vcs = {"url": (tmp_path / "hks").as_uri(), "vcs_info": {"vcs": "git", "commit_id": commit}}
    found = from_direct_url(local_vcs)
    assert found is not None and (found.repo, found.rev, found.local) == (str(tmp_path / "hks"), commit, True)
    head = hks_checkout(tmp_path / "hks")
    for dir_info in ({}, {"editable": True}):
        found = from_direct_url({"url": (tmp_path / "hks").as_uri(), "dir_info": dir_info})
        assert found is not None and (found.repo, found.rev) == (str(tmp_path / "hks"), head)
    assert from_direct_url({"url": (tmp_path / "elsewhere").as_uri(), "dir_info": {}}) is None
    assert from_direct_url({"url": "https://files.example/hks-0.1.0.tar.gz", "archive_info": {}}) is None
    assert from_direct_url({"url": "https://x", "vcs_info": {"vcs": "hg", "commit_id": "1"}}) is None
    assert from_direct_url({"vcs_info": {}}) is None


def test_published() -> None:
    assert published() == Source(PUBLISHED_REPO, f"v{__version__}")


def test_chosen(tmp_path: Path) -> None:
    assert chosen("https://git.example.com/hks", None) == Source("https://git.example.com/hks", f"v{__version__}")
    assert chosen("git@git.example.com:platform/hks", "v2").rev == "v2"
    head = hks_checkout(tmp_path / "hks")
    assert chosen(str(tmp_path / "hks"), None).rev == head
    named = chosen(str(tmp_path / "hks"), "v1")
    assert (named.repo, named.rev, named.local) == (str(tmp_path / "hks"), "v1", True) and named.notes
    assert chosen(None, "v3").rev == "v3"


@pytest.mark.parametrize(
    ("repo", "url"),
    [
        ("https://github.com/hexabase/hks", True),
        ("ssh://git@host/hks", True),
        ("file:///srv/hks", True),
        ("git@github.com:hexabase/hks", True),
        ("/srv/hks", False),
        ("../hks", False),
        ("C:/hks", False),
    ],
)
def test_is_url(repo: str, url: bool) -> None:
    assert is_url(repo) is url


def test_pip_url() -> None:
    assert Source("https://git.example.com/hks", "v1").pip_url == "git+https://git.example.com/hks@v1"
    assert Source("git@github.com:hexabase/hks", "v1").pip_url == "git+ssh://git@github.com/hexabase/hks@v1"
    assert Source("/srv/my hks", "abc", local=True).pip_url == "git+file:///srv/my%20hks@abc"
