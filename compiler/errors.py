"""The exceptions that are not config diagnostics; stdlib only, so the CLI's top-level
handler can always import this module."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from compiler.diagnostics import Diagnostic


class InputError(Exception):
    """The config repository or output folder cannot be read or written (exit 2)."""


class RenderBug(Exception):
    """A rendered document fails its own schema: a bug in hks, not in the config (exit 3)."""


class Refused(Exception):
    """The request cannot be done with this config (exit 1): the findings that say why (printed
    first), the message, and what to do instead. The library raises it; the command line prints it."""

    def __init__(self, message: str, diagnostics: Sequence[Diagnostic] = (), hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.diagnostics = list(diagnostics)
        self.hint = hint
