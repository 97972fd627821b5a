"""Runs inside a LiteLLM release's own Python (not the test's): imports the proxy once, then forks
one proxy per request, so the e2e tests pay the release's import (about 5 s of CPU) once per
release and test worker instead of once per proxy.

A forked proxy is the fresh `litellm` process the tests would start, except for what its import
read from the environment: the import runs with the environment of the first proxy asked for,
and every variable it read is recorded (reads by name, and the few readers that walk the whole
environment, each with the names it looks at). A later proxy whose environment differs in any of
those is refused here, and the caller starts it as a fresh process instead.

Protocol, one JSON object per line: the zygote writes {"ready": true}; then for each request
{"argv", "cwd", "env", "log"} on stdin it answers {"pid": N} or {"refused": [names]}. A request
may instead run a script, as `python -c` would, in the imported interpreter: {"code", "argv",
"cwd", "env", "log", "out", "exit"}, its standard output to `out` and its exit code written to
`exit` when it ends.
"""

from __future__ import annotations

import gc
import json
import os
import runpy
import signal
import sys
import traceback
from collections.abc import Callable
from typing import Any

# Where os.environ's own mapping methods live (a read through them is the caller's).
MAPPING_MODULES = ("_collections_abc", "collections.abc", "os")

# The readers that walk the whole environment during the import, by module and function, and
# the names each one actually uses.
WALKERS: dict[tuple[str, str], Callable[[str], bool]] = {
    # urllib's proxy discovery (httpx clients built at import): every `*_proxy` variable.
    ("urllib.request", "getproxies_environment"): lambda name: name.lower().endswith("_proxy"),
    # wsgiref copies the environment for WSGI servers, which the proxy (ASGI) never runs.
    ("wsgiref.handlers", "read_environ"): lambda name: False,
}


def settings_names(frame: Any) -> Callable[[str], bool] | None:
    """The names a pydantic-settings source looks at while it walks the environment: its
    prefix, or with no prefix its model's field names and aliases (and what nests under them)."""
    while frame is not None:
        source = frame.f_locals.get("self")
        if hasattr(source, "settings_cls") and hasattr(source, "env_prefix"):
            prefix = (source.env_prefix or "").lower()
            if prefix:
                return lambda name: name.lower().startswith(prefix)
            keys = set()
            for field_name, field in source.settings_cls.model_fields.items():
                keys.add(field_name.lower())
                for alias in (field.alias, field.validation_alias):
                    keys.update(str(a).lower() for a in getattr(alias, "choices", [alias]) if a)
            return lambda name: any(name.lower().startswith(key) for key in keys)
        frame = frame.f_back
    return None


class Recorder:
    """Records the environment variables read while it is active."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.walks: list[tuple[str, Callable[[str], bool] | None]] = []

    def __enter__(self) -> Recorder:
        environ = type(os.environ)
        self.saved = {name: getattr(environ, name) for name in ("__getitem__", "__contains__", "__iter__")}
        recorder, saved = self, self.saved

        def getitem(env: Any, key: str) -> Any:
            caller = sys._getframe(1)
            # A walk's own item reads (`environ.items()`) are the walk's, judged by its reader.
            if not (caller.f_code.co_name == "__iter__" and caller.f_globals.get("__name__") in MAPPING_MODULES):
                recorder.names.add(key)
            return saved["__getitem__"](env, key)

        def contains(env: Any, key: object) -> bool:
            recorder.names.add(str(key))
            return bool(saved["__contains__"](env, key))

        def walk(env: Any) -> Any:
            recorder.walks.append(walker(sys._getframe(1)))
            return saved["__iter__"](env)

        environ.__getitem__ = getitem  # type: ignore[method-assign]
        environ.__contains__ = contains  # type: ignore[method-assign,assignment]
        environ.__iter__ = walk  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        for name, method in self.saved.items():
            setattr(type(os.environ), name, method)

    def conflicts(self, imported: dict[str, str], wanted: dict[str, str]) -> list[str]:
        """The variables that differ between the import's environment and `wanted` and that the
        import read; every differing variable, if an unknown reader walked the environment."""
        differing = {name for name in imported.keys() | wanted.keys() if imported.get(name) != wanted.get(name)}
        unknown = sorted({where for where, uses in self.walks if uses is None})
        if unknown and differing:
            return sorted(differing) + [f"(environment walked by {where})" for where in unknown]
        uses = [uses for _, uses in self.walks if uses is not None]
        return sorted(name for name in differing if name in self.names or any(use(name) for use in uses))


def walker(frame: Any) -> tuple[str, Callable[[str], bool] | None]:
    """Who walks the environment, and which names it uses (None: unknown)."""
    while frame is not None and frame.f_globals.get("__name__") in MAPPING_MODULES:
        frame = frame.f_back
    where = (frame.f_globals.get("__name__", "?"), frame.f_code.co_name) if frame else ("?", "?")
    if where in WALKERS:
        return ".".join(where), WALKERS[where]
    return ".".join(where), settings_names(frame)


def send(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def child(request: dict[str, Any], script: str) -> None:
    """Becomes the proxy: the request's environment, folder, output and arguments, then the
    release's own `litellm` console script, as a fresh process would run it."""
    try:
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        out = os.open(request["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600) if "out" in request else log
        os.dup2(out, 1)
        os.dup2(log, 2)
        os.close(log)
        if out != log:
            os.close(out)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        if "code" in request:
            sys.argv = ["-c", *request["argv"]]
            exec(compile(request["code"], "<string>", "exec"), {"__name__": "__main__"})
        else:
            sys.argv = [script, *request["argv"]]
            runpy.run_path(script, run_name="__main__")
        code = 0
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
    except BaseException:
        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    if "exit" in request:
        with open(request["exit"], "w") as written:
            written.write(str(code))
    os._exit(code)


def main() -> None:
    script = sys.argv[1]  # the release's `litellm` console script
    first = json.loads(sys.stdin.readline())
    imported = dict(first["env"])
    os.environ.clear()
    os.environ.update(imported)
    sys.argv = [script]
    with Recorder() as recorder:
        import litellm.proxy.proxy_cli
        import litellm.proxy.proxy_server  # noqa: F401
    # Children are reaped by the kernel; a dead child's pid then stops answering os.kill(pid, 0).
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    send({"ready": True})
    request = first
    while request is not None:
        refused = recorder.conflicts(imported, request["env"])
        if refused:
            print(f"refused {request['cwd']}: {', '.join(refused)}", file=sys.stderr, flush=True)
            send({"refused": refused})
        else:
            sys.stdout.flush()
            gc.freeze()  # the import's objects: never scanned by a proxy's collections, which would copy their pages
            pid = os.fork()
            if pid == 0:
                child(request, script)
            send({"pid": pid})
        line = sys.stdin.readline()
        request = json.loads(line) if line else None


if __name__ == "__main__":
    main()
