"""Policy packs end to end: every built-in rule fails and passes where it should, at the line
that caused it; the realistic example's HIPAA + EU workspace is clean and breaks exactly as
expected; broken packs are reported at their lines."""

from __future__ import annotations

import functools
import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from compiler.load.parse import Document
from compiler.pipeline import compile_config
from compiler.policy import selftest as policytest
from compiler.policy.packs import Example, Rule, builtin_rules, builtin_rules_with_examples
from tests.conftest import EXAMPLES, ROOT, hks, write

RULES_BUILTIN = RULES = builtin_rules_with_examples()[0]
FAILING = [(rule, example) for rule in RULES for example in rule.failing]
PASSING = [(rule, example) for rule in RULES for example in rule.passing]


def found(config_dir: Path | str, prefix: str = "") -> list[tuple[str, str]]:
    """(rule, place) of every diagnostic, places relative to `config_dir`."""
    compiled = compile_config(str(config_dir))
    root = f"{config_dir}/"
    return [
        (d.rule, str(d.position).removeprefix(root))
        for d in compiled.diagnostics
        if not d.rule.startswith("GW-")  # the gateway's own notes: tests/render/test_gateway.py
        if d.rule.startswith(prefix)
    ]


def test_builtin_packs_load_and_every_rule_has_examples() -> None:
    rules, problems = builtin_rules_with_examples()
    assert problems == ()
    assert len(rules) == len({r.id for r in rules}) >= 16
    for rule in rules:
        assert rule.passing and rule.failing, rule.id
        assert all(e.at is not None for e in rule.failing), f"{rule.id}: failing examples name the place they fail"


def test_the_quick_load_of_the_builtin_packs_is_the_full_one_without_examples() -> None:
    quick, problems = builtin_rules()
    assert problems == ()
    assert quick == tuple(replace(rule, passing=(), failing=()) for rule in builtin_rules_with_examples()[0])
    assert all(rule.defined_at.line > 1 for rule in quick)


def test_the_parity_check_sees_yaml_1_1_literals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """libyaml reads `yes` as true, YAML 1.2 as a string: a pack written so must not pass."""
    from compiler.policy import packs

    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    baseline = tmp_path / "policies" / "baseline.yaml"
    baseline.write_text(baseline.read_text().replace("plaintext_secrets: {items: {not: {}}}", "plaintext_secrets: {const: yes}", 1))
    monkeypatch.setattr(packs, "data_dir", lambda name: tmp_path / name)
    for cached in (packs.builtin_rules, packs.builtin_rules_with_examples, packs.schema):
        monkeypatch.setattr(packs, cached.__name__, functools.cache(cached.__wrapped__))
    quick = {rule.id: rule.condition for rule in packs.builtin_rules()[0]}
    full = {rule.id: rule.condition for rule in packs.builtin_rules_with_examples()[0]}
    assert quick["SEC-001"] == {"properties": {"plaintext_secrets": {"const": True}}}
    assert full["SEC-001"] == {"properties": {"plaintext_secrets": {"const": "yes"}}}


def test_a_rule_without_examples_fails_policy_test() -> None:
    rule = replace(builtin_rules_with_examples()[0][0], failing=())
    outcomes = policytest.run([rule])
    assert [o.problem for o in outcomes if not o.ok] == ["the rule has no failing example"]


def test_hks_policy_test_passes_for_all_builtin_packs() -> None:
    result = hks("policy", "test")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].endswith(" passed, 0 failed")
    assert "FAIL" not in result.output


def _as_repo(tmp_path: Path, example: Example) -> tuple[Path, Document]:
    """The example written out as a config repository's org.yaml, and the file re-read."""
    from compiler.load.repo import load_file
    from compiler.load.parse import to_plain

    yaml = YAML()
    with (tmp_path / "org.yaml").open("w", encoding="utf-8") as out:
        yaml.dump(to_plain(example.config), out)

    doc, problems = load_file(tmp_path / "org.yaml")
    assert doc is not None and not problems
    return tmp_path, doc


@pytest.mark.parametrize(("rule", "example"), FAILING, ids=[f"{r.id}-{e.name}" for r, e in FAILING])
def test_every_rule_fails_its_failing_examples_at_the_line_that_causes_it(
    tmp_path: Path, rule: Rule, example: Example
) -> None:
    root, doc = _as_repo(tmp_path, example)
    assert example.at is not None
    places = {doc.position(example.at), doc.position(example.at, key=True)}  # the value or its key
    expected = {f"org.yaml:{p.line}:{p.column}" for p in places}
    reported = [place for rule_id, place in found(root) if rule_id == rule.id]
    assert reported, f"{rule.id} not reported"
    assert set(reported) & expected, (reported, expected)


@pytest.mark.parametrize(("rule", "example"), PASSING, ids=[f"{r.id}-{e.name}" for r, e in PASSING])
def test_every_rule_passes_its_passing_examples(tmp_path: Path, rule: Rule, example: Example) -> None:
    root, _ = _as_repo(tmp_path, example)
    assert rule.id not in [rule_id for rule_id, _ in found(root)]


# --- the realistic example --------------------------------------------------------------------


@pytest.fixture
def acme(tmp_path: Path) -> Path:
    target = tmp_path / "acme"
    shutil.copytree(EXAMPLES / "acme", target, ignore=shutil.ignore_patterns("rendered"))
    return target


def test_acme_hipaa_eu_workspace_is_clean() -> None:
    compiled = compile_config("examples/acme")
    clinical = next(w for w in compiled.workspaces if w.name == "clinical")
    assert {c.value for c in clinical.compliance} == {"soc2", "hipaa", "gdpr"}
    assert clinical.data_residency is not None and clinical.data_residency.value == "eu"
    assert [d.rule for d in compiled.diagnostics] == ["GW-009"]  # an info about production's fallback


def test_acme_clinical_on_openai_without_eu_residency(acme: Path) -> None:
    clinical = acme / "workspaces" / "clinical.yaml"
    clinical.write_text(clinical.read_text().replace("provider: azure-openai", "provider: openai"))
    assert found(acme) == [
        ("DR-001", "workspaces/clinical.yaml:9:13"),
        ("GDPR-002", "workspaces/clinical.yaml:9:13"),
        ("HIPAA-002", "workspaces/clinical.yaml:9:13"),
    ]


def test_acme_clinical_on_the_gemini_api(acme: Path) -> None:
    """Without a Google Cloud project, Google means the Gemini API: no BAA, no EU processing."""
    org = acme / "org.yaml"
    org.write_text(org.read_text().replace("    project: acme-llm-prod\n", ""))
    clinical = acme / "workspaces" / "clinical.yaml"
    clinical.write_text(clinical.read_text().replace("provider: azure-openai\n  model: gpt-5.4-mini", "provider: google\n  model: gemini-3.5-flash"))
    assert found(acme) == [
        ("DR-001", "workspaces/clinical.yaml:9:13"),
        ("GDPR-002", "workspaces/clinical.yaml:9:13"),
        ("HIPAA-001", "workspaces/clinical.yaml:9:13"),
        ("DR-001", "workspaces/support-eu.yaml:8:13"),
        ("GDPR-002", "workspaces/support-eu.yaml:8:13"),
    ]


def test_findings_name_the_workspace_and_the_provider_mode(acme: Path) -> None:
    clinical = acme / "workspaces" / "clinical.yaml"
    clinical.write_text(clinical.read_text().replace("provider: azure-openai", "provider: openai"))
    result = hks("validate", str(acme))
    assert result.exit_code == 1
    assert (
        "workspaces/clinical.yaml:9:13: error[DR-001]: workspace 'clinical' must keep data in 'eu', but its model "
        "openai/gpt-5.4-mini processes in any region (OpenAI API without data residency)" in result.output
    )


def test_a_fallback_is_reported_at_its_own_line(acme: Path) -> None:
    clinical = acme / "workspaces" / "clinical.yaml"
    text = clinical.read_text().replace(
        "  budget:\n", "  fallbacks:\n    - provider: ollama\n      model: llama3:8b\n    - provider: anthropic\n"
        "      model: claude-haiku-4-5\n  budget:\n"
    )
    clinical.write_text(text)
    assert found(acme) == [
        ("DR-003", "workspaces/clinical.yaml:17:7"),
        ("GDPR-002", "workspaces/clinical.yaml:17:7"),
        ("HIPAA-002", "workspaces/clinical.yaml:17:7"),
    ]


def test_an_org_level_value_is_reported_in_org_yaml(acme: Path) -> None:
    org = acme / "org.yaml"
    org.write_text(org.read_text().replace("retention_days: 2190", "retention_days: 30"))
    assert found(acme) == [("HIPAA-004", "org.yaml:67:21")]


def test_the_secret_scan_reports_once_and_never_the_value(tmp_path: Path) -> None:
    key = "sk-proj-Zq4XbT9wLm2RkVfN8sHd3JcYpA6uE1oG"
    write(tmp_path, {"org.yaml": f"llm_config:\n  provider: openai\n  model: gpt-5.4-mini\nproviders:\n  openai:\n    endpoint: https://x.example/?k={key}\n"})
    result = hks("validate", str(tmp_path))
    assert result.exit_code == 1
    assert found(tmp_path) == [("SEC-001", "org.yaml:6:15")]
    assert key not in result.output


# --- organisation packs -----------------------------------------------------------------------

OWN_PACK = """\
pack: acme
title: Acme's own rules
rules:
  - id: ACME-001
    framework: acme
    severity: error
    title: no Anthropic in production
    message: workspace '{workspace}' uses {item.provider}, which legal has not approved
    remediation: use openai or azure-openai
    condition:
      properties:
        targets: {items: {properties: {provider: {not: {const: anthropic}}}}}
    examples:
      pass:
        - name: openai
          config: {llm_config: {provider: openai, model: gpt-5.4-mini}, workspaces: {p: {}}}
      fail:
        - name: anthropic
          config: {llm_config: {provider: anthropic, model: claude-sonnet-4-6}, workspaces: {p: {}}}
          at: llm_config.provider
"""


def test_an_organisation_pack_is_enforced_listed_and_tested(acme: Path) -> None:
    write(acme, {"policies/acme.yaml": OWN_PACK})
    assert found(acme, "ACME") == [("ACME-001", "workspaces/production.yaml:12:7"), ("ACME-001", "workspaces/research.yaml:5:13")]
    assert "ACME-001" in hks("policy", "list", "--config", str(acme)).output
    result = hks("policy", "test", str(acme / "policies" / "acme.yaml"))
    assert result.exit_code == 0, result.output
    assert "2 examples of 1 rule: 2 passed, 0 failed" in result.output


@pytest.mark.parametrize(
    ("pack", "expected"),
    [
        (OWN_PACK.replace("severity: error", "severity: fatal"), [("POLICY-001", "policies/p.yaml:6:15")]),
        (OWN_PACK.replace("    title: no Anthropic", "    titel: no Anthropic"), [("POLICY-001", "policies/p.yaml:4:5"), ("POLICY-001", "policies/p.yaml:7:5")]),
        (OWN_PACK.replace("{not: {const: anthropic}}", "{not: 7}"), [("POLICY-002", "policies/p.yaml:11:7")]),
        (OWN_PACK.replace("{not: {const: anthropic}}", "{$ref: 'https://example.com/s.json'}"), [("POLICY-002", "policies/p.yaml:11:7")]),
        (OWN_PACK.replace("id: ACME-001", "id: HIPAA-001"), [("POLICY-003", "policies/p.yaml:4:9")]),
        (OWN_PACK.replace("    message:", "  message:"), [("YAML-001", "policies/p.yaml:8:3")]),
    ],
    ids=["bad-severity", "unknown-key", "bad-condition", "remote-ref", "duplicate-id", "yaml-syntax"],
)
def test_a_malformed_pack_is_reported_at_its_line(tmp_path: Path, pack: str, expected: list[tuple[str, str]]) -> None:
    write(tmp_path, {"org.yaml": "llm_config: {provider: ollama, model: llama3:8b}\n", "policies/p.yaml": pack})
    assert found(tmp_path) == expected
    result = hks("validate", str(tmp_path))
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_a_broken_builtin_pack_is_an_internal_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from compiler.diagnostics import Position, error
    from compiler.policy import packs

    write(tmp_path, {"org.yaml": "llm_config: {provider: ollama, model: llama3:8b}\n"})
    broken = (builtin_rules()[0], (error(Position("policies/x.yaml", 1, 1), "POLICY-001", "broken"),))
    monkeypatch.setattr(packs, "builtin_rules", lambda: broken)
    result = hks("validate", str(tmp_path))
    assert result.exit_code == 3 and "built-in policy pack is broken" in result.output


def test_readme_lists_exactly_the_builtin_rules() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start, end = "<!-- policy-list:start -->\n", "<!-- policy-list:end -->"
    assert start in readme and end in readme
    listed = readme.split(start, 1)[1].split(end, 1)[0]
    generated = hks("policy", "list", "--format", "markdown").output
    assert listed == generated, "run `hks policy list --format markdown` and paste it between the README's markers"


def test_policy_show_has_references_and_remediation() -> None:
    result = hks("policy", "show", "hipaa-004")
    assert result.exit_code == 0
    assert "45 CFR 164.312(b)" in result.output and "remediation:" in result.output
    missing = hks("policy", "show", "HIPAA-0O1")
    assert missing.exit_code == 2 and "did you mean 'HIPAA-001'?" in missing.output


def test_json_output_carries_policy_findings(acme: Path) -> None:
    clinical = acme / "workspaces" / "clinical.yaml"
    clinical.write_text(clinical.read_text().replace("pii: block", 'pii: "off"'))
    document = json.loads(hks("validate", "--format", "json", str(acme)).output)
    found = [(d["rule"], d["line"], d["column"]) for d in document["diagnostics"] if not d["rule"].startswith("GW-")]
    assert found == [("HIPAA-003", 13, 10)]


PROVIDERS = {
    "ollama": "llama3:8b",
    "openai": "gpt-5.4-mini",
    "anthropic": "claude-sonnet-4-6",
    "google": "gemini-3.5-flash",
    "azure-openai": "gpt-5.4-mini",
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    org_provider=st.sampled_from(sorted(PROVIDERS)),
    workspace_provider=st.sampled_from(sorted(PROVIDERS)),
    fallback=st.sampled_from([None, *sorted(PROVIDERS)]),
    compliance=st.lists(st.sampled_from(["hipaa", "gdpr", "soc2"]), unique=True),
    residency=st.sampled_from([None, "eu", "us", "on-premises"]),
    settings_=st.fixed_dictionaries(
        {},
        optional={
            "region": st.sampled_from(["eu", "us", "swedencentral", "eastus", "nowhere"]),
            "location": st.sampled_from(["europe-west4", "us-central1", "global"]),
            "project": st.just("p"),
            "endpoint": st.sampled_from(["http://x.example", "https://x.example", "http://svc.ns.svc"]),
            "baa": st.booleans(),
        },
    ),
    priority=st.sampled_from(["critical", "standard"]),
    pii=st.sampled_from(["off", "redact"]),
    audit=st.fixed_dictionaries({}, optional={"enabled": st.booleans(), "retention_days": st.integers(1, 3000)}),
)
def test_every_finding_points_into_the_users_files(
    tmp_path_factory: pytest.TempPathFactory,
    org_provider: str,
    workspace_provider: str,
    fallback: str | None,
    compliance: list[str],
    residency: str | None,
    settings_: dict[str, object],
    priority: str,
    pii: str,
    audit: dict[str, object],
) -> None:
    root = tmp_path_factory.mktemp("repo")
    override: dict[str, object] = {"provider": workspace_provider, "model": PROVIDERS[workspace_provider], "priority": priority}
    if fallback:
        override["fallbacks"] = [{"provider": fallback, "model": PROVIDERS[fallback]}]
    workspace: dict[str, object] = {"compliance": compliance, "llm_override": override}
    if residency:
        workspace["data_residency"] = residency
    org = {
        "llm_config": {"provider": org_provider, "model": PROVIDERS[org_provider], "sanitization": {"pii": pii}},
        "providers": {name: settings_ for name in PROVIDERS},
        "gateway": {"audit_log": audit},
    }
    write(root, {"org.yaml": json.dumps(org), "workspaces/w.yaml": json.dumps(workspace)})
    compiled = compile_config(str(root))
    assert compiled.config is not None
    for d in compiled.diagnostics:
        assert d.position.path.startswith(str(root)) and d.position.line > 0, d
