"""The provider registry: one sorted table, every provider behind one protocol, and no provider
named anywhere else in the pipeline."""

from __future__ import annotations

import ast
import subprocess
import sys
import typing
from pathlib import Path

import pytest

from compiler.builtin import catalogue, datafiles
from compiler.model import model as m
from compiler.model.schema import json_schema
from compiler.providers import registry
from compiler.providers.base import Endpoint, Provider, SecretRef, Settings
from compiler.render.base import render_template
from tests.conftest import ROOT

PACKAGE = ROOT / "compiler"

# "ollama" is a provider and also the Ollama deployment hks renders (its DaemonSet, Service,
# labels, image and advisories) and a product name; these modules name the deployment.
ALLOWED = {
    "checks/advisories.py": {"ollama"},  # the product whose advisories apply to the image
    "commands/logs.py": {"ollama"},  # `hks logs ollama`: the component
    "tools/logs.py": {"ollama"},
    "policy/facts.py": {"ollama"},  # images[].component
    "render/components/autoscaling.py": {"ollama"},  # the pools' Ollama Deployments' labels
    "render/components/gateway.py": {"ollama"},  # the Ollama pods' label
    "render/components/mesh.py": {"ollama"},  # the Ollama pods' identity and policies
    "render/components/model_egress.py": {"ollama"},  # the Ollama pods it admits; its ConfigMap and Service templates
    "render/components/ollama.py": {"ollama"},  # the deployment itself
    "render/components/tls.py": {"ollama"},  # the Ollama pods' certificate and TLS proxy
    "render/manifests.py": {"ollama"},  # the component table
    "render/scanners.py": {"ollama"},  # the deployment's image
    "model/model.py": {"ollama", "openai"},  # `examples` shown by editors
}


def test_the_table_is_sorted_and_unique() -> None:
    assert list(registry.NAMES) == sorted(set(registry.NAMES))
    assert registry.SELF_HOSTED in registry.NAMES


def test_the_schema_and_the_command_line_offer_the_tables_names() -> None:
    from compiler.commands import editing, init, llm

    assert typing.get_args(m.ProviderName) == registry.NAMES
    assert tuple(json_schema("org")["properties"]["providers"]["propertyNames"]["enum"]) == registry.NAMES
    assert tuple(init.PROVIDERS) == tuple(editing.PROVIDERS) == registry.NAMES
    option = next(p for p in llm.enable.params if p.name == "provider")
    assert tuple(option.type.choices) == registry.NAMES  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", registry.NAMES)
def test_each_provider_meets_the_protocol(name: str) -> None:
    provider = registry.get(name)
    assert isinstance(provider, Provider) and provider.name == name and provider.title
    assert issubclass(provider.settings, Settings)
    assert issubclass(m.ProviderSettings, provider.settings)  # the org's settings take its keys
    settings = m.ProviderSettings()
    assert all(isinstance(e, Endpoint) for e in provider.endpoints(settings))
    assert all(isinstance(r, SecretRef) for r in provider.secrets(settings))
    assert isinstance(provider.service_account_annotations(settings), dict)
    assert provider.litellm_params("some-model", False, settings, "ns")["model"].endswith("some-model")
    key, _ = provider.mode(settings)
    assert key in datafiles.load("catalogue", "providers.yaml")["providers"][name]["modes"]
    default = catalogue.default_model(name)
    if provider.catalogued:  # else its server serves any model: the catalogue lists none
        assert catalogue.lookup(name, default) is not None, f"{name}'s default model is not in its catalogue"
    else:
        assert default != "None" and not catalogue.models(name), f"{name} names a default model, and lists no models"
    assert provider.starter(default).startswith("\n")


@pytest.mark.parametrize("name", registry.NAMES)
def test_a_provider_module_imports_only_the_protocol(name: str) -> None:
    """A provider is a leaf: it knows nothing of the pipeline that asks it."""
    path = PACKAGE / "providers" / f"{dict(registry.PROVIDERS)[name].rsplit('.', 1)[1]}.py"
    imported = {
        node.module
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("compiler")
    }
    assert imported <= {"compiler.providers.base"}, imported


def _named(path: Path) -> set[str]:
    return {
        node.value
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in registry.NAMES
    }


def test_no_module_outside_providers_names_a_provider() -> None:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(PACKAGE).as_posix()
        if where.startswith("providers/"):
            continue
        names = _named(path) - ALLOWED.get(where, set())
        if names:
            found[where] = sorted(names)
    assert found == {}, "ask compiler.providers.registry instead of naming a provider"


def test_the_allow_list_is_not_stale() -> None:
    for where, names in ALLOWED.items():
        assert names <= _named(PACKAGE / where), where


def test_the_command_line_imports_no_provider_module() -> None:
    code = "import sys; sys.argv = ['hks', 'llm', 'enable', '--help']; import compiler.cli as c\ntry:\n c.main()\nexcept SystemExit:\n pass\nprint(sorted(m for m in sys.modules if m.startswith(('compiler.providers.', 'pydantic'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "['compiler.providers.registry']"


def test_the_gateway_service_account_carries_annotations_a_provider_asks_for() -> None:
    common = {"name": "llm-gateway", "namespace": "ns", "labels": {"a": "b"}}
    plain = render_template("gateway/serviceaccount.yaml.j2", **common)
    assert "annotations" not in plain["metadata"]
    wanted = {"eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/llm-gateway"}
    annotated = render_template("gateway/serviceaccount.yaml.j2", **common, annotations=wanted)
    assert annotated["metadata"]["annotations"] == wanted
    del annotated["metadata"]["annotations"]
    assert annotated == plain


def test_each_fact_is_written_once() -> None:
    """The two facts the issue found written twice live in their provider's module only."""
    for fact in ("us-central1", "eu.api.openai.com", "api.openai.com"):
        holders = [p.relative_to(PACKAGE).as_posix() for p in sorted(PACKAGE.rglob("*.py")) if fact in p.read_text(encoding="utf-8")]
        assert len(holders) <= 1, (fact, holders)


def test_a_provider_outside_the_catalogue_has_its_models_unchecked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An OpenAI-compatible server serves whatever it loads: no catalogue to check names against."""
    from compiler.pipeline import compile_config
    from tests.conftest import write

    write(tmp_path, {"org.yaml": "llm_config: {provider: openai, model: my-own-model}\n"})
    assert "CAT-001" in [d.rule for d in compile_config(str(tmp_path)).diagnostics]
    monkeypatch.setattr(registry.get("openai"), "catalogued", False)
    assert not [d.rule for d in compile_config(str(tmp_path)).diagnostics if d.rule.startswith("CAT-")]


def test_the_docs_list_the_tables_providers_in_its_order() -> None:
    """The provider lists a reader sees are the registry's, sorted as it is."""
    names = "|".join(registry.NAMES)
    assert f"hks init [DIR] [--provider {names}]" in (ROOT / "README.md").read_text()
    assert f"## `hks llm enable --provider {names}`" in (ROOT / "docs" / "commands.md").read_text()
