"""Standard output and error with every secret redacted: the one point all output passes through.

The command line wraps both streams for the whole run (compiler/cli.py), so a message, a diff,
a report in any format or a usage error reaches the terminal through `redact.redact`, whoever
wrote it. A write is redacted whole: click writes a message in one call.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
from collections.abc import Iterator
from types import TracebackType
from typing import Any, TextIO

SECRET_VARIABLE = re.compile(r"(?i)(^|_)(token|secret|password|passwd|pass|pat|key|api_?key|credentials?)$")


def remember_environment() -> None:
    """The values of variables named like secrets (CI's GITHUB_TOKEN, a provider's API_KEY): a
    file that reaches one (a link to /proc/self/environ, say) still shows it redacted."""
    from compiler.redact import remember

    for name, value in os.environ.items():
        if SECRET_VARIABLE.search(name):
            remember(value)


class RedactingStream(io.TextIOBase):
    def __init__(self, inner: TextIO) -> None:
        self.inner = inner

    def write(self, text: Any) -> int:
        from compiler.redact import redact

        if isinstance(text, (bytes, bytearray)):  # click.echo of bytes, with no .buffer to find
            text = decoded(bytes(text), self.encoding)
        self.inner.write(redact(text))
        return len(text)

    def flush(self) -> None:
        self.inner.flush()

    def isatty(self) -> bool:
        return self.inner.isatty()

    def fileno(self) -> int:
        return self.inner.fileno()

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.inner, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self.inner, "errors", None)


def decoded(data: bytes, encoding: str) -> str:
    """Bytes click wrote: UTF-8 where they are (click's own encoding on an ASCII stream), else the stream's."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode(encoding, "replace")


def _redacted_traceback(kind: type[BaseException], value: BaseException, trace: TracebackType | None) -> None:
    """Python's report of an uncaught exception (`hks --debug`), which it prints after the
    streams were put back: redacted too."""
    import traceback

    from compiler.redact import redact

    if sys.__stderr__ is not None:
        sys.__stderr__.write(redact("".join(traceback.format_exception(kind, value, trace))))


@contextlib.contextmanager
def redacted_output() -> Iterator[None]:
    """sys.stdout and sys.stderr redacted until the block ends (the streams are put back)."""
    remember_environment()
    sys.excepthook = _redacted_traceback  # left in place: the traceback is printed after the block
    stdout, stderr = sys.stdout, sys.stderr
    for stream in (stdout, stderr):  # a terminal that cannot show "×" gets "\\xd7", not an internal error
        with contextlib.suppress(AttributeError, ValueError, io.UnsupportedOperation):
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
    if stdout is not None:  # None when the process was started with the stream closed
        sys.stdout = RedactingStream(stdout)
    if stderr is not None:
        sys.stderr = RedactingStream(stderr)
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError, AttributeError):
                stream.flush()
        sys.stdout, sys.stderr = stdout, stderr
