"""The first hour of a new user (issue 21): each mistake a newcomer makes gets a way out.
Every test drives the installed `hks` in a temporary folder, as a user would."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_walkthrough import hks_command

SELF_HOSTED_ORG = """\
llm_config:
  provider: ollama
  model: llama3:8b
self_hosted:
  models:
    - llama3:8b
"""


def hks(cwd: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("HKS_WORKSPACE", None)
    return subprocess.run([*hks_command(), *args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=180)


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# the README's example of an organisation's own pack
OWN_PACK = """\
pack: acme
title: Acme's own rules
rules:
  - id: ACME-001
    framework: acme
    severity: error
    title: no Anthropic (legal has not approved it)
    message: workspace '{workspace}' uses {item.provider}, which legal has not approved
    remediation: use openai or azure-openai
    condition:
      properties:
        targets: {items: {properties: {provider: {not: {const: anthropic}}}}}
    examples:
      pass: [{name: openai, config: {llm_config: {provider: openai, model: gpt-4o}, workspaces: {p: {}}}}]
      fail:
        - name: anthropic
          config: {llm_config: {provider: anthropic, model: claude-sonnet-4-20250514}, workspaces: {p: {}}}
          at: llm_config.provider
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    root = tmp_path / "llm-config"
    root.mkdir()
    (root / "org.yaml").write_text(SELF_HOSTED_ORG)
    return root


# 2. Typos never create things silently ------------------------------------------------------


def test_a_misspelt_workspace_is_refused_with_the_nearest_name(config: Path) -> None:
    assert hks(config, "workspace", "create", "assistant").returncode == 0
    before = files(config)
    typo = hks(config, "workspace", "set-llm", "asistant", "--temperature", "0.2")
    assert typo.returncode == 1
    assert "no workspace 'asistant'; did you mean 'assistant'?" in typo.stderr
    assert "hks workspace create asistant" in typo.stderr
    assert files(config) == before
    listed = hks(config, "workspace", "list")
    assert listed.returncode == 0 and listed.stdout == "assistant\tworkspaces/assistant.yaml\n"


def test_create_is_explicit_and_refuses_an_existing_workspace(config: Path) -> None:
    made = hks(config, "workspace", "set-llm", "research", "--create", "--temperature", "0.2")
    assert made.returncode == 0, made.stderr
    assert (config / "workspaces" / "research.yaml").read_text() == (
        "workspace: research\n\nllm_override:\n  temperature: 0.2\n"
    )
    again = hks(config, "workspace", "create", "research")
    assert again.returncode == 1 and "exists already (workspaces/research.yaml)" in again.stderr


def test_without_org_yaml_nothing_is_created(tmp_path: Path) -> None:
    for args in (["workspace", "set-llm", "production", "--create", "--model", "gpt-4o"], ["workspace", "create", "x"],
                 ["org", "set-llm", "--temperature", "0.2"], ["llm", "install", "llama3:8b"]):
        result = hks(tmp_path, *args)
        assert result.returncode == 1, (args, result.stderr)
        assert "no org.yaml in ." in result.stderr and "hks llm enable --provider P" in result.stderr
        assert files(tmp_path) == {}


# 3. self_hosted.models is checked like every other model ------------------------------------


@pytest.mark.parametrize(
    ("tag", "says"),
    [
        ("lama3:8b", "warning[CAT-001]: model 'lama3:8b' is not in the catalogue of ollama models\n  hint: did you mean 'llama3:8b'?"),
        ("llama3:latest", "warning[CAT-007]: 'llama3:latest' is not pinned"),
        ("llama3", "warning[CAT-007]: 'llama3' is not pinned: its model changes when Ollama moves the tag, and nodes "
                   "that pull at different times serve different models\n  hint: pin a size tag, such as llama3:70b, llama3:8b"),
    ],
)
def test_installed_models_are_checked_against_the_catalogue(config: Path, tag: str, says: str) -> None:
    (config / "org.yaml").write_text(SELF_HOSTED_ORG + f"    - {tag}\n")
    result = hks(config, "validate")
    assert f"org.yaml:7:7: {says}" in result.stdout + result.stderr
    assert hks(config, "validate", "--strict").returncode == 1


# 4. Local files never reach the cluster as paths ---------------------------------------------


def test_a_local_gguf_path_is_refused_by_install_and_by_validate(config: Path) -> None:
    (config / "my.gguf").write_bytes(b"GGUF local")
    before = files(config)
    install = hks(config, "llm", "install", "mymodel:1b", "--from", "./my.gguf")
    assert install.returncode == 1
    assert "must be an https:// URL they can reach, not a path on this machine" in install.stderr
    assert "hks llm install mymodel:1b --from https://.../my.gguf --sha256 " in install.stderr
    assert files(config) == before
    # written by hand: validate refuses it at the source's line, and render writes nothing
    (config / "org.yaml").write_text(SELF_HOSTED_ORG + f"    - name: mymodel:1b\n      source: ./my.gguf\n      sha256: {'a' * 64}\n")
    validate = hks(config, "validate")
    assert validate.returncode == 1
    assert "org.yaml:8:15: error[CAT-008]: the source of 'mymodel:1b' is not an http(s) URL" in validate.stdout + validate.stderr
    assert hks(config, "render").returncode == 1 and not (config / "rendered").exists()
    # named from the folder above with -C, the path is from the current folder too
    (config / "my.gguf").rename(config.parent / "my.gguf")
    above = hks(config.parent, "llm", "install", "mymodel:1b", "--from", "my.gguf", "-C", config.name)
    assert above.returncode == 1 and "--sha256 " + hashlib.sha256(b"GGUF local").hexdigest() in above.stderr


# 5. One way to name the config folder --------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [["validate"], ["render", "--stdout"], ["cost"], ["explain"], ["explain", "main"], ["workspace", "list"], ["policy", "list"]],
)
def test_every_command_takes_the_config_folder_as_dash_c(config: Path, args: list[str]) -> None:
    (config / "workspaces").mkdir()
    (config / "workspaces" / "main.yaml").write_text("llm_override:\n  temperature: 0.2\n")
    (config / "policies").mkdir()
    (config / "policies" / "acme.yaml").write_text(OWN_PACK)
    from_above = hks(config.parent, args[0], *args[1:], "-C", config.name)
    from_inside = hks(config, *args)
    assert from_above.returncode == 0, from_above.stderr
    assert from_inside.returncode == 0, from_inside.stderr
    assert from_above.stdout.replace(f"{config.name}/", "") == from_inside.stdout


def test_policy_reads_the_organisations_own_packs_by_default(config: Path) -> None:
    (config / "policies").mkdir()
    (config / "policies" / "acme.yaml").write_text(OWN_PACK)
    assert "ACME-001" in hks(config, "policy", "list").stdout
    assert "ACME-001" not in hks(config.parent, "policy", "list").stdout
    tested = hks(config, "policy", "test", "acme")
    assert tested.returncode == 0 and "2 examples of 1 rule: 2 passed, 0 failed" in tested.stdout


def test_a_positional_folder_is_still_accepted_and_two_different_ones_refused(config: Path) -> None:
    assert hks(config.parent, "validate", config.name).returncode == 0
    clash = hks(config.parent, "validate", config.name, "-C", "elsewhere")
    assert clash.returncode == 2 and "two config folders" in clash.stderr


# 6. Messages that point the right way --------------------------------------------------------


def test_at_a_repository_top_every_command_finds_the_config_below(config: Path) -> None:
    top = config.parent
    validate = hks(top, "validate")
    assert "hint: the config is in llm-config/: give it with -C llm-config" in validate.stdout + validate.stderr
    for args in (["org", "set-llm", "--temperature", "0.1"], ["llm", "enable", "--provider", "openai"]):
        result = hks(top, *args)
        assert result.returncode == 1 and "the config is in llm-config/" in result.stderr
        assert f"hint: run it there: hks {' '.join(args)} -C llm-config\n" in result.stderr
    assert not (top / "org.yaml").exists()  # llm enable made no second config
    # named from further up, the config's folder is named from there too
    above = hks(top.parent, "org", "set-llm", "-C", top.name, "--temperature", "0.1")
    assert f"the config is in {top.name}/llm-config/" in above.stderr and f"-C {top.name}/llm-config" in above.stderr
    further = hks(top.parent, "validate", "-C", top.name)
    assert f"hint: the config is in {top.name}/llm-config/: give it with -C {top.name}/llm-config" in further.stdout


def test_a_missing_org_yaml_is_a_missing_file_not_a_schema_error(tmp_path: Path) -> None:
    result = hks(tmp_path, "validate")
    assert result.returncode == 1
    assert result.stdout == (
        "org.yaml: error[REPO-001]: org.yaml is missing: every config repository needs one with the organisation's defaults\n"
        "  hint: run `hks init` to create one, or point hks at the folder that holds org.yaml (-C DIR)\n1 error\n"
    )


def test_under_dash_c_every_path_printed_is_from_the_current_folder(config: Path) -> None:
    top, c = config.parent, ("-C", config.name)
    made = hks(top, "workspace", "create", "main", *c)
    assert made.stdout == "llm-config/workspaces/main.yaml: workspace 'main' (inherits org.yaml's llm_config)\n"
    edited = hks(top, "workspace", "set-llm", "main", "--temperature", "0.2", *c)
    assert edited.stdout == "llm-config/workspaces/main.yaml: llm_override.temperature: 0.2\n"
    assert hks(top, "workspace", "list", *c).stdout == "main\tllm-config/workspaces/main.yaml\n"
    refused = hks(top, "workspace", "set-llm", "other", "--create", "--provider", "google", *c)
    assert refused.returncode == 1
    assert refused.stderr.startswith("llm-config/org.yaml:3:10: error[CAT-003]")
    assert refused.stderr.endswith("nothing was changed (llm-config/workspaces/other.yaml not created)\n")
    assert hks(top, "llm", "install", "mistral:7b", *c).stdout.startswith("llm-config/org.yaml: self_hosted.models: + mistral:7b\n")


def test_under_dash_c_the_certificate_is_named_from_the_current_folder(config: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    from tests.tools.test_secret import certificate

    top, c = config.parent, ("-C", config.name)
    (top / "sealed-secrets.pem").write_bytes(certificate(rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    outside = hks(top, "secret", "backend", "sealed-secrets", "--cert", "sealed-secrets.pem", *c)
    assert outside.returncode == 1
    assert outside.stderr == (
        "hks: sealed-secrets.pem is outside the config folder llm-config: secrets.cert names a file in the config repository\n"
        "hint: move it there (mv sealed-secrets.pem llm-config/sealed-secrets.pem), then --cert llm-config/sealed-secrets.pem\n"
    )
    (top / "sealed-secrets.pem").rename(config / "sealed-secrets.pem")
    inside = hks(top, "secret", "backend", "sealed-secrets", "--cert", "llm-config/sealed-secrets.pem", *c)
    assert inside.returncode == 0, inside.stderr
    assert inside.stdout.startswith("llm-config/org.yaml: secrets.backend: sealed-secrets\n"
                                    "llm-config/org.yaml: secrets.cert: sealed-secrets.pem\n")
    assert "  cert: sealed-secrets.pem\n" in (config / "org.yaml").read_text()  # as the repository holds it


def test_explain_suggests_a_key_from_its_beginning(config: Path) -> None:
    result = hks(config, "explain", "--key", "temp")
    assert result.returncode == 2 and "did you mean 'temperature' or 'llm.temperature'?" in result.stderr
    far = hks(config, "explain", "--key", "tmp")
    assert far.returncode == 2 and "no setting 'tmp' (settings: budget, cache, compliance, data_residency, embeddings, fallbacks," in far.stderr


def test_cat_003_prefers_the_provider_the_organisation_enabled(config: Path) -> None:
    assert hks(config, "llm", "enable", "--provider", "openai").returncode == 0
    (config / "workspaces").mkdir()
    (config / "workspaces" / "prod.yaml").write_text("llm_override:\n  model: gpt-4o\n")
    result = hks(config, "validate")
    assert "error[CAT-003]: model 'gpt-4o' is offered by openai, azure-openai, not by ollama" in result.stdout
    assert "hint: set provider: openai," in result.stdout
    # an editing command speaks in its own flags
    assert hks(config, "workspace", "set-llm", "prod", "--provider", "openai").returncode == 0
    edit = hks(config, "workspace", "set-llm", "prod", "--provider", "ollama")
    assert edit.returncode == 1
    assert "hint: use --provider openai, or a model ollama offers, such as --model llama3:8b\n" in edit.stderr
    limit = hks(config, "workspace", "set-llm", "prod", "--max-tokens", "900000")
    assert limit.returncode == 1 and "hint: use --max-tokens 16384 or less\n" in limit.stderr
    refused = hks(config, "workspace", "set-llm", "prod", "--model", "gpt-5", "--temperature", "0.3")
    assert refused.returncode == 1 and "error[CAT-006]" in refused.stderr
    assert "hint: use --temperature 1, or another --model\n" in refused.stderr
    retired = hks(config, "workspace", "set-llm", "prod", "--model", "gpt-4")
    assert retired.returncode == 1 and "error[CAT-004]" in retired.stderr
    assert "hint: use --model with a current openai model, such as " in retired.stderr


def test_a_workspace_in_two_files_is_told_to_keep_one_file(config: Path) -> None:
    (config / "workspaces").mkdir()
    (config / "workspaces" / "main.yaml").write_text("llm_override:\n  temperature: 0.2\n")
    (config / "workspaces" / "main.yml").write_text("llm_override:\n  temperature: 0.3\n")
    result = hks(config, "validate")
    assert result.returncode == 1
    assert ("workspaces/main.yml:1:1: error[REPO-003]: workspace 'main' is defined twice: here and at workspaces/main.yaml:1:1\n"
            "  hint: keep one of the two files, workspaces/main.yaml or workspaces/main.yml") in result.stdout
    assert "inline" not in result.stdout


def test_a_waiver_date_in_another_format_is_one_message_naming_the_format(config: Path) -> None:
    (config / "policies").mkdir()
    (config / "policies" / "waivers.yaml").write_text(
        "waivers:\n  - rule: CAT-005\n    reason: the replacement is not approved yet\n"
        "    approver: dpo@example.com\n    expires: 2027/01/31\n"
    )
    result = hks(config, "validate")
    assert result.returncode == 1
    assert result.stdout == (
        "policies/waivers.yaml:5:14: error[WAIVER-005]: waivers.0.expires must be a date written YYYY-MM-DD "
        "(such as 2027-01-31), not '2027/01/31'\n1 error\n"
    )


def test_a_waiver_with_a_misnamed_key_says_which_keys_there_are(config: Path) -> None:
    (config / "policies").mkdir()
    (config / "policies" / "waivers.yaml").write_text(
        "waivers:\n  - rule: CAT-005\n    reason: soon\n    approved_by: dpo@example.com\n    expires: 2027-01-31\n"
    )
    result = hks(config, "validate")
    assert result.returncode == 1
    assert result.stdout == (
        "policies/waivers.yaml:2:5: error[WAIVER-005]: missing required key 'approver' in waivers.0\n"
        "policies/waivers.yaml:3:13: error[WAIVER-005]: waivers.0.reason must be a sentence of 10 characters or more, not 'soon'\n"
        "policies/waivers.yaml:4:5: error[WAIVER-005]: unknown key 'approved_by' in waivers.0\n"
        "  hint: allowed keys: approver, expires, reason, rule, workspace\n"
        "3 errors\n"
    )


def test_a_store_given_as_a_name_is_shown_the_mapping_it_takes(config: Path) -> None:
    (config / "org.yaml").write_text(SELF_HOSTED_ORG + "secrets:\n  backend: external-secrets\n  store: vault\n")
    result = hks(config, "validate")
    assert result.returncode == 1
    assert ("org.yaml:9:10: error[SCHEMA-002]: secrets.store must be a mapping, not 'vault'\n"
            "  hint: write it as a mapping: store: {name: vault, kind: ClusterSecretStore}\n") in result.stdout
    (config / "org.yaml").write_text(SELF_HOSTED_ORG + "secrets:\n  backend: external-secrets\n")
    missing = hks(config, "validate")
    assert "error[SEC-004]: the external-secrets backend needs secrets.store" in missing.stdout
    assert "hint: add under secrets: `store: {name: NAME, kind: ClusterSecretStore}`" in missing.stdout
    (config / "org.yaml").write_text(SELF_HOSTED_ORG + "secrets:\n  backend: external-secrets\n  store: {kind: SecretStore}\n")
    unnamed = hks(config, "validate")
    assert ("error[SCHEMA-004]: missing required key 'name' in secrets.store\n"
            "  hint: the keys it needs: store: {name: NAME}\n") in unnamed.stdout


# 9. Small things -----------------------------------------------------------------------------


def _all_help_texts() -> list[str]:
    from click.testing import CliRunner

    from compiler.cli import COMMANDS, main

    runner, texts = CliRunner(), []
    for name in COMMANDS:
        group = main.get_command(None, name)  # type: ignore[arg-type]
        texts.append(runner.invoke(main, [name, "--help"]).output)
        for sub in getattr(group, "commands", {}):
            texts.append(runner.invoke(main, [name, sub, "--help"]).output)
    return texts


def test_every_example_in_the_help_is_a_complete_shell_line() -> None:
    import shlex

    checked = 0
    for text in _all_help_texts():
        lines = text.splitlines()
        for index, line in enumerate(lines):
            if not line.strip().startswith(("hks ", "HKS_")):
                continue
            command = line.split("  #")[0].strip()
            while command.endswith("\\") and index + 1 < len(lines):  # a continued example
                index += 1
                command = command[:-1] + " " + lines[index].split("  #")[0].strip()
            shlex.split(command)  # raises on an unclosed quote
            checked += 1
    assert checked > 40


def test_the_documented_refusal_is_what_the_shipped_example_prints(tmp_path: Path) -> None:
    import re
    import shutil

    text = (ROOT / "docs" / "commands.md").read_text()
    block = re.search(r"<!-- refusal:start -->\n```console\n\$ (.*?)\n(.*?)```\n", text, re.S)
    assert block
    root = tmp_path / "acme"
    shutil.copytree(ROOT / "examples" / "acme", root)
    import shlex

    result = hks(root, *shlex.split(block.group(1))[1:])
    assert result.returncode == 1
    assert result.stdout + result.stderr == block.group(2)


def test_strict_says_the_warnings_made_it_fail(config: Path) -> None:
    (config / "org.yaml").write_text(SELF_HOSTED_ORG + "    - llama3\n")
    assert hks(config, "validate").returncode == 0
    strict = hks(config, "validate", "--strict")
    assert strict.returncode == 1 and "hks: failed because of warnings (--strict treats them as errors)" in strict.stderr


# 7. Output a person can read -----------------------------------------------------------------


def test_the_readmes_first_command_prints_only_what_it_wrote(tmp_path: Path) -> None:
    import re
    import shlex

    first = (ROOT / "README.md").read_text().split("```sh\n", 1)[1].splitlines()[0]
    commands = [shlex.split(part) for part in first.split("&&")]
    assert commands[0] == ["pip", "install", "."]  # the install is this test run's own
    outputs = []
    for args in commands[1:]:
        assert args[0] == "hks"
        args = [str(tmp_path / "out") if a == "/tmp/out" else a for a in args[1:]]
        result = hks(ROOT, *args)
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout + result.stderr)
    assert outputs[0] == ""
    assert re.fullmatch(r"wrote \d+ files to \S+/out\n", outputs[1])
    noisy = hks(ROOT, "validate", "examples/acme")
    assert "info[GW-009]" in noisy.stdout  # what -q leaves out


def test_render_check_against_a_missing_folder_says_so_in_one_line(config: Path) -> None:
    result = hks(config, "render", "--check")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == "rendered does not exist: run `hks render -C . -o rendered` and commit it\n"


def test_a_stale_rendered_folder_asks_for_git_add_only_inside_git(config: Path) -> None:
    assert hks(config, "render").returncode == 0
    (config / "workspaces").mkdir(exist_ok=True)
    (config / "workspaces" / "late.yaml").write_text("members: {groups: [late]}\n")
    outside = hks(config, "render", "--check")
    assert outside.returncode == 1
    assert outside.stderr.endswith("rendered is not current: run `hks render -C . -o rendered`\n")
    subprocess.run(["git", "init", "-q", str(config)], check=True)
    inside = hks(config, "render", "--check")
    assert inside.returncode == 1
    assert inside.stderr.endswith("rendered is not current: run `hks render -C . -o rendered`, then `git add rendered`\n")


def test_cost_says_when_the_gpu_nodes_are_not_priced(tmp_path: Path) -> None:
    (tmp_path / "org.yaml").write_text(SELF_HOSTED_ORG + "workspaces:\n  a: {}\n")
    result = hks(tmp_path, "cost")
    assert result.returncode == 0, result.stderr
    assert "1 LLM node(s) not priced (no self_hosted.gpu.hourly_usd), so the total leaves out the GPU nodes" in result.stdout
    (tmp_path / "org.yaml").write_text(SELF_HOSTED_ORG + "  gpu: {hourly_usd: 1.2}\nworkspaces:\n  a: {}\n")
    priced = hks(tmp_path, "cost")
    assert "not priced" not in priced.stdout and "1 LLM node(s) at $1.20 an hour" in priced.stdout


def test_diff_against_a_repository_without_commits_says_so(tmp_path: Path) -> None:
    (tmp_path / "org.yaml").write_text(SELF_HOSTED_ORG)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    result = hks(tmp_path, "diff", "--base", "HEAD")
    assert result.returncode == 2
    assert "has no commits yet, so there is nothing to compare with (commit first)" in result.stderr
    assert "Traceback" not in result.stderr
