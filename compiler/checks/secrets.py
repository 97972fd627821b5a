"""The plaintext-secret scan: every string of the parsed config (keys too), then what parsing
does not keep: comments and every other line as written, file names, and policies/*.yaml.

Each credential found is remembered (redact.remember), so no output of the run repeats it; a
private key's lines after its BEGIN line are remembered too, since they match no shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler.diagnostics import Diagnostic, Position, error
from compiler.load.parse import Document, locate
from compiler.load.repo import Loaded
from compiler.redact import remember, secret_kind, secret_spans

RULES: dict[str, str] = {
    "SEC-001": "plaintext secret in the config",
}

PRIVATE_KEY_END = "PRIVATE KEY"
LONGEST_PRIVATE_KEY = 200  # lines after a BEGIN line that can still be a key's body


@dataclass(frozen=True)
class Secret:
    """A place where the scan found a credential (never the value)."""

    position: Position
    kind: str


SECRET_MESSAGE = "this value looks like {kind}: config files hold secret names, never secret values"
SECRET_HINT = "remove it from the file (and from Git history), rotate the key, and store it with `hks secret create`"


def secret_diagnostics(secrets: list[Secret]) -> list[Diagnostic]:
    """SEC-001 for configs the policy stage cannot evaluate (the baseline pack reports the rest)."""
    return [error(s.position, "SEC-001", SECRET_MESSAGE.format(kind=s.kind), hint=SECRET_HINT) for s in secrets]


def scan_secrets(docs: list[Document]) -> list[Diagnostic]:
    return secret_diagnostics(find_secrets(docs))


def scan_config(docs: list[Document], policy_files: Sequence[Loaded]) -> list[Secret]:
    """Every secret in the config files and the organisation's policy files."""
    values = _values(docs)
    return [s for s, _ in values] + _texts(docs, values) + scan_policy_files(policy_files)


def find_secrets(docs: list[Document]) -> list[Secret]:
    """Every string that looks like a credential, wherever it is: hks takes names, never values."""
    return [secret for secret, _ in _values(docs)]


def _values(docs: list[Document]) -> list[tuple[Secret, str]]:
    found = []
    for doc in docs:
        for loc, text, is_key in _strings(doc.data, ()):
            kind = secret_kind(text)
            if kind:
                remember(text)
                line, column = locate(doc.data, loc, key=is_key)
                found.append((Secret(Position(doc.path, line, column), kind), text))
    return found


def _strings(node: Any, loc: tuple[Any, ...]) -> list[tuple[tuple[Any, ...], str, bool]]:
    """Every string in a document, mapping keys included, with where it is."""
    found: list[tuple[tuple[Any, ...], str, bool]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str):
                found.append((loc + (key,), key, True))
            found += _strings(value, loc + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _strings(value, loc + (index,))
    elif isinstance(node, str):
        found.append((loc, node, False))
    return found


def _texts(docs: list[Document], values: list[tuple[Secret, str]]) -> list[Secret]:
    """Secrets in the file names and the text of `docs` that the value scan did not report: not on
    the same line, nor inside a value it flagged (such as a private key's block)."""
    reported = {(s.position.path, s.position.line) for s, _ in values}
    flagged = [value for _, value in values]
    secrets: list[Secret] = []
    for doc in docs:
        secrets += _file_name(doc.path)
        for secret, token in _tokens(doc.path, doc.text):
            if (doc.path, secret.position.line) not in reported and not any(token in value for value in flagged):
                secrets.append(secret)
    return _first_per_line(secrets)


def _file_name(path: str) -> list[Secret]:
    name = Path(path).name
    kind = secret_kind(name)
    if kind is None:
        return []
    for start, end, _ in secret_spans(name):
        remember(name[start:end])
    remember(name)
    return [Secret(Position(path), f"{kind} in the file's name")]  # the path is printed redacted (safeout.py)


def scan_text(path: str, text: str) -> list[Secret]:
    """Every line of a file with a credential-shaped token in it, at the first such token."""
    return _first_per_line([secret for secret, _ in _tokens(path, text)])


def _tokens(path: str, text: str) -> list[tuple[Secret, str]]:
    """Each credential-shaped token in the text, at its line and column. The whole text is
    searched at once (a search per line costs seconds at 10,000 workspace files)."""
    found = []
    for span_start, end, kind in secret_spans(text):
        start = span_start
        while text[start].isspace():  # a shape that starts at the whitespace before a token
            start += 1
        token = text[start:end]
        remember(token)
        line_start = text.rfind("\n", 0, start) + 1
        line = text.count("\n", 0, start) + 1
        if kind == "a private key":
            _remember_key_body(text[end:].splitlines()[1:])
        where = " in a comment" if "#" in text[line_start:start] else ""
        found.append((Secret(Position(path, line, start - line_start + 1), kind + where), token))
    return found


def _first_per_line(secrets: list[Secret]) -> list[Secret]:
    seen: set[tuple[str, int]] = set()
    first = []
    for secret in secrets:
        where = (secret.position.path, secret.position.line)
        if secret.position.line == 0 or where not in seen:
            first.append(secret)
            seen.add(where)
    return first


def _remember_key_body(lines: list[str]) -> None:
    for line in lines[:LONGEST_PRIVATE_KEY]:
        if PRIVATE_KEY_END in line:
            return
        remember(line.strip().lstrip("#").strip().strip("\"'"))


def scan_policy_files(files: Sequence[Loaded]) -> list[Secret]:
    """policies/*.yaml as written (load keeps the text; none for a link, which is not read
    through, nor for a file it refused): pack messages and waiver reasons are printed by validate."""
    secrets = []
    for loaded in files:
        if loaded.text is not None:
            secrets += _file_name(loaded.path) + scan_text(loaded.path, loaded.text)
    return secrets
