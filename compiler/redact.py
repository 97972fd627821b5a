"""Recognises values that look like credentials, and takes them out of every text hks prints.

The shapes are detect-secrets' token plugins (compiler/checks/secret_patterns.py) plus those of the
providers hks configures and the URL forms that carry a credential. `redact` is the one point
every byte of output passes through (compiler/safeout.py): a value scanned as a secret is
remembered, so a message that quotes it, in any command and any format, shows it redacted.
"""

from __future__ import annotations

import functools
import json
import re

REDACTED = "[redacted]"

# Shapes detect-secrets does not know: the providers hks configures, and credentials in URLs.
HKS_PATTERNS: tuple[tuple[str, str, int], ...] = (
    ("an Anthropic API key", r"sk-ant-[A-Za-z0-9_\-]{8,}", 0),
    ("an OpenAI API key", r"sk-(proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{16,}", 0),
    ("a Google API key", r"AIza[0-9A-Za-z_\-]{30,}", 0),
    ("a bearer token", r"bearer\s+[A-Za-z0-9._~+/\-]{16,}=*", re.IGNORECASE),
    ("a URL with a password in it", r"://[^/\s:@]*:[^/\s@]+@", 0),  # the user may be empty
    ("a URL with a token as its user", r"://[A-Za-z0-9_\-.~]{20,}@", 0),
    (
        "a URL with a key in its query",
        r"[?&;][A-Za-z0-9_.\-]*(key|token|secret|sig|signature|password|passwd|pwd|code|auth|credential)"
        r"[A-Za-z0-9_.\-]*=[^&\s#]+",
        re.IGNORECASE,
    ),
)
# Whole values only: as part of a longer text these shapes are any hex or alphanumeric run.
WHOLE_VALUE_PATTERNS: tuple[tuple[str, str, int], ...] = (
    ("an Azure OpenAI key", r"[0-9a-f]{32}|[A-Za-z0-9]{84}", 0),
)
TOKEN_CHARS = re.compile(r"[A-Za-z0-9._~+/=\-]*")
# Up to this length one combined search first (see _any_shape). Measured per text: 0.6 µs
# against 5.6 µs at 8 characters, even at about 100, and 45 µs against 35 µs for a 300-character
# workspace file, which is past the point where the forty searches win.
SHORT_TEXT = 128
SHORTEST_REMEMBERED = 8  # shorter values would redact ordinary words

_remembered: set[str] = set()


@functools.cache
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    from compiler.checks.secret_patterns import PLUGINS

    vendored = [(kind, pattern, flags) for _, kind, denylist in PLUGINS for pattern, flags in denylist]
    return tuple((kind, re.compile(pattern, flags)) for kind, pattern, flags in [*HKS_PATTERNS, *vendored])


@functools.cache
def _any_shape() -> re.Pattern[str]:
    """All shapes in one pattern: one search per short string instead of forty (a quarter of the
    time over a config's strings); on long texts forty simple searches are faster than this one."""
    return re.compile("|".join(_scoped(pattern) for _, pattern in _patterns()))


def _scoped(pattern: re.Pattern[str]) -> str:
    flags = "".join(letter for flag, letter in ((re.IGNORECASE, "i"), (re.VERBOSE, "x")) if pattern.flags & flag)
    return f"(?{flags}:{pattern.pattern})"


@functools.cache
def _whole_values() -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple((kind, re.compile(pattern, flags)) for kind, pattern, flags in WHOLE_VALUE_PATTERNS)


def secret_kind(text: str) -> str | None:
    for kind, pattern in _whole_values():
        if pattern.fullmatch(text):
            return kind
    if len(text) <= SHORT_TEXT and not _any_shape().search(text):
        return None
    for kind, pattern in _patterns():
        if pattern.search(text):
            return kind
    return None


def secret_spans(text: str) -> list[tuple[int, int, str]]:
    """Where credentials are in a text (a line, a file name): (start, end, kind), each span run on
    to the end of its token, since some shapes match only a token's head."""
    spans: list[tuple[int, int, str]] = []
    if len(text) <= SHORT_TEXT and not _any_shape().search(text):
        return spans
    for kind, pattern in _patterns():
        for match in pattern.finditer(text):
            end = TOKEN_CHARS.match(text, match.end()).end()  # type: ignore[union-attr]
            spans.append((match.start(), end, kind))
    return sorted(spans)


def remember(value: str) -> None:
    """A value found to be a secret: from now on no output of this process shows it."""
    if len(value) >= SHORTEST_REMEMBERED:
        _remembered.add(value)
        _remembered.add(json.dumps(value)[1:-1])  # as JSON and SARIF quote it
        _remembered.add(_xml_escaped(value))  # as JUnit's XML does


def _xml_escaped(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def redact(text: str) -> str:
    """The text with every remembered secret and every secret-shaped token replaced."""
    for value in sorted(_remembered, key=len, reverse=True):
        if value in text:
            text = text.replace(value, REDACTED)
    spans = secret_spans(text)
    if not spans:
        return text
    parts, position = [], 0
    for start, end, _ in spans:
        if end <= position:
            continue
        parts += [text[position : max(start, position)], REDACTED]
        position = end
    return "".join(parts) + text[position:]


def describe(value: object) -> str:
    """How a value may be shown in a message: never a string that could be a secret."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        if len(value) <= 40 and secret_kind(value) is None and value.isprintable():
            return f"'{value}'"
        return f"a string of {len(value)} characters"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"
