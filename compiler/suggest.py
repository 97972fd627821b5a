"""'Did you mean' suggestions for misspelt keys, names and values."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, choices: Iterable[str]) -> str | None:
    options = sorted(set(choices))
    lowered = {c.lower(): c for c in options}
    if word.lower() in lowered and lowered[word.lower()] != word:
        return lowered[word.lower()]
    found = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.75)
    return lowered[found[0]] if found else None


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    match = closest(word, choices)
    return f"did you mean '{match}'?" if match else None


def completions(word: str, choices: Iterable[str]) -> list[str]:
    """Choices that a short word begins (`temp` → `temperature`), or that hold it as a part
    (`rpm` → `rate_limit.rpm`): for names too short for a spelling match."""
    options = sorted(set(choices), key=lambda c: (c.count("."), c))
    word = word.lower()
    return [c for c in options if any(part.startswith(word) for part in c.lower().split("."))][:3]
