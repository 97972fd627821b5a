"""The editing commands on a hand-written, heavily commented config repository.

Each case's golden file is the unified diff the command makes (`--dry-run` prints it): reading
it shows that only the intended lines change. Then the real run must make exactly that diff,
and a second run must change nothing.
"""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest

from tests.conftest import hks, write

DATA = Path(__file__).parent / "data" / "editing"
FIXTURE = DATA / "commented"
GOLDEN = DATA / "golden"

CASES: dict[str, list[str]] = {
    "llm-enable-openai": ["llm", "enable", "--provider", "openai"],
    "llm-enable-google": ["llm", "enable", "--provider", "google"],
    "llm-install-tag": ["llm", "install", "qwen2.5:7b"],
    "llm-install-custom": [
        "llm", "install", "acme-support:7b",
        "--from", "https://models.example/acme-support-7b.Q4_K_M.gguf",
        "--sha256", "a" * 64, "--param", "num_ctx=8192", "--param", "temperature=0.2",
        "--system", "You answer Example Corp's support tickets.",
    ],
    "llm-remove": ["llm", "remove", "mistral:7b"],
    "org-set-llm": ["org", "set-llm", "--temperature", "0.5", "--top-p", "0.9"],
    "org-set-llm-quoted": ["org", "set-llm", "--model", "llama3.1:8b", "--max-tokens", "8192"],
    "workspace-set-llm-file": ["workspace", "set-llm", "production", "--model", "claude-haiku-4-5", "--max-tokens", "16000"],
    "workspace-set-llm-flow": ["workspace", "set-llm", "support", "--temperature", "0.4"],
    "workspace-set-llm-inline": ["workspace", "set-llm", "batch", "--temperature", "0.2", "--max-tokens", "2048"],
    "workspace-set-llm-new": ["workspace", "set-llm", "research", "--create", "--provider", "anthropic", "--model", "claude-opus-4-20250514"],
    "workspace-unset": ["workspace", "set-llm", "production", "--unset", "temperature"],
    "workspace-unset-last": ["workspace", "set-llm", "support", "--unset", "model"],
    "workspace-unset-inline": ["workspace", "set-llm", "batch", "--unset", "model", "--unset", "rate_limit"],
}  # fmt: skip


def repo_copy(tmp_path: Path, source: Path = FIXTURE) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(source, root, ignore=shutil.ignore_patterns("rendered", "explain.txt"))
    return root


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def tree_diff(before: dict[str, bytes], root: Path) -> str:
    after = snapshot(root)
    chunks: list[str] = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        chunks += difflib.unified_diff(
            (old or b"").decode().splitlines(True),
            (new or b"").decode().splitlines(True),
            fromfile=f"a/{name}" if old is not None else "/dev/null",
            tofile=f"b/{name}",
        )
    return "".join(chunks)


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_diff_dry_run_then_write_then_idempotent(case: str, tmp_path: Path, file_regression) -> None:  # type: ignore[no-untyped-def]
    root = repo_copy(tmp_path)
    before = snapshot(root)
    dry = hks(*CASES[case], "-C", str(root), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert snapshot(root) == before, "--dry-run wrote something"
    file_regression.check(dry.stdout, fullpath=GOLDEN / f"{case}.diff")  # warnings the edit adds go to stderr

    done = hks(*CASES[case], "-C", str(root))
    assert done.exit_code == 0, done.output
    assert tree_diff(before, root) == dry.stdout
    assert hks("validate", str(root)).exit_code == 0

    written = snapshot(root)
    again = hks(*CASES[case], "-C", str(root))
    assert again.exit_code == 0, again.output
    assert again.output.startswith("nothing to change"), again.output
    assert snapshot(root) == written


REFUSED: dict[str, tuple[list[str], int, str]] = {
    # the edit would make the config invalid: the usual diagnostics, exit 1
    "model-of-another-provider": (["org", "set-llm", "--provider", "ollama", "--model", "gpt-5.4-mini"], 1, "error[CAT-003]"),
    "model-of-a-provider-not-enabled": (["org", "set-llm", "--model", "gpt-5.4-mini"], 1, "hint: add --provider openai"),
    "workspace-provider-without-its-model": (["workspace", "set-llm", "batch", "--provider", "google"], 1, "error[CAT-003]"),
    "does-not-fit-the-gpu": (["llm", "install", "llama3.1:70b"], 1, "error[CAP-001]"),
    "max-tokens-over-the-model-limit": (["workspace", "set-llm", "production", "--max-tokens", "200000"], 1, "error[CAT-002]"),
    "bad-sha256": (["llm", "install", "x:1b", "--from", "https://e.example/x.gguf", "--sha256", "nothex"], 1, "error[SCHEMA-"),
    # the request itself cannot be done
    "model-in-use": (["llm", "remove", "codellama:13b"], 1, "workspace 'batch' ("),
    "near-miss-tag": (["llm", "install", "lama3:8b"], 1, "did you mean 'llama3:8b'?"),
    "unset-unknown-workspace": (["workspace", "set-llm", "nobody", "--unset", "model"], 1, "does not exist"),
    "unknown-workspace": (["workspace", "set-llm", "prodution", "--model", "x"], 1, "did you mean 'production'?"),
    "create-existing-workspace": (["workspace", "create", "batch"], 1, "/repo/org.yaml)"),
    "bad-workspace-name": (["workspace", "set-llm", "Not_A_Name", "--model", "x"], 2, "not a workspace name"),
    "nothing-to-set": (["org", "set-llm"], 2, "nothing to set"),
    "remote-gguf-without-sha": (["llm", "install", "x:1b", "--from", "https://e.example/x.gguf"], 2, "--sha256 is required"),
    "param-without-from": (["llm", "install", "x:1b", "--param", "num_ctx=1"], 2, "--from"),
    "contradiction": (["workspace", "set-llm", "batch", "--model", "x", "--unset", "model"], 2, "contradict"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refusal_leaves_every_file_byte_identical(case: str, tmp_path: Path) -> None:
    args, code, says = REFUSED[case]
    root = repo_copy(tmp_path)
    before = snapshot(root)
    result = hks(*args, "-C", str(root))
    assert result.exit_code == code, result.output
    assert says in result.output
    assert "Traceback" not in result.output
    assert snapshot(root) == before


def test_refusal_names_the_file_and_line_of_the_problem(tmp_path: Path) -> None:
    root = repo_copy(tmp_path)
    result = hks("org", "set-llm", "--provider", "ollama", "--model", "gpt-5.4-mini", "-C", str(root))
    assert f"{root}/org.yaml:12:12: error[CAT-003]" in result.output
    assert "refused: the edit would make the config invalid; nothing was changed" in result.output


def test_remove_names_the_workspace_and_its_line(tmp_path: Path) -> None:
    root = repo_copy(tmp_path)
    result = hks("llm", "remove", "codellama:13b", "-C", str(root))
    assert f"workspace 'batch' ({root}/org.yaml:49:20)" in result.output


def test_removing_the_model_that_breaks_the_config_is_allowed(tmp_path: Path) -> None:
    """Errors the config already has do not block an edit that fixes them (docs/commands.md)."""
    org = "llm_config: {provider: ollama, model: 'llama3:8b'}\nself_hosted:\n  gpu: {memory_gib: 16}\n  models: ['llama3:8b', 'llama3:70b']\n"
    root = write(tmp_path / "repo", {"org.yaml": org})
    assert "error[CAP-001]: llama3:70b needs about" in hks("validate", str(root)).output
    result = hks("llm", "remove", "llama3:70b", "-C", str(root))
    assert result.exit_code == 0, result.output
    assert "models: ['llama3:8b']" in (root / "org.yaml").read_text()
    assert hks("validate", str(root)).exit_code == 0


def test_removing_the_organisations_model_points_at_org_set_llm(tmp_path: Path) -> None:
    root = write(tmp_path / "repo", {"org.yaml": "llm_config: {provider: ollama, model: 'llama3:8b'}\nself_hosted: {models: ['llama3:8b']}\n"})
    result = hks("llm", "remove", "llama3:8b", "-C", str(root))
    assert result.exit_code == 1
    assert "hint: point those at another model first (hks org set-llm --model ...)" in result.output


def test_a_config_that_cannot_be_read_blocks_remove(tmp_path: Path) -> None:
    root = write(tmp_path / "repo", {"org.yaml": "llm_config: {provider: ollama}\nself_hosted: {models: ['llama3:8b']}\n"})
    result = hks("llm", "remove", "llama3:8b", "-C", str(root))
    assert result.exit_code == 1 and "error[SCHEMA-004]" in result.output
    assert "llama3:8b" in (root / "org.yaml").read_text()


def test_set_llm_says_which_values_were_already_set(tmp_path: Path) -> None:
    root = write(tmp_path / "repo", {"org.yaml": "llm_config:\n  provider: ollama\n  model: llama3:8b\n  temperature: 0.7\n"})
    result = hks("org", "set-llm", "--model", "llama3:8b", "--temperature", "0.5", "-C", str(root))
    assert result.exit_code == 0, result.output
    assert "org.yaml: llm_config.model is already llama3:8b\n" in result.output
    assert "org.yaml: llm_config.temperature: 0.5\n" in result.output


def test_policy_refusal(tmp_path: Path) -> None:
    """A HIPAA workspace may not move to a provider the policies forbid."""
    root = repo_copy(tmp_path)
    (root / "workspaces" / "clinical.yaml").write_text(
        "compliance: [hipaa]\nllm_override:\n  provider: ollama\n  model: llama3:8b\n  sanitization:\n    pii: block\n"
    )
    before = snapshot(root)
    result = hks("workspace", "set-llm", "clinical", "--provider", "google", "--model", "gemini-3.5-flash", "-C", str(root))
    assert result.exit_code == 1, result.output
    assert f"{root}/workspaces/clinical.yaml:3:13: error[HIPAA-001]" in result.output
    assert "nothing was changed" in result.output
    assert snapshot(root) == before


def test_workspace_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = repo_copy(tmp_path)
    monkeypatch.setenv("HKS_WORKSPACE", "support")
    assert hks("workspace", "set-llm", "--temperature", "0.4", "-C", str(root)).exit_code == 0
    assert "temperature: 0.4" in (root / "workspaces" / "support.yaml").read_text()


def test_no_workspace_lists_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HKS_WORKSPACE", raising=False)
    root = repo_copy(tmp_path)
    result = hks("workspace", "set-llm", "--temperature", "0.4", "-C", str(root))
    assert result.exit_code == 2
    assert "Workspaces: batch, production, support" in result.output


def test_a_local_gguf_file_is_refused_with_its_sha256_and_the_way_forward(tmp_path: Path) -> None:
    root = repo_copy(tmp_path)
    before = snapshot(root)
    (root / "models").mkdir()
    (root / "models" / "tiny.gguf").write_bytes(b"GGUF tiny")
    result = hks("llm", "install", "tiny:1b", "--from", "models/tiny.gguf", "-C", str(root))
    assert result.exit_code == 1, result.output
    import hashlib

    digest = hashlib.sha256(b"GGUF tiny").hexdigest()
    assert f"hks llm install tiny:1b --from https://.../tiny.gguf --sha256 {digest}" in result.output
    (root / "models" / "tiny.gguf").unlink()
    (root / "models").rmdir()
    assert snapshot(root) == before


def test_enable_in_an_empty_folder_makes_a_valid_org_yaml(tmp_path: Path) -> None:
    result = hks("llm", "enable", "--provider", "ollama", "-C", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "next: install a model: hks llm install llama3:8b" in result.output
    assert hks("validate", str(tmp_path)).exit_code == 0


def test_enable_says_what_is_left_to_do(tmp_path: Path) -> None:
    root = repo_copy(tmp_path)
    result = hks("llm", "enable", "--provider", "openai", "-C", str(root))
    assert "next: store the API key: hks secret create openai-api-key --from-literal=key=-" in result.output


def test_enable_without_a_secrets_backend_says_how_to_choose_one(tmp_path: Path) -> None:
    result = hks("llm", "enable", "--provider", "openai", "-C", str(tmp_path))
    assert result.exit_code == 0, result.output
    step = result.output.split("next: ", 1)[1]
    # the backend first (secret create is refused without one), then the secret; or kubectl
    assert step.index("hks secret backend sealed-secrets --cert") < step.index("hks secret create openai-api-key")
    assert "kubectl create secret generic openai-api-key" in step


def test_unknown_values_and_flags_suggest(tmp_path: Path) -> None:
    root = repo_copy(tmp_path)
    assert "Did you mean 'openai'?" in hks("llm", "enable", "--provider", "opneai", "-C", str(root)).output
    assert "Did you mean '--model'?" in hks("org", "set-llm", "--modle", "x").output
    assert "Did you mean 'install'?" in hks("llm", "instal", "x").output
    assert "Did you mean 'max_tokens'?" in hks("workspace", "set-llm", "x", "--unset", "max-tokens").output


@pytest.mark.parametrize(
    ("group", "examples"),
    [
        ("llm", ["hks llm enable --provider ollama", "hks llm install llama3:8b", "hks llm enable --provider openai"]),
        ("org", ["hks org set-llm --model llama3:8b --temperature 0.7"]),
        ("workspace", ["hks workspace set-llm production --model gpt-4 --max-tokens 8192"]),
        ("secret", ["hks secret create openai-api-key --from-literal=key="]),
        ("logs", ["hks logs -n hexabase-aiops"]),
    ],
)
def test_help_shows_the_seed_examples(group: str, examples: list[str]) -> None:
    output = hks(group, "--help").output
    for example in examples:
        assert example in output


def test_unset_knows_every_llm_config_key() -> None:
    from compiler.commands.editing import OVERRIDE_KEYS
    from compiler.model.model import LLMConfig

    assert sorted(OVERRIDE_KEYS) == sorted(LLMConfig.model_fields)


def test_an_anchored_override_is_not_edited_through_its_alias(tmp_path: Path) -> None:
    text = "llm_config: &defaults\n  provider: ollama\n  model: llama3:8b\nworkspaces:\n  batch:\n    llm_override: *defaults\n"
    root = write(tmp_path / "repo", {"org.yaml": text})
    result = hks("workspace", "set-llm", "batch", "--temperature", "0.2", "-C", str(root))
    assert result.exit_code == 2 and "shared through the anchor &defaults" in result.output
    assert (root / "org.yaml").read_text() == text


def test_an_inline_workspace_with_no_settings_is_edited_in_place(tmp_path: Path) -> None:
    root = write(tmp_path / "repo", {"org.yaml": "llm_config:\n  provider: ollama\n  model: llama3:8b\nworkspaces:\n  batch:\n"})
    assert hks("workspace", "set-llm", "batch", "--temperature", "0.2", "-C", str(root)).exit_code == 0
    assert not (root / "workspaces").exists()
    assert (root / "org.yaml").read_text().endswith("  batch:\n    llm_override:\n      temperature: 0.2\n")


def test_a_misspelt_modelfile_parameter_suggests(tmp_path: Path) -> None:
    root = repo_copy(tmp_path)
    result = hks("llm", "install", "x:1b", "--from", "https://e.example/x.gguf", "--sha256", "a" * 64, "--param", "num_cxt=5", "-C", str(root))
    assert result.exit_code == 2 and "did you mean 'num_ctx'?" in result.output


def test_install_says_how_much_gpu_memory_the_model_takes(tmp_path: Path) -> None:
    root = repo_copy(tmp_path)
    result = hks("llm", "install", "qwen2.5:7b", "-C", str(root))
    assert "qwen2.5:7b needs about 6.6 GiB of the 48 GiB per LLM node" in result.output


def test_removing_a_model_that_is_not_installed_changes_nothing_and_suggests(tmp_path: Path) -> None:
    root = repo_copy(tmp_path)
    before = snapshot(root)
    result = hks("llm", "remove", "mistral:7c", "-C", str(root))
    assert result.exit_code == 0 and "did you mean 'mistral:7b'?" in result.output
    assert snapshot(root) == before


def test_set_llm_names_an_embedding_model_and_refuses_one_the_policies_forbid(tmp_path: Path) -> None:
    root = repo_copy(tmp_path)
    (root / "workspaces" / "clinical.yaml").write_text(
        "compliance: [hipaa]\nllm_override:\n  provider: ollama\n  model: llama3:8b\n  sanitization:\n    pii: block\n"
    )
    before = snapshot(root)
    result = hks("workspace", "set-llm", "clinical", "--embeddings", "google/gemini-embedding-001", "-C", str(root))
    assert result.exit_code == 1, result.output
    assert f"{root}/workspaces/clinical.yaml:8:15: error[HIPAA-001]" in result.output
    assert snapshot(root) == before
    result = hks("workspace", "set-llm", "clinical", "--embeddings", "ollama/nomic-embed-text:v1.5", "-C", str(root))
    assert result.exit_code == 0, result.output
    assert "llm_override.embeddings: {provider: ollama, model: nomic-embed-text:v1.5}" in result.output
    assert (root / "workspaces" / "clinical.yaml").read_text().endswith(
        "  embeddings:\n    provider: ollama\n    model: nomic-embed-text:v1.5\n"
    )
    result = hks("workspace", "set-llm", "clinical", "--embeddings", "text-embedding-3-small", "-C", str(root))
    assert result.exit_code == 2 and "--embeddings takes PROVIDER/MODEL" in result.output
