from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from compiler.load.parse import parse_document
from compiler.model.model import OrgFile, WorkspaceFile
from compiler.builtin.resources import data_dir
from compiler.model.schema import SCHEMAS, json_schema, json_schema_text, validate
from tests.conftest import EXAMPLES


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_checked_in_schema_matches_the_model(name: str) -> None:
    checked_in = (data_dir("schemas") / f"{name}.schema.json").read_text(encoding="utf-8")
    assert checked_in == json_schema_text(name), f"run `hks schema --output-dir schemas` to regenerate {name}"


def test_schemas_have_descriptions_and_examples() -> None:
    schema = json_schema("org")
    llm = schema["$defs"]["LLMConfig"]["properties"]
    assert "description" in llm["temperature"] and llm["temperature"]["examples"] == [0.7]
    assert llm["temperature"]["maximum"] == 2


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*/org.yaml")) + sorted(EXAMPLES.glob("*/workspaces/*.yaml")))
def test_generated_json_schema_accepts_the_examples(path) -> None:  # type: ignore[no-untyped-def]
    kind = "workspace" if path.parent.name == "workspaces" else "org"
    data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    jsonschema.validate(json.loads(json.dumps(data)), json_schema(kind))


def check(source: str, model: type = OrgFile) -> list[tuple[str, str, str, str | None]]:
    doc, diagnostics = parse_document(source.encode(), "org.yaml")
    assert doc is not None, diagnostics
    _, found = validate(doc, model)
    return [(str(d.position), d.rule, d.message, d.hint) for d in found]


BASE = "llm_config:\n  provider: ollama\n  model: llama3:8b\n"


def test_unknown_key_suggests_the_right_one() -> None:
    assert check(BASE + "  temprature: 0.5\n") == [
        ("org.yaml:4:3", "SCHEMA-001", "unknown key 'temprature' in llm_config", "did you mean 'temperature'?")
    ]


def test_out_of_range_says_the_range() -> None:
    [(where, rule, message, _)] = check(BASE + "  temperature: 3.5\n")
    assert (where, rule, message) == ("org.yaml:4:16", "SCHEMA-003", "llm_config.temperature must be between 0 and 2, not 3.5")


def test_every_problem_is_reported_not_just_the_first() -> None:
    found = check("llm_config:\n  provider: x\n  model: ''\n  max_tokens: 0\nfoo: 1\n")
    assert [rule for _, rule, _, _ in found] == ["SCHEMA-005", "SCHEMA-003", "SCHEMA-003", "SCHEMA-001"]


def test_missing_required_key_points_at_its_parent() -> None:
    assert check("llm_config:\n  provider: ollama\n") == [
        ("org.yaml:1:1", "SCHEMA-004", "missing required key 'model' in llm_config",
         "the keys it needs: llm_config: {provider: PROVIDER, model: MODEL}")
    ]


def test_a_word_where_a_mapping_goes_is_shown_the_mapping() -> None:
    [(_, rule, message, hint)] = check(BASE + "secrets:\n  backend: external-secrets\n  store: vault\n")
    assert (rule, message) == ("SCHEMA-002", "secrets.store must be a mapping, not 'vault'")
    assert hint == "write it as a mapping: store: {name: vault, kind: ClusterSecretStore}"


def test_yaml_1_1_booleans_get_a_hint() -> None:
    [(_, rule, message, hint)] = check(BASE + "providers:\n  openai:\n    baa: yes\n")
    assert rule == "SCHEMA-002" and "true or false" in message and hint and "YAML 1.2" in hint


def test_workspace_file_schema() -> None:
    found = check("workspace: prod\nllm_overide: {}\n", WorkspaceFile)
    assert found == [("org.yaml:2:1", "SCHEMA-001", "unknown key 'llm_overide' at the top level", "did you mean 'llm_override'?")]


def test_no_secret_value_is_repeated_in_a_schema_message() -> None:
    key = "sk-ant-api03-" + "x" * 40
    found = check(BASE + f"  temperature: {key}\n")
    assert found and all(key not in message for _, _, message, _ in found)


@pytest.mark.parametrize("key", ["~ llm_override", "~tag", "~custom"])
def test_a_key_that_looks_like_a_union_tag_is_an_unknown_key(tmp_path: Path, key: str) -> None:
    """Found by the fuzzer: such keys were dropped from the error location, which crashed."""
    from compiler.pipeline import compile_config
    from tests.conftest import write

    write(tmp_path, {"org.yaml": "llm_config: {provider: openai, model: gpt-5.4-mini}\n", "workspaces/a.yaml": f"'{key}': 1\n"})
    found = [(d.rule, d.message) for d in compile_config(str(tmp_path)).diagnostics]
    assert found == [("SCHEMA-001", f"unknown key '{key}' at the top level")]
