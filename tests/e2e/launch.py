"""Starts LiteLLM proxies for the e2e tests: forked from a zygote of their release (tests/e2e/
zygote.py) when its import saw the same environment, else as a fresh `litellm` process. Either
way the proxy runs the release's own console script with the test's arguments, folder and
environment. HKS_E2E_FRESH=1 starts every proxy fresh (to compare, or to debug)."""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Protocol

ZYGOTE = Path(__file__).with_name("zygote.py")
# Each holds an imported proxy (about 350 MB, shared with its children until they write).
ZYGOTES_PER_RELEASE = 1


class Proxy(Protocol):
    def poll(self) -> int | None: ...
    def stop(self) -> None: ...


class Fresh:
    """A proxy started as its own process."""

    def __init__(self, litellm: Path, argv: list[str], cwd: Path, env: dict[str, str], log: Path) -> None:
        with log.open("ab") as out:
            self.process = subprocess.Popen([str(litellm), *argv], env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)

    def poll(self) -> int | None:
        return self.process.poll()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


class Forked:
    """A proxy forked by a zygote, in a session of its own; the kernel reaps it (its exit code is
    not kept: the log says why it stopped)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def poll(self) -> int | None:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return -1
        return None

    def stop(self) -> None:
        for sig, seconds in ((signal.SIGTERM, 30.0), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(self.pid, sig)
            except ProcessLookupError:
                try:
                    os.kill(self.pid, sig)  # just forked: not yet in a session of its own
                except ProcessLookupError:
                    return
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline and self.poll() is None:
                time.sleep(0.05)
            if self.poll() is not None:
                return


class Zygote:
    """A release's Python with the proxy imported under one environment, forking proxies."""

    def __init__(self, litellm: Path, request: dict[str, object], log: Path) -> None:
        self.env = dict(request["env"])  # type: ignore[call-overload]  # what its import saw
        python = litellm.parent / "python"
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(python), str(ZYGOTE), str(litellm)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=out,
                env=dict(request["env"]),  # type: ignore[call-overload]
                text=True,
            )
        self._send(request)
        self.ready = self._receive().get("ready") is True
        self.first = self._receive() if self.ready else {}
        self.forks = 1

    def fork(self, request: dict[str, object]) -> dict[str, object]:
        self._send(request)
        return self._receive()

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            self.process.wait(timeout=30)

    def _send(self, request: dict[str, object]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()

    def _receive(self) -> dict[str, object]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        return json.loads(line) if line else {}


_zygotes: dict[Path, list[Zygote]] = {}


def pooled(litellm: Path) -> Zygote | None:
    """The release's most recently used zygote, if a proxy of it has been started."""
    pool = _zygotes.get(litellm, [])
    return pool[-1] if pool else None


def start(litellm: Path, argv: list[str], cwd: Path, env: dict[str, str], log: Path) -> Proxy:
    """A running proxy of the release whose `litellm` script is `litellm`."""
    if os.environ.get("HKS_E2E_FRESH") == "1":
        return Fresh(litellm, argv, cwd, env, log)
    request: dict[str, object] = {"argv": argv, "cwd": str(cwd), "env": env, "log": str(log)}
    pool = _zygotes.setdefault(litellm, [])
    for zygote in pool:
        answer = zygote.fork(request)
        if isinstance(answer.get("pid"), int):
            zygote.forks += 1
            pool.remove(zygote)
            pool.append(zygote)  # the most recently used last
            return Forked(int(answer["pid"]))  # type: ignore[call-overload]
    if len(pool) >= ZYGOTES_PER_RELEASE and all(z.forks > 1 for z in pool):
        # An environment apart (TLS's SSL_CERT_FILE): started fresh, which costs what a zygote of
        # its own would, so that the release's zygote is kept for the proxies after it rather
        # than replaced and imported again. A zygote that forked only its first proxy gives way.
        return Fresh(litellm, argv, cwd, env, log)
    zygote = Zygote(litellm, request, log.with_name("zygote.log"))
    if not (zygote.ready and isinstance(zygote.first.get("pid"), int)):
        zygote.close()
        return Fresh(litellm, argv, cwd, env, log)
    pool.append(zygote)
    if len(pool) > ZYGOTES_PER_RELEASE:
        pool.pop(0).close()
    return Forked(int(zygote.first["pid"]))  # type: ignore[call-overload]


def run(litellm: Path, code: str, argv: list[str], folder: Path) -> tuple[int, str, str]:
    """Runs `python -c CODE ARGV` in the release's Python: forked from its zygote when a proxy of
    the release has been started (the script then sees the zygote's import and environment, a
    proxy's, instead of importing LiteLLM again: seconds of CPU), else as a fresh process with a
    minimal environment (LiteLLM's cost map the one it ships: no download). Returns the exit code,
    the standard output and the standard error."""
    zygote = pooled(litellm)
    if zygote is None or os.environ.get("HKS_E2E_FRESH") == "1":
        env = {"PATH": os.environ["PATH"], "HOME": str(folder), "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
        python = str(litellm.with_name("python"))
        result = subprocess.run([python, "-c", code, *argv], capture_output=True, text=True, cwd=folder, env=env, check=False)
        return result.returncode, result.stdout, result.stderr
    out, log, status = folder / "run.out", folder / "run.log", folder / "run.exit"
    request = {"code": code, "argv": argv, "cwd": str(folder), "env": zygote.env, "log": str(log), "out": str(out), "exit": str(status)}
    answer = zygote.fork(request)
    assert isinstance(answer.get("pid"), int), answer
    child = Forked(int(answer["pid"]))  # type: ignore[call-overload]
    deadline = time.monotonic() + 120
    while child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    child.stop()
    written = status.read_text() if status.exists() else ""  # none: killed at the deadline
    return (int(written) if written else -1), out.read_text() if out.exists() else "", log.read_text() if log.exists() else ""


@atexit.register
def _close() -> None:
    for pool in _zygotes.values():
        for zygote in pool:
            zygote.close()
