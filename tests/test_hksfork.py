"""The tests' fork server for hks (tests/hksfork_server.py) gives what a fresh `python -m compiler` gives:
the same output, exit status, files and file modes, from the caller's folder, input and environment;
it refuses what a fork cannot change, and hks dies with the process that asked for it."""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from tests import hksfork_client
from tests.conftest import EXAMPLES, FORKSERVER, ROOT, hks_command, write


def both(*args: str, cwd: Path = ROOT, stdin: str | None = None, env: dict[str, str] | None = None) -> list[tuple[int, bytes, bytes]]:
    """ARGS run as a fork of the server, then as a fresh process: (status, stdout, stderr) of each."""
    command = hks_command()  # starts this worker's server
    forked_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    fresh_env = {name: value for name, value in forked_env.items() if name != FORKSERVER}
    assert forked_env.get(FORKSERVER), "no fork server: HKS_TEST_FRESH is set"
    results = []
    for environment in (forked_env, fresh_env):
        run = subprocess.run([*command, *args], cwd=cwd, env=environment, input=stdin and stdin.encode(), capture_output=True)
        results.append((run.returncode, run.stdout, run.stderr))
    return results


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "examples/broken/duplicate-key"],  # exit 1, findings on stdout
        ["validate", "--format", "sarif", "examples/acme"],
        ["explain", "examples/acme"],
        ["no-such-command"],  # exit 2, click's usage line with the program's name
        ["models", "--provider", "openai"],  # judged on $HKS_TODAY
    ],
)
def test_a_fork_answers_as_a_fresh_process_does(args: list[str]) -> None:
    forked, fresh = both(*args)
    assert forked == fresh
    assert forked[1] or forked[2]


def sealed_repo(folder: Path) -> Path:
    from tests.tools.test_secret import certificate, private_key

    org = (EXAMPLES / "acme" / "org.yaml").read_text().replace("backend: external-secrets", "backend: sealed-secrets\n  cert: sealed-secrets.pem")
    return write(folder, {"org.yaml": org, "sealed-secrets.pem": certificate(private_key.__wrapped__())})


def test_a_fork_reads_the_callers_input_folder_and_environment(tmp_path: Path) -> None:
    sealed = []
    for name in ("forked", "fresh"):
        repo = sealed_repo(tmp_path / name)
        env = {} if name == "forked" else {FORKSERVER: ""}
        run = subprocess.run([*hks_command(), "secret", "create", "openai-api-key", "--from-literal=key=-"], cwd=repo,
                             env={**os.environ, "PYTHONPATH": str(ROOT), **env}, input="sk-test\n", capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        sealed.append((run.stdout, run.stderr, sorted(p.name for p in (repo / "secrets").iterdir())))
    assert sealed[0] == sealed[1]  # the sealed values themselves are random each time
    other_day = both("models", env={"HKS_TODAY": "2031-01-01"})
    assert other_day[0] == other_day[1] and other_day[0][1] != both("models")[0][1]


def test_a_fork_writes_files_with_the_callers_umask(tmp_path: Path) -> None:
    modes = []
    for name in ("forked", "fresh"):
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        if name == "fresh":
            env.pop(FORKSERVER)
        run = subprocess.run(
            ["sh", "-c", 'umask 077 && exec "$@"', "sh", *hks_command(), "render", "-q", "examples/acme", "-o", str(tmp_path / name)],
            cwd=ROOT, env=env, capture_output=True, text=True,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        modes.append(sorted((str(p.relative_to(tmp_path / name)), stat.S_IMODE(p.stat().st_mode)) for p in (tmp_path / name).rglob("*")))
    assert modes[0] == modes[1]
    assert all(mode & 0o077 == 0 for _, mode in modes[0])


def test_what_python_reads_at_its_start_is_never_forked(monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    hks_command()
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # as the server's
    assert hksfork_client.forked(["--version"]) == 0  # this process's own streams, as any caller's
    assert capfd.readouterr().out == "hks, version 0.1.0\n"
    monkeypatch.setenv("PYTHONIOENCODING", "ascii")
    assert hksfork_client.forked(["--version"]) is None  # refused: the client then starts hks fresh
    assert capfd.readouterr().out == ""


def test_a_caller_whose_terminal_cannot_show_a_character_gets_a_fresh_process() -> None:
    forked, fresh = both("cost", "examples/acme", env={"PYTHONIOENCODING": "ascii"})
    assert forked == fresh
    assert b" node(s) \\xd7 $" in forked[1]  # a fork would have written UTF-8, as the server does


def holders(pipe: int) -> set[int]:
    """The processes other than this one that hold an end of PIPE (a descriptor of it)."""
    name = f"pipe:[{os.fstat(pipe).st_ino}]"
    found = set()
    for fd_folder in Path("/proc").glob("[0-9]*/fd"):
        pid = int(fd_folder.parent.name)
        with contextlib.suppress(OSError):
            if pid != os.getpid() and any(os.readlink(fd) == name for fd in fd_folder.iterdir()):
                found.add(pid)
    return found


class NotForked(AssertionError):
    """The client exited 70: the fork server did not fork hks (hksfork_client.FORK_OR_FAIL)."""


def caller_of_a_waiting_hks(tmp_path: Path) -> tuple[subprocess.Popen[bytes], set[int]]:
    """A client whose forked hks waits on the client's input: the client, and the processes other
    than it that hold that input. The client may not start hks fresh (it exits 70 saying why)."""
    tmp_path.mkdir()
    errors = tmp_path / "stderr"
    # `secret create` waits for its value on standard input; nothing is ever written there.
    with errors.open("w") as stderr:
        client = subprocess.Popen(
            [*hks_command(), "secret", "create", "openai-api-key", "--from-literal=key=-", "--dry-run"],
            cwd=sealed_repo(tmp_path / "repo"), env={**os.environ, "PYTHONPATH": str(ROOT), hksfork_client.FORK_OR_FAIL: "1"},
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
    assert client.stdin is not None
    deadline = time.monotonic() + 30  # a busy machine (five test workers, LiteLLM proxies) is slow to fork
    seen: list[set[int]] = []
    while not (seen and seen[-1] - {client.pid}) and client.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
        seen.append(holders(client.stdin.fileno()))
    time.sleep(0.2)
    waiting = holders(client.stdin.fileno()) - {client.pid}
    if not waiting:
        client.kill()
        client.wait()
        failure = NotForked if client.returncode == 70 else AssertionError
        raise failure(f"no forked hks holds the caller's input (caller's status {client.returncode}, holders seen {seen[-3:]}): {errors.read_text()}")
    return client, waiting


def test_killing_the_caller_kills_hks(tmp_path: Path) -> None:
    try:
        client, waiting = caller_of_a_waiting_hks(tmp_path / "first")
    except NotForked as failed:
        # Seen twice in hundreds of full runs, never alone: the server refused or could not be
        # reached once. Said in the run's warnings, and tried again.
        warnings.warn(f"the fork server did not fork hks, tried again: {failed}", stacklevel=1)
        client, waiting = caller_of_a_waiting_hks(tmp_path / "again")
    assert client.stdin is not None
    client.kill()
    client.wait()
    deadline = time.monotonic() + 10
    while holders(client.stdin.fileno()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not holders(client.stdin.fileno()), f"hks outlived its caller: {waiting}"


def test_a_console_script_runs_forked_as_it_runs_fresh(tmp_path: Path) -> None:
    """`hks` itself (the entry point a user runs), not `python -m compiler`: click names the program
    after it in its usage lines."""
    script = write(tmp_path, {"hks": f"#!{sys.executable}\nimport sys\nfrom compiler.cli import main\nsys.exit(main())\n"}) / "hks"
    script.chmod(0o755)
    command = hks_command(script)
    results = []
    for env in ({}, {FORKSERVER: ""}):
        run = subprocess.run([*command, "no-such-command"], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **env}, capture_output=True)
        results.append((run.returncode, run.stdout, run.stderr))
    assert results[0] == results[1]
    assert results[0][0] == 2 and b"Usage: hks [OPTIONS] COMMAND" in results[0][2], results[0]
