"""Finds the data folders (schemas, templates, policies, catalogue) shipped with hks.

An installed wheel carries them in `compiler/data/`; a source checkout or an editable install
has them at the top of the repository. Never looked up through the current folder.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # compiler/


def data_dir(name: str) -> Path:
    installed = _PACKAGE / "data" / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name
