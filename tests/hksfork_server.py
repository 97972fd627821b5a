"""Runs `hks` for the tests as forks of one process that has imported all of it already, so a test
that runs hks as a process pays its fork (a few milliseconds), not Python's start and hks's imports
(about a third of a second), each time.

A fork is the fresh `python -m compiler` the test would start: the caller's standard streams, folder,
umask, environment and arguments, and nothing run before it but imports. Only what Python reads once
at its own start (the `PYTHON*` and locale variables) cannot change after the fork; a caller whose
values differ there is refused, and `hksfork_client` then starts hks fresh.

Started by tests/conftest.py, one per test worker: `python -m tests.hksfork_server SOCKET`. It writes
"ready" when it listens, and exits when its standard input closes (the worker is gone). Each connection
(a SOCK_SEQPACKET socket) carries one request, a JSON object {"argv", "script", "cwd", "env", "umask"} with the
caller's descriptors 0, 1 and 2, and gets one answer: {"status": wait status} or {"refused": [names]}.
A caller that hangs up first has its hks killed.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import io
import json
import os
import pkgutil
import runpy
import select
import signal
import socket
import sys
import time
import traceback
from typing import Any

# Read by the interpreter once, at its start: a fork cannot take another value of these.
AT_START = ("PYTHON", "LC_", "LANG")


def preload() -> None:
    """Every module of hks, and every module any of them imports, at its top or inside a function
    (most of hks's imports are lazy, to keep `hks --help` fast): imports only, nothing run."""
    import compiler

    for module in pkgutil.walk_packages(compiler.__path__, "compiler."):
        if module.name.endswith("__main__"):
            continue
        importlib.import_module(module.name)
        for name in imported_names(importlib.util.find_spec(module.name).origin):
            try:
                importlib.import_module(name)
            except ImportError:
                pass  # `from package import function`: the package is imported


def imported_names(path: str | None) -> set[str]:
    """The absolute module names a source file's import statements name."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(open(path or os.devnull, "rb").read())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def conflicts(env: dict[str, str]) -> list[str]:
    names = set(env) | set(os.environ)
    return sorted(n for n in names if n.startswith(AT_START) and env.get(n) != os.environ.get(n))


def run_hks(request: dict[str, Any], fds: list[int]) -> None:
    """Becomes `python -m compiler ARGV` (or the console script SCRIPT) as the caller would have
    started it; never returns."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    standard_streams()
    os.chdir(request["cwd"])
    os.umask(request["umask"])
    os.environ.clear()
    os.environ.update(request["env"])
    time.tzset()
    script = request.get("script")
    sys.path[0] = os.path.dirname(script) if script else request["cwd"]  # where Python looks first
    sys.argv = [script or "-m", *request["argv"]]
    try:
        if script:  # a console script, as its shebang runs it
            runpy.run_path(script, run_name="__main__")
        else:
            runpy.run_module("compiler", run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exit:
        code = exit_code(exit)
    except BaseException:
        traceback.print_exc()
        code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        code = 120  # what Python exits with when flushing its streams fails at exit
    os._exit(code)


def standard_streams() -> None:
    """sys.stdin, stdout and stderr made again over the caller's descriptors, as Python makes them at
    its start: the server's were made over its own, and keep what they found there (a file that can
    seek, a terminal or not)."""
    for fd, name in enumerate(("stdin", "stdout", "stderr")):
        server = getattr(sys, name)
        line_buffering = name == "stderr" or os.isatty(fd)
        buffer = open(fd, "rb" if fd == 0 else "wb", closefd=False)
        stream = io.TextIOWrapper(buffer, server.encoding, server.errors, "\n", line_buffering)
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)


def exit_code(exit: SystemExit) -> int:
    """As the interpreter turns an uncaught SystemExit into the process's status."""
    if exit.code is None:
        return 0
    if isinstance(exit.code, int):
        return exit.code & 0xFF
    print(exit.code, file=sys.stderr)
    return 1


def handle(conn: socket.socket) -> None:
    """One request, in a process of its own: fork hks, wait for it, answer; never returns."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    message, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
    request = json.loads(message)
    refused = conflicts(request["env"])
    if refused or len(fds) != 3:
        conn.send(json.dumps({"refused": refused or ["(streams)"]}).encode())
        os._exit(0)
    pid = os.fork()
    if pid == 0:
        conn.close()
        run_hks(request, fds)
    for fd in fds:
        os.close(fd)
    pidfd = os.pidfd_open(pid)
    ready, _, _ = select.select([conn, pidfd], [], [])
    if conn in ready and pidfd not in ready:  # the caller hung up (a timeout, a kill): so does hks
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    try:
        conn.send(json.dumps({"status": status}).encode())
    except OSError:
        pass
    os._exit(0)


def serve(path: str) -> None:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(path)
    listener.listen(64)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the request handlers are reaped by the kernel
    print("ready", flush=True)
    while True:
        ready, _, _ = select.select([listener, 0], [], [])
        if 0 in ready and not os.read(0, 1):
            return
        if listener in ready:
            conn, _ = listener.accept()
            if os.fork() == 0:
                listener.close()
                handle(conn)
            conn.close()


if __name__ == "__main__":
    preload()
    serve(sys.argv[1])
