"""The SealedSecrets kept in the config repository's `secrets/` folder (sealed-secrets backend).

`hks secret create` writes them; here they are read back, checked against what the gateway
references, and passed through to the rendered folder unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler.checks.secrets import scan_secrets
from compiler.diagnostics import Diagnostic, Position, error
from compiler.load.parse import Document, to_plain
from compiler.model.config import Config

RULES: dict[str, str] = {
    "SEC-002": "referenced Secret has no SealedSecret",
    "SEC-003": "malformed or mis-scoped SealedSecret",
    "SEC-005": "two files in secrets/ seal the same Secret",
}

FOLDER = "secrets"
API_VERSION = "bitnami.com/v1alpha1"
# Sealed Secrets' scope annotations: without them the secret is bound to its name and namespace.
_SCOPE_ANNOTATIONS = ("sealedsecrets.bitnami.com/cluster-wide", "sealedsecrets.bitnami.com/namespace-wide")


@dataclass(frozen=True)
class SealedFile:
    doc: Document
    body: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.body["metadata"]["name"])


def sealed_secrets(config: Config) -> dict[str, SealedFile]:
    """The valid SealedSecrets, each placed in the gateway's namespace."""
    namespace = config.org.cluster.namespace
    found = {}
    for f in _read(config)[0]:
        body = {**f.body, "metadata": {**f.body["metadata"], "namespace": namespace}}
        found[f.name] = SealedFile(f.doc, body)
    return found


def check(config: Config, needed: dict[str, list[str]], where: Position) -> list[Diagnostic]:
    """`needed`: Secret name → the data keys the gateway reads from it."""
    files, diagnostics = _read(config)
    by_name = {f.name: f for f in files}
    namespace = config.org.cluster.namespace
    for f in files:
        diagnostics += _check_scope(f, namespace)
    diagnostics += _twice(files)
    for name, keys in needed.items():
        found = by_name.get(name)
        if found is None:
            diagnostics.append(
                error(
                    where,
                    "SEC-002",
                    f"the gateway needs the Secret '{name}', and {FOLDER}/{name}.yaml holds no SealedSecret for it",
                    hint=f"seal it into {FOLDER}/{name}.yaml (`kubeseal`, or `hks secret create {name} --from-literal={keys[0]}=-`)",
                )
            )
            continue
        data = found.body["spec"].get("encryptedData") or {}
        for key in keys:
            if key not in data:
                diagnostics.append(
                    error(
                        found.doc.position(("spec", "encryptedData"), key=True),
                        "SEC-002",
                        f"the SealedSecret '{name}' has no data key '{key}', which the gateway reads",
                    )
                )
    return diagnostics


def _twice(files: list[SealedFile]) -> list[Diagnostic]:
    """Render keeps one SealedSecret per name: a second file of the same name would be dropped
    without a word (a rotated key written beside the old one, say)."""
    first: dict[str, SealedFile] = {}
    found = []
    for f in files:
        if f.name in first:
            found.append(error(
                f.doc.position(("metadata", "name")),
                "SEC-005",
                f"the SealedSecret '{f.name}' is also sealed in {first[f.name].doc.path}: render would keep only one of them",
                hint="keep one file per Secret: merge their encryptedData, then delete the other file",
            ))
        else:
            first[f.name] = f
    return found


def _read(config: Config) -> tuple[list[SealedFile], list[Diagnostic]]:
    """The secrets/ files load read, each valid one as a SealedFile, and the others' problems."""
    files: list[SealedFile] = []
    diagnostics: list[Diagnostic] = []
    for loaded in config.secrets:
        doc = loaded.doc
        diagnostics += loaded.problems
        if doc is None:
            continue
        leaked = scan_secrets([doc])
        problems = leaked or shape_problems(doc, config.org.cluster.kubernetes_version)
        diagnostics += problems
        if not problems:
            files.append(SealedFile(doc, to_plain(doc.data)))
    return files, diagnostics


def shape_problems(doc: Document, version: str) -> list[Diagnostic]:
    """SEC-003: what is wrong with `doc` as a SealedSecret of secrets/ (none: it is one), checked
    against the SealedSecret's own schema for Kubernetes `version`."""
    from compiler.builtin import kubeschemas as k8s

    data = doc.data
    if data.get("apiVersion") != API_VERSION or data.get("kind") != "SealedSecret":
        return [error(doc.position(), "SEC-003", f"a file in {FOLDER}/ must be a SealedSecret ({API_VERSION})")]
    found = [
        error(doc.position(path), "SEC-003", f"{'.'.join(map(str, path)) or 'the SealedSecret'}: {message}")
        for path, message in k8s.errors(to_plain(data), version)
    ]
    if found:
        return found
    expected = Path(doc.path).stem
    if data["metadata"].get("name") != expected:
        return [
            error(
                doc.position(("metadata", "name") if "name" in data["metadata"] else ("metadata",)),
                "SEC-003",
                f"the SealedSecret's metadata.name must be its file's name, '{expected}'",
            )
        ]
    bad = [key for key, value in data["spec"].get("encryptedData", {}).items() if not _is_base64(value)]
    return [
        error(doc.position(("spec", "encryptedData", key)), "SEC-003", f"encryptedData.{key} is not a sealed (base64) value")
        for key in bad
    ]


def _is_base64(value: str) -> bool:
    import base64
    import binascii

    try:
        return len(value) >= 16 and bool(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        return False


def _check_scope(f: SealedFile, namespace: str) -> list[Diagnostic]:
    """The Secret must land where the gateway runs; a cluster-wide sealed file may leave the
    namespace out (hks then renders it into the gateway's)."""
    metadata = f.body["metadata"]
    annotations = metadata.get("annotations") or {}
    wide = any(str(annotations.get(a)).lower() == "true" for a in _SCOPE_ANNOTATIONS)
    if metadata.get("namespace") == namespace or (wide and "namespace" not in metadata):
        return []
    return [
        error(
            f.doc.position(("metadata", "namespace") if "namespace" in metadata else ("metadata",)),
            "SEC-003",
            f"the SealedSecret '{f.name}' is for namespace '{metadata.get('namespace')}', "
            f"but the gateway runs in '{namespace}': the Secret would not reach it",
            hint="seal it again for the gateway's namespace",
        )
    ]
