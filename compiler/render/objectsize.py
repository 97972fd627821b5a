"""Kubernetes' size limits on the objects hks renders, and the splitting that keeps under them.

A ConfigMap holds at most 1 MiB of data, and an object applied the way Argo CD applies by
default (client-side `kubectl apply`) also carries a copy of itself in an annotation of at most
256 KiB (262,144 bytes). At a few thousand workspaces the gateway's config is megabytes, so hks
keeps the data of every object it renders under PART_BYTES and splits what is larger: files
into numbered pieces (NAME.part-001, …), pieces into as many ConfigMaps as they need, put back
together by a script the gateway runs before it starts (templates/gateway/assemble-config.sh).
"""

from __future__ import annotations

import json
from typing import Any

PART_BYTES = 200_000  # the data's JSON; with the object's own fields well under 262,144 bytes
PIECE = ".part-"
MAX_PIECES = 999  # three digits: the script's glob takes them in order


def size(files: dict[str, str]) -> int:
    """Bytes of `files` as JSON, the form the annotation copy takes (quotes, newlines and
    control characters cost more there than in the file)."""
    return len(json.dumps(files).encode())


def fits(files: dict[str, str], limit: int = PART_BYTES) -> bool:
    return size(files) <= limit


def parts(files: dict[str, str], limit: int = PART_BYTES) -> list[dict[str, str]]:
    """`files` as ConfigMap datas of at most `limit` bytes (as JSON) each: every file cut into
    pieces named NAME.part-001, NAME.part-002, … in order, the pieces packed in order."""
    packed: list[dict[str, str]] = [{}]
    for name, text in files.items():
        key_cost = size({f"{name}{PIECE}001": ""})
        pieces = _pieces(text, limit - key_cost)
        if len(pieces) > MAX_PIECES:  # 200 MB at PART_BYTES: far past the 10,000 workspaces hks takes
            raise ValueError(f"{name} would need {len(pieces)} pieces; the assembling script reads at most {MAX_PIECES}")
        for index, piece in enumerate(pieces, start=1):
            key = f"{name}{PIECE}{index:03d}"
            if packed[-1] and not fits({**packed[-1], key: piece}, limit):
                packed.append({})
            packed[-1][key] = piece
    return packed


def _pieces(text: str, limit: int) -> list[str]:
    """`text` cut into pieces of at most `limit` bytes as JSON strings, never inside a character."""
    found: list[str] = []
    start = 0
    while start < len(text) or not found:
        end = min(start + limit, len(text))
        while len(json.dumps(text[start:end]).encode()) > limit:
            end = start + max(1, (end - start) * limit // len(json.dumps(text[start:end]).encode()) - 1)
        found.append(text[start:end])
        start = end
    return found


def rule_objects(groups: list[dict[str, Any]], limit: int = PART_BYTES) -> list[list[dict[str, Any]]]:
    """Prometheus rule groups spread over as many PrometheusRule objects as keep each under
    `limit`: a group too large for one is cut into groups NAME, NAME-2, …, which Prometheus
    evaluates each on its own. A rule reading a record of an earlier cut then sees it at most
    one evaluation late: the month-to-date spend, which sums hourly steps, by a minute."""
    cut = []
    for group in groups:
        frame = len(json.dumps({**group, "name": group["name"] + "-999", "rules": []}).encode()) + 4  # + the object's [, ]
        for index, rules in enumerate(_packed(group["rules"], limit - frame), start=1):
            cut.append({**group, "name": group["name"] if index == 1 else f"{group['name']}-{index}", "rules": rules})
    return _packed(cut, limit)


def _packed(items: list[Any], limit: int) -> list[list[Any]]:
    packed: list[list[Any]] = [[]]
    used = 2  # []
    for item in items:
        cost = len(json.dumps(item).encode()) + 2  # with ", "
        if packed[-1] and used + cost > limit:
            packed.append([])
            used = 2
        packed[-1].append(item)
        used += cost
    return packed
