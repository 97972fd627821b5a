"""Recognises values that look like credentials, so no message ever repeats one."""

from __future__ import annotations

import re

# Shapes of the API keys and tokens of the providers hks configures.
SECRET_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("an Anthropic API key", re.compile(r"sk-ant-[A-Za-z0-9_\-]{8,}")),
    ("an OpenAI API key", re.compile(r"sk-(proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{16,}")),
    ("a Google API key", re.compile(r"AIza[0-9A-Za-z_\-]{30,}")),
    ("a bearer token", re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/\-]{16,}=*")),
    ("an Azure OpenAI key", re.compile(r"^[0-9a-f]{32}$|^[A-Za-z0-9]{84}$")),
    ("a URL with a password in it", re.compile(r"://[^/\s:@]+:[^/\s@]+@")),
    ("a URL with a key in its query", re.compile(r"(?i)[?&](api[-_]?key|key|token|sig|code|password)=[^&\s]+")),
)


def secret_kind(text: str) -> str | None:
    for kind, pattern in SECRET_PATTERNS:
        if pattern.search(text):
            return kind
    return None


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
