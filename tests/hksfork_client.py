"""`python -S tests/hksfork_client.py [--script SCRIPT] ARGS`: `python -m compiler ARGS` (or the console
script SCRIPT with ARGS) for the tests, run as a fork of the test worker's hksfork_server when there is
one (`$HKS_TEST_FORKSERVER`), else started fresh.

The caller sees a process like any other: this one's standard streams are hks's, its exit status is
hks's (a signal that killed hks kills this too), and killing this kills hks. Standard library only and
no site (`-S`), so that it starts in milliseconds.
"""

import json
import os
import signal
import socket
import sys

SOCKET = "HKS_TEST_FORKSERVER"
# Set to 1: no fresh start when the server cannot fork hks; the reason on stderr and exit 70
# (tests/test_hksfork.py, where a fresh start would hide what it tests).
FORK_OR_FAIL = "HKS_TEST_FORK_OR_FAIL"
why_not = ""  # why forked() returned None


def forked(argv: list[str], script: str | None = None) -> int | None:
    """hks's wait status from the fork server; None if there is none or it refused (why_not)."""
    global why_not
    path = os.environ.get(SOCKET)
    if not path:
        why_not = "no fork server"
        return None
    umask = os.umask(0)
    os.umask(umask)
    request = {"argv": argv, "script": script, "cwd": os.getcwd(), "env": hks_environment(), "umask": umask}
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as conn:
            conn.connect(path)
            socket.send_fds(conn, [json.dumps(request).encode()], [0, 1, 2])
            answer = json.loads(conn.recv(1 << 16) or b"{}")
    except OSError as error:
        why_not = f"the fork server at {path}: {error!r}"
        return None
    status = answer.get("status")
    if not isinstance(status, int):
        why_not = f"the fork server answered {answer}"
        return None
    return status


def hks_environment() -> dict[str, str]:
    """This process's environment without the client's own variables."""
    return {name: value for name, value in os.environ.items() if name not in (SOCKET, FORK_OR_FAIL)}


def main() -> None:
    argv, script = sys.argv[1:], None
    if argv[:1] == ["--script"]:
        script, argv = argv[1], argv[2:]
    status = forked(argv, script)
    if status is None and os.environ.get(FORK_OR_FAIL) == "1":
        print(f"hksfork_client: not forked: {why_not}", file=sys.stderr)
        os._exit(70)
    if status is None:
        command = [script] if script else [sys.executable, "-m", "compiler"]
        os.execve(command[0], [*command, *argv], hks_environment())
    if os.WIFSIGNALED(status):
        signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
        os.kill(os.getpid(), os.WTERMSIG(status))
    os._exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
