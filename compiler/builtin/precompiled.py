"""hks's own YAML data (the catalogue, the dashboards, the built-in policy packs), kept beside
the code as JSON, which Python reads in C: parsing the YAML and checking the packs' schemas cost
about 70 ms of every run, a quarter of `hks validate` on a small config.

    python -m compiler.builtin.precompile    # after editing catalogue/, policies/ or the dashboards

Each entry carries the sha256 of its source file and is used only while the source is
unchanged, so an edited file is read from its source, never shadowed by a stale entry.
tests/builtin/test_precompiled.py holds the shipped file current and equal to its sources.
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
    if entry is None or entry["sha256"] != digest(source):
        return None
    return json.loads(entry["json"], object_hook=_decode)


@functools.cache
def _entries() -> dict[str, Any]:
    try:
        entries: dict[str, Any] = json.loads(PATH.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return entries


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _decode(mapping: dict[str, Any]) -> Any:
    if mapping.keys() == {"$date"}:
        return datetime.date.fromisoformat(mapping["$date"])
    return mapping
