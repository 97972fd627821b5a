"""The rule registry: each rule id is declared, with its title, by the module that reports it.

`python -m tests.test_rules` rewrites the table in docs/rules.md after a rule is added or renamed.
"""

from __future__ import annotations

import ast
import re
import types
from pathlib import Path

import pytest

from compiler import rules
from compiler.policy.packs import builtin_rules
from tests.conftest import ROOT, hks
from tests.test_layout import import_graph

PACKAGE = ROOT / "compiler"
RULE_ID = re.compile(r"[A-Z][A-Z0-9]*-[0-9]{3}")
DOCS = ROOT / "docs" / "rules.md"
START, END = "<!-- rules:start -->\n", "<!-- rules:end -->"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _trees() -> dict[str, ast.Module]:
    return {_module_name(p): ast.parse(p.read_text(encoding="utf-8")) for p in sorted(PACKAGE.rglob("*.py"))}


def _declaration(tree: ast.Module) -> ast.AST | None:
    """The module's top-level `RULES = {...}`, if it has one."""
    for node in tree.body:
        target = node.target if isinstance(node, ast.AnnAssign) else node.targets[0] if isinstance(node, ast.Assign) else None
        if isinstance(target, ast.Name) and target.id == "RULES":
            return node
    return None


def _docstrings(tree: ast.Module) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _ids(nodes: list[ast.expr]) -> set[str]:
    return {n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str) and RULE_ID.fullmatch(n.value)}


def raised(tree: ast.Module) -> set[str]:
    """Rule ids the module reports: a literal passed to a call (`error(position, "CAP-001", ...)`,
    `schema_problems(doc, schema, "WAIVER-005")`) or named by a module constant (`NOT_A_FILE = "REPO-013"`).
    A literal compared with (`d.rule == "SEC-001"`) or collected in a set is a reference, not a report."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            found |= _ids([*node.args, *(k.value for k in node.keywords)])
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            found |= _ids([node.value])
    return found


def referenced(tree: ast.Module) -> set[str]:
    """Every rule id literal in the module's code, docstrings and its own declaration left out."""
    declaration = _declaration(tree)
    skip = _docstrings(tree) | ({id(n) for n in ast.walk(declaration)} if declaration else set())
    return _ids([n for n in ast.walk(tree) if isinstance(n, ast.Constant) and id(n) not in skip])


def _declared_by_module() -> dict[str, dict[str, str]]:
    return {module.__name__: module.RULES for module in rules._declaring_modules()}


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _pack_ids() -> set[str]:
    return {rule.id for rule in builtin_rules()[0]}


def test_every_rule_a_module_reports_is_declared_by_it_or_by_a_module_it_imports() -> None:
    declared = _declared_by_module()
    graph = import_graph()
    missing = []
    for name, tree in _trees().items():
        if name == "compiler.rules":
            continue
        own = set().union(*(declared.get(m, {}) for m in _reachable(graph, name)))
        missing += [f"{name}: {rule}" for rule in sorted(raised(tree) - own)]
    assert not missing, missing


def test_every_module_that_declares_rules_is_in_the_registry_and_declares_them_sorted() -> None:
    declaring = {name for name, tree in _trees().items() if _declaration(tree) is not None}
    declared = _declared_by_module()
    assert set(declared) == declaring, "add the module to compiler/rules.py's DECLARING_MODULES"
    names = [module.__name__ for module in rules._declaring_modules()]
    assert names == sorted(names)
    for name, table in declared.items():
        assert isinstance(table, dict) and table, name
        assert list(table) == sorted(table), f"{name}: sort RULES by id"
        assert all(RULE_ID.fullmatch(rule) and title.strip() == title and title for rule, title in table.items()), name


def test_every_declared_rule_is_reported_somewhere() -> None:
    trees = _trees()
    reported = set().union(*(raised(tree) for name, tree in trees.items() if name != "compiler.rules"))
    assert set(rules.titles()) - reported == set()


def test_every_rule_id_in_the_code_is_declared_or_comes_from_a_builtin_pack() -> None:
    used = set().union(*(referenced(tree) for tree in _trees().values()))
    known = set(rules.titles()) | _pack_ids()
    assert used and used <= known, sorted(used - known)


def test_the_registry_is_sorted_without_duplicates() -> None:
    ids = [rule.id for rule in rules.registry()]
    assert ids == sorted(set(ids))
    assert list(rules.titles()) == ids
    assert sum(len(table) for table in _declared_by_module().values()) == len(ids)


def test_a_rule_declared_twice_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    one, two = types.ModuleType("compiler.one"), types.ModuleType("compiler.two")
    one.RULES = {"ONE-001": "a"}  # type: ignore[attr-defined]
    two.RULES = {"ONE-001": "b"}  # type: ignore[attr-defined]
    monkeypatch.setattr(rules, "_declaring_modules", lambda: (one, two))
    rules.registry.cache_clear()
    try:
        with pytest.raises(ValueError, match=r"ONE-001 is declared by both compiler\.one and compiler\.two"):
            rules.registry()
    finally:
        rules.registry.cache_clear()


def test_titles_come_from_the_declaring_module_or_the_packs() -> None:
    from compiler.checks import capacity

    assert rules.title("CAP-001") == capacity.RULES["CAP-001"]
    assert rules.title("HIPAA-001") == next(r.title for r in builtin_rules()[0] if r.id == "HIPAA-001")
    assert rules.title("ACME-001") == "ACME-001"  # an organisation's own rule: its pack is not loaded here


def test_hks_help_imports_no_module_that_declares_rules() -> None:
    import subprocess
    import sys

    code = "import sys; from compiler.cli import main; main(['--help'], standalone_mode=False); print(' '.join(sys.modules))"
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())
    assert loaded and not loaded & set(_declared_by_module())


def test_policy_show_knows_hks_own_rules() -> None:
    shown = hks("policy", "show", "cap-001")
    assert shown.exit_code == 0
    assert shown.output.startswith("CAP-001  self-hosted model does not fit the GPU memory\n")
    assert "compiler/checks/capacity.py" in shown.output and "waivable:   no" in shown.output
    assert "waivable:   yes" in hks("policy", "show", "CAT-004").output  # the catalogue's waivable rules
    assert "pack:" in hks("policy", "show", "SEC-001").output  # both: the pack's rule, with its remediation
    missing = hks("policy", "show", "MERG-001")
    assert missing.exit_code == 2 and "did you mean 'MERGE-001'?" in missing.output


def docs_with_table(text: str) -> str:
    assert START in text and END in text, f"{DOCS.relative_to(ROOT)} has no rules block"
    head, rest = text.split(START, 1)
    return head + START + rules.markdown() + END + rest.split(END, 1)[1]


def test_docs_list_exactly_the_registry() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert text == docs_with_table(text), "run `python -m tests.test_rules` to rewrite docs/rules.md's table"


def test_docs_name_no_rule_hks_does_not_have() -> None:
    """A rule id in the docs with a prefix of hks's own rules is one of them (docs/research keeps history)."""
    known = set(rules.titles()) | _pack_ids()
    prefixes = {rule.split("-")[0] for rule in rules.titles()}
    stale = [
        f"{path.relative_to(ROOT)}: {found}"
        for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
        for found in re.findall(r"\b[A-Z][A-Z0-9]*-[0-9]{3}\b", path.read_text(encoding="utf-8"))
        if found.split("-")[0] in prefixes and found not in known
    ]
    assert not stale, stale


def test_the_scan_tells_reports_from_references() -> None:
    tree = ast.parse(
        'RULES: dict[str, str] = {"X-001": "x"}\nNAMED = "X-002"\n'
        'def f(d):\n    """X-009 in a docstring."""\n    error(p, "X-003", "m")\n    return d.rule == "X-004" or d.rule in {"X-005"}\n'
    )
    assert raised(tree) == {"X-002", "X-003"}
    assert referenced(tree) == {"X-002", "X-003", "X-004", "X-005"}


if __name__ == "__main__":
    DOCS.write_text(docs_with_table(DOCS.read_text(encoding="utf-8")), encoding="utf-8")
