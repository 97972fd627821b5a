"""Waivers: a waived finding is shown as waived and fails nothing; an expired waiver is an error;
one that matches nothing is a warning; the file itself is checked with positions."""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path

import pytest

from compiler.pipeline import compile_config
from tests.conftest import EXAMPLES, hks, write

TODAY = datetime.date(2026, 11, 25)
CACHE_FINDING = ("HIPAA-006", "workspaces/clinical.yaml:15:14")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """acme, with the clinical workspace caching responses (HIPAA-006)."""
    target = tmp_path / "acme"
    shutil.copytree(EXAMPLES / "acme", target, ignore=shutil.ignore_patterns("rendered"))
    clinical = target / "workspaces" / "clinical.yaml"
    clinical.write_text(clinical.read_text().replace("  budget:\n", "  cache:\n    enabled: true\n  budget:\n"))
    (target / "workspaces" / "production.yaml").unlink()  # its fallback adds a gateway note (GW-009)
    return target


def waivers(repo: Path, body: str) -> None:
    write(repo, {"policies/waivers.yaml": "waivers:\n" + body})


WAIVER = """\
  - rule: HIPAA-006
    workspace: clinical
    reason: Redis is encrypted at rest; risk assessment RA-12 pending sign-off
    expires: {expires}
    approver: dana.privacy@acme-health.example
"""


def found(repo: Path) -> list[tuple[str, str, bool]]:
    compiled = compile_config(str(repo), today=TODAY)
    return [
        (d.rule, str(d.position).removeprefix(f"{repo}/"), d.waiver is not None)
        for d in compiled.diagnostics
        if not d.rule.startswith("GW-")  # the gateway's own notes: tests/render/test_gateway.py
    ]


def test_without_a_waiver_the_finding_fails(repo: Path) -> None:
    assert found(repo) == [(*CACHE_FINDING, False)]


def test_a_waived_finding_is_shown_as_waived_and_fails_nothing(repo: Path) -> None:
    waivers(repo, WAIVER.format(expires="2099-12-31"))
    assert found(repo) == [(*CACHE_FINDING, True)]
    result = hks("validate", "--strict", str(repo))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(f"{repo}/workspaces/clinical.yaml:15:14: waived[HIPAA-006]: workspace 'clinical' caches")
    assert lines[1] == (
        f"  waived until 2099-12-31, approved by dana.privacy@acme-health.example ({repo}/policies/waivers.yaml:2:5): "
        "Redis is encrypted at rest; risk assessment RA-12 pending sign-off"
    )
    assert lines[-1] == "1 waived"


def test_an_expired_waiver_is_an_error_and_the_finding_fails_again(repo: Path) -> None:
    waivers(repo, WAIVER.format(expires="2026-11-24"))
    assert found(repo) == [("WAIVER-001", "policies/waivers.yaml:5:14", False), (*CACHE_FINDING, False)]


def test_a_waiver_holds_through_its_expiry_day(repo: Path) -> None:
    waivers(repo, WAIVER.format(expires="2026-11-25"))
    assert found(repo) == [(*CACHE_FINDING, True)]


def test_a_waiver_that_matches_nothing_is_a_warning(repo: Path) -> None:
    waivers(repo, WAIVER.format(expires="2099-12-31").replace("HIPAA-006", "HIPAA-005"))
    assert found(repo) == [("WAIVER-002", "policies/waivers.yaml:2:5", False), (*CACHE_FINDING, False)]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("HIPAA-006", "HIPAA-060"), ("WAIVER-003", "policies/waivers.yaml:2:11")),
        (("workspace: clinical", "workspace: clinicl"), ("WAIVER-002", "policies/waivers.yaml:2:5")),
        (("2099-12-31", "2099-02-30"), ("YAML-001", "policies/waivers.yaml:5:14")),
        (("approver:", "approved_by:"), ("WAIVER-005", "policies/waivers.yaml:6:5")),
    ],
    ids=["unknown-rule", "unknown-workspace", "impossible-date", "misspelt-key"],
)
def test_problems_of_the_waivers_file_are_reported_at_their_line(
    repo: Path, change: tuple[str, str], expected: tuple[str, str]
) -> None:
    waivers(repo, WAIVER.format(expires="2099-12-31").replace(*change))
    assert (*expected, False) in found(repo)
    assert (*CACHE_FINDING, False) in found(repo)  # the finding stays unwaived


def test_a_secret_cannot_be_waived(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "org.yaml": "llm_config: {provider: openai, model: gpt-5.4-mini}\n"
            "providers: {openai: {region: 'sk-proj-Zq4XbT9wLm2RkVfN8sHd3JcYpA6uE1oG'}}\n",
            "policies/waivers.yaml": "waivers:\n  - rule: SEC-001\n    reason: it is only a test key\n"
            "    expires: 2099-01-01\n    approver: me\n",
        },
    )
    assert found(tmp_path) == [("SEC-001", "org.yaml:2:30", False), ("WAIVER-004", "policies/waivers.yaml:2:11", False)]


def test_an_organisation_scope_waiver_names_no_workspace(repo: Path) -> None:
    org = repo / "org.yaml"
    org.write_text(org.read_text().replace("retention_days: 2190", "retention_days: 30"))
    waivers(repo, WAIVER.format(expires="2099-12-31").replace("HIPAA-006", "HIPAA-004").replace("    workspace: clinical\n", ""))
    assert ("HIPAA-004", "org.yaml:67:21", True) in found(repo)


def test_sarif_junit_github_and_json_show_the_waiver(repo: Path) -> None:
    waivers(repo, WAIVER.format(expires="2099-12-31"))
    sarif = json.loads(hks("validate", "--format", "sarif", str(repo)).output)
    [result] = sarif["runs"][0]["results"]
    assert result["suppressions"][0]["kind"] == "external"
    assert "RA-12" in result["suppressions"][0]["justification"]
    from sarif_pydantic import Sarif

    Sarif.model_validate(sarif)
    junit = hks("validate", "--format", "junit", str(repo)).output
    assert 'failures="0"' in junit and 'skipped="1"' in junit and "<skipped message=" in junit
    github = hks("validate", "--format", "github", str(repo)).output
    assert github.startswith("::notice ") and "(waived)" in github
    document = json.loads(hks("validate", "--format", "json", str(repo)).output)
    assert document["summary"]["waived"] == 1 and document["summary"]["error"] == 0
    assert document["diagnostics"][0]["waiver"].startswith("waived until 2099-12-31")
