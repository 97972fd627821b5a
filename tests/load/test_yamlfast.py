"""The two loaders of compiler/load/repo.py read every input alike: libyaml's fast path (compiler/load/yamlfast.py)
and ruamel's round trip. Over the examples, the test data and thousands of mutations of them
(the fuzz campaign's own mutators), each input must be accepted or refused the same way, with
the same diagnostic, the same data and the same line and column for every key and value."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest

from compiler.load import parse as load
from compiler.load import yamlfast
from tests.conftest import ROOT
from tests.fuzzing import mutate_bytes, mutate_structure, seeds

CORPUS = sorted(
    p for folder in ("examples", "tests/tools/data", "tests/render/monitoring") for p in (ROOT / folder).rglob("*.yaml") if "rendered" not in p.parts
)


def both(raw: bytes) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    text, problem = load._decode(raw, "f.yaml")
    assert problem is None
    return load._parse(text, "f.yaml"), load._parse_round_trip(text, "f.yaml")


def paths(node: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, (*at, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from paths(value, (*at, index))


def assert_same(raw: bytes) -> bool:
    """True when the fast path took the input itself (so the comparison says something)."""
    (fast, fast_problem), (slow, slow_problem) = both(raw)
    assert fast_problem == slow_problem, raw
    assert repr(load.to_plain(fast)) == repr(load.to_plain(slow)), raw  # repr: NaN, ruamel's tagged scalars
    text = raw.decode("utf-8-sig")
    data = yamlfast.read(text, load.MAX_DEPTH, load.MAX_NODES, load.MAX_STRING_CHARS)
    node = yamlfast.compose(text, load.MAX_DEPTH)
    stepwise = node is not yamlfast.UNSURE and node is not None and load._measure(node, "f.yaml") is None
    built = yamlfast.build(node) if stepwise else yamlfast.UNSURE
    # The one pass takes a file exactly when the three steps would, and builds the same data.
    assert (data is not yamlfast.UNSURE and data is not None) == (built is not yamlfast.UNSURE), raw
    if built is not yamlfast.UNSURE:
        assert repr(data) == repr(built), raw
    took = data is not yamlfast.UNSURE and data is not None
    if took:  # otherwise both came from ruamel
        for at in paths(slow):
            assert load.locate(fast, at) == load.locate(slow, at), (raw, at)
            if at and isinstance(at[-1], str):
                assert load.locate(fast, at, key=True) == load.locate(slow, at, key=True), (raw, at)
    return took


def decodable(raw: bytes) -> bool:
    try:
        raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False  # refused before either parser runs (YAML-004)
    return True


def test_the_fast_path_takes_the_common_files() -> None:
    taken = [assert_same(p.read_bytes()) for p in CORPUS if decodable(p.read_bytes())]
    assert sum(taken) >= 0.8 * len(taken)


def test_mutations_read_alike() -> None:
    rng = random.Random(19)
    pool = [content for seed in seeds() for content in seed.files.values()]
    checked = fast = 0
    for _ in range(2000):
        raw = rng.choice(pool)
        raw = mutate_structure(rng, raw) or raw if rng.random() < 0.3 else mutate_bytes(rng, raw, pool)
        if not decodable(raw):
            continue
        fast += assert_same(raw)
        checked += 1
    assert checked > 1300 and fast > 200, (checked, fast)


EDGE_CASES = [
    "a: yes\nb: no\nc: on\nd: off\n",  # strings in YAML 1.2
    "a: 1\nb: -2\nc: +3\nd: 1.5\ne: 1e5\nf: -1.\ng: .inf\nh: -.Inf\ni: .nan\n",
    "a: 0o17\nb: 0x1F\nc: 017\nd: 1_000\ne: .5\nf: 0b101\n",  # ruamel's own spellings
    "a: 2026-12-31\nb: 2026-02-30\nc: 2026-12-31T10:00:00Z\nd: '2026-12-31'\n",
    "a: ~\nb: null\nc:\nd: Null\ne: ''\n",
    "a: !!str 12\nb: !!int '12'\nc: !custom x\n",
    "a: &x {k: v}\nb: *x\nc: [*x, *x]\n<<: *x\n",
    "a: 1\na: 2\n",
    "? [a]\n: b\n",
    "a:\n  - b: |\n      text\n    c: >-\n      folded\n",
    "a: 'x' # comment\n# end\n",
    "\ufeffa: 1\n",
    "a: b\n---\nc: d\n",
    "a: [1, 2\n",
    "a:\n\t- b\n",
    "a: \x07\n",
    "1: one\ntrue: t\n2026-01-01: d\n1.5: f\n~: n\n",
    "%YAML 1.1\n---\na: yes\nb: 1:20\n",  # a directive: ruamel reads YAML 1.1 (or refuses)
    "%YAML 1.3\n---\na: 1\n",
    "k: !\n",  # the non-specific tag
    "k: ! x\nl: ! [1]\nm: ! {a: 1}\n",
    "&x: v\n",  # anchor names ruamel ends before libyaml does
    "k: &a0:x\n",
    "k: *a?\n",
    "k: |#c\n",  # a block header with a comment and no space
    "k: >4#_\n",
    "k: a & b\nl: '*'\nm: &ok [*ok2]\n",  # only look like them
]


@pytest.mark.parametrize("text", EDGE_CASES)
def test_edge_cases_read_alike(text: str) -> None:
    assert_same(text.encode())


def test_deep_and_wide_inputs_are_refused_alike() -> None:
    assert_same(b"a: " + b"[" * 70 + b"]" * 70 + b"\n")
    assert_same(b"a: " + b"[" * 20_000 + b"]" * 20_000 + b"\n")
    nested = "".join(f"{'  ' * i}k{i}:\n" for i in range(80)) + "  " * 80 + "v: 1\n"
    assert_same(nested.encode())
    bomb = b"a: &a [x, x, x, x, x, x, x, x, x, x]\n" + b"".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n".encode()
        for i in range(8)
    )
    assert_same(bomb)


def test_the_short_way_for_plain_words_constructs_what_construct_does() -> None:
    """yamlfast takes any plain scalar whose first character is not in _SPECIAL_START as its
    text; _construct must agree for every first character (and the rest of a scalar)."""
    rng = random.Random(28)
    tails = ["", "1", "_0", "x", ".5", "e3", "ull", "rue", "alse", "000-01-01", "0o7", "<", " x"]
    firsts = [chr(c) for c in range(0x20, 0x250)] + ["\u2028", "\uff10", "\U0001f600"]
    for first in firsts:
        for tail in [*tails, *("".join(rng.choices("0123456789_.eE+-xob:", k=6)) for _ in range(20))]:
            text = first + tail
            try:
                slow = yamlfast._construct(text)
            except yamlfast._Unsure:
                assert first in yamlfast._SPECIAL_START, text
                continue
            assert repr(yamlfast.plain_scalar(text)) == repr(slow), text
            if first not in yamlfast._SPECIAL_START:
                assert slow == text and load.yamlnumbers.problem(text) is None, text


def test_the_ascii_check_of_printable_characters_agrees_with_the_full_one() -> None:
    import re

    full = re.compile(yamlfast._NOT_PRINTABLE)
    for code in [*range(0x100), 0x2028, 0xFEFF, 0xFFFE, 0x1F600]:
        for text in (chr(code), f"a: {chr(code)}\n", f"a: b\n{chr(code)}"):
            assert yamlfast._not_printable(text) == bool(full.search(text)), hex(code)
