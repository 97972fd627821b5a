"""The compiled policy check (compiler/policy/fastcheck.py) accepts exactly the documents
jsonschema finds no error in: on every built-in rule over the facts documents of the examples
and of the rules' own examples, over thousands of mutations of them, and on conditions written
to reach each keyword's edge (true is not 1, 2.0 is an integer, a missing property passes)."""

from __future__ import annotations

import copy
import functools
import random
from collections.abc import Iterator
from typing import Any

import pytest

from compiler.checks.secrets import find_secrets, scan_config
from compiler.diagnostics import has_errors
from compiler.load.parse import Document
from compiler.load.repo import Sources, load_repo
from compiler.merge import merge
from compiler.model.config import assemble
from compiler.policy import facts, fastcheck, safe_regex
from compiler.policy.packs import builtin_rules_with_examples
from tests.conftest import EXAMPLES

RULES = builtin_rules_with_examples()[0]


def jsonschema_accepts(condition: Any, document: Any) -> bool:
    return not any(True for _ in safe_regex.validator_class()(condition).iter_errors(document))


def documents_of(sources: Sources, secrets: Any) -> Iterator[dict[str, Any]]:
    config, diagnostics = assemble(sources)
    if config is None or has_errors(diagnostics):
        return
    workspaces, diagnostics = merge(config)
    if has_errors(diagnostics):
        return
    org, org_origins = facts.org_document(config, workspaces, secrets)
    yield org
    by_name = {source.name: source for source in config.workspaces}
    for workspace in workspaces:
        yield facts.workspace_document(config, by_name[workspace.name], workspace, org, org_origins)[0]


@functools.cache
def documents() -> tuple[dict[str, Any], ...]:
    found: list[dict[str, Any]] = []
    for folder in sorted(p.parent for p in EXAMPLES.glob("*/org.yaml")):
        sources, _ = load_repo(str(folder))
        docs = ([sources.org] if sources.org else []) + list(sources.workspaces)
        found += documents_of(sources, scan_config(docs, []))
    for rule in RULES:
        for example in (*rule.passing, *rule.failing):
            doc = Document(example.path, example.config)
            found += documents_of(Sources("example", doc, ()), find_secrets([doc]))
    return tuple(found)


def constants(node: Any) -> Iterator[Any]:
    """The values the conditions compare with: mutations that hit them reach both branches."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "const":
                yield value
            elif key == "enum":
                yield from value
            else:
                yield from constants(value)
    elif isinstance(node, list):
        for value in node:
            yield from constants(value)


VALUES: list[Any] = [
    None, True, False, 0, 1, 1.0, 2.5, -1, "", "latest", "https://x.example", "http://x.example", "ollama",
    [], [None], [1, True], {}, {"a": 1}, {"in_cluster": False, "scheme": "http"}, float("nan"),
]  # fmt: skip


def places(node: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(node, dict):
        for key, value in node.items():
            yield from places(value, (*at, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from places(value, (*at, index))


def mutated(rng: random.Random, document: dict[str, Any], pool: list[Any]) -> dict[str, Any]:
    copied = copy.deepcopy(document)
    for _ in range(rng.randint(1, 3)):
        at = rng.choice([p for p in places(copied) if p])
        parent = copied
        for step in at[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and rng.random() < 0.2:
            del parent[at[-1]]
        else:
            parent[at[-1]] = copy.deepcopy(rng.choice(pool))
    return copied


def test_every_built_in_rule_is_compiled() -> None:
    """Otherwise validate pays for jsonschema on every document of that rule."""
    assert [rule.id for rule in RULES if fastcheck.compile_condition(rule.condition) is None] == []


def test_built_in_rules_agree_with_jsonschema_on_the_examples_and_their_mutations() -> None:
    docs = documents()
    assert len(docs) > 50
    rng = random.Random(28)
    pool = VALUES + [value for rule in RULES for value in constants(rule.condition)]
    refused = accepted = 0
    for rule in RULES:
        check = fastcheck.compile_condition(rule.condition)
        assert check is not None
        for document in [*docs, *(mutated(rng, rng.choice(docs), pool) for _ in range(300))]:
            expected = jsonschema_accepts(rule.condition, document)
            assert check(document) == expected, (rule.id, document)
            accepted += expected
            refused += not expected
    assert refused > 500 and accepted > 500, (refused, accepted)  # both answers were tested


CONDITIONS: list[Any] = [
    True,
    False,
    {},
    {"const": True},
    {"const": 1},
    {"const": None},
    {"const": "x"},
    {"const": [1, True]},
    {"const": {"a": 1}},
    {"enum": [1, "1", None, [True]]},
    {"type": "integer"},
    {"type": "number"},
    {"type": ["string", "null"]},
    {"type": "boolean"},
    {"type": "object", "required": ["a"]},
    {"type": "array", "items": {"type": "integer"}},
    {"items": False},
    {"properties": {"a": {"const": 1}, "b": {"not": {}}}},
    {"if": {"required": ["a"]}, "then": {"properties": {"a": {"minimum": 1}}}, "else": {"required": ["b"]}},
    {"then": {"const": 1}},  # then without if: nothing
    {"anyOf": [{"type": "string"}, {"minimum": 2}]},
    {"allOf": [{"maximum": 3}, {"exclusiveMinimum": 0}]},
    {"oneOf": [{"type": "integer"}, {"type": "number"}]},
    {"exclusiveMaximum": 1.5},
    {"minItems": 1, "maxItems": 2},
    {"minLength": 2, "maxLength": 3},
    {"pattern": "^a"},
    {"title": "t", "description": "d", "$comment": "c", "properties": {"a": {"type": "string"}}},
]
INSTANCES: list[Any] = [
    None, True, False, 0, 1, 1.0, 2, 2.0, 2.5, 3, -1, 1.5, float("nan"), "", "a", "ab", "abcd", "x", "1", "ba",
    [], [1], [1, 2], [1, 2, 3], [True], [1, True], [1.0, True], [None], {}, {"a": 1}, {"a": 1.0}, {"a": True},
    {"a": "x"}, {"b": 1}, {"a": 0, "b": 2}, {"a": 1, "b": None}, {"a": 2}, [[True]],
]  # fmt: skip


@pytest.mark.parametrize("condition", CONDITIONS, ids=str)
def test_each_keyword_agrees_with_jsonschema_at_its_edges(condition: Any) -> None:
    check = fastcheck.compile_condition(condition)
    assert check is not None
    for instance in INSTANCES:
        assert check(instance) == jsonschema_accepts(condition, instance), instance


@pytest.mark.parametrize(
    "condition",
    [
        {"$ref": "#/$defs/a", "$defs": {"a": {}}},
        {"additionalProperties": False},
        {"properties": {"a": {"format": "email"}}},
        {"prefixItems": [{}], "items": False},
        {"x-custom": 1},
        {"type": "decimal"},
    ],
    ids=str,
)
def test_a_keyword_it_does_not_compile_leaves_the_rule_to_jsonschema(condition: Any) -> None:
    assert fastcheck.compile_condition(condition) is None
