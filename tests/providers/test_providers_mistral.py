"""Mistral AI, added as a module, a line in the registry and catalogue data: routed, reached,
keyed, priced and judged by policy like the others. The real proxy routes it in
tests/e2e/test_providers_e2e.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.tools import cost
from tests.conftest import hks
from tests.policy.test_policy import acme, found  # noqa: F401 - the fixture
from tests.render.test_gateway import litellm_config, render

MISTRAL = "llm_config: {provider: mistral, model: mistral-small-latest}\nworkspaces:\n  chat: {}\n"


def test_the_gateway_routes_mistral_with_its_key(tmp_path: Path) -> None:
    docs = render(tmp_path, {"org.yaml": MISTRAL + "cluster: {cni: cilium}\n"})
    [deployment] = litellm_config(docs)["model_list"]
    params = deployment["litellm_params"]
    assert params["model"] == "mistral/mistral-small-latest"
    assert params["api_key"] == "os.environ/MISTRAL_API_KEY"
    assert "api_base" not in params  # LiteLLM's own https://api.mistral.ai/v1
    env = docs["Deployment/llm-gateway"]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "MISTRAL_API_KEY", "valueFrom": {"secretKeyRef": {"name": "mistral-api-key", "key": "key"}}} in env
    policy = docs["CiliumNetworkPolicy/llm-gateway-fqdn"]
    fqdns = [m["matchName"] for rule in policy["spec"]["egress"] for m in rule.get("toFQDNs", [])]
    assert fqdns == ["api.mistral.ai"]


def test_an_endpoint_replaces_the_host(tmp_path: Path) -> None:
    org = MISTRAL + "providers:\n  mistral: {endpoint: 'https://mistral.example.eu/v1', api_key_secret: mistral-key}\ncluster: {cni: cilium}\n"
    docs = render(tmp_path, {"org.yaml": org})
    params = litellm_config(docs)["model_list"][0]["litellm_params"]
    assert params["api_base"] == "https://mistral.example.eu/v1"
    policy = docs["CiliumNetworkPolicy/llm-gateway-fqdn"]
    assert [m["matchName"] for rule in policy["spec"]["egress"] for m in rule.get("toFQDNs", [])] == ["mistral.example.eu"]
    env = docs["Deployment/llm-gateway"]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "MISTRAL_API_KEY", "valueFrom": {"secretKeyRef": {"name": "mistral-key", "key": "key"}}} in env


def test_eu_hosted_but_no_baa(acme: Path) -> None:  # noqa: F811 - the fixture
    """The clinical workspace (HIPAA, GDPR, EU residency) on Mistral: within the EU, so no
    residency finding; no BAA covers the API, so HIPAA-001."""
    clinical = acme / "workspaces" / "clinical.yaml"
    clinical.write_text(clinical.read_text().replace("provider: azure-openai\n  model: gpt-5.4-mini", "provider: mistral\n  model: mistral-small-latest"))
    assert found(acme) == [("HIPAA-001", "workspaces/clinical.yaml:9:13")]


def test_priced_from_the_catalogue() -> None:
    price = cost.token_price("mistral", "mistral-small-latest")
    assert price is not None and (price.input, price.output) == (0.15, 0.6)
    assert price.source.startswith("LiteLLM ")


def test_enable_writes_the_key_secret(tmp_path: Path) -> None:
    result = hks("llm", "enable", "--provider", "mistral", "-C", str(tmp_path))
    assert result.exit_code == 0, result.output
    org = (tmp_path / "org.yaml").read_text()
    assert "provider: mistral" in org and "model: mistral-small-latest" in org and "api_key_secret: mistral-api-key" in org


@pytest.mark.parametrize("model", ["mistral-embed"])
def test_embeddings_through_mistral(tmp_path: Path, model: str) -> None:
    org = MISTRAL.replace("model: mistral-small-latest}", f"model: mistral-small-latest, embeddings: {{provider: mistral, model: {model}}}}}")
    docs = render(tmp_path, {"org.yaml": org})
    models = {d["model_name"]: d["litellm_params"]["model"] for d in litellm_config(docs)["model_list"]}
    assert models == {"chat": "mistral/mistral-small-latest", "chat.embeddings": f"mistral/{model}"}
