"""Strict Kubernetes schema validation of rendered documents, offline.

Uses the schemas shipped in the kubernetes-validate package (its `-strict` variants, which
reject unknown fields), with one compiled validator per kind and version: validating thousands
of documents must not reload a schema each time.
"""

from __future__ import annotations

import functools
import re
from typing import Any


def latest_version() -> str:
    from kubernetes_validate.utils import latest_version as latest

    return str(latest())


def supported(version: str) -> bool:
    from kubernetes_validate.utils import all_versions, major_minor

    return any(major_minor(v) == version for v in all_versions())


@functools.cache
def _validator(version: str, kind: str, api_version: str) -> Any:
    import jsonschema
    from kubernetes_validate.utils import all_versions, major_minor, schema_contents
    from referencing import Registry, Resource

    exact = [v for v in all_versions() if major_minor(v) == version][-1]
    folder = f"kubernetes-json-schema/v{exact}-local-strict"
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    schema = schema_contents(f"{folder}/{kind.lower()}-{group}.json", version)
    definitions = schema_contents(f"{folder}/_definitions.json", version)
    registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.Draft202012Validator(schema, registry=registry)


def problems(document: dict[str, Any], version: str) -> list[str]:
    """Why `document` is not a valid object for Kubernetes `version`; empty when it is."""
    try:
        validator = _validator(version, document["kind"], document["apiVersion"])
    except FileNotFoundError:
        return [f"no schema for {document['apiVersion']} {document['kind']} in Kubernetes {version}"]
    return [
        f"{'.'.join(str(p) for p in error.absolute_path) or '(top)'}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    ]
