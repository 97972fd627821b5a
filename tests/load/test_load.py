from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from compiler.errors import InputError
from compiler.load import repo as load
from compiler.load.repo import load_repo
from compiler.load.parse import MAX_DEPTH, MAX_FILE_BYTES, MAX_STRING_CHARS, parse_document, to_plain
from tests.conftest import hks_process
from tests.conftest import write


def problems(raw: bytes) -> list[tuple[int, int, str]]:
    doc, diagnostics = parse_document(raw, "org.yaml")
    return [(d.position.line, d.position.column, d.rule) for d in diagnostics]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"a: 1\nb: 2\na: 3\n", [(3, 1, "YAML-002")]),
        (b"a:\n  b: 1\n\tc: 2\n", [(3, 1, "YAML-003")]),
        (b"a: ok\nb: \xff\n", [(2, 4, "YAML-004")]),
        (b"", [(1, 1, "YAML-005")]),
        (b"# just a comment\n\n", [(1, 1, "YAML-005")]),
        (b"- a\n- b\n", [(1, 1, "YAML-006")]),
        (b"just text\n", [(1, 1, "YAML-006")]),
        (b"a: {b: 1\n", [(2, 1, "YAML-001")]),
        (b"a: 1\n---\nb: 2\n", [(2, 1, "YAML-010")]),
        (b"a: &x [*x]\n", [(1, 4, "YAML-007")]),
        (b"a: \x00\n", [(1, 4, "YAML-001")]),
    ],
)
def test_each_yaml_problem_has_its_rule_and_position(raw: bytes, expected: list[tuple[int, int, str]]) -> None:
    assert problems(raw) == expected


def test_yaml_1_2_keeps_norway_and_switches_as_strings() -> None:
    doc, _ = parse_document(b"country: no\nswitch: on\nanswer: yes\nflag: true\n", "org.yaml")
    assert doc is not None
    assert to_plain(doc.data) == {"country": "no", "switch": "on", "answer": "yes", "flag": True}


def test_positions_are_kept_for_nested_nodes() -> None:
    doc, _ = parse_document(b"a:\n  b:\n    - x\n    - c: 1\n", "f.yaml")
    assert doc is not None
    assert str(doc.position(("a", "b", 1, "c"))) == "f.yaml:4:10"
    assert str(doc.position(("a", "b", 1, "c"), key=True)) == "f.yaml:4:7"
    assert str(doc.position(("a", "missing"))) == "f.yaml:2:3"


def billion_laughs(levels: int = 10) -> bytes:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return ("\n".join(lines) + "\n").encode()


def test_alias_bomb_is_refused_fast_and_small() -> None:
    tracemalloc.start()
    started = time.perf_counter()
    found = problems(billion_laughs())
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert [rule for _, _, rule in found] == ["YAML-007"]
    assert elapsed < 1.0
    assert peak < 5 * 1024 * 1024


def test_a_few_aliases_are_fine() -> None:
    doc, diagnostics = parse_document(b"base: &b {rpm: 10}\na: *b\nb: *b\n", "f.yaml")
    assert diagnostics == [] and doc is not None
    assert to_plain(doc.data)["b"] == {"rpm": 10}


def test_deep_nesting_is_refused_at_the_limit() -> None:
    raw = b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n"
    assert [rule for _, _, rule in problems(raw)] == ["YAML-009"]
    ok = b"a: " + b"[" * (MAX_DEPTH - 2) + b"]" * (MAX_DEPTH - 2) + b"\n"
    assert problems(ok) == []


def test_very_large_file_is_refused_before_parsing(tmp_path: Path) -> None:
    write(tmp_path, {"org.yaml": b"# padding\n" * (MAX_FILE_BYTES // 10 + 1)})
    sources, diagnostics = load_repo(str(tmp_path))
    assert sources.org is None
    assert [d.rule for d in diagnostics] == ["YAML-008"]
    assert "over the limit" in diagnostics[0].message


def test_missing_org_and_workspace_files_sorted(tmp_path: Path) -> None:
    write(tmp_path, {"workspaces/b.yaml": "namespace: b\n", "workspaces/a.yml": "namespace: a\n", "workspaces/x.txt": ""})
    sources, diagnostics = load_repo(str(tmp_path))
    assert [d.rule for d in diagnostics] == ["REPO-001"]
    assert [Path(d.path).name for d in sources.workspaces] == ["a.yml", "b.yaml"]


def test_missing_folder_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        load_repo(str(tmp_path / "nowhere"))


# --- limits: each refused with a diagnostic that names it ------------------------------------


def test_a_string_over_the_length_limit_is_refused_without_printing_it() -> None:
    long = "x" * (MAX_STRING_CHARS + 1)
    found = problems(f"organization: acme\nnote: {long}\n".encode())
    assert found == [(2, 7, "YAML-011")]
    doc, diagnostics = parse_document(f"note: {long}\n".encode(), "f.yaml")
    assert str(MAX_STRING_CHARS) in diagnostics[0].message and long not in diagnostics[0].message
    assert problems(f"note: {'x' * MAX_STRING_CHARS}\n".encode()) == []


def test_a_key_over_the_length_limit_is_refused() -> None:
    # YAML itself caps implicit keys at 1024 characters; an explicit `?` key has no such cap.
    assert [rule for _, _, rule in problems(("? " + "k" * (MAX_STRING_CHARS + 1) + "\n: 1\n").encode())] == ["YAML-011"]


def test_a_long_string_behind_many_aliases_is_measured_once() -> None:
    raw = f"a: &a {'x' * MAX_STRING_CHARS}\nb: [{', '.join(['*a'] * 1000)}]\n".encode()
    started = time.perf_counter()
    assert problems(raw) == []
    assert time.perf_counter() - started < 1.0


def test_more_workspaces_than_the_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "MAX_WORKSPACES", 3)
    write(tmp_path, {"org.yaml": "llm_config: {provider: openai, model: gpt-5.4-mini}\nworkspaces:\n  a: {}\n  b: {}\n"})
    write(tmp_path, {f"workspaces/w{i}.yaml": "{}\n" for i in range(2)})
    sources, diagnostics = load_repo(str(tmp_path))
    assert [(d.rule, d.position.line) for d in diagnostics] == [("REPO-006", 2)]
    assert "2 workspaces here and 2 workspace files: the limit is 3 workspaces in all" in diagnostics[0].message
    assert sources.workspaces == ()


def test_more_inline_workspaces_than_the_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "MAX_WORKSPACES", 1)
    write(tmp_path, {"org.yaml": "llm_config: {provider: openai, model: gpt-5.4-mini}\nworkspaces:\n  a: {}\n  b: {}\n"})
    _, diagnostics = load_repo(str(tmp_path))
    assert [(d.rule, d.message) for d in diagnostics] == [("REPO-006", "2 workspaces: the limit is 1")]


def test_too_many_workspace_files_are_refused_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "MAX_WORKSPACE_FILES", 2)
    write(tmp_path, {"org.yaml": "llm_config: {provider: openai, model: gpt-5.4-mini}\n"})
    write(tmp_path, {f"workspaces/w{i}.yaml": ": broken\n" for i in range(3)})
    sources, diagnostics = load_repo(str(tmp_path))
    assert [d.rule for d in diagnostics] == ["REPO-004"]
    assert "the limit is 2" in diagnostics[0].message


def test_limits_exit_1_with_the_diagnostic_and_no_traceback(tmp_path: Path) -> None:
    write(tmp_path, {"org.yaml": f"organization: acme\nnote: {'y' * (MAX_STRING_CHARS + 5)}\n"})
    result = hks_process("validate", str(tmp_path))
    assert result.returncode == 1
    assert "error[YAML-011]" in result.stdout and "Traceback" not in result.stdout + result.stderr


# --- regressions found by the fuzzer (tests/fuzzing.py) ---------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"a: 1\n%TAG ! tag:x,2000:\n",  # ruamel: IndexError in process_directives
        b"a: 1\n...\n%TAG ! tag:x,2000:\n---\nb: 2\n",
        b"a: !!set 1\n",  # ruamel: AttributeError, a set tag on a scalar
    ],
)
def test_what_crashed_the_yaml_parser_is_a_syntax_error(raw: bytes) -> None:
    assert [rule for _, _, rule in problems(raw)] == ["YAML-001"]


def test_a_redefined_anchor_is_read_without_a_warning_on_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    doc, diagnostics = parse_document(b"a: &x 1\nb: &x 2\nc: *x\n", "f.yaml")
    assert diagnostics == [] and doc is not None and to_plain(doc.data)["c"] == 2
    assert capfd.readouterr().err == ""
