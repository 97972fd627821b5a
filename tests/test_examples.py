"""Every example folder, in sorted order: the valid ones are clean, each broken one gives
exactly the diagnostics in its `expected.txt` (golden files, reviewed by reading them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, hks, hks_process

VALID = sorted(p.name for p in EXAMPLES.iterdir() if (p / "org.yaml").is_file())
BROKEN = sorted(p.name for p in (EXAMPLES / "broken").iterdir() if p.is_dir())


@pytest.mark.parametrize("name", VALID)
def test_valid_example_is_clean(name: str) -> None:
    result = hks("validate", "--strict", f"examples/{name}")
    assert result.exit_code == 0, result.output
    assert "error[" not in result.output and "warning[" not in result.output, result.output


@pytest.mark.parametrize("name", VALID)
def test_explain_golden(name: str, file_regression) -> None:  # type: ignore[no-untyped-def]
    result = hks("explain", f"examples/{name}")
    assert result.exit_code == 0, result.output
    file_regression.check(result.output, fullpath=EXAMPLES / name / "explain.txt")


@pytest.mark.parametrize("name", BROKEN)
def test_broken_example_diagnostics(name: str, file_regression) -> None:  # type: ignore[no-untyped-def]
    result = hks_process("validate", f"examples/broken/{name}")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stderr == ""
    assert "error[" in result.stdout
    file_regression.check(result.stdout, fullpath=EXAMPLES / "broken" / name / "expected.txt")


def test_every_broken_example_has_its_golden_file() -> None:
    missing = [n for n in BROKEN if not (EXAMPLES / "broken" / n / "expected.txt").is_file()]
    assert not missing


def test_examples_carry_the_editor_schema_line() -> None:
    files = [p for name in VALID for p in sorted((EXAMPLES / name).rglob("*.yaml")) if "rendered" not in p.parts and "policies" not in p.parts]  # policies: their own schema
    assert files
    for path in files:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        kind = "workspace" if path.parent.name == "workspaces" else "org"
        assert first.startswith("# yaml-language-server: $schema="), path
        target = (path.parent / first.split("$schema=")[1]).resolve()
        assert target == (Path(__file__).parent.parent / "schemas" / f"{kind}.schema.json").resolve(), path
