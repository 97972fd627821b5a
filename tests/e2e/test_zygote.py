"""The zygote that e2e proxies fork from (tests/e2e/zygote.py) hands out a proxy only when the
proxy's environment agrees with its import in everything the import read; otherwise it refuses,
and launch.py starts the proxy fresh."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.e2e import launch


def request(tmp_path: Path, base: dict[str, str], **env: str) -> dict[str, object]:
    return {"argv": ["--help"], "cwd": str(tmp_path), "env": {**base, **env}, "log": str(tmp_path / "help.log")}


def test_a_fork_is_refused_for_what_the_import_read_and_given_for_the_rest(litellm: Path, tmp_path: Path) -> None:
    """On the release's zygote the e2e proxies came from, if there is one (no second import of
    the release, about 6 s of CPU); else on one of its own."""
    zygote = launch.pooled(litellm)
    own = zygote is None
    if zygote is None:
        base = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "NO_DOCS": "True", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
        zygote = launch.Zygote(litellm, request(tmp_path, base), tmp_path / "zygote.log")
        assert zygote.ready and isinstance(zygote.first.get("pid"), int)
    base = zygote.env
    try:
        # Read at import: FastAPI's docs route is built then (proxy_server.py).
        assert zygote.fork(request(tmp_path, base, NO_DOCS="False" if base.get("NO_DOCS") == "True" else "True")) == {"refused": ["NO_DOCS"]}
        # Read by the proxy discovery that walks the environment at import (httpx clients).
        assert "HTTPS_PROXY" not in base
        assert zygote.fork(request(tmp_path, base, HTTPS_PROXY="http://127.0.0.1:9")) == {"refused": ["HTTPS_PROXY"]}
        # Read only when the proxy runs, after the fork.
        assert "OPENAI_API_KEY_UNREAD_BY_IMPORT" not in base
        forked = zygote.fork(request(tmp_path, base, OPENAI_API_KEY_UNREAD_BY_IMPORT="x", REDIS_HOST="127.0.0.2"))
        assert isinstance(forked.get("pid"), int), forked
    finally:
        if own:
            zygote.close()
    proxy = launch.Forked(int(forked["pid"]))  # type: ignore[call-overload]
    help_log, deadline = tmp_path / "help.log", time.monotonic() + 60
    while not (help_log.exists() and "--config" in help_log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.1)
    proxy.stop()
    assert proxy.poll() is not None
    assert "--config" in help_log.read_text()  # the release's own CLI ran: its --help
