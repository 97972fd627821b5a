"""The last step of every edit, as one transaction: the changed files checked together as `hks
validate` would read them, then either shown as a diff or written, each atomically, under the
repository's lock and only if no other edit wrote them since they were read.

`prepare` checks and refuses (errors.Refused) an edit that adds an error; `commit` writes.
The editing commands print what lies between: the warnings, the diff or what was done.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from compiler.errors import InputError, Refused
from compiler.tools import edit
from compiler.tools import edit_guard as editguard

if TYPE_CHECKING:
    from compiler.diagnostics import Diagnostic


@dataclass(frozen=True)
class Pending:
    """An edit that passed the check: the new text of each file, and what each held when read."""

    root: Path
    changes: dict[Path, str]
    read: dict[Path, bytes | None]
    verdict: edit.Verdict

    @property
    def warnings(self) -> list[Diagnostic]:
        """New warnings (a model that retires soon, or that the catalogue does not know)."""
        return self.verdict.warnings

    @property
    def errors_left(self) -> int:
        """The errors the config still has after the edit, all of them ones it had before (or
        allowed); 0 when the config is clean."""
        return len(self.verdict.remaining) + len(self.verdict.introduced) if self.verdict.remaining else 0

    def diff(self) -> str:
        return edit.unified_diff(self.root, self.changes)


def prepare(
    directory: str,
    files: Iterable[edit.YamlFile],
    *,
    texts: dict[Path, str] | None = None,
    allow: frozenset[str] = frozenset(),
) -> Pending | None:
    """The edit of `files` (and whole new `texts`) checked as `hks validate` would check the
    config with it; None when it changes nothing. Refuses (errors.Refused) an edit that adds an
    error, except for the rules in `allow`, which an edit may introduce because they are its next
    steps (a new secrets backend's secrets, say)."""
    files = list(files)
    changes = {f.path: f.text() for f in files if f.changed}
    # what each file held when it was read: another edit may write it before this one does
    read = {path: editguard.snapshot(path) for path in changes}
    read.update({f.path: f.disk for f in files if f.path in changes})
    changes.update({path: text for path, text in (texts or {}).items() if _differs(path, text)})
    if not changes:
        return None
    verdict = edit.check(directory, changes)
    introduced = [d for d in verdict.introduced if d.rule not in allow]
    if introduced:
        new = [str(path) for path in sorted(changes) if not path.exists()]
        raise Refused("refused: the edit would make the config invalid; nothing was changed"
                      + (f" ({', '.join(new)} not created)" if new else ""), introduced)
    return Pending(Path(directory), changes, read, verdict)


def commit(pending: Pending) -> None:
    """Writes the changed files, each atomically, under the repository's lock; refuses
    (errors.InputError) when another edit wrote one of them since this one read it."""
    with editguard.locked(pending.root):
        moved = editguard.changed_since(pending.read)
        if moved:
            raise InputError(f"{', '.join(map(str, moved))} changed since hks read it (another edit at the same time?); "
                             "nothing was changed: run the command again")
        for path in sorted(pending.changes):
            edit.write_atomic(path, pending.changes[path])


def _differs(path: Path, text: str) -> bool:
    return not path.exists() or path.read_text("utf-8-sig") != text


def open_checked(path: Path) -> edit.YamlFile:
    """A file to edit; errors.InputError when it cannot be read, errors.Refused when it is not
    YAML."""
    try:
        found, diagnostics = edit.open_file(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    if found is None:
        raise Refused(f"{path} cannot be read as YAML; fix it first (nothing was changed)", diagnostics)
    return found
