"""The compiled Kubernetes schema check (compiler/builtin/kubeschemas.py's fast path) agrees with jsonschema: on
every rendered example document, and on broken copies of them. The fast path may only ever say
"valid" where jsonschema does; here it must agree both ways, so a drift shows either way."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.builtin import kubeschemas as k8s
from tests.conftest import ROOT

VERSION = "1.35"
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml where PyYAML has it: every worker collects this
DOCUMENTS = [
    doc
    for path in sorted(ROOT.glob("examples/*/rendered/**/*.yaml"))
    if path.name != "kustomization.yaml"
    for doc in yaml.load_all(path.read_text("utf-8"), Loader=LOADER)
    if doc and doc["kind"] not in k8s.POD_TEMPLATE_KINDS  # never compiled: jsonschema checks them
]
WRONG = [None, 7, -1, 2**40, 1.5, True, "", "x", "-bad name-", [], ["x"], {}, {"unknown": 1}]


def refused_by_jsonschema(doc: dict[str, Any]) -> bool:
    return any(True for _ in k8s._validator(VERSION, doc["kind"], doc["apiVersion"]).iter_errors(doc))


def refused_by_compiled(doc: dict[str, Any]) -> bool:
    try:
        k8s._compiled(VERSION, doc["kind"], doc["apiVersion"])(doc)
    except Exception:
        return True
    return False


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, (*prefix, index))
    return found


def test_the_examples_render_every_kind_hks_emits_per_workspace() -> None:
    kinds = {d["kind"] for d in DOCUMENTS}
    assert {"Namespace", "NetworkPolicy", "Role", "RoleBinding", "ConfigMap", "ServiceAccount"} <= kinds


@pytest.mark.parametrize("doc", DOCUMENTS, ids=lambda d: f"{d['kind']}-{d['metadata']['name']}")
def test_both_accept_every_rendered_document(doc: dict[str, Any]) -> None:
    assert not refused_by_jsonschema(doc)
    assert not refused_by_compiled(doc)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_they_agree_on_broken_copies(data: st.DataObject) -> None:
    doc = copy.deepcopy(data.draw(st.sampled_from(DOCUMENTS)))
    path = data.draw(st.sampled_from([p for p in paths(doc)[1:] if p[0] not in ("kind", "apiVersion")]))
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    action = data.draw(st.sampled_from(["replace", "delete", "add"]))
    if action == "replace":
        parent[path[-1]] = data.draw(st.sampled_from(WRONG))
    elif action == "delete":
        del parent[path[-1]]
    elif action == "add" and isinstance(parent, dict):
        parent["notAField"] = "x"
    assert refused_by_compiled(doc) == refused_by_jsonschema(doc), (path, action)


def test_a_document_the_compiled_check_refuses_still_gets_jsonschemas_reasons() -> None:
    doc = copy.deepcopy(next(d for d in DOCUMENTS if d["kind"] == "RoleBinding"))
    doc["subjects"][0]["surprise"] = True
    for _ in range(k8s.COMPILE_AFTER + 1):  # past the threshold: the compiled check runs
        found = k8s.problems(doc, VERSION)
    assert found and "surprise" in found[0]


def test_a_pod_template_kind_is_never_compiled() -> None:
    """Compiling a Deployment's schema took 0.7 s and about 300 MB: jsonschema checks these few."""
    deployment = next(
        doc for path in sorted(ROOT.glob("examples/acme/rendered/**/deployment-*.yaml"))
        for doc in yaml.load_all(path.read_text("utf-8"), Loader=LOADER) if doc
    )
    k8s._compiled.cache_clear()
    for _ in range(k8s.COMPILE_AFTER + 5):
        assert k8s.problems(deployment, VERSION) == []
    assert k8s._compiled.cache_info().currsize == 0


def test_a_prometheus_rule_is_compiled_at_first_sight_and_a_broken_one_still_gets_reasons() -> None:
    """A PrometheusRule holds up to 200 KB of rules: jsonschema took 40 ms a document."""
    rule = next(d for d in DOCUMENTS if d["kind"] == "PrometheusRule")
    k8s._compiled.cache_clear()
    k8s._seen.clear()
    assert k8s.problems(rule, VERSION) == []
    assert k8s._compiled.cache_info().currsize == 1
    broken = copy.deepcopy(rule)
    broken["spec"]["groups"][0]["rules"][0]["surprise"] = True
    found = k8s.problems(broken, VERSION)
    assert found and "surprise" in found[0]


def test_the_versions_listed_without_importing_kubernetes_validate_are_its_own() -> None:
    from kubernetes_validate import utils

    assert list(k8s.versions()) == utils.all_versions()
    assert [k8s.major_minor(v) for v in k8s.versions()] == [utils.major_minor(v) for v in utils.all_versions()]
    assert k8s.versions()[-1] == utils.latest_version()


@pytest.mark.parametrize("port", [None, 53, "dns", True, 1.5, 2**40, [], {}])
def test_an_int_or_string_reads_as_one_type_as_its_one_of_did(port: Any) -> None:
    """kubeschemas.one_type_of turns Kubernetes' oneOf of typed branches into one `type`."""
    import fastjsonschema

    one_of = {"oneOf": [{"type": ["string", "null"]}, {"type": ["integer", "null"]}]}
    assert k8s.one_type_of(one_of) == {"type": ["integer", "string"]}

    def refuses(schema: Any) -> bool:
        try:
            fastjsonschema.compile(schema)(port)
        except fastjsonschema.JsonSchemaValueException:
            return True
        return False

    assert refuses(one_of) == refuses(k8s.one_type_of(one_of))
    for kept in ({"oneOf": [{"type": "number"}, {"type": "integer"}]}, {"oneOf": [{"type": "string", "minLength": 1}, {"type": "null"}]}):
        assert k8s.one_type_of(kept) == kept
