from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from compiler import report
from compiler.diagnostics import Diagnostic, Position, Severity
from compiler.pipeline import compile_config

SAMPLE = [
    Diagnostic(Position("org.yaml", 4, 3), Severity.ERROR, "SCHEMA-001", "unknown key 'a,b: c'", "did you mean 'x'?"),
    Diagnostic(Position("workspaces/w.yaml", 2, 10), Severity.WARNING, "CAT-001", "model 'x' is unknown\nsecond line"),
    Diagnostic(Position("org.yaml"), Severity.ERROR, "REPO-001", "org.yaml is missing 100%"),
]


def test_text_format() -> None:
    assert report.text(SAMPLE) == (
        "org.yaml:4:3: error[SCHEMA-001]: unknown key 'a,b: c'\n"
        "  hint: did you mean 'x'?\n"
        "workspaces/w.yaml:2:10: warning[CAT-001]: model 'x' is unknown\\nsecond line\n"  # one line, always
        "org.yaml: error[REPO-001]: org.yaml is missing 100%\n"
        "2 errors, 1 warning\n"
    )


def test_sarif_is_valid_sarif_2_1_0() -> None:
    from sarif_pydantic import Sarif

    document = json.loads(report.sarif(SAMPLE))
    log = Sarif.model_validate(document)
    assert log.version == "2.1.0"
    results = document["runs"][0]["results"]
    assert [r["level"] for r in results] == ["error", "warning", "error"]
    assert results[0]["locations"][0]["physicalLocation"]["region"] == {"startLine": 4, "startColumn": 3}
    rules = document["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["CAT-001", "REPO-001", "SCHEMA-001"]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in results)


def test_junit_is_xml_ci_tools_read() -> None:
    root = ET.fromstring(report.junit(SAMPLE))
    suite = root.find("testsuite")
    assert suite is not None and suite.get("tests") == "3" and suite.get("failures") == "2"
    failures = root.findall(".//failure")
    assert [f.get("type") for f in failures] == ["SCHEMA-001", "REPO-001"]
    clean = ET.fromstring(report.junit([]))
    assert clean.find(".//testcase") is not None and clean.find(".//failure") is None


def test_github_annotations_escape_their_properties_and_data() -> None:
    lines = report.github(SAMPLE).splitlines()
    assert lines[0] == "::error file=org.yaml,line=4,col=3,title=SCHEMA-001 unknown key::unknown key 'a,b: c'%0Ahint: did you mean 'x'?"
    assert lines[1].startswith("::warning file=workspaces/w.yaml,line=2,col=10,") and lines[1].endswith("unknown\\nsecond line")
    assert lines[2] == "::error file=org.yaml,title=REPO-001 org.yaml is missing::org.yaml is missing 100%25"


def test_json_format_round_trips() -> None:
    document = json.loads(report.as_json(SAMPLE))
    assert document["summary"] == {"error": 2, "warning": 1, "info": 0, "waived": 0}
    assert document["diagnostics"][0]["line"] == 4


@pytest.mark.parametrize("fmt", sorted(report.FORMATS))
def test_every_format_handles_a_real_broken_example(fmt: str) -> None:
    compiled = compile_config("examples/broken/value-errors")
    output = report.FORMATS[fmt](compiled.diagnostics, False)
    assert "org.yaml" in output and ("4:16" in output or "line=4" in output or '"line": 4' in output or 'startLine": 4' in output)
