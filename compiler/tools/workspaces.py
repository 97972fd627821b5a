"""Where each workspace is defined, for the editing commands: its own file in workspaces/, or an
entry under `workspaces:` in org.yaml."""

from __future__ import annotations

from pathlib import Path

from compiler.load.repo import workspace_files_named
from compiler.tools import edit
from compiler.tools.edit_transaction import open_checked

OWN_FILE_AT = ("llm_override",)  # where a workspace's overrides are in its own file


def workspaces(root: Path) -> list[tuple[str, str]]:
    """Each workspace's name and the file that defines it, sorted by name (a file in workspaces/
    wins over an entry in org.yaml)."""
    found = {}
    org_path = root / "org.yaml"
    loaded, _ = edit.open_file(org_path)
    for key in (edit.find(loaded.data, ("workspaces",)) if loaded else None) or {}:
        found[str(key)] = str(org_path)
    for path in workspace_files_named(root):
        found[path.stem] = str(path)
    return sorted(found.items())


def names(root: Path) -> list[str]:
    return [name for name, _ in workspaces(root)]


def locate(root: Path, name: str) -> tuple[edit.YamlFile | None, tuple[str, ...]]:
    """The file that defines the workspace (None: no such workspace), and where its llm_override
    is in it."""
    for suffix in (".yaml", ".yml"):
        path = root / "workspaces" / f"{name}{suffix}"
        if path.is_file():
            return open_checked(path), OWN_FILE_AT
    org_path = root / "org.yaml"
    if org_path.is_file():
        org = open_checked(org_path)
        inline = edit.find(org.data, ("workspaces",))
        if inline is not None and hasattr(inline, "keys") and name in inline:
            return org, ("workspaces", name, "llm_override")
    return None, OWN_FILE_AT


def provider(org: edit.YamlFile, target: edit.YamlFile | None, at: tuple[str, ...]) -> str | None:
    """The provider a workspace uses now: its override's, or the organisation's."""
    own = edit.find(target.data, at + ("provider",)) if target is not None else None
    return str(own or edit.find(org.data, ("llm_config", "provider")) or "") or None


def is_name(name: str) -> bool:
    """A workspace's name as the model takes it (model.DNS_LABEL: it names a namespace)."""
    import re

    from compiler.model.model import DNS_LABEL

    return re.fullmatch(DNS_LABEL, name) is not None
