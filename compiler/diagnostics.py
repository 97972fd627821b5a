"""The one shape every problem takes, from YAML syntax to compliance policy."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(str, enum.Enum):  # noqa: UP042 (str() of a StrEnum member differs)
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Position:
    """A place in a user's file; line and column are 1-based, 0 when unknown."""

    path: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if not self.line:
            return self.path
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    position: Position
    severity: Severity
    rule: str
    message: str
    hint: str | None = None
    waiver: str | None = None  # set when an accepted waiver covers this finding (it then fails nothing)
    flag_hint: str | None = None  # the hint in the editing commands' flags, which they show instead

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR and self.waiver is None

    def sort_key(self) -> tuple[str, int, int, str, str]:
        p = self.position
        return (p.path, p.line, p.column, self.rule, self.message)


def error(position: Position, rule: str, message: str, hint: str | None = None, flag_hint: str | None = None) -> Diagnostic:
    return Diagnostic(position, Severity.ERROR, rule, message, hint, flag_hint=flag_hint)


def warning(position: Position, rule: str, message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(position, Severity.WARNING, rule, message, hint)


def info(position: Position, rule: str, message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic(position, Severity.INFO, rule, message, hint)


def sort_diagnostics(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(set(diagnostics), key=Diagnostic.sort_key)


def has_errors(diagnostics: list[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)
