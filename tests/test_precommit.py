"""The hooks in .pre-commit-hooks.yaml, run by the real pre-commit on a throw-away config
repository made by `hks init`: a clean config passes both hooks; a broken org.yaml fails
hks-validate with the diagnostic at its line; a stale rendered folder fails hks-render-check.

The README's flow, as a new user runs it: hks runs from a Git checkout (here a snapshot of this
one, as an editable install would), `hks init demo` pins the hooks to that checkout's commit,
and `pre-commit run --all-files` installs hks from it into its own virtualenv, with no edit.
pre-commit does that once per store: slow, so the store is made once per module. (`pre-commit
try-repo` would install hks again into a store of its own, to prove what the manual-stage run of the
pinned config already proves: a clean config passes both hooks.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from tests.conftest import GIT_ENV, ROOT

PRE_COMMIT = Path(sys.executable).with_name("pre-commit")
pytestmark = pytest.mark.precommit

def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    inherited = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    full = {**inherited, **GIT_ENV, **(env or {})}
    return subprocess.run([str(a) for a in args], cwd=cwd, env=full, capture_output=True, text=True, stdin=subprocess.DEVNULL)


def git(repo: Path, *args: str) -> str:
    result = run("git", *args, cwd=repo)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """This checkout's files (tracked, and new ones not ignored) committed in a Git repository of
    their own: what a `rev:` of hks would hold, including work not yet committed."""
    assert PRE_COMMIT.exists(), "pre-commit is installed by the test extra (pip install -e '.[test]')"
    repo = tmp_path_factory.mktemp("hks-snapshot")
    listed = run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT)
    assert listed.returncode == 0, listed.stderr
    for name in sorted(set(filter(None, listed.stdout.split("\0")))):
        source = ROOT / name
        if source.is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "snapshot")
    return repo, git(repo, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, snapshot: tuple[Path, str]) -> Path:
    """`hks init demo`, run by the hks in the snapshot, committed."""
    root = tmp_path_factory.mktemp("config")
    result = run(sys.executable, "-m", "compiler", "init", "demo", cwd=root, env={"PYTHONPATH": str(snapshot[0])})
    assert result.returncode == 0, result.stderr
    assert f"hooks and CI: hks from {snapshot[0]} at {snapshot[1]}\n" in result.stderr
    repo = root / "demo"
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "hks init")
    return repo


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {"PRE_COMMIT_HOME": str(tmp_path_factory.mktemp("pre-commit-home"))}


def test_manifest_passes_pre_commits_own_check() -> None:
    result = run(PRE_COMMIT, "validate-manifest", ROOT / ".pre-commit-hooks.yaml", cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    hooks = YAML(typ="safe").load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == ["hks-validate", "hks-render-check"]
    for hook in hooks:
        assert hook["language"] == "python" and hook["pass_filenames"] is False and hook["always_run"] is True
        assert hook["stages"] == ["pre-commit", "pre-merge-commit", "pre-push", "manual"]


def test_hooks_run_once_per_commit_not_at_every_stage(demo: Path, store: dict[str, str]) -> None:
    other = run(PRE_COMMIT, "run", "--hook-stage", "post-commit", cwd=demo, env=store)
    assert other.returncode == 0, other.stdout + other.stderr
    assert _status(other.stdout) == {}
    manual = run(PRE_COMMIT, "run", "--hook-stage", "manual", "--all-files", cwd=demo, env=store)
    assert _status(manual.stdout) == {"hks validate": "Passed", "hks render --check": "Passed"}


def test_init_pins_the_checkout_hks_runs_from(snapshot: tuple[Path, str], demo: Path) -> None:
    config = YAML(typ="safe").load((demo / ".pre-commit-config.yaml").read_text())
    assert [(r["repo"], r["rev"]) for r in config["repos"]] == [(str(snapshot[0]), snapshot[1])]


def test_broken_org_yaml_fails_with_the_diagnostic_at_its_line(demo: Path, store: dict[str, str]) -> None:
    try:
        passing = run(PRE_COMMIT, "run", "--all-files", cwd=demo, env=store)
        assert passing.returncode == 0, passing.stdout + passing.stderr
        org = demo / "org.yaml"
        lines = org.read_text().splitlines(keepends=True)
        line = next(i for i, text in enumerate(lines, 1) if text.startswith("  temperature: 0.7"))
        org.write_text("".join(lines).replace("temperature: 0.7", "temperature: 7", 1))
        git(demo, "add", "-A")
        result = run(PRE_COMMIT, "run", "--all-files", cwd=demo, env=store)
        assert result.returncode == 1
        assert _status(result.stdout)["hks validate"] == "Failed"
        assert f"org.yaml:{line}:16: error[SCHEMA-003]: llm_config.temperature must be between 0 and 2, not 7" in result.stdout
        assert result.stdout.count("error[SCHEMA-003]") == 1, "each error once per run, not once per hook"
        assert _status(result.stdout)["hks render --check"] == "Failed"
        assert "hks: not rendered: the config has 1 error(s); `hks validate` lists them" in result.stdout
        assert "Traceback" not in result.stdout
    finally:
        git(demo, "checkout", "--", ".")
        git(demo, "reset", "-q", "--hard")


def test_stale_rendered_folder_fails_render_check(demo: Path, store: dict[str, str]) -> None:
    try:
        workspace = demo / "workspaces" / "assistant.yaml"
        workspace.write_text(workspace.read_text().replace("temperature: 0.3", "temperature: 0.2"))
        git(demo, "add", "-A")
        result = run(PRE_COMMIT, "run", "--all-files", cwd=demo, env=store)
        assert result.returncode == 1
        assert _status(result.stdout) == {"hks validate": "Passed", "hks render --check": "Failed"}
        assert "rendered is not current" in result.stdout
        assert "+      \"temperature\": 0.2" in result.stdout
    finally:
        git(demo, "reset", "-q", "--hard")


def test_rendered_files_left_out_of_the_commit_fail_render_check(demo: Path, store: dict[str, str]) -> None:
    """pre-commit leaves untracked files in place: new rendered files never `git add`ed must
    not pass, or the commit's kustomization.yaml lists files the commit lacks."""
    try:
        (demo / "workspaces" / "second.yaml").write_text("llm_override:\n  temperature: 0.2\n")
        rendered = run(sys.executable, "-m", "compiler", "render", ".", "-o", "rendered", cwd=demo, env={"PYTHONPATH": str(ROOT)})
        assert rendered.returncode == 0, rendered.stderr
        git(demo, "add", "workspaces/second.yaml", "rendered/kustomization.yaml", "rendered/platform")
        result = run(PRE_COMMIT, "run", cwd=demo, env=store)
        assert result.returncode == 1
        assert _status(result.stdout) == {"hks validate": "Passed", "hks render --check": "Failed"}
        assert "not in Git: rendered/workspaces/second/namespace-second.yaml" in result.stdout
        git(demo, "add", "rendered")
        assert run(PRE_COMMIT, "run", cwd=demo, env=store).returncode == 0
    finally:
        git(demo, "reset", "-q", "--hard")
        git(demo, "clean", "-q", "-fd")


def test_git_commit_through_the_installed_hook(demo: Path, store: dict[str, str]) -> None:
    """The hook as Git runs it after `pre-commit install`: a commit without the new rendered
    files is refused, with them it goes through."""
    head = git(demo, "rev-parse", "HEAD")
    installed = run(PRE_COMMIT, "install", cwd=demo, env=store)
    assert installed.returncode == 0, installed.stderr
    try:
        (demo / "workspaces" / "third.yaml").write_text("llm_override:\n  temperature: 0.1\n")
        rendered = run(sys.executable, "-m", "compiler", "render", ".", "-o", "rendered", cwd=demo, env={"PYTHONPATH": str(ROOT)})
        assert rendered.returncode == 0, rendered.stderr
        git(demo, "add", "workspaces/third.yaml", "rendered/kustomization.yaml", "rendered/platform")
        refused = run("git", "commit", "-q", "-m", "third, without its rendered files", cwd=demo, env=store)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert "not in Git: rendered/workspaces/third/namespace-third.yaml" in refused.stdout + refused.stderr
        assert git(demo, "rev-parse", "HEAD") == head
        git(demo, "add", "rendered")
        accepted = run("git", "commit", "-q", "-m", "third", cwd=demo, env=store)
        assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    finally:
        run(PRE_COMMIT, "uninstall", cwd=demo, env=store)
        git(demo, "reset", "-q", "--hard", head)
        git(demo, "clean", "-q", "-fd")


def test_a_render_left_unstaged_is_told_to_git_add(demo: Path, store: dict[str, str]) -> None:
    """pre-commit sets aside what is not staged: a render the user ran but did not add is stale
    in what the commit holds, and the fix it names is `git add`."""
    head = git(demo, "rev-parse", "HEAD")
    installed = run(PRE_COMMIT, "install", cwd=demo, env=store)
    assert installed.returncode == 0, installed.stderr
    try:
        workspace = demo / "workspaces" / "assistant.yaml"
        workspace.write_text(workspace.read_text().replace("temperature: 0.3", "temperature: 0.25"))
        rendered = run(sys.executable, "-m", "compiler", "render", cwd=demo, env={"PYTHONPATH": str(ROOT)})
        assert rendered.returncode == 0, rendered.stderr
        git(demo, "add", "workspaces/assistant.yaml")
        refused = run("git", "commit", "-q", "-m", "temperature, render not added", cwd=demo, env=store)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        said = refused.stdout + refused.stderr
        assert "rendered is not current in what this commit holds: if you ran `hks render` already, `git add rendered`" in said
        git(demo, "add", "rendered")
        accepted = run("git", "commit", "-q", "-m", "temperature", cwd=demo, env=store)
        assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    finally:
        run(PRE_COMMIT, "uninstall", cwd=demo, env=store)
        git(demo, "reset", "-q", "--hard", head)


def test_init_in_a_repository_sub_folder_hooks_run_from_the_top(snapshot: tuple[Path, str], store: dict[str, str],
                                                                 tmp_path: Path) -> None:
    """`hks init llm-config` at an existing repository's top: pre-commit finds the hooks where it
    reads them and they check the sub-folder, with paths from the top."""
    repo = tmp_path / "platform"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("the platform team's repository\n")
    made = run(sys.executable, "-m", "compiler", "init", "llm-config", cwd=repo, env={"PYTHONPATH": str(snapshot[0])})
    assert made.returncode == 0, made.stderr
    assert not (repo / "llm-config" / ".pre-commit-config.yaml").exists()
    git(repo, "add", "-A")
    passing = run(PRE_COMMIT, "run", "--all-files", cwd=repo, env=store)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert _status(passing.stdout) == {"hks validate": "Passed", "hks render --check": "Passed"}
    org = repo / "llm-config" / "org.yaml"
    org.write_text(org.read_text().replace("temperature: 0.7", "temperature: 7", 1))
    git(repo, "add", "-A")
    failing = run(PRE_COMMIT, "run", "--all-files", cwd=repo, env=store)
    assert failing.returncode == 1
    assert "llm-config/org.yaml:" in failing.stdout and failing.stdout.count("error[SCHEMA-003]") == 1


def _status(output: str) -> dict[str, Any]:
    """`hks validate....Passed` lines of pre-commit's report → {name: status}."""
    found = {}
    for line in output.splitlines():
        for status in ("Passed", "Failed", "Skipped"):
            if line.endswith(status) and "..." in line:
                found[line.split("..", 1)[0].strip(".")] = status
    return found
