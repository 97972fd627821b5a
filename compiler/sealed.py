"""The SealedSecrets kept in the config repository's `secrets/` folder (sealed-secrets backend).

`hks secret create` writes them; here they are read back, checked against what the gateway
references, and passed through to the rendered folder unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compiler.config import Config
from compiler.diagnostics import Diagnostic, Position, error
from compiler.load import Document, load_file, to_plain

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
    return {f.name: f for f in _read(config.root)[0]}


def check(config: Config, needed: dict[str, list[str]], where: Position) -> list[Diagnostic]:
    """`needed`: Secret name → the data keys the gateway reads from it."""
    files, diagnostics = _read(config.root)
    by_name = {f.name: f for f in files}
    namespace = config.org.cluster.namespace
    for f in files:
        diagnostics += _check_scope(f, namespace)
    for name, keys in needed.items():
        found = by_name.get(name)
        if found is None:
            diagnostics.append(
                error(
                    where,
                    "SEC-002",
                    f"the gateway needs the Secret '{name}', and {FOLDER}/{name}.yaml holds no SealedSecret for it",
                    hint=f"create it with `hks secret create {name} --from-literal={keys[0]}=-`",
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


def _read(root: str) -> tuple[list[SealedFile], list[Diagnostic]]:
    folder = Path(root) / FOLDER
    if not folder.is_dir():
        return [], []
    files: list[SealedFile] = []
    diagnostics: list[Diagnostic] = []
    for path in sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()):
        doc, found = load_file(path)
        diagnostics += found
        if doc is None:
            continue
        problem = _shape_problem(doc)
        if problem:
            diagnostics.append(problem)
        else:
            files.append(SealedFile(doc, to_plain(doc.data)))
    return files, diagnostics


def _shape_problem(doc: Document) -> Diagnostic | None:
    data = doc.data
    if data.get("apiVersion") != API_VERSION or data.get("kind") != "SealedSecret":
        return error(doc.position(), "SEC-003", f"a file in {FOLDER}/ must be a SealedSecret ({API_VERSION})")
    metadata = data.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
        return error(doc.position(), "SEC-003", "the SealedSecret has no metadata.name")
    expected = Path(doc.path).stem
    if metadata["name"] != expected:
        return error(
            doc.position(("metadata", "name")),
            "SEC-003",
            f"the SealedSecret is named '{metadata['name']}' but its file says '{expected}'",
        )
    spec = data.get("spec")
    encrypted = spec.get("encryptedData") if isinstance(spec, dict) else None
    if not isinstance(encrypted, dict) or not all(isinstance(v, str) and v for v in encrypted.values()):
        return error(doc.position(), "SEC-003", "the SealedSecret needs spec.encryptedData: data keys → sealed values")
    return None


def _check_scope(f: SealedFile, namespace: str) -> list[Diagnostic]:
    metadata = f.body["metadata"]
    annotations = metadata.get("annotations") or {}
    if any(str(annotations.get(a)).lower() == "true" for a in _SCOPE_ANNOTATIONS):
        return []
    if metadata.get("namespace") != namespace:
        return [
            error(
                f.doc.position(("metadata", "namespace") if "namespace" in metadata else ("metadata",)),
                "SEC-003",
                f"the SealedSecret '{f.name}' is sealed for namespace '{metadata.get('namespace')}', "
                f"but the gateway runs in '{namespace}': the controller would refuse to unseal it",
                hint="seal it again with `hks secret create`",
            )
        ]
    return []
