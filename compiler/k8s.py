"""Strict Kubernetes schema validation of rendered documents, offline.

Built-in kinds use the schemas shipped in the kubernetes-validate package (its `-strict`
variants, which reject unknown fields); the custom kinds hks emits use the project's own
schemas in `schemas/crds/<group>/<kind>_<version>.json`, whose `metadata` refers to the same
Kubernetes definitions. One compiled validator per kind and version: validating thousands of
documents must not reload a schema each time.
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
    from kubernetes_validate.utils import schema_contents
    from referencing import Resource

    custom = _custom_schema(kind, api_version)
    if custom is not None:
        schema = custom
    else:
        group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
        schema = schema_contents(f"{_folder(version)}/{kind.lower()}-{group}.json", version)
    registry = _definitions(version).with_resource("", Resource.from_contents(schema)).crawl()
    return jsonschema.Draft202012Validator(schema, registry=registry)


def _folder(version: str) -> str:
    from kubernetes_validate.utils import all_versions, major_minor

    exact = [v for v in all_versions() if major_minor(v) == version][-1]
    return f"kubernetes-json-schema/v{exact}-local-strict"


@functools.cache
def _definitions(version: str) -> Any:
    """The version's shared definitions, crawled once for every kind: an uncrawled registry is
    crawled again on every `$ref` lookup (~80 ms each; render_scale.py saw 230 ms a workspace)."""
    from kubernetes_validate.utils import schema_contents
    from referencing import Registry, Resource

    definitions = schema_contents(f"{_folder(version)}/_definitions.json", version)
    return Registry().with_resources([("_definitions.json", Resource.from_contents(definitions))]).crawl()


def _custom_schema(kind: str, api_version: str) -> Any:
    """The project's own schema of a custom kind, or None for a built-in kind."""
    import json

    from compiler.resources import data_dir

    group, _, version = api_version.rpartition("/")
    if "." not in group or group.endswith(".k8s.io"):
        return None
    path = data_dir("schemas") / "crds" / group / f"{kind.lower()}_{version}.json"
    if not path.is_file():
        raise FileNotFoundError(path)
    return json.loads(path.read_text("utf-8"))


def errors(document: dict[str, Any], version: str) -> list[tuple[tuple[Any, ...], str]]:
    """Where and why `document` fails its schema (raises FileNotFoundError for an unknown kind)."""
    validator = _validator(version, document["kind"], document["apiVersion"])
    found = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    return [(tuple(e.absolute_path), e.message) for e in found]


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
