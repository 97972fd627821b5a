"""edit.py: round-trip edits that change only what they must."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.tools import edit_changes as changes
from compiler.tools import edit
from compiler.errors import InputError
from compiler.load.parse import parse_document, to_plain
from tests.conftest import write
from tests.tools.test_editing_commands import FIXTURE

FILES = {
    "org": (FIXTURE / "org.yaml", ("llm_config",)),
    "inline": (FIXTURE / "org.yaml", ("workspaces", "batch", "llm_override")),
    "file": (FIXTURE / "workspaces" / "production.yaml", ("llm_override",)),
    "flow": (FIXTURE / "workspaces" / "support.yaml", ("llm_override",)),
}

settings_strategy = st.fixed_dictionaries(
    {},
    optional={
        "provider": st.sampled_from(["ollama", "openai", "anthropic", "google", "azure-openai"]),
        "model": st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,40}", fullmatch=True),
        "temperature": st.floats(0, 2, allow_nan=False) | st.integers(0, 2),
        "max_tokens": st.integers(1, 10**7),
        "top_p": st.floats(0, 1, allow_nan=False),
    },
)


def reload(text: str) -> Any:
    doc, problems = parse_document(text.encode(), "edited.yaml")
    assert doc is not None, problems
    return to_plain(doc.data)


def at(data: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        data = data[key]
    return data


def edited_keys_only(before: str, after: str, keys: set[str]) -> None:
    """Every line the diff removes or adds is one of the edited keys (or the mapping holding them)."""
    for line in difflib.ndiff(before.splitlines(), after.splitlines()):
        if line[:2] in ("- ", "+ "):
            text = line[2:].strip()
            assert text.split(":", 1)[0] in keys | {"llm_override"}, line


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(target=st.sampled_from(sorted(FILES)), values=settings_strategy)
def test_set_llm_reloads_to_exactly_the_promised_values(target: str, values: dict[str, Any]) -> None:
    path, where = FILES[target]
    found, problems = edit.open_file(path)
    assert found is not None, problems
    original = reload(found.original or "")
    changes.set_llm(found, where, values)
    text = found.text()
    result = reload(text)

    expected = original
    override = at(expected, where)
    for key, value in values.items():
        override[key] = value
    assert result == expected
    for key, value in values.items():
        assert type(at(result, where)[key]) is type(value)
    if target != "flow":
        edited_keys_only(found.original or "", text, set(values))


@settings(max_examples=60, deadline=None)
@given(keys=st.lists(st.sampled_from(["provider", "model", "temperature", "budget"]), unique=True, min_size=1))
def test_unset_removes_exactly_those_keys(keys: list[str]) -> None:
    path, where = FILES["file"]
    found, _ = edit.open_file(path)
    assert found is not None
    original = reload(found.original or "")
    changes.unset_llm(found, where, keys)
    result = reload(found.text())
    for key in keys:
        original["llm_override"].pop(key)
    if not original["llm_override"]:
        original.pop("llm_override")
    assert result == original


@settings(max_examples=60, deadline=None)
@given(values=settings_strategy)
def test_editing_twice_is_editing_once(values: dict[str, Any]) -> None:
    path, where = FILES["org"]
    found, _ = edit.open_file(path)
    assert found is not None
    changes.set_llm(found, where, values)
    once = found.text()
    again, _ = edit.open_file_text(path, once)
    assert again is not None
    changes.set_llm(again, where, values)
    assert again.text() == once


def test_indentation_is_detected() -> None:
    cases = {
        "a:\n  b:\n    - x\n": edit.Indent(2, 4, 2),
        "a:\n  b:\n  - x\n": edit.Indent(2, 2, 0),
        "a:\n    b:\n    -   x\n": edit.Indent(4, 4, 0),
        "a:\n    b: 1\n": edit.Indent(4, 6, 4),
        "a: 1\n": edit.Indent(2, 4, 2),
    }
    for text, indent in cases.items():
        found, _ = edit.open_file_text(Path("x.yaml"), text)
        assert found is not None and found.indent == indent, text


def test_lines_ruamel_would_normalise_stay_as_written() -> None:
    text = "a:\n  b: null    # kept\n  c: ~\n  d: 0x1F\n  e:   1\n"
    found, _ = edit.open_file_text(Path("x.yaml"), text)
    assert found is not None
    edit.set_path(found.data, ("a", "f"), 2)
    assert found.text() == text + "  f: 2\n"


def test_section_heading_stays_with_its_section(tmp_path: Path) -> None:
    text = "a:\n  x: 1   # about x\n\n# --- b ---\nb: 2\n"
    found, _ = edit.open_file_text(Path("x.yaml"), text)
    assert found is not None
    edit.set_path(found.data, ("a", "y"), 3)
    assert found.text() == "a:\n  x: 1   # about x\n  y: 3\n\n# --- b ---\nb: 2\n"


def test_write_atomic_keeps_the_mode_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = write(tmp_path, {"f.yaml": "a: 1\n"}) / "f.yaml"
    path.chmod(0o600)
    edit.write_atomic(path, "a: 2\n")
    assert path.read_text() == "a: 2\n" and path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["f.yaml"]


def test_crlf_file_keeps_its_line_endings(tmp_path: Path) -> None:
    shutil.copy(FIXTURE / "workspaces" / "production.yaml", tmp_path / "p.yaml")
    crlf = (tmp_path / "p.yaml").read_bytes().replace(b"\n", b"\r\n")
    found, _ = edit.open_file_text(tmp_path / "p.yaml", crlf.decode())
    assert found is not None
    edit.set_path(found.data, ("llm_override", "top_p"), 0.5)
    assert found.text().count("\r\n") == found.text().count("\n")


def test_aligned_values_keep_their_column() -> None:
    text = "llm_config:\n  provider:    ollama   # x\n  model:       llama3:8b    # y\n  temperature: 0.7\n"
    found, _ = edit.open_file_text(Path("x.yaml"), text)
    assert found is not None
    edit.set_path(found.data, ("llm_config", "model"), "mistral:7b")
    assert found.text() == text.replace("llama3:8b    # y", "mistral:7b   # y")


def test_an_edit_that_cannot_be_placed_is_refused_not_reformatted() -> None:
    assert edit.transplant("a: {x: 1,\n    y: 2}\nb: 3\n", "a: {x: 1, y: 2}\nb: 3\n", "a: {x: 1, y: 5}\nb: 3\n") == (
        "a: {x: 1, y: 5}\nb: 3\n"
    )
    assert edit.transplant("a:\n  b: [1,\n   2, 3]\n", "a:\n  b: [1, 2,\n    3]\n", "a:\n  b: [1, 2,\n    4]\n") is None


def test_a_wrong_merge_is_never_written(monkeypatch: pytest.MonkeyPatch) -> None:
    found, _ = edit.open_file_text(Path("x.yaml"), "a:\n  b: 1\n")
    assert found is not None
    edit.set_path(found.data, ("a", "c"), 3)
    monkeypatch.setattr(edit, "transplant", lambda *_: "a:\n  b: 1\n  c: 4\n")
    with pytest.raises(InputError):
        found.text()


def test_a_float_ruamel_would_round_stays_as_written() -> None:
    text = "a:\n  t: 2.377423798536239e-128\n"
    found, _ = edit.open_file_text(Path("x.yaml"), text)
    assert found is not None
    edit.set_path(found.data, ("a", "u"), 1)
    assert found.text() == text + "  u: 1\n"


def test_anchored_nodes_do_not_mislead_the_indentation() -> None:
    found, _ = edit.open_file_text(Path("x.yaml"), "defaults: &d\n  model: m\nlist: &l\n  - a\nw:\n  x: *d\n")
    assert found is not None and found.indent == edit.Indent(2, 4, 2)
