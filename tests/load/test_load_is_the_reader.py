"""Load is the only reader of the config repository (issue 16, point 3).

The stages after load take what they need from `Sources` / `Config`: an AST scan finds every call
that reads or lists files in compiler/, and outside the modules that do I/O by design only the
reads of hks's own package data (schemas, templates, built-in packs) are allowed, each by name.
"""

from __future__ import annotations

import ast
from pathlib import Path

from compiler.load.repo import load_repo
from compiler.pipeline import compile_config
from tests.conftest import ROOT, write

PACKAGE = ROOT / "compiler"
# Modules that do I/O by design (the house style: I/O only in load/, write.py, the tools and the CLI): load, the editing and other tools, the CLI.
IO_BY_DESIGN = ("load/", "tools/", "commands/", "write.py", "cli.py", "__main__.py")
READS = frozenset(
    {"open", "read_text", "read_bytes", "iterdir", "glob", "rglob", "scandir", "listdir", "walk"}
    | {"load_file", "read_input", "read_regular"}  # load's own readers, called from elsewhere
)
# module:function → why it may read: none of these is a file of the config repository.
ALLOWED = {
    "builtin/datafiles.py:load": "package data (catalogue, advisories)",
    "builtin/precompile.py:sources": "package data, for the precompiled cache",
    "builtin/precompiled.py:_entries": "package data: the precompiled cache",
    "builtin/precompiled.py:digest": "package data: a built-in pack's digest",
    "policy/packs.py:schema": "package data: the pack and waiver schemas",
    "policy/packs.py:_pack_files": "package data: the built-in packs",
    "policy/packs.py:quick_pack": "package data: a built-in pack",
    "policy/packs.py:_load": "a built-in pack, or the one file `hks policy test FILE` names (through load's reader)",
    "render/components/gateway.py:_config_volume": "package data: templates/gateway",
    "render/components/gateway.py:_auth_module": "package data: templates/gateway",
    "render/components/ollama.py:_ollama_config": "package data: the model pull scripts",
    "builtin/kubeschemas.py:_custom_schema": "package data: CRD schemas",
    "builtin/kubeschemas.py:versions": "package data: the Kubernetes releases kubernetes-validate has schemas for",
}


def file_reads() -> list[str]:
    """Every call that reads or lists files outside the I/O modules, as module:function:call:line."""
    found: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = path.relative_to(PACKAGE).as_posix()
        if module.startswith(IO_BY_DESIGN):
            continue
        found += _reads(module, ast.parse(path.read_text("utf-8")))
    return found


def _reads(module: str, tree: ast.AST) -> list[str]:
    found: list[str] = []

    def visit(node: ast.AST, where: str) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            where = node.name if where == "<module>" else f"{where}.{node.name}"
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in READS:
                found.append(f"{module}:{where}:{name}:{node.lineno}")
        for child in ast.iter_child_nodes(node):
            visit(child, where)

    visit(tree, "<module>")
    return found


def test_no_module_after_load_reads_files_but_package_data() -> None:
    unexpected = [read for read in file_reads() if read.rsplit(":", 2)[0] not in ALLOWED]
    assert unexpected == [], "read it in compiler/load/ and pass it on in Sources (or allow package data here)"


def test_the_allow_list_names_only_reads_that_exist() -> None:
    assert {read.rsplit(":", 2)[0] for read in file_reads()} == set(ALLOWED)


def test_the_scan_finds_a_read() -> None:
    tree = ast.parse("def f(p):\n    return p.read_text() + open(p).read()\n")
    assert _reads("x.py", tree) == ["x.py:f:read_text:2", "x.py:f:open:2"]


ORG = "llm_config:\n  provider: openai\n  model: gpt-5.4-mini\nworkspaces:\n  app: {}\n"
PACK = (
    "pack: team\nrules:\n  - id: TEAM-001\n    framework: internal\n    severity: error\n    title: t\n"
    "    message: m\n    remediation: r\n    condition: {}\n    examples: {pass: [], fail: []}\n"
)


def test_sources_carry_packs_waivers_and_secrets(tmp_path: Path) -> None:
    repo = write(
        tmp_path / "repo",
        {
            "org.yaml": ORG,
            "policies/team.yaml": PACK,
            "policies/waivers.yaml": "waivers: []\n",
            "secrets/b.yaml": "kind: SealedSecret\n",
            "secrets/a.yml": "kind: SealedSecret\n",
            "secrets/notes.txt": "not read\n",
        },
    )
    sources, diagnostics = load_repo(str(repo))
    assert diagnostics == []
    assert [p.path for p in sources.policies] == [str(repo / "policies" / "team.yaml")]
    assert sources.policies[0].doc is not None and sources.policies[0].text == PACK
    assert sources.waivers is not None and sources.waivers.path == str(repo / "policies" / "waivers.yaml")
    assert [Path(s.path).name for s in sources.secrets] == ["a.yml", "b.yaml"]
    assert all(s.doc is not None and s.text is None for s in sources.secrets)  # the scan reads their values


def test_pending_edits_cover_packs_waivers_and_secrets(tmp_path: Path) -> None:
    repo = write(tmp_path / "repo", {"org.yaml": ORG, "policies/waivers.yaml": "waivers: []\n"})
    pending = {
        repo / "policies" / "team.yaml": PACK.encode(),
        repo / "policies" / "waivers.yaml": b"waivers: nope\n",
        repo / "secrets" / "openai-api-key.yaml": b"kind: SealedSecret\n",
    }
    sources, _ = load_repo(str(repo), pending)
    assert [Path(p.path).name for p in sources.policies] == ["team.yaml"]
    assert sources.waivers is not None and sources.waivers.doc is not None
    assert sources.waivers.doc.data == {"waivers": "nope"}
    assert [Path(s.path).name for s in sources.secrets] == ["openai-api-key.yaml"]
    assert not (repo / "policies" / "team.yaml").exists() and not (repo / "secrets").exists()
    # and the stages see them: the pending waivers file is checked, the pending pack's rule is known
    rules = {d.rule for d in compile_config(str(repo), pending=pending).diagnostics}
    assert "WAIVER-005" in rules
    assert "WAIVER-005" not in {d.rule for d in compile_config(str(repo)).diagnostics}


def test_a_pending_pack_is_scanned_for_secrets(tmp_path: Path) -> None:
    repo = write(tmp_path / "repo", {"org.yaml": ORG})
    token = "ghp_" + "Pq4" * 12
    pending = {repo / "policies" / "team.yaml": (PACK + f"# contact: {token}\n").encode()}
    found = [d for d in compile_config(str(repo), pending=pending).diagnostics if d.rule == "SEC-001"]
    assert [(Path(d.position.path).name, d.position.line) for d in found] == [("team.yaml", 11)]
