"""`hks diff`: what a change to the config does, at two levels.

1. The effective LLM settings of each workspace (provider, model, parameters, limits,
   compliance), as `hks explain` shows them, before and after.
2. The rendered resources, by kind/namespace/name: added, removed, or changed with a unified
   diff. Of a Secret or SealedSecret only its name, labels and type and the keys of its data
   are shown, never a value (see SHOWN).

Pure functions: the command reads Git and the folders, this module compares and formats.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from compiler.merge import Workspace

Settings = dict[str, Any]  # dotted key → effective value, in model order
HIDDEN = "(hidden)"
HIDDEN_CHANGED = "(hidden, changed)"


@dataclass(frozen=True)
class SettingChange:
    key: str
    before: Any  # None: not set
    after: Any


@dataclass(frozen=True)
class WorkspaceDiff:
    name: str
    status: str  # added, removed, changed
    changes: tuple[SettingChange, ...]
    settings: Settings = field(default_factory=dict)  # the new settings of an added workspace


def _group(path: str) -> str:
    """The workspace a rendered file belongs to, or `platform` / `argocd`."""
    parts = path.split("/")
    if parts[0] == "workspaces" and len(parts) > 2:
        return parts[1]
    return parts[0] if parts[0] == "argocd" else "platform"


@dataclass(frozen=True)
class ResourceDiff:
    kind: str
    namespace: str
    name: str
    path: str
    status: str  # added, removed, changed
    patch: str  # a unified diff for a changed resource, secret values hidden

    @property
    def group(self) -> str:
        return _group(self.path)

    @property
    def title(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"


@dataclass(frozen=True)
class FileDiff:
    """A rendered file whose text differs where no resource does; never its content, which
    may hold anything (a file that cannot be parsed may still be a Secret)."""

    path: str
    status: str  # added, removed, changed
    why: str

    @property
    def group(self) -> str:
        return _group(self.path)


@dataclass(frozen=True)
class Diff:
    base: str  # what was compared with: a revision or a folder
    workspaces: tuple[WorkspaceDiff, ...]
    resources: tuple[ResourceDiff, ...]
    notes: tuple[str, ...] = ()
    files: tuple[FileDiff, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.workspaces or self.resources or self.files)


# --- the settings level --------------------------------------------------------------------------


def settings(workspace: Workspace) -> Settings:
    found = _flatten(workspace.llm.model_dump(mode="json", exclude_none=True))
    found["namespace"] = workspace.namespace.value
    found["compliance"] = [c.value for c in workspace.compliance]
    if workspace.data_residency is not None:
        found["data_residency"] = workspace.data_residency.value
    return found


def settings_from_rendered(files: dict[str, str]) -> dict[str, Settings]:
    """What a rendered folder says of each workspace's settings: its routing ConfigMap's
    `settings.json` and namespace (compliance and residency are not rendered)."""
    found: dict[str, Settings] = {}
    for path, text in files.items():
        match = re.fullmatch(r"workspaces/([^/]+)/configmap-llm-routing\.yaml", path)
        document = _load(text) if match else None
        if not match or not isinstance(document, dict) or document.get("kind") != "ConfigMap":
            continue  # a Secret put in its place must not have its data shown as settings
        try:
            values = json.loads(document["data"]["settings.json"])
            namespace = document["metadata"]["namespace"]
        except (KeyError, TypeError, ValueError, RecursionError):
            continue
        if isinstance(values, dict):
            found[match.group(1)] = {**_flatten(values), "namespace": namespace}
    return found


def _flatten(value: dict[str, Any], prefix: str = "") -> Settings:
    flat: Settings = {}
    for key, item in value.items():
        if isinstance(item, dict) and item:
            flat.update(_flatten(item, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = item
    return flat


def compare_settings(before: dict[str, Settings], after: dict[str, Settings], keys: set[str] | None = None) -> list[WorkspaceDiff]:
    """Per workspace, in name order; `keys` limits the comparison to what both sides know."""
    found = []
    for name in sorted(set(before) | set(after)):
        if name not in before:
            found.append(WorkspaceDiff(name, "added", (), after[name]))
            continue
        if name not in after:
            found.append(WorkspaceDiff(name, "removed", ()))
            continue
        old, new = before[name], after[name]
        order = list(new) + [k for k in old if k not in new]
        changes = tuple(
            SettingChange(key, old.get(key), new.get(key))
            for key in order
            if (keys is None or key in keys) and old.get(key) != new.get(key)
        )
        if changes:
            found.append(WorkspaceDiff(name, "changed", changes))
    return found


# --- the resource level ------------------------------------------------------------------------


Key = tuple[str, str, str]  # kind, namespace, name
_UNPARSABLE = object()


def compare_rendered(before: dict[str, str], after: dict[str, str]) -> tuple[list[ResourceDiff], list[FileDiff]]:
    """Two rendered folders (path → text): the resources by kind/namespace/name (a resource may
    move to another file), then every other file whose text differs, so that nothing `hks
    render --check` would report goes unseen."""
    old_documents, new_documents = _documents(before), _documents(after)
    old, new = _resources(old_documents), _resources(new_documents)
    resources = _compare_resources(old, new)
    keys = {(r.kind, r.namespace, r.name) for r in resources}
    explained = {side[key][0] for side in (old, new) for key in keys if key in side}
    files = []
    for path in sorted(set(before) | set(after)):
        if before.get(path) == after.get(path) or path in explained:
            continue
        status = "added" if path not in before else "removed" if path not in after else "changed"
        found = [documents[path] for documents in (old_documents, new_documents) if path in documents]
        files.append(FileDiff(path, status, _why(path, status, found)))
    return resources, files


def _why(path: str, status: str, documents: list[Any]) -> str:
    if any(d is _UNPARSABLE for d in documents):
        return "cannot be parsed"
    if any(_key(path, d) is None for d in documents):
        return "not a Kubernetes resource"
    return "only comments or formatting differ" if status == "changed" else "a moved or duplicated resource"


def _compare_resources(old: dict[Key, tuple[str, Any]], new: dict[Key, tuple[str, Any]]) -> list[ResourceDiff]:
    found = []
    for key in set(old) | set(new):
        kind, namespace, name = key
        if key not in old:
            found.append(ResourceDiff(kind, namespace, name, new[key][0], "added", ""))
        elif key not in new:
            found.append(ResourceDiff(kind, namespace, name, old[key][0], "removed", ""))
        elif old[key][1] != new[key][1]:
            (old_path, old_doc), (new_path, new_doc) = old[key], new[key]
            patch = _patch(old_path, old_doc, new_path, new_doc)
            found.append(ResourceDiff(kind, namespace, name, new_path, "changed", patch))
    return sorted(found, key=lambda r: (r.path, r.title))


def _documents(files: dict[str, str]) -> dict[str, Any]:
    return {path: _load(text) for path, text in files.items()}


def _resources(documents: dict[str, Any]) -> dict[Key, tuple[str, Any]]:
    """Each resource in the first file (in path order) that holds it; a copy in another file is
    left to the file level."""
    found: dict[Key, tuple[str, Any]] = {}
    for path, document in sorted(documents.items()):
        key = _key(path, document)
        if key is not None and key not in found:
            found[key] = (path, document)
    return found


def _key(path: str, document: Any) -> Key | None:
    """A Kubernetes resource's kind/namespace/name; None for anything else."""
    if path.rsplit("/", 1)[-1] == "kustomization.yaml" or not isinstance(document, dict):
        return None
    metadata, kind = document.get("metadata"), document.get("kind")
    if not isinstance(metadata, dict) or not isinstance(kind, str) or not kind:
        return None
    return (kind, str(metadata.get("namespace", "")), str(metadata.get("name", "")))


def _load(text: str) -> Any:
    """One YAML document as plain values, or _UNPARSABLE (several documents count as such). Read
    by libyaml where load/yamlfast.py reads it exactly as ruamel would (a quarter of the time),
    else by ruamel."""
    from compiler.load import yamlfast
    from compiler.load.parse import MAX_DEPTH, MAX_NODES, MAX_STRING_CHARS

    fast = yamlfast.read(text, MAX_DEPTH, MAX_NODES, MAX_STRING_CHARS)
    return _load_by_ruamel(text) if fast is yamlfast.UNSURE else _plain(fast)


def _load_by_ruamel(text: str) -> Any:
    from ruamel.yaml import YAML

    try:
        return _plain(YAML(typ="safe", pure=True).load(text))
    # YAMLError, ValueError (a date such as 2024-13-45), RecursionError, and ruamel's own
    # failures on hostile input (an AssertionError for `%YAML 1.3`): nothing to compare
    except Exception:
        return _UNPARSABLE


def _plain(value: Any) -> Any:
    """Timestamps, binary and sets as text: a patch is written with hks's own YAML writer."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, (str, int, float)):
        return value
    return str(value)


SECRET_KINDS = ("Secret", "SealedSecret")
# All a reviewer sees of a Secret or SealedSecret: these values whole; of any other mapping its
# keys; of anything else, whatever its shape, only whether it changed.
SHOWN = {
    *[("metadata", key) for key in ("name", "namespace", "labels")],
    *[(key,) for key in ("apiVersion", "kind", "type", "immutable")],
    *[("spec", "template", key) for key in ("type", "immutable")],
    *[("spec", "template", "metadata", key) for key in ("name", "namespace", "labels")],
}
_MISSING = object()


def _patch(old_path: str, old: Any, new_path: str, new: Any) -> str:
    from compiler.yamlout import dump

    old, new = _hide_secrets(old, new)
    return "".join(
        difflib.unified_diff(
            dump(old).splitlines(keepends=True),
            dump(new).splitlines(keepends=True),
            fromfile=f"a/{old_path}",
            tofile=f"b/{new_path}",
        )
    )


def _hide_secrets(old: Any, new: Any) -> tuple[Any, Any]:
    """Copies of a Secret or SealedSecret with every value SHOWN does not name replaced:
    `(hidden)`, or `(hidden, changed)` on the new side where it differs, so a reviewer sees
    which key changed and nothing else."""
    if str(new.get("kind")) not in SECRET_KINDS and str(old.get("kind")) not in SECRET_KINDS:
        return old, new
    return _mask(old, old, ()), _mask(new, old, ())


def _mask(value: Any, before: Any, path: tuple[Any, ...]) -> Any:
    """VALUE at PATH with what SHOWN does not name hidden; BEFORE is the old side's value there."""
    if path in SHOWN:
        return value
    if not isinstance(value, dict):
        return _marker(value, before)
    if any(shown[: len(path)] == path for shown in SHOWN):
        return {key: _mask(item, _get(before, key), (*path, key)) for key, item in value.items()}
    return {key: _marker(item, _get(before, key)) for key, item in value.items()}


def _marker(value: Any, before: Any) -> str:
    return HIDDEN if before is not _MISSING and before == value else HIDDEN_CHANGED


def _get(value: Any, key: Any) -> Any:
    return value.get(key, _MISSING) if isinstance(value, dict) else _MISSING


# --- output ------------------------------------------------------------------------------------


def show(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(show(v) for v in value) if value else "none"
    if isinstance(value, dict):
        if set(value) >= {"provider", "model"}:
            return f"{value['provider']}/{value['model']}"
        return json.dumps(value, sort_keys=True)
    return str(value)


def summary(workspace: WorkspaceDiff) -> str:
    if workspace.status == "removed":
        return "removed"
    if workspace.status == "added":
        s = workspace.settings
        return f"added (provider {show(s.get('provider'))}, model {show(s.get('model'))})"
    return ", ".join(f"{c.key} {show(c.before)} → {show(c.after)}" for c in workspace.changes)


def _counts(items: tuple[ResourceDiff | FileDiff | WorkspaceDiff, ...]) -> str:
    n = {s: sum(i.status == s for i in items) for s in ("added", "removed", "changed")}
    return f"{n['added']} added, {n['removed']} removed, {n['changed']} changed"


MARKS = {"added": "+", "removed": "-", "changed": "~"}


def text(diff: Diff, colour: bool = False) -> str:
    import click

    def style(line: str, **kwargs: Any) -> str:
        return click.style(line, **kwargs) if colour else line

    lines = [style(f"hks diff: {diff.base} → working tree", bold=True)]
    lines += [f"note: {note}" for note in diff.notes]
    if not diff.changed:
        return "\n".join(lines + ["no changes"]) + "\n"
    lines.append("")
    lines.append(style(f"Workspaces: {_counts(diff.workspaces)}" if diff.workspaces else "Workspaces: no setting changed", bold=True))
    for workspace in diff.workspaces:
        lines.append(f"  {workspace.name}: {summary(workspace)}")
    lines.append("")
    lines.append(style(f"Resources: {_counts(diff.resources)}", bold=True))
    colours = {"added": "green", "removed": "red", "changed": "yellow"}
    for resource in diff.resources:
        lines.append(style(f"  {MARKS[resource.status]} {resource.title}  ({resource.path})", fg=colours[resource.status]))
    if diff.files:
        lines.append(style(f"Other files: {_counts(diff.files)}", bold=True))
    for file in diff.files:
        lines.append(style(f"  {MARKS[file.status]} {file.path}  ({file.why})", fg=colours[file.status]))
    patches = [r.patch for r in diff.resources if r.patch]
    if patches:
        lines.append("")
        for patch in patches:
            for line in patch.splitlines():
                fg = "green" if line.startswith("+") else "red" if line.startswith("-") else "cyan" if line.startswith("@@") else None
                lines.append(style(line, fg=fg) if fg else line)
    return "\n".join(lines) + "\n"


def _code(value: str) -> str:
    """A Markdown code span that holds any text: the fence is longer than any run of backticks."""
    value = value.replace("\n", " ")
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", value)), default=0) + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{ticks}{pad}{value}{pad}{ticks}".replace("|", "\\|")


def _fence(body: str, info: str = "") -> list[str]:
    ticks = "`" * max(3, max((len(run) for run in re.findall(r"`{3,}", body)), default=0) + 1)
    return [f"{ticks}{info}", body.rstrip("\n"), ticks]


# GitHub refuses a comment body over 65,536 characters; GitLab's notes allow more.
MARKDOWN_LIMIT = 60_000


def markdown(diff: Diff, colour: bool = False) -> str:
    """A pull-request comment: a table of what changes per workspace, then one collapsible
    section per workspace (and for the platform) with its settings and resource diffs. When
    the resource diffs would make it too long to post, they are left out with a note."""
    text = _markdown(diff, patches=True)
    if len(text) <= MARKDOWN_LIMIT:
        return text
    note = "The resource diffs are left out: with them this comment would be too long to post. Run `hks diff` to see them."
    return _markdown(dataclasses.replace(diff, notes=diff.notes + (note,)), patches=False)


def _markdown(diff: Diff, patches: bool) -> str:
    lines = ["### hks diff", ""]
    lines.append(f"Compared with {_code(diff.base)}.")
    lines += [f"> {note}" for note in diff.notes]
    lines.append("")
    if not diff.changed:
        return "\n".join(lines + ["No changes to the effective settings or the rendered resources."]) + "\n"
    if diff.workspaces:
        lines += ["| Workspace | What changes |", "|---|---|"]
        for workspace in diff.workspaces:
            lines.append(f"| **{workspace.name}** | {_markdown_summary(workspace)} |")
        lines.append("")
    lines.append(f"Rendered resources: {_counts(diff.resources)}.")
    if diff.files:
        lines[-1] += f" Other rendered files: {_counts(diff.files)}."
    lines.append("")
    rendered = diff.resources + diff.files
    groups = sorted({w.name for w in diff.workspaces} | {r.group for r in rendered if r.group not in ("platform", "argocd")})
    by_name = {w.name: w for w in diff.workspaces}
    for group in groups + ["platform", "argocd"]:
        resources = [r for r in diff.resources if r.group == group]
        files = [f for f in diff.files if f.group == group]
        found = by_name.get(group)
        if not resources and not files and found is None:
            continue
        label = {"platform": "Platform", "argocd": "Argo CD"}.get(group, group)
        parts = []
        if found is not None:
            changed = f"{_plural(len(found.changes), 'setting')} changed"
            parts.append(found.status if found.status != "changed" else changed)
        if resources:
            parts.append(_plural(len(resources), "resource"))
        if files:
            parts.append(_plural(len(files), "other file"))
        lines += ["<details>", f"<summary><b>{label}</b>: {', '.join(parts)}</summary>", ""]
        if found is not None and found.changes:
            lines += ["| Setting | Before | After |", "|---|---|---|"]
            for change in found.changes:
                lines.append(f"| {change.key} | {_code(show(change.before))} | {_code(show(change.after))} |")
            lines.append("")
        for resource in resources:
            lines.append(f"{resource.status.capitalize()}: {_code(resource.title)} ({_code(resource.path)})")
            lines.append("")
            if resource.patch and patches:
                lines += _fence(resource.patch, "diff")
                lines.append("")
        for file in files:
            lines += [f"{file.status.capitalize()} file: {_code(file.path)} ({file.why})", ""]
        lines += ["</details>", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _markdown_summary(workspace: WorkspaceDiff) -> str:
    if workspace.status != "changed":
        return summary(workspace).replace("|", "\\|")
    return ", ".join(f"{c.key} {_code(show(c.before))} → {_code(show(c.after))}" for c in workspace.changes)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def as_json(diff: Diff, colour: bool = False) -> str:
    document = {
        "base": diff.base,
        "changed": diff.changed,
        "notes": list(diff.notes),
        "workspaces": [
            {
                "name": w.name,
                "status": w.status,
                "changes": [{"key": c.key, "before": c.before, "after": c.after} for c in w.changes],
                **({"settings": w.settings} if w.status == "added" else {}),
            }
            for w in diff.workspaces
        ],
        "resources": [
            {"kind": r.kind, "namespace": r.namespace, "name": r.name, "path": r.path, "status": r.status, "diff": r.patch}
            for r in diff.resources
        ],
        "files": [{"path": f.path, "status": f.status, "why": f.why} for f in diff.files],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


FORMATS: dict[str, Callable[[Diff, bool], str]] = {"json": as_json, "markdown": markdown, "text": text}
