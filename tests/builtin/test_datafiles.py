"""hks's own data files read the same with libyaml (YAML 1.1, what hks uses for speed) as with
ruamel (YAML 1.2, the YAML of every config file)."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from ruamel.yaml import YAML

from compiler.builtin import datafiles
from compiler.builtin.resources import data_dir
from tests.conftest import ROOT


@pytest.mark.parametrize(("folder", "name"), datafiles.DATA_FILES)
def test_a_data_file_reads_the_same_in_yaml_1_1_and_1_2(folder: str, name: str) -> None:
    assert hasattr(yaml, "CSafeLoader"), "PyYAML with libyaml: what this test compares"
    strict = YAML(typ="safe", pure=True).load((data_dir(folder) / name).read_text("utf-8"))
    assert datafiles.load(folder, name) == strict


def test_every_catalogue_file_is_checked() -> None:
    names = {path.name for path in data_dir("catalogue").glob("*.yaml")}
    assert names == {name for folder, name in datafiles.DATA_FILES if folder == "catalogue"}


def test_the_check_sees_what_yaml_1_1_reads_differently() -> None:
    for text in ("a: yes\n", "a: 1:20\n", "a: 0777\n", "a: off\n"):
        assert datafiles.parse(text) != YAML(typ="safe", pure=True).load(text), text


TRICKY = [
    "a: 010\nb: 0x1F\nc: 1_000\nd: 1:20\n",  # YAML 1.1 octal, hex, underscores, sexagesimal
    "a: 1.5\nb: .inf\nc: -.nan\n",
    "a: yes\nb: On\nc: off\nd: ~\ne: null\nf: ''\n",
    "when: 2026-11-25\nat: 2026-11-25 10:00:00\n",
    "base: &b {x: 1}\nmerged:\n  <<: *b\n  y: 2\n",
    "loop: &l [*l]\n",
    "? [a, b]\n: complex key\n",
    "a: !!binary aGtz\n",
    "a: 1\na: 2\n",
    "",
    "- [1, -2, +3, 0]\n- {}\n- []\n",
]


def outcome(parse: object, text: str) -> str:
    try:
        return repr(parse(text))  # type: ignore[operator]
    except yaml.YAMLError as exc:
        return type(exc).__name__


@pytest.mark.parametrize("text", TRICKY)
def test_the_fast_template_parser_reads_what_pyyaml_reads(text: str) -> None:
    assert outcome(datafiles.parse_rendered, text) == outcome(datafiles.parse, text)


def test_the_fast_template_parser_reads_every_rendered_example_as_pyyaml_does() -> None:
    texts = [p.read_text("utf-8") for p in sorted(ROOT.glob("examples/*/rendered/**/*.yaml"))]
    assert len(texts) > 50
    for text in texts:
        assert datafiles.parse_rendered(text) == datafiles.parse(text)


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=8),
    st.sampled_from(["yes", "no", "010", "0x1", "1:2", "1e3", "~", "-", "null", "2026-01-01"]),
)  # fmt: skip
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=12)


@given(values, st.booleans())
def test_the_fast_template_parser_agrees_on_any_dumped_value(value: object, flow: bool) -> None:
    text = yaml.safe_dump(value, default_flow_style=flow)
    assert outcome(datafiles.parse_rendered, text) == outcome(datafiles.parse, text)
