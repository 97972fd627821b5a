"""Hypothesis, end to end: a random sequence of editing commands on the commented config. Each
command either does exactly what it promised (the config, read back by the same pipeline as
`hks validate`, holds the values given) or is refused and changes no byte."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import event, given, settings
from hypothesis import strategies as st

from compiler.pipeline import compile_config
from tests.conftest import hks
from tests.tools.test_editing_commands import FIXTURE, snapshot

PROVIDERS = ["ollama", "openai", "anthropic", "google", "azure-openai"]
MODELS = ["llama3:8b", "codellama:13b", "mistral:7b", "gpt-5.4-mini", "gpt-4", "claude-sonnet-4-6", "gemini-3.5-flash"]
WORKSPACES = ["batch", "production", "support", "newcomer"]

values = st.fixed_dictionaries(
    {},
    optional={
        "provider": st.sampled_from(PROVIDERS),
        "model": st.sampled_from(MODELS),
        "temperature": st.sampled_from([0, 0.1, 0.25, 0.7, 1, 1.5, 2]),
        "max_tokens": st.integers(1, 20000),
        "top_p": st.sampled_from([0, 0.5, 0.9, 1]),
    },
).filter(bool)

commands = st.one_of(
    st.tuples(st.just("org"), st.none(), values),
    st.tuples(st.just("workspace"), st.sampled_from(WORKSPACES), values),
    st.tuples(st.just("unset"), st.sampled_from(WORKSPACES[:3]), st.sampled_from(["model", "temperature", "max_tokens"])),
)


def flags(settings_: dict[str, Any]) -> list[str]:
    return [part for key, value in settings_.items() for part in (f"--{key.replace('_', '-')}", str(value))]


def effective_override(root: Path, name: str) -> dict[str, Any]:
    compiled = compile_config(str(root))
    assert compiled.config is not None
    source = next(w for w in compiled.config.workspaces if w.name == name)
    return source.body.llm_override.model_dump(exclude_none=True) if source.body.llm_override else {}


@settings(max_examples=25, deadline=None)
@given(st.lists(commands, min_size=1, max_size=4))
def test_random_edits_do_what_they_promise_or_change_nothing(sequence: list[tuple[str, Any, Any]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "repo"
        shutil.copytree(FIXTURE, root)
        for kind, name, payload in sequence:
            before = snapshot(root)
            if kind == "org":
                result = hks("org", "set-llm", *flags(payload), "-C", str(root))
            elif kind == "workspace":
                result = hks("workspace", "set-llm", name, "--create", *flags(payload), "-C", str(root))
            else:
                result = hks("workspace", "set-llm", name, "--unset", payload, "-C", str(root))
            assert "Traceback" not in result.output
            event("refused" if result.exit_code else f"applied {kind}")
            if result.exit_code != 0:
                assert result.exit_code == 1 and "refused" in result.output, result.output
                assert snapshot(root) == before
                continue
            compiled = compile_config(str(root))
            assert compiled.ok, compiled.diagnostics
            if kind == "org":
                org = compiled.config.org.llm_config.model_dump()  # type: ignore[union-attr]
                assert {k: org[k] for k in payload} == payload
            elif kind == "workspace":
                override = effective_override(root, name)
                assert {k: override.get(k) for k in payload} == payload
            else:
                assert payload not in effective_override(root, name)
