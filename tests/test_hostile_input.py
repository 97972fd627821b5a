"""Issue 15, part C: hostile input is read completely or refused clearly, in bounded time and
memory, and what validate passes is what Kubernetes and the scripts accept (docs/security.md)."""

from __future__ import annotations

import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from compiler.load import MAX_FILE_BYTES, MAX_NODES, parse_document
from tests.conftest import ROOT, write


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
    from compiler import yamlfast

    monkeypatch.setattr(yamlfast, "_loader_class", lambda: None)
    monkeypatch.setattr(yamlfast, "node_past", lambda text, limit: None)
    found = rules(("users:\n" + "- a\n" * (MAX_NODES + 10)).encode())
    assert [(line, rule) for line, _, rule, _ in found] == [(MAX_NODES - 1, "YAML-007")]
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

    from tests.test_secret import certificate

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
