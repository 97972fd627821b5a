"""The package layout: no import cycle between hks's modules, counting imports inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "compiler"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Every hks module `path` imports, anywhere in the file; `from pkg import mod` counts as mod."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in modules else node.module)
    return {name for name in found if name in modules and not _is_package(modules[name])}


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_lazy_imports_included() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


# The stages in pipeline order (compiler/README.md); pipeline.py runs them, the tools and the
# command line sit above. providers/ and builtin/ sit beside the stages: they may use the config's
# model and its merge, never a later stage. The shared modules (diagnostics, errors, rules, names,
# yamlout, ...) are not listed: any module may use them.
STAGES = {
    "load": 1, "model": 2, "merge": 3, "targets": 3, "checks": 4, "policy": 5, "render": 6,
    "write": 7, "report": 7, "pipeline": 8, "tools": 9, "commands": 10, "cli": 10, "__main__": 10,
}  # fmt: skip
BESIDE = {"providers": 3, "builtin": 3}  # the latest stage they may import
# Known and deliberate: the script that writes precompiled.json checks each built-in pack first.
LAYERING_EXCEPTIONS = {("compiler.builtin.precompile", "compiler.policy.packs")}


def _stage(module: str) -> int | None:
    parts = module.split(".")[1:]
    return STAGES.get(parts[0]) if parts else None


def layering_violations(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    found = []
    for module, imported in sorted(graph.items()):
        top = module.split(".")[1] if "." in module else ""
        limit = BESIDE.get(top, _stage(module))
        for other in sorted(imported):
            target = _stage(other)
            if limit is not None and target is not None and target > limit:
                found.append((module, other))
    return [pair for pair in found if pair not in LAYERING_EXCEPTIONS]


def test_no_module_imports_a_later_stage() -> None:
    assert layering_violations(import_graph()) == []


def test_the_layering_check_finds_a_later_stage() -> None:
    graph = {"compiler.checks.x": {"compiler.render.y"}, "compiler.render.y": {"compiler.checks.x"}, "compiler.providers.p": {"compiler.policy.q"}}
    assert layering_violations(graph) == [("compiler.checks.x", "compiler.render.y"), ("compiler.providers.p", "compiler.policy.q")]
