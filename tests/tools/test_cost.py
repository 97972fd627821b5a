"""`hks cost`: golden outputs for the realistic example and for a change of model between two
Git revisions, the budget checks, and the price catalogue it reads."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from compiler.builtin import catalogue
from compiler.tools import cost
from compiler.pipeline import compile_config
from tests.conftest import EXAMPLES, ROOT, git, hks, hks_process, write

GOLDEN = Path(__file__).parent / "cost"


@pytest.mark.parametrize(("fmt", "suffix"), [("table", "txt"), ("markdown", "md")])
def test_acme_cost_golden(fmt: str, suffix: str, file_regression) -> None:  # type: ignore[no-untyped-def]
    result = hks("cost", "examples/acme", "--format", fmt)
    assert result.exit_code == 0, result.output
    file_regression.check(result.output, fullpath=EXAMPLES / "acme" / f"cost.{suffix}")


def test_acme_json_adds_up() -> None:
    result = hks("cost", "examples/acme", "--format", "json")
    assert result.exit_code == 0, result.output
    estimate = json.loads(result.output)["estimate"]
    workspaces = {w["name"]: w for w in estimate["workspaces"]}
    assert workspaces["batch"]["monthly_usd"] is None  # no usage: block
    production = workspaces["production"]
    assert [s["fraction"] for s in production["shares"]] == [0.95, 0.05]
    assert production["monthly_usd"] == pytest.approx(sum(s["monthly_usd"] for s in production["shares"]), abs=0.02)
    nodes = estimate["self_hosted_nodes"]
    assert nodes == {"nodes": 2, "hourly_usd": 1.2, "monthly_usd": 1752.0}
    parts = sum(w["monthly_usd"] or 0 for w in estimate["workspaces"]) + nodes["monthly_usd"]
    # Each part is rounded to the cent on its own: the sum may differ by half a cent per part.
    assert estimate["total_usd"] == pytest.approx(parts, abs=0.005 * (len(estimate["workspaces"]) + 1))
    for label, price in estimate["prices"].items():
        assert price["source"], label
        if price["input_per_million"] or price["output_per_million"]:
            assert price["as_of"], label


def test_the_arithmetic_of_one_workspace(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "org.yaml": "llm_config: {provider: openai, model: gpt-5.4-mini}\n"
            "workspaces:\n  a:\n    usage: {requests_per_day: 1000, input_tokens: 1000, output_tokens: 100}\n"
        },
    )
    compiled = compile_config(str(tmp_path))
    [workspace] = cost.estimate(compiled.config, compiled.workspaces).workspaces  # type: ignore[arg-type]
    # 1,000 requests × (1,000 × $0.75 + 100 × $4.50) / 1M = $1.20 a day, × 730 / 24 days
    assert workspace.monthly_usd == pytest.approx(1.2 * 730 / 24)


def test_over_budget_warns_and_fails_only_when_asked(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "org.yaml": "llm_config: {provider: openai, model: gpt-5.4}\n"
            "workspaces:\n  big:\n    llm_override: {budget: {monthly_usd: 100}}\n"
            "    usage: {requests_per_day: 1000, input_tokens: 1000, output_tokens: 500}\n"
        },
    )
    warned = hks_process("cost", str(tmp_path))
    assert warned.returncode == 0
    assert "big: estimated $304.17 a month exceeds budget.monthly_usd $100.00" in warned.stdout
    failed = hks_process("cost", str(tmp_path), "--fail-over-budget")
    assert failed.returncode == 1 and "--fail-over-budget" in failed.stderr
    assert hks_process("cost", "examples/acme", "--fail-over-budget").returncode == 0


def test_a_config_with_errors_is_not_estimated() -> None:
    result = hks_process("cost", "examples/broken/unknown-key")
    assert result.returncode == 1 and "SCHEMA-001" in result.stderr and "Traceback" not in result.stderr


# --- --base REV -----------------------------------------------------------------------------------


def _set_model(config: Path, model: str) -> None:
    path = config / "workspaces" / "production.yaml"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(f"  model: {model}\n" if line.startswith("  model: ") else line for line in lines))


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    """A config repository whose last commit switches production from gpt-5.4 to gpt-5.4-nano."""
    repo = tmp_path / "llm-config"
    shutil.copytree(EXAMPLES / "acme", repo / "acme", ignore=shutil.ignore_patterns("rendered", "*.txt", "*.md"))
    git(repo, "init", "-q", "-b", "main")
    _set_model(repo / "acme", "gpt-5.4")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "production on gpt-5.4")
    _set_model(repo / "acme", "gpt-5.4-nano")
    git(repo, "commit", "-q", "-am", "production on gpt-5.4-nano")
    return repo


@pytest.mark.parametrize(("fmt", "suffix"), [("table", "txt"), ("markdown", "md")])
def test_model_change_against_base_golden(repo: Path, fmt: str, suffix: str, file_regression) -> None:  # type: ignore[no-untyped-def]
    head = git(repo, "rev-parse", "HEAD")
    result = hks_process("cost", "acme", "--base", "HEAD~1", "--format", fmt, cwd=repo)
    assert result.returncode == 0, result.stderr
    assert "gpt-5.4 → openai/gpt-5.4-nano" in result.stdout
    file_regression.check(result.stdout, fullpath=GOLDEN / f"model-change.{suffix}")
    assert git(repo, "rev-parse", "HEAD") == head and git(repo, "status", "--porcelain") == ""


def test_base_json_states_previous_new_difference_and_percent(repo: Path) -> None:
    result = hks_process("cost", "acme", "--base", "HEAD~1", "--format", "json", cwd=repo)
    assert result.returncode == 0, result.stderr
    changes = {c["name"]: c for c in json.loads(result.stdout)["changes"]}
    production = changes["production"]
    assert production["new_usd"] < production["previous_usd"]
    assert production["difference_usd"] == pytest.approx(production["new_usd"] - production["previous_usd"], abs=0.01)
    assert production["percent"] == pytest.approx(100 * production["difference_usd"] / production["previous_usd"], abs=0.1)
    assert changes["clinical"]["difference_usd"] == 0
    assert changes["total"]["difference_usd"] == pytest.approx(production["difference_usd"], abs=0.01)


def test_no_change_against_the_base_says_so(repo: Path) -> None:
    result = hks_process("cost", "acme", "--base", "HEAD", "--format", "markdown", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[2].endswith(": no change from `HEAD`.")


def test_base_reads_uncommitted_changes_against_the_revision(repo: Path) -> None:
    _set_model(repo / "acme", "gpt-5.4-mini")  # not committed
    result = hks_process("cost", "acme", "--base", "HEAD", "--format", "json", cwd=repo)
    assert result.returncode == 0, result.stderr
    production = {c["name"]: c for c in json.loads(result.stdout)["changes"]}["production"]
    assert production["difference_usd"] > 0  # gpt-5.4-nano → gpt-5.4-mini costs more
    assert "gpt-5.4-mini" in (repo / "acme" / "workspaces" / "production.yaml").read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["acme", "--base", "no-such-branch"], "no-such-branch: no such revision"),
        (["acme", "--base", "HEAD~5"], "HEAD~5: no such revision"),
    ],
)
def test_base_errors_are_usage_errors(repo: Path, args: list[str], message: str) -> None:
    result = hks_process("cost", *args, cwd=repo)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_base_outside_git_is_a_usage_error(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES / "seed", tmp_path / "seed", ignore=shutil.ignore_patterns("rendered"))
    result = hks_process("cost", str(tmp_path / "seed"), "--base", "HEAD")
    assert result.returncode == 2 and "not inside a Git repository" in result.stderr


def test_base_where_the_folder_did_not_exist(repo: Path) -> None:
    shutil.copytree(repo / "acme", repo / "newer")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "a second config")
    result = hks_process("cost", "newer", "--base", "HEAD~1", "--format", "json", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "hks: note: HEAD~1 has no config in this folder: everything is new\n"
    changes = {c["name"]: c for c in json.loads(result.stdout)["changes"]}
    assert changes["production"]["previous_usd"] is None and changes["production"]["new_usd"] > 0


def test_a_base_with_errors_is_compared_as_nothing(repo: Path) -> None:
    org = repo / "acme" / "org.yaml"
    good = org.read_text()
    org.write_text(good.replace("temperature: 0.7", "temperature: 7", 1))
    git(repo, "commit", "-q", "-am", "broken")
    org.write_text(good)  # the pull request that repairs it
    result = hks_process("cost", "acme", "--base", "HEAD", "--format", "markdown", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "hks: note: the config at HEAD has 1 error(s): compared with nothing\n"


# --- the catalogue ----------------------------------------------------------------------------------


def test_every_catalogue_entry_has_a_source_and_a_date() -> None:
    for provider in catalogue.provider_names():
        assert catalogue.source(provider).strip(), f"{provider} has no source"
        for name, info in catalogue.models(provider).items():
            price = cost.token_price(provider, name)
            if provider == "ollama":
                assert info.facts.get("as_of"), f"{provider}/{name} has no as_of date"
            elif price is not None:
                assert price.as_of == catalogue.map_source().as_of and price.input >= 0 and price.output >= 0
    assert catalogue.source("openai") == "LiteLLM 1.110.2's model map"


def test_the_readme_example_is_what_hks_prints(tmp_path: Path) -> None:
    """README.md shows `hks cost --base` after production moved from gpt-5.4 to gpt-5.4-mini
    (what examples/acme uses): its lines must be hks's own, figures included."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"  \$ hks cost examples/acme --base HEAD~1 --format markdown .*?\n(.*?)  ```\n", readme, re.S)
    assert block is not None
    shown = [line.removeprefix("  ") for line in block.group(1).splitlines() if line.strip() not in ("", "...")]
    repo = tmp_path / "llm-config"
    shutil.copytree(EXAMPLES / "acme", repo / "acme", ignore=shutil.ignore_patterns("rendered", "*.txt", "*.md"))
    git(repo, "init", "-q", "-b", "main")
    _set_model(repo / "acme", "gpt-5.4")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "production on gpt-5.4")
    _set_model(repo / "acme", "gpt-5.4-mini")
    git(repo, "commit", "-q", "-am", "production on gpt-5.4-mini")
    printed = hks_process("cost", "acme", "--base", "HEAD~1", "--format", "markdown", cwd=repo).stdout.splitlines()
    assert len(shown) == 3 and all(line in printed for line in shown), (shown, printed)
