"""Numbers a config may hold: finite, and integers within 64 bits (YAML-012).

`.inf`, `.nan` and a float that overflows (`1e999`) would be written as `Infinity` into JSON and
`inf` into LiteLLM's config; an integer past 64 bits is past what Kubernetes, JSON readers and
Go programs take (and past 4,300 digits Python refuses to convert it). repo.py asks this module
about every scalar YAML reads as a number, before anything is built from it.
"""

from __future__ import annotations

import math
import re

INT64_MAX = 2**63 - 1
_NON_FINITE = re.compile(r"[-+]?\.(?:inf|Inf|INF|nan|NaN|NAN)")
_BASED_INT = re.compile(r"([-+]?)0([xob])([0-9a-fA-F_]+)")
_DECIMAL_INT = re.compile(r"[-+]?[0-9][0-9_]*")
_FLOAT = re.compile(r"[-+]?(?:[0-9][0-9_]*)?\.?[0-9_]*(?:[eE][-+]?[0-9]+)?")
_BASES = {"x": 16, "o": 8, "b": 2}
_NUMBER_STARTS = frozenset("0123456789+-.")


def problem(text: str) -> str | None:
    """What is wrong with a scalar YAML reads as a number, or None (also for text that is no
    number at all)."""
    if not text or text[0] not in _NUMBER_STARTS:  # most scalars are words: done at once
        return None
    if _NON_FINITE.fullmatch(text):
        return f"'{text}' is not a finite number: hks refuses infinity and NaN"
    based = _BASED_INT.fullmatch(text)
    if based:
        digits = based.group(3).replace("_", "")
        if len(digits) > 64 or (digits and int(digits, _BASES[based.group(2)]) > INT64_MAX):
            return _too_large()
        return None
    if _DECIMAL_INT.fullmatch(text):
        digits = text.lstrip("+-").replace("_", "").lstrip("0")
        return _too_large() if len(digits) > 19 or (digits and int(digits) > INT64_MAX) else None
    if any(c.isdigit() for c in text) and _FLOAT.fullmatch(text):
        try:
            value = float(text.replace("_", ""))
        except ValueError:
            return None
        return None if math.isfinite(value) else "the number overflows to infinity: hks refuses non-finite numbers"
    return None


def _too_large() -> str:
    return f"the whole number is larger than {INT64_MAX} (64 bits)"
