"""The command line is click only (compiler/README.md): a module of compiler/commands/ parses its
options, calls the library, prints what it returns and maps it to an exit code. So it reads and
writes no file itself, runs no other program, and uses no private name of the library."""

from __future__ import annotations

import ast

from tests.conftest import ROOT

COMMANDS = ROOT / "compiler" / "commands"
# Calls that read or write files or folders: the library's work (load/, write.py, tools/).
FILE_IO = frozenset({
    "open", "fdopen", "read_text", "read_bytes", "write_text", "write_bytes", "glob", "rglob", "iterdir",
    "scandir", "listdir", "walk", "mkdir", "makedirs", "rmdir", "unlink", "rename", "touch", "rmtree",
    "Popen", "check_output", "check_call",  # other programs run from the library too (tools/logs.py runs kubectl)
})  # fmt: skip


def _file_io(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if called in FILE_IO:
                found.append(f"line {node.lineno}: {called}()")
    return found


def _private_imports(tree: ast.AST) -> list[str]:
    """`from compiler.x import _name`, or `module._name` of an hks module imported as `module`."""
    found = []
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("compiler"):
            for alias in node.names:
                if alias.name.startswith("_"):
                    found.append(f"line {node.lineno}: from {node.module} import {alias.name}")
                modules.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                and isinstance(node.value, ast.Name) and node.value.id in modules):
            found.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
    return found


def _problems(source: str) -> list[str]:
    tree = ast.parse(source)
    return _file_io(tree) + _private_imports(tree)


def test_commands_do_no_file_io_and_use_no_private_name_of_the_library() -> None:
    found = {
        path.name: problems
        for path in sorted(COMMANDS.glob("*.py"))
        if (problems := _problems(path.read_text(encoding="utf-8")))
    }
    assert found == {}


def test_the_check_finds_file_io_and_private_names() -> None:
    source = (
        "from compiler.checks.sealed import _shape_problems\n"
        "from compiler.tools import seal\n"
        "def f(p):\n"
        "    p.read_text()\n"
        "    with open(p) as h: pass\n"
        "    seal._key()\n"
        "    p.exists()\n"
        "    subprocess.Popen(['kubectl'])\n"
    )
    assert _problems(source) == [
        "line 4: read_text()", "line 8: Popen()", "line 5: open()",
        "line 1: from compiler.checks.sealed import _shape_problems", "line 6: seal._key",
    ]
