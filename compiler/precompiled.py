"""hks's own YAML data (the catalogue, the dashboards, the built-in policy packs), kept beside
the code as JSON, which Python reads in C: parsing the YAML and checking the packs' schemas cost
about 70 ms of every run, a quarter of `hks validate` on a small config.

    python -m compiler.precompiled    # after editing catalogue/, policies/ or the dashboards

Each entry carries the sha256 of its source file and is used only while the source is
unchanged, so an edited file is read from its source, never shadowed by a stale entry.
tests/test_precompiled.py holds the shipped file current and equal to its sources.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
from pathlib import Path
from typing import Any

PATH = Path(__file__).with_name("precompiled.json")


def lookup(source: Path, name: str) -> Any | None:
    """The data of `source` (named as in DATA_FILES or policies/NAME.yaml), fresh objects each
    call; None when there is no entry, or the source has changed since it was written."""
    entry = _entries().get(name)
    if entry is None or entry["sha256"] != _digest(source):
        return None
    return json.loads(entry["json"], object_hook=_decode)


@functools.cache
def _entries() -> dict[str, Any]:
    try:
        entries: dict[str, Any] = json.loads(PATH.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return entries


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _encode(value: Any) -> Any:
    if isinstance(value, datetime.date):  # catalogue dates, unquoted in YAML
        return {"$date": value.isoformat()}
    raise TypeError(f"cannot precompile a {type(value).__name__}")


def _decode(mapping: dict[str, Any]) -> Any:
    if mapping.keys() == {"$date"}:
        return datetime.date.fromisoformat(mapping["$date"])
    return mapping


def sources() -> dict[str, tuple[Path, Any]]:
    """Every precompiled file's name, path and data, read from the sources now."""
    from compiler import datafiles, packs
    from compiler.resources import data_dir

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
        name: {"sha256": _digest(path), "json": json.dumps(data, default=_encode, sort_keys=True)}
        for name, (path, data) in sorted(sources().items())
    }
    return json.dumps(entries, indent=1, sort_keys=True) + "\n"


if __name__ == "__main__":
    PATH.write_text(build(), encoding="utf-8")
    print(f"wrote {PATH}")
