"""The zygote that e2e proxies fork from (tests/e2e/zygote.py) hands out a proxy only when the
proxy's environment agrees with its import in everything the import read; otherwise it refuses,
and launch.py starts the proxy fresh."""

from __future__ import annotations

import os
from pathlib import Path

from tests.e2e import launch


def request(tmp_path: Path, **env: str) -> dict[str, object]:
    base = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "NO_DOCS": "True", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    return {"argv": ["--help"], "cwd": str(tmp_path), "env": {**base, **env}, "log": str(tmp_path / "help.log")}


def test_a_fork_is_refused_for_what_the_import_read_and_given_for_the_rest(litellm: Path, tmp_path: Path) -> None:
    zygote = launch.Zygote(litellm, request(tmp_path), tmp_path / "zygote.log")
    try:
        assert zygote.ready and isinstance(zygote.first.get("pid"), int)
        # Read at import: FastAPI's docs route is built then (proxy_server.py).
        assert zygote.fork(request(tmp_path, NO_DOCS="False")) == {"refused": ["NO_DOCS"]}
        # Read by the proxy discovery that walks the environment at import (httpx clients).
        assert zygote.fork(request(tmp_path, HTTPS_PROXY="http://127.0.0.1:9")) == {"refused": ["HTTPS_PROXY"]}
        # Read only when the proxy runs, after the fork.
        forked = zygote.fork(request(tmp_path, OPENAI_API_KEY_UNREAD_BY_IMPORT="x", REDIS_HOST="127.0.0.1"))
        assert isinstance(forked.get("pid"), int), forked
    finally:
        zygote.close()
    proxy = launch.Forked(int(forked["pid"]))  # type: ignore[call-overload]
    proxy.stop()
    assert proxy.poll() is not None
    assert "--config" in (tmp_path / "help.log").read_text()  # the release's own CLI ran: its --help
