from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture(autouse=True)
def _in_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Diagnostics show paths as given; the tests give them relative to the repository root."""
    monkeypatch.chdir(ROOT)


def hks(*args: str) -> Result:
    from compiler.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def hks_process(*args: str, cwd: Path = ROOT, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Runs hks as its own process, as a user or CI would."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "compiler", *args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True
    )


# Commits made by tests: a fixed author and date, no user or system git configuration.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "hks test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "hks test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    """Runs git in REPO; its stdout, stripped. A failure fails the test with git's message."""
    result = subprocess.run(["git", *args], cwd=repo, env={**os.environ, **GIT_ENV}, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


# The day the tests judge model retirement on (catalogue.today()): the catalogue's retirement
# dates are fixed, the machine's calendar is not, so goldens and findings stay byte-stable.
TODAY = "2026-11-25"


@pytest.fixture(autouse=True)
def _fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HKS_TODAY", TODAY)
