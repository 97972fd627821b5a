"""A real Redis server for the end-to-end tests: Debian's `redis-server` (tests/install-tools.sh
installs it), on 127.0.0.1 at a free port, with a password, keeping nothing on disk. The gateway
reaches it through the same three variables its Deployment fills from `gateway.cache.redis_secret`."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from compiler.providers.secretrefs import REDIS_ENV


class RedisServer:
    def __init__(self, folder: Path, password: str = "e2e-redis-password-3b91f0") -> None:
        self.folder = folder
        self.password = password
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is missing: run tests/install-tools.sh (CI does)"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        args = [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--requirepass", self.password]
        args += ["--save", "", "--appendonly", "no", "--dir", str(self.folder), "--logfile", str(self.folder / "redis.log")]
        self._process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while self.command("PING") != "+PONG":
            assert self._process.poll() is None, (self.folder / "redis.log").read_text()
            assert time.monotonic() < deadline, "redis-server did not answer PING in 30 s"
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=30)

    def env(self) -> dict[str, str]:
        return {REDIS_ENV["host"]: "127.0.0.1", REDIS_ENV["port"]: str(self.port), REDIS_ENV["password"]: self.password}

    def command(self, *words: str) -> str:
        """One command in Redis's inline protocol; the first line of the answer (or '' if none)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=5) as conn:
                conn.sendall(f"AUTH {self.password}\r\n{' '.join(words)}\r\n".encode())
                answer = b""
                while answer.count(b"\r\n") < 2:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    answer += chunk
        except OSError:
            return ""
        lines = answer.decode(errors="replace").split("\r\n")
        return lines[1] if len(lines) > 1 else ""

    def keys(self) -> set[str]:
        """Every key in the database (KEYS *, read whole: the test databases hold a few hundred)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as conn:
            conn.sendall(f"AUTH {self.password}\r\nKEYS *\r\n".encode())
            reader = conn.makefile("rb")
            reader.readline()  # +OK of AUTH
            count = int(reader.readline()[1:])
            found = set()
            for _ in range(count):
                size = int(reader.readline()[1:])
                found.add(reader.read(size + 2)[:-2].decode(errors="replace"))
            return found
