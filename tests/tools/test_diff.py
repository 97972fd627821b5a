"""`hks diff`: golden outputs for the four kinds of change a reviewer meets, in a real Git
repository, and the guarantees around them (working tree untouched, secrets hidden, exits)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compiler.tools import diff
from tests.conftest import ROOT, git, hks, hks_process, write

GOLDEN = Path(__file__).parent / "golden" / "diff"

ORG = """\
# yaml-language-server: $schema=../schemas/org.schema.json
organization: demo
llm_config:
  provider: openai
  model: gpt-5.4
  temperature: 0.7
  max_tokens: 4096
  rate_limit:
    rpm: 600
    tpm: 100000
cluster:
  mesh: linkerd  # encryption in transit, which the compliance scenario's SOC 2 asks for
gateway:
  audit_log:
    enabled: true
    retention_days: 365
  database_secret: gateway-database
"""
PRODUCTION = """\
llm_override:
  temperature: 0.3
"""
DEVELOPMENT = """\
llm_override:
  provider: ollama
  model: codellama:13b
"""

# scenario → (file, old text, new text)
CHANGES = {
    "provider": ("workspaces/production.yaml", "  temperature: 0.3\n", "  provider: anthropic\n  model: claude-sonnet-4-6\n  temperature: 0.3\n"),
    "model": ("workspaces/production.yaml", "  temperature: 0.3\n", "  model: gpt-5.4-mini\n  temperature: 0.3\n  max_tokens: 8192\n"),
    "limit": ("org.yaml", "    rpm: 600\n", "    rpm: 1200\n"),
    "compliance": ("workspaces/production.yaml", "llm_override:\n", "compliance: [soc2]\nllm_override:\n"),
}
def config_repo(root: Path) -> Path:
    repo = write(root / "demo", {"org.yaml": ORG, "workspaces/production.yaml": PRODUCTION, "workspaces/development.yaml": DEVELOPMENT})
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    return repo


def change(repo: Path, scenario: str) -> None:
    name, old, new = CHANGES[scenario]
    path = repo / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize("fmt", ["text", "markdown"])
@pytest.mark.parametrize("scenario", sorted(CHANGES))
def test_golden(scenario: str, fmt: str, tmp_path: Path, file_regression) -> None:  # type: ignore[no-untyped-def]
    repo = config_repo(tmp_path)
    change(repo, scenario)
    result = hks_process("diff", "--base", "HEAD", "--format", fmt, cwd=repo)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    extension = "md" if fmt == "markdown" else "txt"
    file_regression.check(result.stdout, fullpath=GOLDEN / f"{scenario}.{extension}")


def test_committed_change_against_the_previous_commit(tmp_path: Path) -> None:
    """The README's `hks diff --base HEAD~1` after committing a model change."""
    repo = config_repo(tmp_path)
    change(repo, "model")
    git(repo, "commit", "-q", "-am", "production: gpt-5.4-mini")
    result = hks_process("diff", "--base", "HEAD~1", "--format", "json", cwd=repo)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["workspaces"] == [
        {
            "name": "production",
            "status": "changed",
            "changes": [
                {"key": "model", "before": "gpt-5.4", "after": "gpt-5.4-mini"},
                {"key": "max_tokens", "before": 4096, "after": 8192},
            ],
        }
    ]
    assert {r["path"] for r in found["resources"]} >= {"workspaces/production/configmap-llm-routing.yaml"}


def test_working_tree_and_index_are_untouched(tmp_path: Path) -> None:
    repo = config_repo(tmp_path)
    change(repo, "limit")
    write(repo, {"notes.txt": "untracked\n"})
    git(repo, "add", "org.yaml")
    before = (git(repo, "status", "--porcelain"), git(repo, "diff", "--cached"), git(repo, "rev-parse", "HEAD"))
    assert hks_process("diff", "--base", "HEAD", cwd=repo).returncode == 0
    assert (git(repo, "status", "--porcelain"), git(repo, "diff", "--cached"), git(repo, "rev-parse", "HEAD")) == before


def test_exit_code(tmp_path: Path) -> None:
    repo = config_repo(tmp_path)
    assert hks_process("diff", "--base", "HEAD", "--exit-code", cwd=repo).returncode == 0
    same = hks_process("diff", "--base", "HEAD", cwd=repo)
    assert same.returncode == 0 and "no changes" in same.stdout
    change(repo, "limit")
    assert hks_process("diff", "--base", "HEAD", cwd=repo).returncode == 0
    assert hks_process("diff", "--base", "HEAD", "--exit-code", cwd=repo).returncode == 1


def test_a_ci_script_can_tell_a_change_from_a_config_error(tmp_path: Path) -> None:
    """Both exit 1 with --exit-code (1 is a config error for every hks command): the help says
    how to tell them apart, and that is what happens."""
    help_text = " ".join(hks("diff", "--help").output.split())
    assert "1 with --exit-code: something changes; the diff is on stdout, nothing on stderr" in help_text
    assert "1 the config in CONFIG_DIR has errors" in help_text and "they are on stderr, nothing on stdout" in help_text
    repo = config_repo(tmp_path)
    change(repo, "limit")
    changed = hks_process("diff", "--base", "HEAD", "--exit-code", cwd=repo)
    assert (changed.returncode, changed.stderr) == (1, "") and changed.stdout
    (repo / "org.yaml").write_text(ORG.replace("temperature: 0.7", "temperature: 7"))
    broken = hks_process("diff", "--base", "HEAD", "--exit-code", cwd=repo)
    assert (broken.returncode, broken.stdout) == (1, "") and "error[" in broken.stderr


def test_new_workspace_and_removed_workspace(tmp_path: Path) -> None:
    repo = config_repo(tmp_path)
    (repo / "workspaces" / "development.yaml").unlink()
    write(repo, {"workspaces/research.yaml": "llm_override:\n  provider: anthropic\n  model: claude-sonnet-4-6\n"})
    result = hks_process("diff", "--base", "HEAD", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert "Workspaces: 1 added, 1 removed, 0 changed\n" in result.stdout
    assert "  development: removed\n" in result.stdout
    assert "  research: added (provider anthropic, model claude-sonnet-4-6)\n" in result.stdout
    assert "+ Namespace research" in result.stdout and "- Namespace development" in result.stdout


def test_config_new_since_the_base(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "commit", "-q", "--allow-empty", "-m", "empty")
    write(repo, {"org.yaml": ORG, "workspaces/production.yaml": PRODUCTION})
    result = hks_process("diff", "--base", "HEAD", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert "everything is new" in result.stdout and "production: added" in result.stdout


def test_broken_working_tree_is_reported_like_validate(tmp_path: Path) -> None:
    repo = config_repo(tmp_path)
    (repo / "org.yaml").write_text(ORG.replace("temperature: 0.7", "temperature: 7"))
    result = hks_process("diff", "--base", "HEAD", cwd=repo)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "org.yaml:6:16: error[SCHEMA-003]" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--base", "no-such-rev"), "no-such-rev: no such revision"),
        ((), "give either --base REV or --against OUT_DIR"),
        (("--base", "HEAD", "--against", "x"), "give either --base REV or --against OUT_DIR"),
    ],
)
def test_usage_errors(args: tuple[str, ...], message: str, tmp_path: Path) -> None:
    repo = config_repo(tmp_path)
    result = hks_process("diff", *args, cwd=repo)
    assert result.returncode == 2
    assert message in result.stderr and result.stdout == ""
    assert "Traceback" not in result.stderr


def test_not_a_git_repository(tmp_path: Path) -> None:
    write(tmp_path / "demo", {"org.yaml": ORG})
    result = hks_process("diff", "--base", "HEAD", cwd=tmp_path / "demo", )
    assert result.returncode == 2 and "not inside a Git repository" in result.stderr


def test_against_a_rendered_folder() -> None:
    current = hks("diff", "examples/acme", "--against", "examples/acme/rendered", "--exit-code")
    assert current.exit_code == 0, current.output
    assert "no changes" in current.output


def test_against_a_stale_rendered_folder(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(ROOT / "examples" / "seed", tmp_path / "seed")
    org = tmp_path / "seed" / "org.yaml"
    org.write_text(org.read_text().replace('temperature: 0.3', 'temperature: 0.2'))
    result = hks("diff", str(tmp_path / "seed"), "--against", str(tmp_path / "seed" / "rendered"))
    assert result.exit_code == 0, result.output
    assert "production: temperature 0.3 → 0.2" in result.output


# what a hand-edited rendered folder may hold → the path `hks diff` must name
STALE = {
    "stray": ("workspaces/production/stray.yaml", "password: PLANTED-1\n  bad: [\n"),
    "not-a-resource": ("platform/notes.yaml", "kind: Secret\nstringData: {key: PLANTED-2}\n"),
    "several-documents": ("platform/two.yaml", "kind: Secret\nstringData: {key: PLANTED-3}\n---\nkind: Secret\n"),
    "binary": ("platform/blob.bin", b"\x00\xffPLANTED-4"),
    "comment": ("workspaces/production/namespace-production.yaml", "# PLANTED-5\n"),
    "kustomization": ("kustomization.yaml", "# PLANTED-6\n"),
    "duplicate": ("platform/copy-of-namespace.yaml", None),
}


def stale_copy(tmp_path: Path, case: str | None) -> Path:
    import shutil

    shutil.copytree(ROOT / "examples" / "acme", tmp_path / "acme")
    rendered = tmp_path / "acme" / "rendered"
    if case is None:
        return rendered
    name, content = STALE[case]
    path = rendered / name
    if content is None:
        content = (rendered / "workspaces" / "production" / "namespace-production.yaml").read_text()
    elif path.exists() and isinstance(content, str):
        content = content + path.read_text()
    write(rendered, {name: content})
    return rendered


@pytest.mark.parametrize("case", sorted(STALE))
def test_against_sees_what_render_check_sees(case: str, tmp_path: Path) -> None:
    rendered = stale_copy(tmp_path, case)
    config = str(rendered.parent)
    assert hks("render", config, "-o", str(rendered), "--check").exit_code == 1
    found = hks("diff", config, "--against", str(rendered), "--exit-code")
    assert found.exit_code == 1, found.output
    assert f"{STALE[case][0]}  (" in found.output
    for fmt in ("json", "markdown"):
        out = hks("diff", config, "--against", str(rendered), "--format", fmt).output
        assert STALE[case][0] in out and "PLANTED" not in out
    assert "PLANTED" not in found.output


@pytest.mark.parametrize("kind", ["Secret", "ConfigMap"])
def test_a_secret_in_place_of_the_routing_config_map_is_not_read_as_settings(kind: str, tmp_path: Path) -> None:
    rendered = stale_copy(tmp_path, None)
    path = rendered / "workspaces" / "production" / "configmap-llm-routing.yaml"
    settings = '[]' if kind == "ConfigMap" else '{"model": "PLANTED"}'  # a ConfigMap with a list: no crash
    write(path.parent, {path.name: f"kind: {kind}\nmetadata: {{name: llm-routing, namespace: production}}\ndata:\n  settings.json: '{settings}'\n"})
    for fmt in diff.FORMATS:
        found = hks("diff", str(rendered.parent), "--against", str(rendered), "--format", fmt)
        assert found.exit_code == 0, found.output
        assert "PLANTED" not in found.output and "production" in found.output


def test_against_a_folder_with_timestamps_is_no_internal_error(tmp_path: Path) -> None:
    rendered = stale_copy(tmp_path, None)
    path = rendered / "workspaces" / "production" / "namespace-production.yaml"
    path.write_text(path.read_text().replace("metadata:\n", "metadata:\n  creationTimestamp: 2026-01-01T00:00:00Z\n"))
    found = hks("diff", str(rendered.parent), "--against", str(rendered))
    assert found.exit_code == 0, found.output
    assert "-  creationTimestamp: \"2026-01-01 00:00:00+00:00\"" in found.output


def test_secret_values_are_never_shown() -> None:
    old = "kind: SealedSecret\nmetadata: {name: k, namespace: n}\nspec:\n  encryptedData: {key: AgBSECRETOLD, other: AgBSAME}\n"
    new = "kind: SealedSecret\nmetadata: {name: k, namespace: n}\nspec:\n  encryptedData: {key: AgBSECRETNEW, other: AgBSAME}\n"
    plain_old = "kind: Secret\nmetadata: {name: s, namespace: n}\nstringData: {key: hunter2}\n"
    plain_new = "kind: Secret\nmetadata: {name: s, namespace: n}\nstringData: {key: hunter3}\n"
    found, _ = diff.compare_rendered({"a.yaml": old, "s.yaml": plain_old}, {"a.yaml": new, "s.yaml": plain_new})
    assert [r.status for r in found] == ["changed", "changed"]
    result = diff.Diff("HEAD", (), tuple(found))
    for fmt in diff.FORMATS.values():
        out = fmt(result, False)
        for secret in ("AgBSECRETOLD", "AgBSECRETNEW", "AgBSAME", "hunter2", "hunter3"):
            assert secret not in out
        assert "(hidden, changed)" in out
    assert 'other: "(hidden)"' in found[0].patch


SECRET_SHAPES = {  # a planted value in every place and shape a Secret or SealedSecret can hold one
    "Secret": [
        "data: {key: %s}", "data: %s", "data: [%s]", "data: {key: {nested: %s}}", "stringData: %s",
        "stringData: [{key: %s}]", "extra: %s",
        "metadata: {name: s, namespace: n, annotations: {kubectl.kubernetes.io/last-applied-configuration: '%s'}}",
    ],
    "SealedSecret": [
        "spec: {encryptedData: {key: %s}}", "spec: {encryptedData: %s}", "spec: {encryptedData: [%s]}",
        "spec: {template: {data: {key: %s}}}", "spec: {template: {data: %s}}", "spec: {template: [%s]}",
        "spec: {template: %s}", "spec: %s", "spec: [%s]",
    ],
}


@pytest.mark.parametrize(("kind", "shape"), [(k, s) for k, shapes in SECRET_SHAPES.items() for s in shapes])
def test_a_secret_value_in_any_shape_is_never_shown(kind: str, shape: str) -> None:
    def document(value: str) -> str:
        body = shape % value
        metadata = "" if body.startswith("metadata") else "metadata: {name: s, namespace: n}\n"
        return f"apiVersion: v1\nkind: {kind}\n{metadata}{body}\n"

    found, _ = diff.compare_rendered({"s.yaml": document("PLANTED-OLD")}, {"s.yaml": document("PLANTED-NEW")})
    assert [r.status for r in found] == ["changed"]
    result = diff.Diff("HEAD", (), tuple(found))
    for name, fmt in diff.FORMATS.items():
        out = fmt(result, False)
        assert "PLANTED" not in out, f"{name}: {out}"
        assert "(hidden, changed)" in out, f"{name}: {out}"


def test_markdown_code_spans_survive_backticks_and_pipes() -> None:
    assert diff._code("a`b|c") == "``a`b\\|c``"


def test_markdown_stays_short_enough_to_post() -> None:
    patch = "--- a/x\n+++ b/x\n" + "".join(f"-line {i}\n+line {i}!\n" for i in range(2000))
    resources = tuple(diff.ResourceDiff("ConfigMap", "ns", f"c{i}", f"platform/c{i}.yaml", "changed", patch) for i in range(5))
    out = diff.markdown(diff.Diff("main", (), resources), False)
    assert len(out) <= diff.MARKDOWN_LIMIT
    assert "resource diffs are left out" in out and "Changed: `ConfigMap ns/c4`" in out


def test_paths_that_would_leave_the_copy_are_refused() -> None:
    from pathlib import PurePosixPath

    from compiler.tools.gitrev import _safe

    assert _safe(PurePosixPath("org.yaml")) and _safe(PurePosixPath("workspaces/a.yaml"))
    assert not _safe(PurePosixPath("../evil")) and not _safe(PurePosixPath("/etc/passwd"))
    assert not _safe(PurePosixPath("a/../../evil"))


def monorepo(root: Path, attributes: str = "") -> Path:
    """A repository with the config in `llm-config/` among other things."""
    repo = write(
        root / "mono",
        {
            "llm-config/org.yaml": ORG.replace("organization: demo\n", ""),
            "llm-config/workspaces/assistant.yaml": PRODUCTION,
            "llm-config/workspaces/research.yaml": "members:\n  users: [alice$Format:%H$]\n",
            "services/app/main.py": "print('not config')\n",
            ".gitattributes": attributes,
        },
    )
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    return repo


def test_base_is_read_as_committed_whatever_gitattributes_say(tmp_path: Path) -> None:
    """`git archive` would drop the export-ignore files and expand `$Format:%H$`."""
    repo = monorepo(tmp_path, "llm-config/workspaces/assistant.yaml export-ignore\nllm-config/workspaces/research.yaml export-subst\n")
    same = hks_process("diff", "llm-config", "--base", "HEAD", "--exit-code", cwd=repo)
    assert same.returncode == 0, same.stdout + same.stderr
    assert "no changes" in same.stdout
    path = repo / "llm-config" / "workspaces" / "assistant.yaml"
    path.write_text(path.read_text().replace("0.3", "0.2"))
    changed = hks_process("diff", "llm-config", "--base", "HEAD", cwd=repo)
    assert "  assistant: temperature 0.3 → 0.2\n" in changed.stdout, changed.stdout


def test_base_copies_only_the_config_folder_under_the_repository_name(tmp_path: Path) -> None:
    from compiler.tools import gitrev

    repo = monorepo(tmp_path)
    folder, commit = gitrev.snapshot(str(repo / "llm-config"), "HEAD", tmp_path / "copy")
    assert folder == tmp_path / "copy" / "mono" / "llm-config"
    assert commit == git(repo, "rev-parse", "HEAD").strip()
    copied = sorted(str(p.relative_to(tmp_path / "copy")) for p in (tmp_path / "copy").rglob("*") if p.is_file())
    assert copied == ["mono/llm-config/org.yaml", "mono/llm-config/workspaces/assistant.yaml", "mono/llm-config/workspaces/research.yaml"]
    assert (folder / "workspaces" / "research.yaml").read_text() == "members:\n  users: [alice$Format:%H$]\n"


def test_the_organisation_is_named_after_the_config_folder_at_the_base(tmp_path: Path) -> None:
    """org.yaml has no `organization:`: both sides take the name `llm-config`."""
    repo = monorepo(tmp_path)
    result = hks_process("diff", "llm-config", "--base", "HEAD", "--exit-code", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_git_lfs_pointer_at_the_base_is_an_error_not_a_comparison(tmp_path: Path) -> None:
    repo = monorepo(tmp_path)
    pointer = "version https://git-lfs.github.com/spec/v1\noid sha256:" + "0" * 64 + "\nsize 42\n"
    (repo / "llm-config" / "workspaces" / "research.yaml").write_text(pointer)
    git(repo, "commit", "-q", "-am", "research in LFS")
    (repo / "llm-config" / "workspaces" / "research.yaml").write_text("llm_override:\n  model: gpt-5.4-mini\n")
    result = hks_process("diff", "llm-config", "--base", "HEAD", cwd=repo)
    assert result.returncode == 2 and result.stdout == ""
    assert "llm-config/workspaces/research.yaml: stored with Git LFS at HEAD" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_symbolic_link_out_of_the_repository_is_not_followed(tmp_path: Path) -> None:
    repo = config_repo(tmp_path)
    secret = tmp_path / "outside.yaml"
    secret.write_text("llm_override:\n  model: from-outside\n")
    (repo / "workspaces" / "linked.yaml").symlink_to(secret)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "a link out")
    (repo / "workspaces" / "linked.yaml").unlink()
    result = hks_process("diff", "--base", "HEAD", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert "from-outside" not in result.stdout and "Traceback" not in result.stderr


def test_documents_are_read_as_ruamel_reads_them_and_mostly_the_fast_way() -> None:
    from compiler.load import yamlfast
    from compiler.load.parse import MAX_DEPTH, MAX_NODES, MAX_STRING_CHARS
    from tests.load.test_yamlfast import EDGE_CASES

    rendered = [p.read_text("utf-8") for p in sorted(ROOT.glob("examples/*/rendered/**/*.yaml"))]
    stale = [content for _, content in STALE.values() if isinstance(content, str)]
    for text in [*rendered, *EDGE_CASES, *stale]:
        assert repr(diff._load(text)) == repr(diff._load_by_ruamel(text)), text  # repr: NaN, 1 and 1.0, dates
    fast = sum(yamlfast.read(text, MAX_DEPTH, MAX_NODES, MAX_STRING_CHARS) is not yamlfast.UNSURE for text in rendered)
    assert fast > 0.9 * len(rendered), (fast, len(rendered))
