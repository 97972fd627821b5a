"""Text from the user's files made safe for every report format (text, JUnit, SARIF, ...).

A file name or a quoted value can hold control characters (a terminal escape sequence that
clears the screen, a newline followed by a forged `org.yaml:1:1: error[...]` line), bytes
that are not UTF-8 (file names: Python keeps them as lone surrogates, which no encoder writes
and no XML allows), and the bidirectional overrides that reorder what a reader sees. Each is
written as a visible escape (`\\x1b`, `\\n`, `\\xff`, `\\u202e`): nothing is dropped, so two
different names never print alike.
"""

from __future__ import annotations

import dataclasses
import re

from compiler.diagnostics import Diagnostic

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    return _UNSAFE.sub(_escape, text) if _UNSAFE.search(text) else text


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if 0xDC80 <= code <= 0xDCFF:  # a byte of a file name that is not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def diagnostic(d: Diagnostic) -> Diagnostic:
    """`d` with its path, message, hint and waiver printable."""
    position = dataclasses.replace(d.position, path=printable(d.position.path))
    return dataclasses.replace(
        d,
        position=position,
        message=printable(d.message),
        hint=printable(d.hint) if d.hint else d.hint,
        waiver=printable(d.waiver) if d.waiver else d.waiver,
    )
