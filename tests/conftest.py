from __future__ import annotations

import atexit
import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from tests.hksfork_client import SOCKET as FORKSERVER

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

# The tests write tens of thousands of small files (configs, rendered folders, Git repositories,
# virtualenvs): on a disk each costs about twice the CPU it costs in memory. Unless TMPDIR says
# where they go, they go to /dev/shm where that is memory with room to spare (a container's is
# often 64 MB) and programs may run from it (virtualenvs, Git hooks); pyproject keeps the folders
# of the last run that failed, and a passed run's none.
MEMORY = Path("/dev/shm")


def _memory_fits() -> bool:
    if not (MEMORY.is_dir() and os.access(MEMORY, os.W_OK | os.X_OK)):
        return False
    fs = os.statvfs(MEMORY)
    return fs.f_bavail * fs.f_frsize >= 4 << 30 and not fs.f_flag & os.ST_NOEXEC


if "TMPDIR" not in os.environ and _memory_fits():
    os.environ["TMPDIR"] = str(MEMORY)  # pytest's tmp_path too, and every process the tests start
    tempfile.tempdir = None  # tempfile looks again


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
    return subprocess.run([*hks_command(), *args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True)


# The environment this worker started with, before any test changed it: the fork server's.
_WORKER_ENV = dict(os.environ)


@pytest.fixture(autouse=True, scope="session")
def _hks_fork_server() -> None:
    """Started before the first test, so that every environment a test builds from os.environ has it."""
    hks_command()


def hks_command(script: Path | None = None) -> list[str]:
    """`python -m compiler` for the tests (with SCRIPT: that console script): a client of this worker's
    fork server (tests/hksfork_server.py), started here on first use, that runs hks as a fork of a
    process that has imported it already. `HKS_TEST_FRESH=1` starts every hks fresh instead. The
    command is the same either way; the server's socket is in `$HKS_TEST_FORKSERVER`, which every
    process the tests start inherits."""
    _fork_server()
    client = [sys.executable, "-S", str(ROOT / "tests" / "hksfork_client.py")]
    return [*client, "--script", str(script)] if script else client


@functools.cache
def _fork_server() -> None:
    if os.environ.get("HKS_TEST_FRESH") != "1":
        os.environ[FORKSERVER] = _start_fork_server()


def _start_fork_server() -> str:
    folder = tempfile.mkdtemp(prefix="hksfork-")
    path = os.path.join(folder, "socket")
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.hksfork_server", path],
        cwd=ROOT, env={**_WORKER_ENV, "PYTHONPATH": str(ROOT)}, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )
    assert server.stdout is not None and server.stdout.readline() == b"ready\n", "the hks fork server did not start"
    atexit.register(_stop_fork_server, server, folder)
    return path


def _stop_fork_server(server: subprocess.Popen[bytes], folder: str) -> None:
    assert server.stdin is not None
    server.stdin.close()  # the server exits when its input closes
    server.wait()
    shutil.rmtree(folder, ignore_errors=True)


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


# --- tests that run an installed program -----------------------------------------------------------
# Each marker below names a program some tests run (pyproject.toml registers them); every test with one
# also gets the marker `tools`, so `pytest -m "not tools"` runs the rest on a machine without them.
# A test whose program is missing fails before its fixtures run, with one line saying what to install:
# not skipped, as a skip would hide a missing tool in CI.

INSTALL_TOOLS = "run tests/install-tools.sh"

# The LiteLLM releases tests/e2e runs against: the pinned one and the oldest hks still supports, each in
# its own venv (tests/install-tools.sh); `$HKS_LITELLM` runs one other instead.
LITELLM_RELEASES: dict[str, Path] = (
    {"custom": Path(os.environ["HKS_LITELLM"]).resolve()}
    if os.environ.get("HKS_LITELLM")
    else {"pinned": ROOT / ".venv-litellm/bin/litellm", "oldest": ROOT / ".venv-litellm-oldest/bin/litellm"}
)


def _tool_paths(marker: str) -> tuple[str | Path | None, ...]:
    """Where the tests find the program of MARKER (the same places the tests themselves look)."""
    return {
        "checkov": (ROOT / ".venv-checkov/bin/checkov",),
        "kubectl": (shutil.which("kubectl"),),
        "litellm": tuple(LITELLM_RELEASES.values()),
        "nginx": (shutil.which("nginx") or "/usr/sbin/nginx",),
        "precommit": (Path(sys.executable).with_name("pre-commit"),),
        "promtool": (shutil.which("promtool"),),
        "redis": (shutil.which("redis-server"),),
        "squid": (shutil.which("squid") or "/usr/sbin/squid",),
    }[marker]


TOOL_NEEDS = {
    "checkov": f"needs checkov in .venv-checkov: {INSTALL_TOOLS}",
    "kubectl": "needs kubectl on PATH: install it (tests/install-tools.sh does not)",
    "litellm": f"needs the LiteLLM proxy (.venv-litellm and .venv-litellm-oldest, or $HKS_LITELLM): {INSTALL_TOOLS}",
    "nginx": f"needs nginx on PATH or in /usr/sbin (Debian's nginx-light package): {INSTALL_TOOLS}",
    "precommit": "needs pre-commit beside this Python: pip install -e '.[test]'",
    "promtool": f"needs promtool on PATH (Debian's prometheus package): {INSTALL_TOOLS}",
    "redis": f"needs redis-server on PATH (Debian's redis-server package): {INSTALL_TOOLS}",
    "squid": f"needs squid on PATH or in /usr/sbin (Debian's squid package): {INSTALL_TOOLS}",
}
# Tests that use these fixtures run the program behind them (tests/e2e/).
TOOL_FIXTURES = {"litellm": "litellm", "ollama_proxy": "nginx", "redis": "redis"}


@functools.cache
def tool_missing(marker: str) -> bool:
    """Looked up once per session (per xdist worker)."""
    return not all(path is not None and os.access(path, os.X_OK) for path in _tool_paths(marker))


# Work units for the xdist workers, handed out in this order (pyproject's addopts: five workers, and
# `--no-loadscope-reorder` keeps the order): each LiteLLM release's e2e tests as two units, so that the
# release is imported twice per run, not once per worker (about 5 s of CPU: tests/e2e/zygote.py); then
# the files that take longest, so that none is left running alone at the end; then every other file.
LONGEST_FIRST = (  # by CPU seconds in one process (pytest -n 0)
    "tests/test_precommit.py",  # 19: pre-commit installs hks with pip
    "tests/render/test_security.py",  # 18: checkov
    "tests/render/test_render.py",  # 10
    "tests/tools/test_diff.py",  # 10
    "tests/test_hostile_input.py",  # 9
    "tests/test_hostile_fs.py",  # 7
    "tests/tools/test_init.py",  # 7
    "tests/load/test_yamlfast.py",  # 6
    "tests/checks/test_catalogue.py",  # 6
    "tests/test_argocd_plugin.py",  # 5
    "tests/test_first_hour.py",  # 5
    "tests/test_fuzz.py",  # 4
    "tests/render/test_objectsize.py",  # 4
    "tests/e2e/test_zygote.py",
)
# The litellm fixture's parameter (tests/e2e/conftest.py), as it shows in a test's id: `[pinned]`, `[oldest-istio]`.
RELEASE_IN_ID = re.compile(r"\[(?:[^\]]*-)?(" + "|".join(map(re.escape, sorted(LITELLM_RELEASES))) + r")(?:-[^\]]*)?\]$")


# A release's e2e files in two halves of about a minute each: one unit of about two and a half
# minutes would be the whole suite's critical path. Each half pays the release's import once.
E2E_FIRST_HALF = frozenset(
    f"tests/e2e/test_{name}_e2e.py" for name in ("zero", "shared_state", "tls", "identity", "providers", "pools")
)


def work_unit(nodeid: str) -> tuple[int, str]:
    """The unit a test is handed out in, and that unit's place in the queue. From the test's id alone:
    xdist's controller, which schedules, never collects the tests."""
    file = nodeid.split("::")[0]
    release = RELEASE_IN_ID.search(nodeid) if file.startswith("tests/e2e/") else None
    if release:
        return 0, f"litellm-{release.group(1)}-{1 if file in E2E_FIRST_HALF else 2}"
    return (1 + LONGEST_FIRST.index(file) if file in LONGEST_FIRST else 1 + len(LONGEST_FIRST)), file


@pytest.hookimpl(tryfirst=True)  # before xdist's own choice
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """xdist's scope scheduling with work_unit as the scope (its own `loadgroup` cannot rename tests
    under pytest 9, whose node ids are no longer a plain attribute)."""
    from xdist.scheduler import LoadScopeScheduling

    class WorkUnits(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)[1]

    return WorkUnits(config, log)


@pytest.hookimpl(tryfirst=True)  # before `-m` selects on the markers added here
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: work_unit(item.nodeid)[0])  # stable: within a place, the collection's order
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        for fixture, marker in TOOL_FIXTURES.items():
            if fixture in fixtures:
                item.add_marker(marker)
        if any(item.get_closest_marker(marker) for marker in TOOL_NEEDS):
            item.add_marker("tools")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    needs = [TOOL_NEEDS[marker] for marker in sorted(TOOL_NEEDS) if item.get_closest_marker(marker) and tool_missing(marker)]
    if needs:
        pytest.fail("; ".join(needs) + ' (or leave such tests out: pytest -m "not tools")', pytrace=False)


def pytest_report_header() -> str:
    missing = [marker for marker in sorted(TOOL_NEEDS) if tool_missing(marker)]
    return f"tools missing: {', '.join(missing)} (their tests fail; {INSTALL_TOOLS})" if missing else "tools: all found"
