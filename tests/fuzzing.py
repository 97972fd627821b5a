"""A fuzz target over the whole `validate` pipeline: bytes in, diagnostics out.

Inputs are config repositories made from the examples (the seeds) by byte-level mutations (flips,
inserts of YAML-significant tokens, deletions, duplications, splices between seed files) and
structure-level ones (a value anywhere replaced by one of another type or size). Each input runs
`hks --debug validate DIR` in this process; a valid one also runs `hks --debug render --stdout`.

The only acceptable outcomes are exit 0, 1 or 2 with diagnostics. A finding is anything else: an
exception (a traceback), exit 3, a run over TIME_LIMIT seconds, the process's peak memory over
MEMORY_LIMIT_MB, or a rendered stream that is empty for a valid config. tests/test_fuzz.py runs a
bounded campaign in CI; bench/fuzz_validate.py runs a long one and saves what it finds.
"""

from __future__ import annotations

import io
import random
import resource
import signal
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
TIME_LIMIT = 5.0
MEMORY_LIMIT_MB = 500

TOKENS = [
    b"&a ", b"*a", b"<<: *a\n", b"!!python/object:os.system ", b"!!binary ", b"!!set ", b"!!omap ", b"!custom ",
    b"\t", b"- ", b": ", b"? ", b"{", b"}", b"[", b"]", b",", b"#", b"|\n", b">-\n", b"'", b'"', b"\\",
    b"---\n", b"...\n", b"%YAML 1.1\n", b"%TAG ! tag:x,2000:\n", b"\xff", b"\x00", b"\xef\xbb\xbf", b"\xe2\x80\xa8",
    b"\x1b[31m", b"~", b"null", b"true", b"no", b"0x1F", b"0o17", b".inf", b"-.inf", b".nan", b"1e999",
    b"99999999999999999999999999", b"-1", b"2026-13-45", b"2026-02-30", b"sk-proj-abcdefghijklmnopqrstuvwx",
    b"{{ 7*7 }}", b"{% raw %}", b"$(touch /tmp/x)", b"../../etc/passwd", b"\r\n", b"\r",
    # issue 15: metadata addresses, option and line injection, int32 and 64-bit bounds, anyone
    # as a member, backtracking patterns, terminal escapes and bidi overrides
    b"http://169.254.169.254/", b"http://2852039166/", b"metadata.google.internal", b"-o/etc/passwd", b"--insecure",
    b"\n- evil:1", b"2147483648", b"9223372036854775808", b"system:anonymous", b"system:unauthenticated",
    b"platform", b"^(a+)+$", b"(a)\\1", b"(?=a)", b"\x07", b"\xe2\x80\xae", b"\x1b[2J",
]  # fmt: skip
VALUES: list[Any] = [
    None, True, False, 0, -1, 1, 2**63, -(2**63), 1e308, float("inf"), 0.5, "", " ", "x" * 300, "é\u2028",
    "gpt-5.4-mini", "llama3:8b", "ollama", "openai", "on-premises", "eu", "hipaa", "sk-ant-abcdefghijklmnopqrstuvwxyz01",
    "http://[::1", "https://h.example:99999/v1", "https://[::1]:443", "file:///etc/passwd", "http://", "1.35", "1.0",
    [], [None], [1, "a"], {}, {"a": 1}, {"provider": "openai"}, {"rpm": -5}, ["hipaa", "hipaa"],
    "http://169.254.169.254/latest", "http://0xa9fea9fe", "llama3:8b\n- evil", "--insecure", 2**31, 2**64,
    "system:anonymous", "platform", "\x1b[2J", "a\u202eb", "^(a+)+$", {"pattern": "^(a+)+$"}, {"pattern": "(a)\\1"},
]  # fmt: skip
# A policy pack with patterns, so mutations reach the RE2 evaluation (no example has one).
PATTERN_PACK = b"""\
pack: fuzz
title: patterns
rules:
  - id: FUZZ-001
    framework: fuzz
    severity: warning
    title: model names
    message: workspace '{workspace}' uses {item.model}
    remediation: rename it
    condition:
      properties:
        targets: {items: {properties: {model: {pattern: '^[a-z0-9.:-]+$'}}}}
      patternProperties: {'^(w+)+$': {type: string}}
    examples:
      pass:
        - name: plain
          config: {llm_config: {provider: ollama, model: llama3:8b}, workspaces: {p: {}}}
      fail:
        - name: upper
          config: {llm_config: {provider: ollama, model: LLAMA}, workspaces: {p: {}}}
          at: llm_config.model
"""


@dataclass(frozen=True)
class Seed:
    name: str
    files: dict[str, bytes]  # path inside the config folder -> content


@dataclass
class Finding:
    kind: str  # exception, exit-3, timeout, memory, empty-render
    detail: str
    files: dict[str, bytes]


@dataclass
class Campaign:
    executions: int = 0
    outcomes: dict[int, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    slowest: float = 0.0
    peak_mb: float = 0.0
    slow_once: int = 0  # over TIME_LIMIT once, then in time when run again: not a hang


def seeds() -> list[Seed]:
    """Every example config (valid and broken), without its rendered output."""
    folders = sorted(p.parent for p in EXAMPLES.rglob("org.yaml") if "rendered" not in p.parts)
    folders += sorted(p for p in (EXAMPLES / "broken").iterdir() if p.is_dir() and not (p / "org.yaml").exists())
    found = []
    for folder in folders:
        files = {
            str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*.yaml"))
            if "rendered" not in p.parts and p.name != "expected.txt"
        }
        if files:
            found.append(Seed(str(folder.relative_to(EXAMPLES)), files))
    acme = next(seed for seed in found if seed.name == "acme")
    found.append(Seed("acme-with-pattern-pack", {**acme.files, "policies/fuzz.yaml": PATTERN_PACK}))
    return found


# --- mutations --------------------------------------------------------------------------------


def mutate_bytes(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        choice = rng.randrange(7)
        at = rng.randint(0, len(buf))
        if choice == 0 and buf:  # flip a bit
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
        elif choice == 1:  # a YAML-significant token
            buf[at:at] = rng.choice(TOKENS)
        elif choice == 2 and buf:  # delete a range
            buf[at : at + rng.randint(1, 64)] = b""
        elif choice == 3 and buf:  # duplicate a range
            start = rng.randrange(len(buf))
            buf[at:at] = buf[start : start + rng.randint(1, 256)]
        elif choice == 4:  # splice a line from another seed file
            lines = rng.choice(pool).splitlines(keepends=True)
            if lines:
                buf[at:at] = rng.choice(lines)
        elif choice == 5:  # swap two lines
            lines = bytes(buf).splitlines(keepends=True)
            if len(lines) > 1:
                i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
                lines[i], lines[j] = lines[j], lines[i]
                buf = bytearray(b"".join(lines))
        else:  # change the indentation of a line
            lines = bytes(buf).splitlines(keepends=True)
            if lines:
                i = rng.randrange(len(lines))
                lines[i] = b" " * rng.choice([0, 1, 2, 3, 4, 8]) + lines[i].lstrip(b" ")
                buf = bytearray(b"".join(lines))
    return bytes(buf)


def mutate_structure(rng: random.Random, data: bytes) -> bytes | None:
    """A value somewhere in the tree replaced, a key added or removed; None if it does not parse."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the harness's own parse of a seed with redefined anchors
            tree = yaml.load(data)
    except Exception:
        return None
    if not isinstance(tree, (dict, list)):
        return None
    for _ in range(rng.randint(1, 3)):
        parent, key = _random_slot(rng, tree)
        if parent is None:
            break
        action = rng.randrange(4)
        if action == 0 and isinstance(parent, dict) and len(parent) > 1:
            del parent[key]
        elif action == 1 and isinstance(parent, dict):
            parent[rng.choice(["extra", "provider", "model", "workspaces", "llm_override", "budget", "<<"])] = rng.choice(VALUES)
        else:
            parent[key] = rng.choice(VALUES)
    out = io.StringIO()
    try:
        yaml.dump(tree, out)
    except Exception:
        return None
    return out.getvalue().encode()


def _random_slot(rng: random.Random, tree: Any) -> tuple[Any, Any]:
    slots: list[tuple[Any, Any]] = []
    seen: set[int] = set()  # aliases share nodes: each is walked once (an alias bomb stays small)

    def walk(node: Any, depth: int) -> None:
        if depth > 12 or id(node) in seen or len(slots) > 10_000:
            return
        seen.add(id(node))
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
        for key, value in items:
            slots.append((node, key))
            walk(value, depth + 1)

    walk(tree, 0)
    return rng.choice(slots) if slots else (None, None)


def inputs(rng: random.Random, pool: list[Seed]) -> Iterator[dict[str, bytes]]:
    contents = [content for seed in pool for content in seed.files.values()]
    while True:
        seed = rng.choice(pool)
        files = dict(seed.files)
        for _ in range(rng.choice([1, 1, 1, 2])):
            name = rng.choice(sorted(files))
            mutated = mutate_structure(rng, files[name]) if rng.random() < 0.4 else None
            files[name] = mutated if mutated is not None else mutate_bytes(rng, files[name], contents)
        if rng.random() < 0.05:  # a workspace file that is not in any seed
            files[f"workspaces/fuzz-{rng.randrange(100)}.yaml"] = mutate_bytes(rng, rng.choice(contents), contents)
        yield files


# --- the target -------------------------------------------------------------------------------


class _Timeout(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Timeout()


def run_one(files: dict[str, bytes], workdir: Path) -> tuple[int, Finding | None, float]:
    """Writes the config, runs validate (and render when valid); returns (exit code, finding, seconds)."""
    from click.testing import CliRunner

    from compiler.cli import main

    config = workdir / "config"
    if config.exists():
        import shutil

        shutil.rmtree(config)
    for name, content in files.items():
        path = config / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    runner = CliRunner()
    started = time.perf_counter()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT)
    try:
        result = runner.invoke(main, ["--debug", "validate", str(config)], catch_exceptions=True)
        code = result.exit_code
        finding = _judge(result, files, "validate")
        if finding is None and code == 0:
            rendered = runner.invoke(main, ["--debug", "render", str(config), "--stdout"], catch_exceptions=True)
            finding = _judge(rendered, files, "render")
            if finding is None and (rendered.exit_code != 0 or "kind:" not in rendered.stdout):
                finding = Finding("empty-render", f"render exit {rendered.exit_code} after a clean validate", files)
    except _Timeout:
        code, finding = -1, Finding("timeout", f"over {TIME_LIMIT} s", files)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if finding is None and peak_mb > MEMORY_LIMIT_MB:
        finding = Finding("memory", f"peak RSS {peak_mb:.0f} MB", files)
    return code, finding, elapsed


def _judge(result: Any, files: dict[str, bytes], command: str) -> Finding | None:
    if isinstance(result.exception, _Timeout):
        raise result.exception
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        import traceback

        detail = "".join(traceback.format_exception(result.exception))
        return Finding("exception", f"{command}: {detail}", files)
    if result.exit_code not in (0, 1, 2):
        return Finding(f"exit-{result.exit_code}", f"{command}: {result.output[-2000:]}", files)
    if "Traceback" in result.output:
        return Finding("exception", f"{command}: traceback in the output", files)
    if command == "validate" and result.exit_code == 1 and "error[" not in result.output:
        return Finding("no-diagnostic", "exit 1 without an error diagnostic", files)
    return None


def campaign(seconds: float, seed: int = 0, max_executions: int | None = None) -> Campaign:
    rng = random.Random(seed)
    pool = seeds()
    report = Campaign()
    deadline = time.monotonic() + seconds
    with tempfile.TemporaryDirectory(prefix="hks-fuzz-") as tmp:
        for files in inputs(rng, pool):
            if time.monotonic() > deadline or (max_executions and report.executions >= max_executions):
                break
            code, finding, elapsed = run_one(files, Path(tmp))
            if finding is not None and finding.kind == "timeout":
                # A hang reproduces; a run slowed by a busy machine or a cold cache (the first
                # render of a Kubernetes version builds its schema validators) does not.
                again, finding, _ = run_one(files, Path(tmp))
                code = code if finding else again
                report.slow_once += 0 if finding else 1
            report.executions += 1
            report.outcomes[code] = report.outcomes.get(code, 0) + 1
            report.slowest = max(report.slowest, elapsed)
            if finding:
                report.findings.append(finding)
    report.peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return report
