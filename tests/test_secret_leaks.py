"""Secrets never leave (issue 15, items 2 to 5): a credential of any shape, planted in any kind of
field of any file hks reads, appears in no output of any command, in any format, and in no
rendered file; and each such place is an SEC-001 finding."""

from __future__ import annotations

import importlib
import json
import re
import shutil
import string
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from compiler import redact
from compiler.checks.secret_patterns import DETECT_SECRETS_VERSION, PLUGINS
from tests.conftest import EXAMPLES, git, hks

ALNUM = string.ascii_letters + string.digits

# A shape: (name, token made from a random alphanumeric string, the part that must never be shown)
Shape = tuple[str, Callable[[str], str], Callable[[str], str]]
SHAPES: list[Shape] = [
    ("openai", lambda r: f"sk-proj-{r}", lambda r: r),
    ("anthropic", lambda r: f"sk-ant-api03-{r}", lambda r: r),
    ("aws", lambda r: "AKIA" + r.upper()[:16].ljust(16, "Q"), lambda r: r.upper()[:16].ljust(16, "Q")),
    ("github", lambda r: "ghp_" + (r * 2)[:36], lambda r: (r * 2)[:36]),
    ("jwt", lambda r: f"eyJhbGciOiJIUzI1NiJ9.eyJ{r}.{r}", lambda r: f"eyJ{r}.{r}"),
    ("google", lambda r: "AIza" + (r * 2)[:35], lambda r: (r * 2)[:35]),
    ("slack", lambda r: f"xoxb-1234567890-{r.lower()}", lambda r: r.lower()),
    ("url-empty-user", lambda r: f"https://:{r}@db.example.com", lambda r: r),
    ("url-token-user", lambda r: f"https://{r}@git.example.com", lambda r: r),
    ("url-query", lambda r: f"https://api.example.com/v1?access_token={r}", lambda r: r),
    ("azure", lambda r: "".join("0123456789abcdef"[ord(c) % 16] for c in (r * 2)[:32]), lambda r: ""),
]
WHOLE_VALUE_ONLY = {"azure"}  # 32 hex digits are a key only as a whole value
NOT_A_FILE_NAME = {"url-empty-user", "url-token-user", "url-query"}


def plant(config: Path, field: str, token: str) -> None:
    """The seed example with `token` in one kind of field."""
    org = config / "org.yaml"
    text = org.read_text()
    quoted = json.dumps(token)
    if field == "value":
        text += f"providers:\n  openai:\n    region: {quoted}\n"
    elif field == "key":
        text = text.replace("  development:\n", f"  {quoted}: {{}}\n  development:\n")
    elif field == "comment":
        text = text.replace("llm_config:\n", f"llm_config:  # was {token}\n")
    elif field == "model":
        text = text.replace('model: "codellama:13b"', f"model: {quoted}")
    elif field == "url":
        text += f"providers:\n  openai:\n    endpoint: {json.dumps('https://llm.example.com/' + token + '/v1')}\n"
    elif field == "file-name":
        (config / "workspaces").mkdir()
        (config / "workspaces" / f"{token}.yaml").write_text("llm_override:\n  temperature: 0.5\n")
    elif field == "policy-file":
        waivers = config / "policies" / "waivers.yaml"
        waivers.write_text(waivers.read_text().replace("reason: the seed", f"reason: {token} the seed"))
    elif field == "pack":
        (config / "policies" / "acme.yaml").write_text(PACK.replace("TOKEN", token))
    org.write_text(text)


FIELDS = ["value", "key", "comment", "model", "url", "file-name", "policy-file", "pack"]
PACK = """\
pack: acme
rules:
  - id: ACME-001
    framework: acme
    severity: error
    title: "no Anthropic (ask TOKEN)"
    message: "workspace '{workspace}' uses {item.provider}: ask TOKEN"
    remediation: use openai
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


def commands(config: Path) -> list[list[str]]:
    c = str(config)
    out = str(config / "rendered")
    return [
        *(["validate", c, "--format", f] for f in ("text", "json", "sarif", "junit", "github")),
        ["render", c, "-o", out],
        ["render", c, "--stdout"],
        ["render", c, "-o", out, "--check"],
        ["explain", c],
        ["explain", c, "--format", "json"],
        ["cost", c],
        ["cost", c, "--base", "HEAD"],
        ["diff", c, "--base", "HEAD"],
        ["diff", c, "--base", "HEAD", "--format", "json"],
        ["diff", c, "--base", "HEAD", "--format", "markdown"],
        ["policy", "list", "-C", c],
        ["policy", "list", "-C", c, "--format", "markdown"],
        *(["policy", "test", str(p)] for p in sorted((config / "policies").glob("*.yaml"))),
        ["workspace", "set-llm", "development", "--temperature", "0.5", "--dry-run", "-C", c],
        ["org", "set-llm", "--temperature", "0.4", "--dry-run", "-C", c],
    ]


def all_output(config: Path) -> str:
    from compiler.cli import main

    runner = CliRunner()
    texts = []
    for args in commands(config):
        result = runner.invoke(main, args, catch_exceptions=False)
        texts += [result.stdout, result.stderr]
    for path in (config / "rendered").rglob("*") if (config / "rendered").is_dir() else []:
        texts.append(path.name)
        if path.is_file():
            texts.append(path.read_text(errors="replace"))
    return "\n".join(texts)


def seed_repo(target: Path) -> Path:
    shutil.copytree(EXAMPLES / "seed", target, ignore=shutil.ignore_patterns("explain.txt"))
    git(target, "init", "-q", "-b", "main")
    git(target, "add", ".")
    git(target, "commit", "-q", "-m", "base")
    return target


def every_shape_and_field(test: Callable[..., None]) -> Callable[..., None]:
    """Explicit examples, so each shape and each field kind is tried on every run."""
    for index in range(max(len(SHAPES), len(FIELDS))):
        shape, field = SHAPES[index % len(SHAPES)], FIELDS[index % len(FIELDS)]
        if shape[0] in WHOLE_VALUE_ONLY:
            field = "model"
        elif shape[0] in NOT_A_FILE_NAME and field == "file-name":
            field = "pack"
        test = example(shape=shape, field=field, random=f"Qj8{index}xYzw2Vb7Rt5Kp9Lm3Nq6Hs4")(test)
    return test


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@every_shape_and_field
@given(
    shape=st.sampled_from(SHAPES),
    field=st.sampled_from(FIELDS),
    random=st.text(alphabet=ALNUM, min_size=24, max_size=40).map(lambda r: "Qj8" + r),  # found nowhere else
)
def test_a_planted_secret_appears_in_no_output_and_no_rendered_file(
    tmp_path_factory: pytest.TempPathFactory, shape: Shape, field: str, random: str
) -> None:
    name, make, secret_of = shape
    if (name in WHOLE_VALUE_ONLY and field not in ("value", "model")) or (
        name in NOT_A_FILE_NAME and field == "file-name"
    ):
        return
    config = seed_repo(tmp_path_factory.mktemp("leak") / "config")
    token = make(random)
    plant(config, field, token)
    output = all_output(config)
    secret = secret_of(random) or token
    assert secret not in output, f"{name} in {field} leaked"
    assert "SEC-001" in output


@pytest.mark.parametrize("key", ["AKIAIOSFODNN7EXAMPLQ", "ghp_" + "Zq7" * 12, "sk-proj-" + "Zq7" * 10])
@pytest.mark.parametrize("dry_run", [True, False])
def test_install_refuses_a_key_without_echoing_it(tmp_path: Path, key: str, dry_run: bool) -> None:
    """`hks llm install <key>`: a key is not a tag; it is refused, written nowhere and repeated by no message."""
    config = seed_repo(tmp_path / "config")
    before = (config / "org.yaml").read_bytes()
    result = hks("llm", "install", key, *(["--dry-run"] if dry_run else []), "-C", str(config))
    assert result.exit_code == 1
    assert "error[SEC-001]" in result.stdout + result.stderr
    assert key[4:] not in result.stdout + result.stderr
    assert (config / "org.yaml").read_bytes() == before


# --- item 2: one redaction point ------------------------------------------------------------


def test_a_flagged_value_quoted_by_another_diagnostic_is_redacted(tmp_path: Path) -> None:
    """An Azure-shaped key (32 hex digits) as a fallback's model: SEC-001 names the place, and the
    unknown-model finding that quotes the model shows it redacted, in every format."""
    config = seed_repo(tmp_path / "config")
    key = "3f2a9c0d5e7b41a8b6c9d0e1f2a3b4c5"
    org = config / "org.yaml"
    org.write_text(
        org.read_text().replace(
            '      model: "gpt-4"\n',
            f'      model: "gpt-4"\n      fallbacks:\n        - provider: azure-openai\n          model: "{key}"\n',
        )
    )
    for fmt in ("text", "json", "sarif", "junit", "github"):
        result = hks("validate", str(config), "--format", fmt)
        assert "SEC-001" in result.stdout and "CAT-001" in result.stdout
        assert key not in result.stdout + result.stderr, fmt
    for args in (["explain"], ["cost"], ["render", "--stdout"]):
        result = hks(*args, "-C", str(config))
        assert key not in result.stdout + result.stderr, args


def test_the_redaction_point_covers_every_write_to_stdout_and_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    from compiler.safeout import redacted_output

    redact.remember("a-remembered-value-0001")
    with redacted_output():
        print("x a-remembered-value-0001 y")
        print("token ghp_" + "a" * 36, file=sys.stderr)
    out, err = capsys.readouterr()
    assert out == f"x {redact.REDACTED} y\n"
    assert err == f"token {redact.REDACTED}\n"


def test_values_of_secret_variables_are_never_printed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from compiler.safeout import redacted_output

    monkeypatch.setenv("CI_DEPLOY_TOKEN", "plain-looking-value-41")
    monkeypatch.setenv("HKS_TODAY_NOTE", "plain-looking-value-42")
    with redacted_output():
        print("plain-looking-value-41 plain-looking-value-42")
    assert capsys.readouterr().out == f"{redact.REDACTED} plain-looking-value-42\n"


def test_a_traceback_shown_with_debug_is_redacted() -> None:
    """`hks --debug` lets an internal error's traceback through, printed after the run: redacted."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    key = "ghp_" + "Tb5" * 12
    program = (
        "from compiler.safeout import redacted_output\n"
        f"with redacted_output():\n    raise ValueError('bad value {key}')\n"
    )
    result = subprocess.run([sys.executable, "-c", program], check=False, cwd=ROOT, capture_output=True, text=True)
    assert "ValueError: bad value [redacted]" in result.stderr
    assert key[4:] not in result.stderr


# --- item 3: comments are scanned, and --dry-run diffs do not show them -----------------------


def test_a_secret_in_a_comment_is_found_and_not_shown_by_a_dry_run(tmp_path: Path) -> None:
    config = seed_repo(tmp_path / "config")
    key = "sk-ant-api03-" + "Kx9" * 10
    org = config / "org.yaml"
    org.write_text(org.read_text().replace("  temperature: 0.7\n", f"  temperature: 0.7  # old key {key}\n"))
    for _ in range(2):  # a second run in the same process finds it again
        found = hks("validate", str(config))
        assert "org.yaml:7:31: error[SEC-001]" in found.stdout
    dry = hks("org", "set-llm", "--max-tokens", "2048", "--dry-run", "-C", str(config))
    assert key[7:] not in dry.stdout + dry.stderr


# --- item 4: policies/*.yaml is scanned -------------------------------------------------------


def test_secrets_in_policy_files_are_found(tmp_path: Path) -> None:
    config = seed_repo(tmp_path / "config")
    token = "ghp_" + "Pq4" * 12
    (config / "policies" / "team.yaml").write_text(
        "# yaml-language-server: $schema=pack.schema.json\n"
        f"# contact: {token}\n"
        "pack: team\nrules: []\n"
    )
    waivers = config / "policies" / "waivers.yaml"
    waivers.write_text(waivers.read_text().replace("reason: the seed", "reason: AKIAABCDEFGHIJKLMNOP the seed"))
    result = hks("validate", str(config))
    assert "policies/team.yaml:2:12: error[SEC-001]" in result.stdout
    assert "policies/waivers.yaml:8:13: error[SEC-001]" in result.stdout
    assert token[4:] not in result.stdout and "ABCDEFGHIJKLMNOP" not in result.stdout


def test_the_policy_scan_reads_no_file_through_a_link(tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text("# AKIAIOSFODNN7EXAMPLQ\n")
    inside = tmp_path / "repo" / "notes.yaml"
    (tmp_path / "repo" / "policies").mkdir(parents=True)
    inside.write_text("pack: notes\n# AKIAIOSFODNN7EXAMPLQ\n")
    (tmp_path / "repo" / "policies" / "linked.yaml").symlink_to(outside)
    (tmp_path / "repo" / "policies" / "inside.yaml").symlink_to(inside)
    (tmp_path / "repo" / "policies" / "own.yaml").write_text(outside.read_text())
    from compiler.checks.secrets import scan_policy_files
    from compiler.load.repo import load_repo

    sources, _ = load_repo(str(tmp_path / "repo"))
    assert [Path(p.path).name for p in sources.policies] == ["inside.yaml", "linked.yaml", "own.yaml"]
    found = scan_policy_files(sources.policies)
    assert [Path(s.position.path).name for s in found] == ["own.yaml"]  # neither link is read for the scan


# --- item 5: the shapes, from detect-secrets and hks's own ---------------------------------------

FLAGGED = [
    "https://:hunter2hunter2@db.example.com",
    "https://user:pass@db.example.com",
    "https://a1b2c3d4e5f6g7h8i9j0k1l2@git.example.com",
    "https://api.example.com/v1?access_token=abc123",
    "https://api.example.com/v1?x=1&client_secret=abc",
    "AKIAIOSFODNN7EXAMPLE",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----BEGIN OPENSSH PRIVATE KEY-----",
    "ghp_" + "a" * 36,
    "glpat-" + "a" * 20,
    "xoxb-1234567890-abcdef",
    "sk-proj-" + "a" * 20,
    "sk-ant-api03-abcdefgh",
    "AIza" + "a" * 35,
    "3f2a9c0d5e7b41a8b6c9d0e1f2a3b4c5",
]
NOT_FLAGGED = [
    "gpt-4o",
    "llama3:8b",
    "https://api.openai.com/v1",
    "http://ollama.hexabase-aiops.svc:11434",
    "https://git@github.com/org/repo",
    "docker.io/ollama/ollama:0.32.15@sha256:" + "c" * 64,
    "the seed document's own model, kept as written",
    "ghcr.io/berriai/litellm:v1.80.0-stable",
    "ab" * 32,  # a sha256 digest
]


@pytest.mark.parametrize("text", FLAGGED)
def test_credential_shapes_are_flagged(text: str) -> None:
    assert redact.secret_kind(text), text


@pytest.mark.parametrize("text", NOT_FLAGGED)
def test_ordinary_values_are_not_flagged(text: str) -> None:
    assert redact.secret_kind(text) is None, text


def test_vendored_patterns_are_detect_secrets_own() -> None:
    """compiler/checks/secret_patterns.py holds detect-secrets' denylists unchanged, at the pinned version."""
    from importlib.metadata import version

    assert version("detect-secrets") == DETECT_SECRETS_VERSION
    modules = importlib.import_module("detect_secrets.plugins")
    for plugin, _, denylist in PLUGINS:
        upstream = _plugin(modules, plugin).denylist
        assert [(p.pattern, p.flags & ~re.UNICODE) for p in upstream] == list(denylist), plugin


def _plugin(package: object, name: str) -> type:
    import pkgutil

    for module in pkgutil.iter_modules(package.__path__):  # type: ignore[attr-defined]
        found = getattr(importlib.import_module(f"detect_secrets.plugins.{module.name}"), name, None)
        if found is not None:
            return found  # type: ignore[no-any-return]
    raise AssertionError(f"detect-secrets {DETECT_SECRETS_VERSION} has no plugin {name}")


def test_a_key_shaped_workspace_file_name_is_refused_without_naming_it(tmp_path: Path) -> None:
    config = seed_repo(tmp_path / "config")
    key = "sk-proj-" + "Wm3" * 8
    plant(config, "file-name", key)
    result = hks("render", str(config), "-o", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "error[SEC-001]" in result.stderr
    assert f"workspaces/{redact.REDACTED}: error[SEC-001]" in result.stderr
    assert key[8:] not in result.stdout + result.stderr
    assert not (tmp_path / "out").exists()


def test_a_private_key_in_comments_or_a_block_value_is_found_and_never_shown(tmp_path: Path) -> None:
    """A PEM key's body lines match no shape: every line after its BEGIN line is withheld too."""
    config = seed_repo(tmp_path / "config")
    org = config / "org.yaml"
    commented = "  # -----BEGIN RSA PRIVATE KEY-----\n  # MIIEpAIBAAKCAQEAcommentbody1\n  # -----END RSA PRIVATE KEY-----\n"
    block = "    region: |\n      -----BEGIN PRIVATE KEY-----\n      MIIEvQIBADANBgkqblockbody2\n      -----END PRIVATE KEY-----\n"
    text = org.read_text().replace("  temperature: 0.7\n", commented + "  temperature: 0.7\n")
    org.write_text(text + "providers:\n  openai:\n" + block)
    found = hks("validate", str(config))
    assert "org.yaml:7:10: error[SEC-001]: this value looks like a private key" in found.stdout
    assert "org.yaml:26:13: error[SEC-001]: this value looks like a private key" in found.stdout
    dry = hks("org", "set-llm", "--temperature", "0.2", "--dry-run", "-C", str(config))
    explain = hks("explain", str(config), "--format", "json")
    for result in (found, dry, explain):
        assert "commentbody1" not in result.stdout + result.stderr
        assert "blockbody2" not in result.stdout + result.stderr
