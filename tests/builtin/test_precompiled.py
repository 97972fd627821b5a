"""compiler/builtin/precompiled.json: current, equal to its sources, and never read for a changed file."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.builtin import datafiles
from compiler.policy import packs
from compiler.builtin import precompile, precompiled

SOURCES = precompile.sources()


def test_the_shipped_file_is_what_the_sources_make_now() -> None:
    assert precompiled.PATH.read_text("utf-8") == precompile.build(), "run: python -m compiler.builtin.precompile"


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_each_entry_reads_back_equal_to_its_source(name: str) -> None:
    path, data = SOURCES[name]
    assert precompiled.lookup(path, name) == data


def test_every_data_file_and_builtin_pack_is_precompiled() -> None:
    expected = {f"{folder}/{name}" for folder, name in datafiles.DATA_FILES}
    expected |= {f"policies/{path.name}" for path in packs.builtin_files()}
    assert set(SOURCES) == expected


def test_a_changed_source_is_read_from_the_source(tmp_path: Path) -> None:
    path, data = SOURCES["catalogue/models.yaml"]
    copy = tmp_path / "models.yaml"
    copy.write_bytes(path.read_bytes())
    assert precompiled.lookup(copy, "catalogue/models.yaml") == data
    copy.write_bytes(path.read_bytes() + b"\n# edited\n")
    assert precompiled.lookup(copy, "catalogue/models.yaml") is None


def test_each_lookup_gives_objects_of_its_own() -> None:
    path, _ = SOURCES["catalogue/images.yaml"]
    first = precompiled.lookup(path, "catalogue/images.yaml")
    first["ollama"] = "changed"
    assert precompiled.lookup(path, "catalogue/images.yaml")["ollama"] != "changed"


def test_the_rules_validate_uses_are_the_ones_the_packs_define() -> None:
    quick, _ = packs.builtin_rules()
    full, _ = packs.builtin_rules_with_examples()
    strip = lambda rule: (rule.id, rule.condition, rule.message, rule.defined_at)  # noqa: E731
    assert [strip(r) for r in quick] == [strip(r) for r in full]
