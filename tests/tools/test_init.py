"""`hks init`: what it creates validates and renders with no edit, for every starter; the
workflow files are YAML with the keys their CI systems require; nothing is ever overwritten."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from compiler.commands.init import PROVIDERS
from compiler.tools.hks_source import published
from compiler.tools.scaffold import organization_name
from tests.conftest import ROOT, git, hks_process, write

PRE_COMMIT = Path(sys.executable).with_name("pre-commit")


def init(root: Path, *args: str) -> Path:
    result = hks_process("init", "demo", *args, cwd=root)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    return root / "demo"


def load(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text())


@pytest.mark.parametrize("provider", PROVIDERS)
def test_created_config_validates_and_renders_as_it_is(provider: str, tmp_path: Path) -> None:
    demo = init(tmp_path, "--provider", provider)
    validate = hks_process("validate", "--strict", cwd=demo)
    assert validate.returncode == 0, validate.stdout
    assert validate.stdout == "no problems\n"
    check = hks_process("render", "--check", cwd=demo)  # the committed rendered/ is current
    assert check.returncode == 0, check.stdout + check.stderr
    assert load(demo / "org.yaml")["llm_config"]["provider"] == provider
    routing = load(demo / "rendered" / "workspaces" / "assistant" / "configmap-llm-routing.yaml")
    assert routing["data"]["provider"] == provider


def test_files_it_creates(tmp_path: Path) -> None:
    demo = init(tmp_path)
    created = sorted(str(p.relative_to(demo)) for p in demo.rglob("*") if p.is_file() and "rendered" not in p.parts)
    assert created == [
        ".github/workflows/hks.yml",
        ".gitignore",
        ".gitlab-ci.yml",
        ".pre-commit-config.yaml",
        "README.md",
        "org.yaml",
        "schemas/org.schema.json",
        "schemas/workspace.schema.json",
        "workspaces/assistant.yaml",
    ]
    assert (demo / "org.yaml").read_text().startswith("# yaml-language-server: $schema=schemas/org.schema.json\n")
    assert (demo / "workspaces" / "assistant.yaml").read_text().startswith(
        "# yaml-language-server: $schema=../schemas/workspace.schema.json\n"
    )
    assert (demo / "schemas" / "org.schema.json").read_text() == (ROOT / "schemas" / "org.schema.json").read_text()
    assert load(demo / "org.yaml")["organization"] == "demo"


@pytest.mark.precommit
def test_hooks_and_ci_install_the_hks_it_names(tmp_path: Path) -> None:
    repo = "https://git.example.com/platform/hks"
    demo = init(tmp_path, "--hks-repo", repo, "--hks-rev", "v9.9.9")
    config = load(demo / ".pre-commit-config.yaml")
    assert config["repos"] == [{"repo": repo, "rev": "v9.9.9", "hooks": [{"id": "hks-validate"}, {"id": "hks-render-check"}]}]
    offered = {hook["id"] for hook in load(ROOT / ".pre-commit-hooks.yaml")}
    assert {h["id"] for h in config["repos"][0]["hooks"]} <= offered
    result = subprocess.run([str(PRE_COMMIT), "validate-config", ".pre-commit-config.yaml"], cwd=demo, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    install = f'pip install "hks @ git+{repo}@v9.9.9"'
    github = load(demo / ".github" / "workflows" / "hks.yml")
    runs = [step.get("run") for job in github["jobs"].values() for step in job["steps"]]
    assert runs.count(install) == 2
    assert load(demo / ".gitlab-ci.yml")["default"]["before_script"] == [install]


def test_a_local_hks_repository_is_pinned_by_path_and_noted(tmp_path: Path) -> None:
    folder = tmp_path / "my hks: mirror"
    folder.mkdir()
    (folder / ".pre-commit-hooks.yaml").write_text("[]\n")
    result = hks_process("init", "demo", "--hks-repo", str(folder), "--hks-rev", "abc123", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    config = load(tmp_path / "demo" / ".pre-commit-config.yaml")
    assert config["repos"][0]["repo"] == str(folder) and config["repos"][0]["rev"] == "abc123"
    gitlab = load(tmp_path / "demo" / ".gitlab-ci.yml")
    assert gitlab["default"]["before_script"] == [f'pip install "hks @ git+{folder.as_uri()}@abc123"']
    assert f"note: {folder} is a folder on this machine: pre-commit works here, but CI and other machines cannot fetch it" in result.stderr


def test_github_workflow_has_what_actions_requires(tmp_path: Path) -> None:
    workflow = load(init(tmp_path) / ".github" / "workflows" / "hks.yml")
    assert set(workflow) >= {"name", "on", "jobs"}  # YAML 1.2: `on` is a string key, as GitHub reads it
    assert set(workflow["on"]) == {"pull_request", "push"}
    steps: list[dict[str, Any]] = []
    for job in workflow["jobs"].values():
        assert isinstance(job["runs-on"], str) and job["steps"]
        for step in job["steps"]:
            assert ("run" in step) != ("uses" in step), step
        steps += job["steps"]
    runs = [s.get("run", "") for s in steps]
    assert "hks validate --format sarif > hks.sarif" in runs
    assert "hks render --check --no-findings" in runs
    assert 'hks diff --base "origin/$BASE_REF" --format markdown > comment.md' in runs
    assert 'hks cost --base "origin/$BASE_REF" --format markdown >> comment.md' in runs
    comment = workflow["jobs"]["comment"]
    assert comment["env"]["BASE_REF"] == "${{ github.base_ref }}"  # never pasted into a script
    assert not [r for r in runs if "${{" in r], "expressions go through env:"
    post = next(s for s in comment["steps"] if "gh pr comment" in s.get("run", ""))
    assert post["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    assert upload["with"]["sarif_file"] == "hks.sarif" and upload["if"] == "always()"
    assert workflow["jobs"]["validate"]["permissions"]["security-events"] == "write"
    assert workflow["jobs"]["comment"]["permissions"]["pull-requests"] == "write"
    assert workflow["jobs"]["comment"]["steps"][0]["with"]["fetch-depth"] == 0


def test_the_comment_job_works_on_the_pull_request_that_adds_the_config(tmp_path: Path) -> None:
    """The first pull request of a repository made by hks init has no config at its base: the
    comment job's commands, as the workflow writes them, must still succeed."""
    from tests.conftest import git

    repo = tmp_path / "fresh"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "notes.txt").write_text("before hks\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "start")
    assert hks_process("init", cwd=repo).returncode == 0
    workflow = load(repo / ".github" / "workflows" / "hks.yml")
    commands = [s["run"] for s in workflow["jobs"]["comment"]["steps"] if s.get("run", "").startswith(("hks diff", "hks cost"))]
    assert len(commands) == 2
    for command in commands:
        args = command.split(">")[0].replace('"origin/$BASE_REF"', "HEAD").split()[1:]
        result = hks_process(*args, cwd=repo)
        assert result.returncode == 0, result.stderr
        assert "everything is new" in result.stdout + result.stderr


GITLAB_KEYWORDS = {"default", "include", "stages", "variables", "workflow", "image", "services", "cache", "before_script", "after_script"}


def test_gitlab_ci_has_what_gitlab_requires(tmp_path: Path) -> None:
    pipeline = load(init(tmp_path) / ".gitlab-ci.yml")
    jobs = {name: job for name, job in pipeline.items() if name not in GITLAB_KEYWORDS and not name.startswith(".")}
    assert set(jobs) == {"hks-validate", "hks-render-check", "hks-diff"}
    for job in jobs.values():
        assert isinstance(job["script"], list) and job["script"]
        assert job["stage"] in pipeline["stages"]
    assert jobs["hks-validate"]["artifacts"]["reports"]["junit"] == "hks-junit.xml"
    assert jobs["hks-validate"]["artifacts"]["when"] == "always"
    assert jobs["hks-validate"]["script"] == ["hks validate --format junit > hks-junit.xml"]
    assert not [line for line in jobs["hks-diff"]["script"] if "|" in line], "a pipe would hide a failing hks"


def test_never_overwrites(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    demo.mkdir()
    (demo / "org.yaml").write_text("mine\n")
    result = hks_process("init", "demo", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == f"hks: {Path('demo') / 'org.yaml'} exists: hks init never overwrites a file\n"
    assert sorted(p.name for p in demo.iterdir()) == ["org.yaml"] and (demo / "org.yaml").read_text() == "mine\n"


def test_a_local_hks_repository_must_be_a_checkout_of_hks(tmp_path: Path) -> None:
    result = hks_process("init", "demo", "--hks-repo", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == f"hks: {tmp_path / 'nowhere'}: not a checkout of hks (it has no .pre-commit-hooks.yaml)\n"
    assert not (tmp_path / "demo").exists()


def test_every_existing_file_is_named(tmp_path: Path) -> None:
    write(tmp_path / "demo", {"org.yaml": "mine\n", "README.md": "mine\n"})
    result = hks_process("init", "demo", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == f"hks: {Path('demo') / 'README.md'}, {Path('demo') / 'org.yaml'} exist: hks init never overwrites a file\n"


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    from compiler.commands.init import _write
    from compiler.errors import InputError

    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "mine.txt").write_text("mine\n")
    with pytest.raises(InputError):  # the second file's folder is a file: mkdir fails
        _write(tmp_path / "demo", {"a/b/one.txt": "1\n", "mine.txt/two.txt": "2\n"})
    assert sorted(p.name for p in (tmp_path / "demo").rglob("*")) == ["mine.txt"]


def test_in_a_sub_folder_of_a_git_repository_hooks_and_ci_go_to_its_top(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    result = hks_process("init", "teams/llm", "--hks-repo", "https://github.com/hexabase/hks", "--hks-rev", "v0.1.0", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    config = tmp_path / "teams" / "llm"
    assert load(config / "org.yaml")["cluster"]["config_folder"] == "teams/llm"
    for name in (".pre-commit-config.yaml", ".gitlab-ci.yml", ".github/workflows/hks.yml"):
        assert (tmp_path / name).is_file() and not (config / name).exists(), name
    hooks = load(tmp_path / ".pre-commit-config.yaml")["repos"][0]["hooks"]
    assert [h["args"] for h in hooks] == [["-C", "teams/llm"], ["-C", "teams/llm"]]
    github = load(tmp_path / ".github" / "workflows" / "hks.yml")
    runs = [step.get("run", "") for job in github["jobs"].values() for step in job["steps"]]
    hks_runs = [r for r in runs if r.startswith("hks ")]
    assert len(hks_runs) == 4 and all(r.startswith(("hks validate -C teams/llm ", "hks render -C teams/llm ",
                                                    "hks diff -C teams/llm ", "hks cost -C teams/llm ")) for r in hks_runs)
    gitlab = load(tmp_path / ".gitlab-ci.yml")
    assert gitlab["hks-render-check"]["script"] == ["hks render -C teams/llm --check --no-findings"]
    assert "next: from " in result.stderr and "git add teams/llm .github/workflows/hks.yml" in result.stderr
    # CI's commands, run at the top as CI runs them: the findings name files from the top
    assert hks_process(*shlex.split(gitlab["hks-render-check"]["script"][0])[1:], cwd=tmp_path).returncode == 1  # not in Git yet
    git(tmp_path, "add", "-A")
    check = hks_process(*shlex.split(gitlab["hks-render-check"]["script"][0])[1:], cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    org = config / "org.yaml"
    org.write_text(org.read_text().replace("temperature: 0.7", "temperature: 7"))
    sarif = hks_process("validate", "-C", "teams/llm", "--format", "sarif", cwd=tmp_path)
    locations = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in json.loads(sarif.stdout)["runs"][0]["results"]]
    assert locations == ["teams/llm/org.yaml"]


@pytest.mark.precommit
def test_files_the_repository_top_has_already_are_left_alone_and_the_merge_is_printed(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    own = "repos:\n  - repo: https://github.com/pre-commit/pre-commit-hooks\n    rev: v4.6.0\n    hooks: [{id: trailing-whitespace}]\n"
    (tmp_path / ".pre-commit-config.yaml").write_text(own)
    (tmp_path / ".gitlab-ci.yml").write_text("build:\n  script: [make]\n")
    (tmp_path / "llm").mkdir()
    result = hks_process("init", "--hks-repo", "https://github.com/hexabase/hks", "--hks-rev", "v0.1.0", cwd=tmp_path / "llm")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / ".pre-commit-config.yaml").read_text() == own
    assert (tmp_path / ".gitlab-ci.yml").read_text() == "build:\n  script: [make]\n"
    assert (tmp_path / ".github" / "workflows" / "hks.yml").is_file()
    entry = (
        "note: .pre-commit-config.yaml exists at the repository's top, so hks left it as it is; for the hks checks of "
        "llm/, add this entry under its `repos:`:\n"
        "  - repo: https://github.com/hexabase/hks\n    rev: v0.1.0\n    hooks:\n"
        "      - id: hks-validate        # the whole config, whatever files changed\n        args: [-C, llm]\n"
        "      - id: hks-render-check    # the rendered folder is what `hks render` makes\n        args: [-C, llm]\n"
    )
    assert entry in result.stderr
    # what it says to add, added, makes a config pre-commit accepts
    merged = own + entry.split("`repos:`:\n", 1)[1]
    assert load_text(merged)["repos"][1]["hooks"][0] == {"id": "hks-validate", "args": ["-C", "llm"]}
    (tmp_path / ".pre-commit-config.yaml").write_text(merged)
    checked = subprocess.run([str(PRE_COMMIT), "validate-config", ".pre-commit-config.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    jobs = result.stderr.split("merge these keys into it", 1)[1].split(":\n", 1)[1].split("\nnote: ", 1)[0]
    assert "hks-validate" in load_text(jobs) and "hks validate -C llm --format junit > hks-junit.xml" in jobs
    assert "next: from " in result.stderr and "merge the above into .gitlab-ci.yml and .pre-commit-config.yaml, then git add" in result.stderr


def test_at_a_repository_top_its_own_ci_file_is_kept(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / ".gitlab-ci.yml").write_text("build:\n  script: [make]\n")
    result = hks_process("init", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / ".gitlab-ci.yml").read_text() == "build:\n  script: [make]\n"
    assert (tmp_path / "org.yaml").is_file() and (tmp_path / ".pre-commit-config.yaml").is_file()
    assert "note: .gitlab-ci.yml exists at the repository's top, so hks left it as it is; for the hks checks of this config" in result.stderr
    assert "- hks validate --format junit > hks-junit.xml" in result.stderr


def load_text(text: str) -> Any:
    return YAML(typ="safe", pure=True).load(text)


def test_the_next_step_quotes_the_folder(tmp_path: Path) -> None:
    result = hks_process("init", "My Org", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "next: cd 'My Org' && git init" in result.stderr
    (tmp_path / "here").mkdir()
    here = hks_process("init", cwd=tmp_path / "here")  # hks init in the folder itself
    assert here.returncode == 0, here.stderr
    assert "next: git init && git add -A" in here.stderr


def test_an_existing_rendered_folder_is_not_replaced(tmp_path: Path) -> None:
    (tmp_path / "demo" / "rendered").mkdir(parents=True)
    result = hks_process("init", "demo", cwd=tmp_path)
    assert result.returncode == 2 and "rendered exists" in result.stderr


def test_into_the_current_folder_takes_its_name(tmp_path: Path) -> None:
    folder = tmp_path / "Acme Health"
    folder.mkdir()
    result = hks_process("init", cwd=folder)
    assert result.returncode == 0, result.stderr
    assert load(folder / "org.yaml")["organization"] == "acme-health"


def test_bad_organization_name(tmp_path: Path) -> None:
    result = hks_process("init", "demo", "--organization", "Acme_Health", cwd=tmp_path)
    assert result.returncode == 2 and "not a DNS label" in result.stderr
    assert not (tmp_path / "demo").exists()


@pytest.mark.parametrize(("folder", "name"), [("demo", "demo"), ("My Org", "my-org"), ("__", "my-org"), ("a" * 80, "a" * 63)])
def test_organization_name(folder: str, name: str) -> None:
    assert organization_name(folder) == name


README_BLOCKS = {
    "pre-commit-config": ("yaml", ".pre-commit-config.yaml"),
    "github-workflow": ("yaml", ".github/workflows/hks.yml"),
    "gitlab-ci": ("yaml", ".gitlab-ci.yml"),
}


def readme_with_init_files(readme: str) -> str:
    """The README with each `init:` block replaced by the file hks init writes."""
    import re

    from compiler.tools.scaffold import files

    created = files("demo", "ollama", published())
    for marker, (lang, name) in README_BLOCKS.items():
        block = f"<!-- init:{marker}:start -->\n```{lang}\n{created[name]}```\n<!-- init:{marker}:end -->"
        pattern = re.compile(rf"<!-- init:{marker}:start -->.*?<!-- init:{marker}:end -->", re.DOTALL)
        assert pattern.search(readme), f"README.md has no init:{marker} block"
        readme = pattern.sub(lambda _: block, readme)
    return readme


def test_readme_snippets_are_what_init_writes() -> None:
    readme = (ROOT / "README.md").read_text()
    assert readme == readme_with_init_files(readme), "run `python -m tests.tools.test_init` to update README.md"


def test_readme_quotes_the_broken_org_yaml_diagnostic(tmp_path: Path) -> None:
    demo = init(tmp_path)
    org = demo / "org.yaml"
    org.write_text(org.read_text().replace("temperature: 0.7", "temperature: 7", 1))
    result = hks_process("validate", cwd=demo)
    quoted = "org.yaml:9:16: error[SCHEMA-003]: llm_config.temperature must be between 0 and 2, not 7"
    assert result.returncode == 1 and result.stdout.startswith(quoted)
    assert quoted in (ROOT / "README.md").read_text()


if __name__ == "__main__":
    path = ROOT / "README.md"
    path.write_text(readme_with_init_files(path.read_text()))
