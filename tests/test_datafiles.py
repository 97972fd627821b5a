"""hks's own data files read the same with libyaml (YAML 1.1, what hks uses for speed) as with
ruamel (YAML 1.2, the YAML of every config file)."""

from __future__ import annotations

import pytest
import yaml
from ruamel.yaml import YAML

from compiler import datafiles
from compiler.resources import data_dir


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
