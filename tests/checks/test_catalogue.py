"""The catalogue: generated from the pinned LiteLLM's model map, and the findings it gives about
the models a config names (retired, retiring, unknown, refused settings)."""

from __future__ import annotations

import datetime
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from compiler.builtin import catalogue, datafiles
from compiler.pipeline import compile_config
from compiler.providers import registry
from compiler.render import litellm_config as gateway
from tests.conftest import ROOT, hks, hks_process, write

PINNED_PYTHON = ROOT / ".venv-litellm" / "bin" / "python"
TODAY = datetime.date(2026, 11, 25)


@pytest.mark.litellm  # its Python runs the script, with LiteLLM's own model map
def test_the_shipped_catalogue_is_what_the_script_makes_from_the_pinned_map(tmp_path: Path) -> None:
    assert PINNED_PYTHON.exists(), f"{PINNED_PYTHON} is missing: run tests/install-tools.sh (CI does)"
    shipped = ROOT / "catalogue" / "litellm-models.yaml"
    as_of = catalogue.map_source().as_of
    made = tmp_path / "litellm-models.yaml"
    subprocess.run(
        [str(PINNED_PYTHON), str(ROOT / "scripts" / "update_catalogue.py"), "--as-of", as_of, "-o", str(made)],
        check=True, capture_output=True, text=True,
    )
    assert made.read_text() == shipped.read_text()


def test_the_map_is_the_pinned_litellms() -> None:
    image = datafiles.load("catalogue", "images.yaml")["litellm"]
    install = (ROOT / "tests" / "install-tools.sh").read_text()
    pinned = re.search(r"^LITELLM_VERSION=(\S+)$", install, re.M)
    assert pinned is not None
    assert catalogue.map_source().litellm == pinned.group(1) == image.rsplit(":v", 1)[1]


def test_own_facts_are_merged_over_the_generated_ones() -> None:
    assert catalogue.default_model("anthropic") == "claude-sonnet-4-6"
    assert catalogue.lookup("ollama", "llama3:8b") is not None  # only in models.yaml
    gpt4 = catalogue.lookup("openai", "gpt-4")
    assert gpt4 is not None and gpt4.retires() == datetime.date(2026, 10, 23)
    assert catalogue.lookup("anthropic", "claude-sonnet-4-20250514") is None  # the map dropped it


def test_every_default_model_is_current_and_takes_every_setting() -> None:
    later = TODAY + datetime.timedelta(days=270)  # no warning for at least six months
    for provider in catalogue.provider_names():
        if not registry.get(provider).catalogued:
            continue  # its server serves any model: the catalogue lists none (tests/providers/test_providers.py)
        name = catalogue.default_model(provider)
        assert name in catalogue.current_models(provider, later), (provider, name)
        info = catalogue.lookup(provider, name)
        assert info is not None and not {"temperature", "top_p"} & set(info.facts), (provider, name)


ORG = """\
llm_config:
  provider: {provider}
  model: {model}
{extra}providers:
  {provider}: {{{settings}}}
"""


def repo(tmp_path: Path, provider: str, model: str, extra: str = "", settings: str = "", workspace: str = "") -> Path:
    files = {"org.yaml": ORG.format(provider=provider, model=model, extra=extra, settings=settings)}
    if workspace:
        files["workspaces/team.yaml"] = workspace
    return write(tmp_path / "org", files)


def findings(path: Path) -> list[tuple[str, str, str]]:
    compiled = compile_config(str(path), today=TODAY)
    return [(d.rule, str(d.position).removeprefix(f"{path}/"), d.message) for d in compiled.diagnostics if d.rule.startswith("CAT")]


def test_a_retired_model_is_an_error_with_its_date_and_a_current_replacement(tmp_path: Path) -> None:
    path = repo(tmp_path, "openai", "gpt-4")
    result = hks("validate", str(path))
    assert result.exit_code == 1
    assert f"{path}/org.yaml:3:10: error[CAT-004]: model 'gpt-4' was retired by openai on 2026-10-23" in result.output
    assert "such as gpt-5.6-sol or gpt-5.4-mini" in result.output


def test_a_model_retiring_within_90_days_is_a_warning(tmp_path: Path) -> None:
    path = repo(tmp_path, "anthropic", "claude-sonnet-4-5")
    assert findings(path) == [("CAT-005", "org.yaml:3:10", "model 'claude-sonnet-4-5' retires on 2026-11-30 (5 days from now)")]


def test_vertex_ai_retires_on_its_own_date(tmp_path: Path) -> None:
    gemini_api = repo(tmp_path / "a", "google", "gemini-2.5-flash")
    vertex = repo(tmp_path / "b", "google", "gemini-2.5-flash", settings="project: acme-ml, location: europe-west4")
    assert [f[0] for f in findings(gemini_api)] == ["CAT-005"]
    assert "retired by Vertex AI on 2026-10-20" in findings(vertex)[0][2]


def test_a_model_the_map_no_longer_lists_is_a_warning_with_a_did_you_mean(tmp_path: Path) -> None:
    path = repo(tmp_path, "anthropic", "claude-sonnet-4-20250514")
    result = hks("validate", str(path))
    assert result.exit_code == 0
    assert "warning[CAT-001]: model 'claude-sonnet-4-20250514' is not in the catalogue of anthropic models" in result.output
    assert "did you mean 'claude-sonnet-4-5-20250929'?" in result.output


WAIVER = """\
waivers:
  - rule: CAT-004
    workspace: team
    reason: our Azure deployment of gpt-4 serves until 2027-03
    expires: 2027-03-31
    approver: dana@example.com
"""


def test_a_waiver_silences_a_retirement(tmp_path: Path) -> None:
    path = repo(tmp_path, "openai", "gpt-5.4-mini", workspace="llm_override:\n  model: gpt-4\n")
    assert hks("validate", str(path)).exit_code == 1
    write(path, {"policies/waivers.yaml": WAIVER})
    result = hks("validate", str(path))
    assert result.exit_code == 0, result.output
    assert "CAT-004" in result.output and "waived until 2027-03-31" in result.output


def test_a_refused_temperature_is_reported_at_the_workspace_line_that_set_it(tmp_path: Path) -> None:
    path = repo(tmp_path, "openai", "gpt-5.4-mini", workspace="llm_override:\n  model: gpt-5\n  temperature: 0.3\n")
    assert findings(path) == [
        ("CAT-005", "workspaces/team.yaml:2:10", "model 'gpt-5' retires on 2026-12-11 (16 days from now)"),
        ("CAT-006", "workspaces/team.yaml:3:16",
         "workspace 'team': model gpt-5 accepts only temperature 1, not temperature: 0.3 (the gateway would refuse every request)"),
    ]


def test_an_inherited_temperature_is_reported_at_the_org_line_with_how_to_override(tmp_path: Path) -> None:
    path = repo(tmp_path, "openai", "gpt-5.4-mini", extra="  temperature: 0.3\n", workspace="llm_override:\n  model: gpt-5.5\n")
    result = hks("validate", str(path))
    assert result.exit_code == 1
    assert f"{path}/org.yaml:4:16: error[CAT-006]: workspace 'team': model gpt-5.5 accepts only temperature 1" in result.output
    assert f"inherited from the organisation's llm_config ({path}/org.yaml:4:16); set llm_override.temperature: 1" in result.output


def test_the_same_temperature_is_fine_for_a_model_that_takes_it(tmp_path: Path) -> None:
    path = repo(tmp_path, "openai", "gpt-5.4", extra="  temperature: 0.3\n")
    assert findings(path) == []


def test_a_refused_top_p_and_a_temperature_above_the_providers_range(tmp_path: Path) -> None:
    top_p = repo(tmp_path / "a", "anthropic", "claude-opus-4-7", extra="  temperature: 1\n  top_p: 0.9\n")
    assert [(f[0], f[1]) for f in findings(top_p)] == [("CAT-006", "org.yaml:5:10")]
    hot = repo(tmp_path / "b", "anthropic", "claude-sonnet-4-6", extra="  temperature: 1.5\n")
    assert findings(hot) == [
        ("CAT-006", "org.yaml:4:16", "model claude-sonnet-4-6 accepts temperature up to 1, not temperature: 1.5 (the gateway would refuse every request)")
    ]


def test_a_refused_built_in_default_is_left_out_of_the_gateway_config(tmp_path: Path) -> None:
    path = repo(tmp_path, "openai", "gpt-5", workspace="llm_override: {}\n")
    assert [f[0] for f in findings(path)] == ["CAT-005"]  # the built-in 0.7 is nobody's setting
    out = tmp_path / "out"
    assert hks("render", str(path), "-o", str(out)).exit_code == 0
    config = next((out / "platform" / "gateway").glob("configmap*.yaml")).read_text()
    assert "model: openai/gpt-5" in config and "temperature" not in config.split("model_list", 1)[1].split("general_settings", 1)[0]


def test_the_seed_as_written_reports_its_retired_model_and_nothing_else(tmp_path: Path) -> None:
    import shutil

    from tests.conftest import EXAMPLES

    seed = tmp_path / "seed"
    shutil.copytree(EXAMPLES / "seed", seed, ignore=shutil.ignore_patterns("rendered", "policies"))
    compiled = compile_config(str(seed), today=TODAY)
    assert [(d.rule, str(d.position).removeprefix(f"{seed}/"), d.waiver) for d in compiled.diagnostics] == [
        ("CAT-004", "org.yaml:14:14", None)
    ]
    assert "retired by openai on 2026-10-23" in compiled.diagnostics[0].message
    assert hks("render", str(seed), "-o", str(tmp_path / "out")).exit_code == 1


def test_cost_dates_its_prices_by_the_map_and_warns_when_they_are_old(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from tests.conftest import EXAMPLES

    fresh = hks("cost", "examples/acme")
    assert "as of 2026-11-25 (LiteLLM 1.110.2's model map)" in fresh.output
    assert "WARNING" not in fresh.output
    acme = tmp_path / "acme"
    shutil.copytree(EXAMPLES / "acme", acme, ignore=shutil.ignore_patterns("rendered", "support-eu.yaml"))
    monkeypatch.setenv("HKS_TODAY", "2027-06-01")  # 188 days later; these workspaces' models are still served
    old = hks("cost", str(acme))
    assert old.exit_code == 0, old.output
    assert "WARNING: prices are 188 days old (as of 2026-11-25), more than six months" in old.output


def test_hks_models_lists_only_what_a_provider_serves_today() -> None:
    result = hks("models", "--provider", "anthropic")
    assert result.exit_code == 0
    listed = [line.split()[1] for line in result.output.splitlines()[1:-1]]
    assert "claude-sonnet-4-6" in listed and "claude-sonnet-4-5" in listed  # retires 2026-11-30
    assert "claude-mythos-preview" not in listed  # retired 2026-06-09
    assert "claude-sonnet-4-20250514" not in listed  # no longer in the map
    assert hks("models", "--provider", "antropic").exit_code == 2


@pytest.mark.parametrize("provider", ["openai", "ollama"])
def test_hks_models_golden(provider: str, file_regression) -> None:  # type: ignore[no-untyped-def]
    file_regression.check(hks("models", "--provider", provider).output, basename=f"models-{provider}", extension=".txt")
    rows = __import__("json").loads(hks("models", "--provider", provider, "--format", "json").output)["models"]
    assert rows and {row["provider"] for row in rows} == {provider}


# --- The issue's "Done when", as a new user on a fresh machine runs it: hks as its own process,
# a folder `hks init` made, and the machine's own date (no HKS_TODAY). ----------------------------


def fresh_machine(monkeypatch: pytest.MonkeyPatch) -> datetime.date:
    monkeypatch.delenv("HKS_TODAY", raising=False)
    return datetime.date.today()


def shipped_map() -> dict[str, Any]:
    from ruamel.yaml import YAML

    return dict(YAML(typ="safe", pure=True).load((ROOT / "catalogue" / "litellm-models.yaml").read_text()))


def test_done_when_validate_names_gpt_4s_retirement_and_a_current_openai_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    today = fresh_machine(monkeypatch)
    assert hks_process("init", str(tmp_path / "demo"), "--provider", "openai").returncode == 0
    workspace = tmp_path / "demo" / "workspaces" / "assistant.yaml"
    workspace.write_text(workspace.read_text() + "  model: gpt-4\n")
    result = hks_process("validate", cwd=tmp_path / "demo")
    assert result.returncode == 1, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "workspaces/assistant.yaml:8:10: error[CAT-004]: model 'gpt-4' was retired by openai on 2026-10-23" in output
    suggested = re.search(r"use a current openai model, such as (\S+) or (\S+) \(", output)
    assert suggested is not None, output
    openai = shipped_map()["providers"]["openai"]
    for name in suggested.groups():
        retires = openai[name].get("retires")
        assert retires is None or datetime.date.fromisoformat(retires) > today, name
    assert "Traceback" not in output


def test_done_when_hks_models_lists_only_the_anthropic_models_served_today(monkeypatch: pytest.MonkeyPatch) -> None:
    today = fresh_machine(monkeypatch)
    result = hks_process("models", "--provider", "anthropic")
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()[1:] if line.startswith("anthropic ")]
    served = {
        name
        for name, facts in shipped_map()["providers"]["anthropic"].items()
        if "retires" not in facts or datetime.date.fromisoformat(facts["retires"]) > today
    }
    assert {row[1] for row in rows} == served
    assert "claude-mythos-preview" not in served  # retired 2026-06-09: the map lists it, hks models does not
    assert "claude-sonnet-4-20250514" not in result.stdout  # hks's old default: the map no longer lists it


def test_done_when_hks_cost_dates_acmes_prices_by_the_map_they_came_from(monkeypatch: pytest.MonkeyPatch) -> None:
    fresh_machine(monkeypatch)
    result = hks_process("cost", "examples/acme")
    assert result.returncode == 0, result.stderr
    source = shipped_map()["source"]
    dated = f"as of {source['as_of']} (LiteLLM {source['litellm']}'s model map)"
    prices = result.stdout.split("\nPrices:\n", 1)[1].splitlines()
    commercial = [line for line in prices if line.startswith("  - ") and not line.startswith("  - ollama/")]
    used = {f"{t.provider}/{t.model}" for w in compile_config("examples/acme").workspaces for t in gateway.targets(w) if t.provider != "ollama"}
    assert {line[4:].split(":")[0] for line in commercial} == used, prices  # chat, fallback and embedding models
    assert all(line.endswith(dated) for line in commercial), prices


def test_an_edit_to_a_retiring_or_unlisted_model_is_made_and_says_what_the_catalogue_knows(tmp_path: Path) -> None:
    path = repo(tmp_path, "anthropic", "claude-sonnet-4-6", workspace="llm_override: {}\n")
    retiring = hks_process("workspace", "set-llm", "team", "--model", "claude-sonnet-4-5", "-C", str(path))
    assert retiring.returncode == 0, retiring.stderr
    assert "llm_override.model: claude-sonnet-4-5" in retiring.stdout and "warning" not in retiring.stdout
    assert "workspaces/team.yaml:2:10: warning[CAT-005]: model 'claude-sonnet-4-5' retires on 2026-11-30" in retiring.stderr
    assert "claude-sonnet-4-6" in retiring.stderr  # the current model to plan a move to
    unlisted = hks_process("workspace", "set-llm", "team", "--model", "claude-sonnet-4-20250514", "-C", str(path))
    assert unlisted.returncode == 0, unlisted.stderr
    assert "warning[CAT-001]: model 'claude-sonnet-4-20250514' is not in the catalogue" in unlisted.stderr
    assert "did you mean 'claude-sonnet-4-5-20250929'?" in unlisted.stderr
    unrelated = hks_process("workspace", "set-llm", "team", "--max-tokens", "1000", "-C", str(path))
    assert unrelated.returncode == 0 and unrelated.stderr == ""  # only warnings an edit adds are shown
