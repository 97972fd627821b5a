"""compiler/tools/untracked.py: the files of a rendered folder Git neither tracks nor ignores."""

from __future__ import annotations

from pathlib import Path

from compiler.tools.untracked import untracked
from tests.conftest import git


def test_outside_git_nothing_is_untracked(tmp_path: Path) -> None:
    (tmp_path / "rendered").mkdir()
    (tmp_path / "rendered" / "a.yaml").write_text("a: 1\n")
    assert untracked(tmp_path / "rendered") == []
    assert untracked(tmp_path / "missing") == []


def test_untracked_but_not_ignored(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text("*.tmp\n")
    folder = tmp_path / "rendered"
    (folder / "sub").mkdir(parents=True)
    for name in ("tracked.yaml", "new.yaml", "sub/new.yaml", "scratch.tmp"):
        (folder / name).write_text("x: 1\n")
    (tmp_path / "outside.yaml").write_text("x: 1\n")
    git(tmp_path, "add", ".gitignore", "rendered/tracked.yaml")
    assert untracked(folder) == ["new.yaml", "sub/new.yaml"]
