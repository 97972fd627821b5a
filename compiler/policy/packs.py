"""Policy packs: YAML files of rules, loaded with positions and checked against the pack schema.

Built-in packs live in the project's `policies/`; an organisation's own in its config repo's
`policies/` (every `*.yaml` there except `waivers.yaml`).
"""

from __future__ import annotations

import datetime
import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler.builtin.resources import data_dir
from compiler.diagnostics import Diagnostic, Position, error
from compiler.load.parse import Document, to_plain
from compiler.load.repo import WAIVERS_FILE, Loaded
from compiler.redact import secret_kind
from compiler.suggest import did_you_mean

RULES: dict[str, str] = {
    "POLICY-001": "policy pack does not match the pack schema",
    "POLICY-002": "policy rule condition is not a valid JSON Schema",
    "POLICY-003": "policy rule id used twice",
    "SCHEMA-015": "policy rule pattern RE2 cannot run (backreference, lookaround)",
}

PACK_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Example:
    name: str
    config: Any  # the round-trip mapping, positions pointing into the pack file
    at: tuple[Any, ...] | None  # failing examples: where in `config` the finding must point
    path: str  # the pack file
    position: Position


@dataclass(frozen=True)
class Rule:
    id: str
    framework: str
    severity: str
    title: str
    message: str
    remediation: str
    references: tuple[str, ...]
    scope: str
    applies_to: dict[str, tuple[str, ...]]
    condition: Any
    at: tuple[Any, ...] | None
    waivable: bool
    passing: tuple[Example, ...]
    failing: tuple[Example, ...]
    pack: str
    defined_at: Position

    def applies(self, compliance: set[str], residency: set[str]) -> bool:
        wanted = self.applies_to
        if "compliance" in wanted and not compliance & set(wanted["compliance"]):
            return False
        return "data_residency" not in wanted or bool(residency & set(wanted["data_residency"]))


def dotted(path: str) -> tuple[Any, ...]:
    return tuple(int(step) if step.isdigit() else step for step in path.split("."))


@functools.cache
def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((data_dir("policies") / name).read_text("utf-8"))
    return loaded


def builtin_files() -> list[Path]:
    return _pack_files(data_dir("policies"))


def _pack_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in PACK_SUFFIXES and p.name != WAIVERS_FILE)


@functools.cache
def builtin_rules() -> tuple[tuple[Rule, ...], tuple[Diagnostic, ...]]:
    """The built-in packs' rules for checking a config, without their examples.

    Read from compiler/builtin/precompiled.json while a pack is unchanged since it was written; else
    parsed with libyaml (through PyYAML), a twentieth of the cost of ruamel's pure-Python
    round trip, which was a third of `validate`'s time. libyaml reads YAML 1.1, which differs
    from 1.2 only on unquoted literals (`yes`, `0777`): a test holds these rules equal to
    `builtin_rules_with_examples()`'s, so a pack where that matters fails in CI. A pack with any
    problem is loaded in full instead, so its diagnostics keep their positions.
    """
    from compiler.builtin import precompiled

    rules: list[Rule] = []
    for path in builtin_files():
        name = f"policies/{path.name}"
        quick = precompiled.lookup(path, name)
        if quick is None:
            quick = quick_pack(path)
        if quick is None:
            return builtin_rules_with_examples()
        rules += _quick_rules(quick, name)
    if len({rule.id for rule in rules}) != len(rules):
        return builtin_rules_with_examples()
    return tuple(rules), ()


@functools.cache
def builtin_rules_with_examples() -> tuple[tuple[Rule, ...], tuple[Diagnostic, ...]]:
    """The built-in packs, named as in a source checkout (policies/NAME.yaml), each rule with
    its examples (positions into the pack) for `hks policy test`."""
    rules, diagnostics = load_packs([(path, f"policies/{path.name}") for path in builtin_files()])
    return tuple(rules), tuple(diagnostics)


def quick_pack(path: Path) -> dict[str, Any] | None:
    """A built-in pack as JSON-able data, each rule with the line and column of its `id`,
    from libyaml's node tree; None when the pack has any problem (the full load names it)."""
    import yaml
    from jsonschema import Draft202012Validator

    from compiler.builtin.datafiles import libyaml_loader

    loader_class = libyaml_loader()
    if loader_class is None:  # without libyaml the full load is as fast
        return None
    loader = loader_class(path.read_bytes())
    try:
        node = loader.get_single_node()
        data = jsonable(loader.construct_document(node))
    except yaml.YAMLError:
        return None
    finally:
        loader.dispose()
    if not Draft202012Validator(schema("pack.schema.json")).is_valid(data):
        return None
    rules_node = next(value for key, value in node.value if key.value == "rules")
    rules = []
    for raw, rule_node in zip(data["rules"], rules_node.value, strict=True):
        if _condition_problem(raw["condition"]) is not None or _regex_problem(raw["condition"]) is not None:
            return None
        mark = next(value.start_mark for key, value in rule_node.value if key.value == "id")
        rules.append({"rule": raw, "line": mark.line + 1, "column": mark.column + 1})
    return {"pack": str(data["pack"]), "rules": rules}


def _quick_rules(quick: dict[str, Any], name: str) -> list[Rule]:
    return [
        _rule(r["rule"], r["rule"]["condition"], quick["pack"], Position(name, r["line"], r["column"]), (), ())
        for r in quick["rules"]
    ]


def load_packs(files: list[tuple[Path, str]], taken: set[str] | None = None) -> tuple[list[Rule], list[Diagnostic]]:
    """Rules of pack files hks reads itself (the built-in ones, or one named to `hks policy
    test`); a config repository's come through load (`rules_of_packs`)."""
    loaded = []
    for path, name in files:
        doc, found = _load(path, name)
        loaded.append(Loaded(name, doc, tuple(found)))
    return rules_of_packs(loaded, taken)


def rules_of_packs(packs: Sequence[Loaded], taken: set[str] | None = None) -> tuple[list[Rule], list[Diagnostic]]:
    """Rules of every pack that loaded; a rule id already `taken` (or seen earlier) is an error."""
    rules: list[Rule] = []
    diagnostics: list[Diagnostic] = []
    seen: dict[str, Position] = {}
    for pack in packs:
        doc = pack.doc
        diagnostics += pack.problems
        if doc is None:
            continue
        pack_rules, found = pack_rules_of(doc)
        diagnostics += found
        for rule in pack_rules:
            first = seen.get(rule.id)
            if first is not None or (taken and rule.id in taken):
                where = f"at {first}" if first else "by a built-in pack"
                diagnostics.append(
                    error(
                        rule.defined_at,
                        "POLICY-003",
                        f"rule id '{rule.id}' is already used {where}",
                        "give the rule an id of its own",
                    )
                )
                continue
            seen[rule.id] = rule.defined_at
            rules.append(rule)
    return rules, diagnostics


def _load(path: Path, name: str) -> tuple[Document | None, list[Diagnostic]]:
    from compiler.load.parse import parse_document
    from compiler.load.repo import read_input

    raw, problem = read_input(path, path.parent.parent)  # policies/ is in the config repository
    if raw is None:
        return None, [problem] if problem else []
    return parse_document(raw, name)


def pack_rules_of(doc: Document) -> tuple[list[Rule], list[Diagnostic]]:
    problems = schema_problems(doc, schema("pack.schema.json"), "POLICY-001")
    if problems:
        return [], problems
    pack = str(doc.data["pack"])
    rules: list[Rule] = []
    diagnostics: list[Diagnostic] = []
    for index, raw in enumerate(doc.data["rules"]):
        loc = ("rules", index)
        condition = jsonable(to_plain(raw["condition"]))
        problem = _condition_problem(condition)
        if problem:
            diagnostics.append(
                error(
                    doc.position(loc + ("condition",)),
                    "POLICY-002",
                    f"rule {raw['id']}: the condition is not a valid JSON Schema: {problem}",
                )
            )
            continue
        problem = _regex_problem(condition)
        if problem:
            diagnostics.append(error(doc.position(loc + ("condition",)), "SCHEMA-015", f"rule {raw['id']}: {problem}"))
            continue
        passing, failing = _examples(doc, loc, "pass"), _examples(doc, loc, "fail")
        rules.append(_rule(raw, condition, pack, doc.position(loc + ("id",)), passing, failing))
    return rules, diagnostics


def _examples(doc: Document, loc: tuple[Any, ...], kind: str) -> tuple[Example, ...]:
    return tuple(
        Example(
            str(e["name"]),
            e["config"],
            dotted(str(e["at"])) if "at" in e else None,
            doc.path,
            doc.position(loc + ("examples", kind, index)),
        )
        for index, e in enumerate(doc.data["rules"][loc[1]]["examples"][kind])
    )


def _rule(
    raw: Any, condition: Any, pack: str, defined_at: Position, passing: tuple[Example, ...], failing: tuple[Example, ...]
) -> Rule:
    applies = raw.get("applies_to") or {}
    return Rule(
        id=str(raw["id"]),
        framework=str(raw["framework"]),
        severity=str(raw["severity"]),
        title=str(raw["title"]),
        message=" ".join(str(raw["message"]).split()),
        remediation=" ".join(str(raw["remediation"]).split()),
        references=tuple(str(r) for r in raw.get("references") or ()),
        scope=str(raw.get("scope", "workspace")),
        applies_to={key: tuple(str(v) for v in values) for key, values in applies.items()},
        condition=condition,
        at=dotted(str(raw["at"])) if "at" in raw else None,
        waivable=bool(raw.get("waivable", True)),
        passing=passing,
        failing=failing,
        pack=pack,
        defined_at=defined_at,
    )


def _condition_problem(condition: Any) -> str | None:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(condition)
    except SchemaError as exc:
        return _safe(exc.message)
    outside = next((ref for ref in _refs(condition) if not ref.startswith("#")), None)
    if outside is not None:
        return f"$ref '{outside}' points outside the condition; hks reads nothing from elsewhere (use #/$defs/...)"
    return None


def _regex_problem(condition: Any) -> str | None:
    from compiler.policy import safe_regex

    return safe_regex.problem(condition)


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [str(v) for k, v in node.items() if k in ("$ref", "$dynamicRef")]
        return own + [ref for v in node.values() for ref in _refs(v)]
    if isinstance(node, list):
        return [ref for v in node for ref in _refs(v)]
    return []


# A schema's own wording of what a value must be, used instead of jsonschema's messages (which
# say one thing per keyword: a date breaks both `pattern` and `format`).
EXPECTED = "x-hks-expected"


def schema_problems(doc: Document, against: dict[str, Any], rule: str) -> list[Diagnostic]:
    """Every place `doc` breaks the JSON Schema `against`, at its line and column."""
    from jsonschema import FormatChecker

    from compiler.policy import safe_regex

    # RE2, as for pack conditions: its `$` is the end of the text, where Python's also matches
    # before a final newline (a rule id "ACME-001\n" would pass).
    validator = safe_regex.validator_class()(against, format_checker=FormatChecker())
    instance = jsonable(to_plain(doc.data))
    diagnostics, seen = [], set()
    for problem in sorted(validator.iter_errors(instance), key=lambda e: [str(s) for s in e.absolute_path]):
        path = tuple(problem.absolute_path)
        key, hint = False, None
        if problem.validator == "additionalProperties" and isinstance(problem.instance, dict):
            allowed = problem.schema.get("properties", {})
            extra = sorted(set(problem.instance) - set(allowed))
            path, key = path + (extra[0],), True
            hint = did_you_mean(str(extra[0]), allowed) or f"allowed keys: {', '.join(sorted(allowed))}"
        if (path, key) in seen:  # a value that breaks two keywords (pattern and format) is one problem
            continue
        seen.add((path, key))
        diagnostics.append(error(doc.position(path, key=key), rule, _message(problem, path, key), hint))
    return diagnostics


def _message(problem: Any, path: tuple[Any, ...], key: bool) -> str:
    """What is wrong, worded as for org.yaml: the schema's own wording of a value when it has one."""
    where = ".".join(str(step) for step in path) or "the file"
    expected = problem.schema.get(EXPECTED) if isinstance(problem.schema, dict) and not key else None
    if expected:
        return f"{where} must be {expected}, not {_safe(repr(problem.instance))}"
    if key:
        return f"unknown key '{path[-1]}' in {'.'.join(str(step) for step in path[:-1]) or 'the top level'}"
    if problem.validator == "required":
        missing = next((k for k in problem.validator_value if k not in problem.instance), "?")
        return f"missing required key '{missing}' in {where}"
    return f"{where}: {_safe(problem.message)}"


def _safe(message: str) -> str:
    return "a value that looks like a secret is not allowed here" if secret_kind(message) else message


def jsonable(value: Any) -> Any:
    """Plain data as JSON would have it: YAML dates become ISO strings."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value
