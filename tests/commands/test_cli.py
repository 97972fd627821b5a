from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from compiler import __version__
from compiler.cli import COMMANDS
from tests.conftest import ROOT, hks, hks_process, write

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def test_version() -> None:
    assert hks("--version").output == f"hks, version {__version__}\n"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help_with_examples(name: str) -> None:
    result = hks(name, "--help")
    assert result.exit_code == 0
    assert "Usage: " in result.output and "Examples:" in result.output


def test_help_does_not_import_heavy_libraries() -> None:
    code = "import sys; from compiler.cli import main; main(['--help'], standalone_mode=False); print(sorted(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    for heavy in ("jinja2", "jsonschema", "pydantic", "ruamel"):
        assert f"'{heavy}'" not in out, heavy


def test_unknown_command_suggests() -> None:
    result = hks("valdate")
    assert result.exit_code == 2 and "Did you mean 'validate'?" in result.output


def test_missing_config_folder_is_exit_2_without_traceback(tmp_path: Path) -> None:
    result = hks_process("validate", str(tmp_path / "nope"))
    assert result.returncode == 2
    assert "no such config folder" in result.stderr and "Traceback" not in result.stderr


def test_clean_config_exit_0_warnings_allowed_strict_fails(tmp_path: Path) -> None:
    write(tmp_path, {"org.yaml": "llm_config:\n  provider: ollama\n  model: my-own-model:1b\n"})
    assert hks("validate", str(tmp_path)).exit_code == 0
    assert hks("validate", "--strict", str(tmp_path)).exit_code == 1


def test_default_config_dir_is_the_current_folder(tmp_path: Path) -> None:
    write(tmp_path, {"org.yaml": "llm_config:\n  provider: ollama\n  model: llama3:8b\n"})
    result = hks_process("validate", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout == "no problems\n"


def test_internal_error_is_exit_3_and_short(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import compiler.pipeline

    def broken(config_dir: str) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(compiler.pipeline, "compile_config", broken)
    from click.testing import CliRunner

    from compiler.cli import main

    result = CliRunner().invoke(main, ["validate", "examples/seed"])
    assert result.exit_code == 3
    assert "internal error: RuntimeError: boom" in result.output and "Traceback" not in result.output


def test_explain_filters_by_workspace_and_key() -> None:
    result = hks("explain", "examples/seed", "production", "--key", "temperature")
    assert result.output == "production  (examples/seed/org.yaml)\n  llm.temperature  0.3  workspace  examples/seed/org.yaml:16:20\n"


def test_explain_unknown_workspace_suggests() -> None:
    result = hks("explain", "examples/seed", "prodution")
    assert result.exit_code == 2 and "did you mean 'production'?" in result.output


def test_explain_on_a_broken_config_exits_1_with_diagnostics() -> None:
    result = hks_process("explain", "examples/broken/unknown-key")
    assert result.returncode == 1 and "error[SCHEMA-001]" in result.stderr and result.stdout == ""


def test_schema_prints_json() -> None:
    import json

    assert json.loads(hks("schema", "workspace").output)["title"] == "WorkspaceFile"


def test_paths_are_shown_relative_to_the_current_folder() -> None:
    from tests.conftest import ROOT

    result = hks("validate", str(ROOT / "examples/broken/unknown-key"))
    assert result.output.startswith("examples/broken/unknown-key/org.yaml:4:3: error[SCHEMA-001]")


@pytest.mark.parametrize("args", [["validate", "examples/acme"], ["render", "--stdout", "examples/acme"], ["explain", "examples/acme"]])
def test_output_that_cannot_be_written_is_an_io_error(args: list[str]) -> None:
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "compiler", *args], stdout=full, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=ENV
        )
    assert result.returncode == 2, result.stderr
    assert result.stderr.endswith("hks: I/O error: No space left on device\n")
    assert "bug" not in result.stderr and "Traceback" not in result.stderr


def test_a_reader_that_goes_away_ends_hks_quietly() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "compiler", "schema", "org"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=ENV
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # before hks writes: its first write meets a closed pipe
    stderr = process.stderr.read().decode()
    assert process.wait() == 141, stderr
    assert stderr == ""


def test_render_without_output_writes_cluster_path(tmp_path: Path) -> None:
    import shutil

    from tests.conftest import EXAMPLES

    config = tmp_path / "llm-config"
    shutil.copytree(EXAMPLES / "seed", config, ignore=shutil.ignore_patterns("rendered"))
    result = hks_process("render", cwd=config)
    assert result.returncode == 0, result.stderr
    assert result.stderr.endswith("files to rendered\n")
    assert (config / "rendered" / "kustomization.yaml").is_file()
    assert hks_process("render", "--check", cwd=config).returncode == 0


def test_a_file_for_the_config_folder_says_what_to_give(tmp_path: Path) -> None:
    write(tmp_path, {"org.yaml": "llm_config: {provider: ollama, model: 'llama3:8b'}\n"})
    result = hks_process("validate", str(tmp_path / "org.yaml"))
    assert result.returncode == 2
    assert f"{tmp_path / 'org.yaml'} is a file: give the config folder, the one that holds org.yaml" in result.stderr


@pytest.mark.parametrize(("encoding", "times"), [("ascii", b"\\xd7"), ("latin-1", b"\xd7"), ("utf-8", b"\xc3\x97")])
def test_a_terminal_that_cannot_show_a_character_gets_an_escape_not_an_internal_error(encoding: str, times: bytes) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "compiler", "cost", "examples/acme"], capture_output=True, cwd=ROOT,
        env={**ENV, "PYTHONIOENCODING": encoding},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert b" LLM node(s) " + times + b" $1.20/h" in result.stdout
