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


@functools.cache
def _validator(version: str, kind: str, api_version: str) -> Any:
    import jsonschema

    schema, registry = _schema(version, kind, api_version)
    return jsonschema.Draft202012Validator(schema, registry=registry)


@functools.cache
def _schema(version: str, kind: str, api_version: str) -> tuple[Any, Any]:
    """The kind's schema, and the registry its references resolve in."""
    from kubernetes_validate.utils import schema_contents
    from referencing import Resource

    custom = _custom_schema(kind, api_version)
    if custom is not None:
        schema = custom
    else:
        group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
        schema = schema_contents(f"{_folder(version)}/{kind.lower()}-{group}.json", version)
    return schema, _definitions(version).with_resource("", Resource.from_contents(schema)).crawl()


@functools.cache
def versions() -> tuple[str, ...]:
    """The Kubernetes versions kubernetes-validate has schemas of, as its utils.all_versions lists
    them, without importing it: that imports jsonschema, referencing and importlib_resources,
    which `hks validate` needs only for policies (tests/test_k8s.py holds the two equal)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("kubernetes_validate")
    folder = Path(next(iter(spec.submodule_search_locations))) / "kubernetes-json-schema"
    pattern = re.compile(r"^v([^-]*).*")
    found = [pattern.sub(r"\1", entry.name) for entry in folder.iterdir() if pattern.match(entry.name)]
    if all(part.isdigit() for v in found for part in v.split(".")):
        return tuple(sorted(found, key=lambda v: tuple(int(part) for part in v.split("."))))
    from packaging.version import Version

    return tuple(sorted(found, key=Version))


def major_minor(version: str) -> str:
    return re.sub(r"^(\d+\.\d+).*", r"\1", version)


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

    from compiler.builtin.resources import data_dir

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
    if _fast_accepts(document, version):
        return []
    return [
        f"{'.'.join(str(p) for p in error.absolute_path) or '(top)'}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    ]


# --- The fast path for kinds rendered per workspace ------------------------------------------
#
# jsonschema interprets a schema anew for every document: about 0.2 ms for a small RoleBinding,
# a second per 1,000 workspaces. fastjsonschema compiles the same schema, its references
# inlined, into Python code that checks a document ten times faster, but compiling costs up to
# 0.7 s for a pod template's schema. So a kind is compiled only once it has been seen often
# enough to pay for it (the kinds hks renders per workspace), and the compiled check only ever
# accepts: a document it refuses goes to jsonschema, which says why (or accepts it after all).
# tests/builtin/test_k8s.py checks that the two agree on every rendered example and on broken copies.

COMPILE_AFTER = 50
# Never compiled: a pod template's inlined schema takes 0.7 s and about 300 MB to compile
# (measured for apps/v1 Deployment at 1.37), and hks renders few of these kinds (one per
# component or GPU pool), which jsonschema checks fast enough.
POD_TEMPLATE_KINDS = frozenset({"CronJob", "DaemonSet", "Deployment", "Job", "Pod", "ReplicaSet", "StatefulSet"})
# Compiled at first sight: a PrometheusRule holds the rules of many workspaces, up to 200 KB of
# them (render/objectsize.py); jsonschema took 40 ms to check one, compiling takes 14 ms and the
# compiled check 10 ms (1,000 workspaces render two, 10,000 about twenty).
COMPILE_AT_ONCE = frozenset({"PrometheusRule"})
_seen: dict[tuple[str, str, str], int] = {}


def _fast_accepts(document: dict[str, Any], version: str) -> bool:
    if document["kind"] in POD_TEMPLATE_KINDS:
        return False
    key = (version, document["kind"], document["apiVersion"])
    _seen[key] = _seen.get(key, 0) + 1
    if _seen[key] <= COMPILE_AFTER and document["kind"] not in COMPILE_AT_ONCE:
        return False
    check = _compiled(*key)
    try:
        check(document)
    except Exception:  # fastjsonschema.JsonSchemaException: jsonschema will say why
        return False
    return True


@functools.cache
def _compiled(version: str, kind: str, api_version: str) -> Any:
    import fastjsonschema
    from referencing import Resource

    schema, registry = _schema(version, kind, api_version)
    resolver = registry.resolver_with_root(Resource.from_contents(schema))
    definition = one_type_of(inlined(schema, resolver))
    try:  # no message built for a refusal (jsonschema says why): each formatted all the locals
        return fastjsonschema.compile(definition, use_formats=False, use_default=False, detailed_exceptions=False)
    except (TypeError, KeyError):  # a fastjsonschema without the option; 2.22.3 fails it on some CRDs (KeyError)
        return fastjsonschema.compile(definition, use_formats=False, use_default=False)


_TYPES = frozenset({"array", "boolean", "integer", "null", "object", "string"})  # no "number": it holds integers


def one_type_of(schema: Any) -> Any:
    """`schema` with each `oneOf` of branches that only name types, as Kubernetes writes an int
    or a string (`[{type: [string, null]}, {type: [integer, null]}]`), as the one `type` it
    means: the types exactly one branch names. The compiled check tried each branch and raised
    for the one that failed, on every port of every NetworkPolicy."""
    if isinstance(schema, list):
        return [one_type_of(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    own = {key: one_type_of(value) for key, value in schema.items()}
    branches = schema.get("oneOf")
    if not isinstance(branches, list) or not branches or "type" in schema:
        return own
    if not all(isinstance(b, dict) and set(b) == {"type"} for b in branches):
        return own
    named: list[list[Any]] = [[b["type"]] if isinstance(b["type"], str) else b["type"] for b in branches]
    if not all(isinstance(types, list) and all(isinstance(t, str) and t in _TYPES for t in types) for types in named):
        return own
    once = sorted(t for t in _TYPES if sum(t in types for types in named) == 1)
    del own["oneOf"]
    return {**own, "type": once}


def inlined(schema: Any, resolver: Any, seen: tuple[str, ...] = ()) -> Any:
    """`schema` with every `$ref` replaced by what it points at (Kubernetes' schemas of the kinds
    hks renders have no recursive references; one would raise RecursionError)."""
    if isinstance(schema, list):
        return [inlined(item, resolver, seen) for item in schema]
    if not isinstance(schema, dict):
        return schema
    own = {k: inlined(v, resolver, seen) for k, v in schema.items() if k not in ("$ref", "$schema", "$id")}
    if "$ref" not in schema:
        return own
    ref = schema["$ref"]
    if ref in seen:
        raise RecursionError(f"recursive schema reference {ref}")
    target = resolver.lookup(ref)
    return {**inlined(target.contents, target.resolver, (*seen, ref)), **own}
