"""An OpenAI-compatible server (vLLM, TGI, llama.cpp), added as a module, a line in the registry
and catalogue data: routed through LiteLLM's hosted_vllm/ (never borrowing OPENAI_API_KEY),
reached, keyed only when asked, free of charge, and judged by policy by where it is. The real
proxy routes it in tests/e2e/test_provider_openai_compatible_e2e.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from compiler.providers.openai_compatible import api_base
from compiler.tools import cost
from tests.conftest import hks
from tests.policy.test_policy import acme, found  # noqa: F401 - the fixture
from tests.render.test_gateway import litellm_config, render, rules

MODEL = "meta-llama/Llama-3.1-8B-Instruct"


def org(settings: str, extra: str = "") -> str:
    return (
        f"llm_config: {{provider: openai-compatible, model: {MODEL}}}\n"
        f"providers:\n  openai-compatible: {settings}\n"
        f"cluster: {{cni: cilium}}\nworkspaces:\n  chat: {{}}\n{extra}"
    )


def gateway_env(docs: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = docs["Deployment/llm-gateway"]["spec"]["template"]["spec"]["containers"][0]["env"]
    return env


def fqdns(docs: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    policy = docs.get("CiliumNetworkPolicy/llm-gateway-fqdn")
    if policy is None:
        return []
    return [
        (m["matchName"], port["port"])
        for rule in policy["spec"]["egress"]
        for m in rule.get("toFQDNs", [])
        for to in rule["toPorts"]
        for port in to["ports"]
    ]


def test_a_server_in_the_cluster_is_routed_without_a_key_and_reached_inside(tmp_path: Path) -> None:
    docs = render(tmp_path, {"org.yaml": org("{endpoint: 'http://vllm.llm.svc:8000'}")})
    [deployment] = litellm_config(docs)["model_list"]
    params = deployment["litellm_params"]
    assert params["model"] == f"hosted_vllm/{MODEL}"  # not openai/: it would send OPENAI_API_KEY
    assert params["api_base"] == "http://vllm.llm.svc:8000/v1"  # no path: /v1 added
    assert "api_key" not in params
    assert not [e for e in gateway_env(docs) if "secretKeyRef" in e.get("valueFrom", {}) and e["name"] != "LITELLM_MASTER_KEY"]
    egress = docs["NetworkPolicy/llm-gateway"]["spec"]["egress"]
    assert {"to": [{"namespaceSelector": {}}], "ports": [{"port": 8000, "protocol": "TCP"}]} in egress
    assert fqdns(docs) == []  # nothing public


def test_a_key_is_read_only_when_its_secret_is_named(tmp_path: Path) -> None:
    docs = render(tmp_path, {"org.yaml": org("{endpoint: 'http://vllm.llm.svc:8000/v1', api_key_secret: vllm-key}")})
    params = litellm_config(docs)["model_list"][0]["litellm_params"]
    assert params["api_key"] == "os.environ/OPENAI_COMPATIBLE_API_KEY"
    assert params["api_base"] == "http://vllm.llm.svc:8000/v1"
    env = gateway_env(docs)
    assert {"name": "OPENAI_COMPATIBLE_API_KEY", "valueFrom": {"secretKeyRef": {"name": "vllm-key", "key": "key"}}} in env
    assert "OPENAI_API_KEY" not in {e["name"] for e in env}


def test_a_server_outside_is_reached_on_its_host_and_port(tmp_path: Path) -> None:
    docs = render(tmp_path, {"org.yaml": org("{endpoint: 'https://llm.example.com:8443/serving/v1', region: eu}")})
    params = litellm_config(docs)["model_list"][0]["litellm_params"]
    assert params["api_base"] == "https://llm.example.com:8443/serving/v1"  # a path: as written
    assert fqdns(docs) == [("llm.example.com", "8443")]


@pytest.mark.parametrize(("endpoint", "public_ports"), [("http://vllm.llm.svc:8000/v1", []), ("https://llm.example.com:8443/v1", [8443])])
def test_without_cilium_only_a_server_outside_opens_public_egress(tmp_path: Path, endpoint: str, public_ports: list[int]) -> None:
    text = org(f"{{endpoint: '{endpoint}', region: eu}}").replace("cluster: {cni: cilium}\n", "")
    egress = render(tmp_path, {"org.yaml": text})["NetworkPolicy/llm-gateway"]["spec"]["egress"]
    public = [rule for rule in egress if rule["to"][0].get("ipBlock", {}).get("cidr") == "0.0.0.0/0"]
    assert [port["port"] for rule in public for port in rule["ports"]] == public_ports


@pytest.mark.parametrize(
    ("endpoint", "base"),
    [
        ("http://vllm.llm.svc:8000", "http://vllm.llm.svc:8000/v1"),
        ("http://vllm.llm.svc:8000/", "http://vllm.llm.svc:8000/v1"),
        ("http://vllm.llm.svc:8000/v1", "http://vllm.llm.svc:8000/v1"),
        ("https://tgi.example.com/openai/v1", "https://tgi.example.com/openai/v1"),
        ("http://[::1", "http://[::1"),  # malformed: GW-006's, left as written
    ],
)
def test_v1_is_added_to_an_endpoint_without_a_path(endpoint: str, base: str) -> None:
    assert api_base(endpoint) == base


def test_an_endpoint_is_required(tmp_path: Path) -> None:
    text = f"llm_config: {{provider: openai-compatible, model: {MODEL}}}\nworkspaces:\n  chat: {{}}\n"
    found_rules = rules(tmp_path, {"org.yaml": text})
    assert [(rule, severity) for rule, severity, _ in found_rules] == [("GW-005", "error")]
    result = hks("validate", str(tmp_path))
    assert result.exit_code == 1 and "providers.openai-compatible has no endpoint" in result.output


def test_any_model_name_is_accepted_and_costs_nothing(tmp_path: Path) -> None:
    """The server serves what it loaded: no CAT-* finding for a name no catalogue lists."""
    text = org("{endpoint: 'http://vllm.llm.svc:8000/v1'}").replace(MODEL, "acme/support-ft-7b")
    assert rules(tmp_path, {"org.yaml": text}) == []
    price = cost.token_price("openai-compatible", "acme/support-ft-7b")
    assert price is not None and (price.input, price.output) == (0.0, 0.0)
    info = litellm_config(render(tmp_path, {"org.yaml": text}))["model_list"][0]["model_info"]
    assert (info["input_cost_per_token"], info["output_cost_per_token"]) == (0.0, 0.0)  # the gateway's spend agrees


def test_embeddings_through_the_server(tmp_path: Path) -> None:
    text = org("{endpoint: 'http://tei.llm.svc/v1'}").replace(
        f"model: {MODEL}}}", f"model: {MODEL}, embeddings: {{provider: openai-compatible, model: BAAI/bge-m3}}}}"
    )
    docs = render(tmp_path, {"org.yaml": text})
    models = {d["model_name"]: d["litellm_params"] for d in litellm_config(docs)["model_list"]}
    assert models["chat.embeddings"] == {"model": "hosted_vllm/BAAI/bge-m3", "api_base": "http://tei.llm.svc/v1"}


# --- policy: where it is decides -----------------------------------------------------------------


def clinical_on(acme: Path, settings: str) -> None:  # noqa: F811 - the fixture's name
    """The clinical workspace (HIPAA, GDPR, EU residency) moved to an OpenAI-compatible server."""
    org_file = acme / "org.yaml"
    org_file.write_text(org_file.read_text().replace("providers:\n", f"providers:\n  openai-compatible: {settings}\n", 1))
    clinical = acme / "workspaces" / "clinical.yaml"
    clinical.write_text(clinical.read_text().replace("provider: azure-openai\n  model: gpt-5.4-mini", f"provider: openai-compatible\n  model: {MODEL}"))


def test_in_the_cluster_it_is_like_self_hosted(acme: Path) -> None:  # noqa: F811 - the fixture
    """On-premises: within any residency, no BAA needed; PHI still wants TLS in the cluster
    (HIPAA-005, as for Ollama at an endpoint), and acme's cluster.tls without a mesh leaves a
    plain http:// hop uncovered (BASE-003)."""
    clinical_on(acme, "{endpoint: 'https://vllm.llm.svc:8443/v1'}")
    assert found(acme) == []
    (acme / "org.yaml").write_text((acme / "org.yaml").read_text().replace("https://vllm", "http://vllm"))
    assert [rule for rule, _ in found(acme)] == ["BASE-003", "HIPAA-005"]


def test_outside_with_no_region_the_residency_pack_refuses_it(acme: Path) -> None:  # noqa: F811 - the fixture
    """Where an outside server processes is unknown until `region` says: an EU workspace
    refuses it (DR-001, and GDPR's EU-only rule), and PHI needs a recorded BAA (HIPAA-002)."""
    clinical_on(acme, "{endpoint: 'https://llm.example.com/v1'}")
    assert sorted(found(acme)) == [
        ("DR-001", "workspaces/clinical.yaml:9:13"),
        ("GDPR-002", "workspaces/clinical.yaml:9:13"),
        ("HIPAA-002", "workspaces/clinical.yaml:9:13"),
    ]


@pytest.mark.parametrize(("region", "expected"), [("eu", []), ("us", ["DR-001", "GDPR-002"])])
def test_outside_its_region_decides(acme: Path, region: str, expected: list[str]) -> None:  # noqa: F811 - the fixture
    clinical_on(acme, f"{{endpoint: 'https://llm.example.com/v1', region: {region}, baa: true}}")
    assert sorted(rule for rule, _ in found(acme)) == expected


def test_an_on_premises_workspace_cannot_reach_a_server_outside(tmp_path: Path) -> None:
    text = org("{endpoint: 'https://llm.example.com/v1'}").replace("chat: {}", "chat: {data_residency: on-premises}")
    found_rules = {rule for rule, _, _ in rules(tmp_path, {"org.yaml": text})}
    assert {"GW-008", "DR-002"} <= found_rules
    inside = org("{endpoint: 'https://10.0.3.7:8443'}").replace("chat: {}", "chat: {data_residency: on-premises}")
    assert rules(tmp_path, {"org.yaml": inside}) == []  # a private address is the organisation's own


# --- editing commands ----------------------------------------------------------------------------


def test_enable_writes_an_endpoint_to_change(tmp_path: Path) -> None:
    result = hks("llm", "enable", "--provider", "openai-compatible", "-C", str(tmp_path))
    assert result.exit_code == 0, result.output
    text = (tmp_path / "org.yaml").read_text()
    assert "provider: openai-compatible" in text and f"model: {MODEL}" in text
    assert "endpoint: http://vllm.llm.svc:8000/v1" in text and "api_key_secret" not in text
    assert "set providers.openai-compatible.endpoint to your server's URL" in result.output
