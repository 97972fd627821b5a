from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from compiler.pipeline import compile_config
from tests.conftest import write

LEAVES: dict[str, st.SearchStrategy[Any]] = {
    "model": st.sampled_from(["llama3:8b", "mistral:7b", "codellama:13b"]),
    "temperature": st.sampled_from([0, 0.1, 0.35, 1, 1.5, 2]),
    "max_tokens": st.integers(1, 4096),
    "top_p": st.sampled_from([0.1, 0.5, 1]),
    "timeout_seconds": st.integers(1, 600),
    "priority": st.sampled_from(["critical", "standard", "batch"]),
    "rate_limit.rpm": st.integers(1, 10_000),
    "rate_limit.tpm": st.integers(1, 10_000_000),
    "budget.monthly_usd": st.integers(1, 10_000),
    "cache.enabled": st.booleans(),
    "cache.ttl_seconds": st.integers(1, 86_400),
    "sanitization.pii": st.sampled_from(["redact", "block", "off"]),
    "fallbacks": st.lists(st.sampled_from(["llama3:8b", "mistral:7b"]), max_size=2).map(
        lambda models: [{"provider": "ollama", "model": m} for m in models]
    ),
}
DEFAULTS = {"temperature": 0.7, "max_tokens": 4096, "priority": "standard", "cache.enabled": False, "sanitization.pii": "off"}
BLOCKS = ("rate_limit", "budget", "cache", "sanitization")
NULL = object()


def nested(flat: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in flat.items():
        *parents, leaf = key.split(".")
        target = out
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = None if value is NULL else value
    return out


def dump(data: dict[str, Any]) -> str:
    stream = io.StringIO()
    YAML().dump(data, stream)
    return stream.getvalue()


org_settings = st.fixed_dictionaries({}, optional={k: v for k, v in LEAVES.items() if k != "model"})
override_settings = st.dictionaries(
    st.sampled_from(sorted(LEAVES) + list(BLOCKS)),
    st.none(),
    max_size=8,
).flatmap(
    lambda keys: st.fixed_dictionaries(
        {k: (st.just(NULL) if k in BLOCKS else st.one_of(st.just(NULL), LEAVES[k])) for k in keys}
    )
)


def expected_effective(org: dict[str, Any], override: dict[str, Any]) -> dict[str, tuple[Any, str]]:
    effective = {k: (v, "default") for k, v in DEFAULTS.items()}
    effective.update({"provider": ("ollama", "org"), "model": ("llama3:8b", "org")})
    effective.update({k: (v, "org") for k, v in org.items()})
    for key, value in override.items():
        if value is NULL and key != "model":
            for gone in [k for k in effective if k == key or k.startswith(key + ".")]:
                del effective[gone]
            effective.update({k: (v, "default") for k, v in DEFAULTS.items() if k == key or k.startswith(key + ".")})
    for key, value in override.items():
        if value is not NULL:
            effective[key] = (value, "workspace")
    return effective


@settings(max_examples=120, deadline=None)
@given(org=org_settings, override=override_settings)
def test_merge_properties(org: dict[str, Any], override: dict[str, Any]) -> None:
    """An override's key always wins, every other key keeps the org value, null drops
    (back to a built-in default where there is one), and provenance names the right file."""
    override = {k: v for k, v in override.items() if not (k == "model" and v is NULL)}
    block_nulls = {k for k in override if k in BLOCKS}
    override = {k: v for k, v in override.items() if k in BLOCKS or k.split(".")[0] not in block_nulls}
    org_doc = {"llm_config": {"provider": "ollama", "model": "llama3:8b", **nested(org)}}
    with tempfile.TemporaryDirectory() as folder:
        root = write(Path(folder), {"org.yaml": dump(org_doc), "workspaces/w.yaml": dump({"llm_override": nested(override)})})
        compiled = compile_config(str(root))
        assert compiled.ok, compiled.diagnostics
        [workspace] = compiled.workspaces
        actual = {
            key: (sourced.value, sourced.layer, sourced.origin.path if sourced.origin else None)
            for key, sourced in workspace.llm_sources.items()
        }
        files = {"org": str(root / "org.yaml"), "workspace": str(root / "workspaces" / "w.yaml"), "default": None}
        expected = {key: (value, layer, files[layer]) for key, (value, layer) in expected_effective(org, override).items()}
        assert actual == expected


BASE = "llm_config:\n  provider: ollama\n  model: llama3:8b\n  rate_limit:\n    rpm: 100\n    tpm: 5000\n"


def merged(tmp_path: Path, org: str, workspace: str) -> dict[str, tuple[Any, str]]:
    write(tmp_path, {"org.yaml": org, "workspaces/w.yaml": workspace})
    compiled = compile_config(str(tmp_path))
    assert compiled.ok, compiled.diagnostics
    return {k: (s.value, str(s.origin)) for k, s in compiled.workspaces[0].llm_sources.items()}


def test_mappings_merge_key_by_key(tmp_path: Path) -> None:
    found = merged(tmp_path, BASE, "llm_override:\n  rate_limit:\n    rpm: 7\n")
    assert found["rate_limit.rpm"] == (7, f"{tmp_path}/workspaces/w.yaml:3:10")
    assert found["rate_limit.tpm"] == (5000, f"{tmp_path}/org.yaml:6:10")


def test_null_drops_an_inherited_block(tmp_path: Path) -> None:
    found = merged(tmp_path, BASE, "llm_override:\n  rate_limit: null\n")
    assert not any(k.startswith("rate_limit") for k in found)


def test_null_on_a_defaulted_key_restores_the_default(tmp_path: Path) -> None:
    found = merged(tmp_path, BASE + "  temperature: 0.1\n", "llm_override:\n  temperature: null\n")
    assert found["temperature"] == (0.7, "None")


def test_compliance_is_a_union_and_residency_may_narrow(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            # HIPAA-compliant (tests/policy/test_policy.py covers what HIPAA asks), so the config is clean
            "org.yaml": BASE + "  sanitization: {pii: redact}\ncompliance: [soc2]\ndata_residency: eu\ncluster: {mesh: linkerd}\n"
            "gateway: {audit_log: {enabled: true, retention_days: 2190}, database_secret: db}\n",
            "workspaces/w.yaml": "compliance: [hipaa, soc2]\ndata_residency: on-premises\n",
        },
    )
    compiled = compile_config(str(tmp_path))
    assert compiled.ok
    [w] = compiled.workspaces
    assert [(c.value, c.layer) for c in w.compliance] == [("soc2", "org"), ("hipaa", "workspace")]
    assert w.data_residency is not None and w.data_residency.value == "on-premises"


def test_widening_residency_is_an_error_at_the_workspace_line(tmp_path: Path) -> None:
    write(tmp_path, {"org.yaml": BASE + "data_residency: eu\n", "workspaces/w.yaml": "# note\ndata_residency: us\n"})
    compiled = compile_config(str(tmp_path))
    errors = [d for d in compiled.diagnostics if d.is_error]
    assert [(d.rule, str(d.position)) for d in errors] == [("MERGE-001", f"{tmp_path}/workspaces/w.yaml:2:17")]
