"""Writes compiler/builtin/precompiled.json from its sources (the catalogue, the dashboards, the
built-in policy packs), after checking each pack:

    python -m compiler.builtin.precompile
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

from compiler.builtin import datafiles, precompiled
from compiler.builtin.resources import data_dir
from compiler.policy import packs


def _encode(value: Any) -> Any:
    if isinstance(value, datetime.date):  # catalogue dates, unquoted in YAML
        return {"$date": value.isoformat()}
    raise TypeError(f"cannot precompile a {type(value).__name__}")



def sources() -> dict[str, tuple[Path, Any]]:
    """Every precompiled file's name, path and data, read from the sources now."""
    found: dict[str, tuple[Path, Any]] = {}
    for folder, name in datafiles.DATA_FILES:
        path = data_dir(folder) / name
        found[f"{folder}/{name}"] = (path, datafiles.parse(path.read_text("utf-8")))
    for path in packs.builtin_files():
        quick = packs.quick_pack(path)
        if quick is None:
            raise SystemExit(f"policies/{path.name} has problems: `hks policy test` names them")
        found[f"policies/{path.name}"] = (path, quick)
    return found


def build() -> str:
    entries = {
        name: {"sha256": precompiled.digest(path), "json": json.dumps(data, default=_encode, sort_keys=True)}
        for name, (path, data) in sorted(sources().items())
    }
    return json.dumps(entries, indent=1, sort_keys=True) + "\n"


if __name__ == "__main__":
    precompiled.PATH.write_text(build(), encoding="utf-8")
    print(f"wrote {precompiled.PATH}")
