"""AWS Bedrock, added as a module, a line in the registry and catalogue data: routed, reached,
credentialed (a Secret, IRSA or EKS Pod Identity), priced and judged by policy like the others.
The real proxy routes it in tests/e2e/test_provider_bedrock_e2e.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from compiler.pipeline import compile_config
from compiler.providers import registry
from compiler.tools import cost
from tests.conftest import hks, write
from tests.policy.test_policy import acme, found  # noqa: F401 - the fixture
from tests.render.test_gateway import litellm_config, render, rules

MODEL = "amazon.nova-pro-v1:0"
EMBEDDING = "amazon.titan-embed-text-v2:0"
ROLE = "arn:aws:iam::111122223333:role/llm-gateway"
BEDROCK = f"llm_config: {{provider: bedrock, model: '{MODEL}'}}\nworkspaces:\n  chat: {{}}\ncluster: {{cni: cilium}}\n"


def org(settings: str) -> dict[str, str]:
    return {"org.yaml": BEDROCK + f"providers:\n  bedrock: {settings}\n"}


def fqdns(docs: dict[str, dict[str, Any]]) -> list[str]:
    policy = docs["CiliumNetworkPolicy/llm-gateway-fqdn"]
    return [m["matchName"] for rule in policy["spec"]["egress"] for m in rule.get("toFQDNs", [])]


def env(docs: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return list(docs["Deployment/llm-gateway"]["spec"]["template"]["spec"]["containers"][0]["env"])


def account_annotations(docs: dict[str, dict[str, Any]]) -> dict[str, str]:
    found = dict(docs["ServiceAccount/llm-gateway"]["metadata"].get("annotations", {}))
    found.pop("argocd.argoproj.io/sync-wave", None)
    return found


def test_keys_from_a_secret_by_default(tmp_path: Path) -> None:
    docs = render(tmp_path, org("{region: eu-central-1}"))
    [deployment] = litellm_config(docs)["model_list"]
    params = deployment["litellm_params"]
    assert params["model"] == f"bedrock/converse/{MODEL}"  # Converse, whatever the model's maker
    assert params["aws_region_name"] == "eu-central-1"
    assert params["aws_access_key_id"] == "os.environ/BEDROCK_AWS_ACCESS_KEY_ID"
    assert params["aws_secret_access_key"] == "os.environ/BEDROCK_AWS_SECRET_ACCESS_KEY"
    assert "api_base" not in params and "api_key" not in params
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):  # one Secret, two data keys
        ref = {"name": f"BEDROCK_{key}", "valueFrom": {"secretKeyRef": {"name": "bedrock-aws-credentials", "key": key}}}
        assert ref in env(docs)
    assert not [e for e in env(docs) if e["name"].startswith("AWS_")]  # no SDK default chain picks them up
    assert fqdns(docs) == ["bedrock-runtime.eu-central-1.amazonaws.com"]
    assert account_annotations(docs) == {}


def test_a_secret_of_its_own_name(tmp_path: Path) -> None:
    docs = render(tmp_path, org("{region: us-west-2, credentials: secret, credentials_secret: aws-bedrock}"))
    names = {e["valueFrom"]["secretKeyRef"]["name"] for e in env(docs) if e["name"].startswith("BEDROCK_")}
    assert names == {"aws-bedrock"}


def test_irsa_annotates_the_service_account_and_needs_no_secret(tmp_path: Path) -> None:
    docs = render(tmp_path, org(f"{{region: eu-central-1, credentials: irsa, role_arn: '{ROLE}'}}"))
    assert account_annotations(docs) == {"eks.amazonaws.com/role-arn": ROLE, "eks.amazonaws.com/sts-regional-endpoints": "true"}
    params = litellm_config(docs)["model_list"][0]["litellm_params"]
    assert set(params) - {"max_tokens", "temperature", "timeout"} == {"model", "aws_region_name"}  # botocore's default chain
    assert not [e for e in env(docs) if e["name"].startswith(("BEDROCK_", "AWS_"))]
    # The token is exchanged at STS: the cluster's region (the webhook's AWS_REGION), or the
    # global endpoint when the environment names no region.
    assert fqdns(docs) == ["bedrock-runtime.eu-central-1.amazonaws.com", "sts.amazonaws.com", "sts.eu-central-1.amazonaws.com"]


def test_irsa_in_a_cluster_of_another_region(tmp_path: Path) -> None:
    docs = render(tmp_path, org(f"{{region: eu-central-1, credentials: irsa, role_arn: '{ROLE}', sts_region: eu-west-1}}"))
    assert "sts.eu-west-1.amazonaws.com" in fqdns(docs) and "sts.eu-central-1.amazonaws.com" not in fqdns(docs)


def test_pod_identity_reaches_the_node_agent_only(tmp_path: Path) -> None:
    docs = render(tmp_path, org("{region: us-east-1, credentials: pod-identity}"))
    assert account_annotations(docs) == {}  # the association lives in the EKS API
    assert not [e for e in env(docs) if e["name"].startswith(("BEDROCK_", "AWS_"))]
    agent = {"to": [{"ipBlock": {"cidr": "169.254.170.23/32"}}], "ports": [{"port": 80, "protocol": "TCP"}]}
    assert agent in docs["NetworkPolicy/llm-gateway"]["spec"]["egress"]
    assert fqdns(docs) == ["bedrock-runtime.us-east-1.amazonaws.com"]
    # GW-017 refuses metadata addresses in URLs the config gives; the agent is no such URL.
    assert "GW-017" not in [r for r, _, _ in rules(tmp_path, org("{region: us-east-1, credentials: pod-identity}"))]


def test_an_endpoint_replaces_the_host(tmp_path: Path) -> None:
    """A VPC interface endpoint (or a test's stand-in) instead of the public host."""
    vpce = "https://vpce-0a1b2c3d-4e5f.bedrock-runtime.eu-central-1.vpce.amazonaws.com"
    docs = render(tmp_path, org(f"{{region: eu-central-1, endpoint: '{vpce}'}}"))
    assert litellm_config(docs)["model_list"][0]["litellm_params"]["api_base"] == vpce
    assert fqdns(docs) == ["vpce-0a1b2c3d-4e5f.bedrock-runtime.eu-central-1.vpce.amazonaws.com"]


def test_china_regions_are_under_their_own_domain(tmp_path: Path) -> None:
    docs = render(tmp_path, org("{region: cn-north-1}"))
    assert fqdns(docs) == ["bedrock-runtime.cn-north-1.amazonaws.com.cn"]


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ("{credentials: secret}", "has no region"),
        ("{region: Frankfurt}", "'Frankfurt' is not an AWS region"),
        ("{region: eu-central-1, credentials: irsa}", "has no role_arn"),
        (f"{{region: eu-central-1, role_arn: '{ROLE}'}}", "role_arn is used with credentials: irsa only"),
        ("{region: eu-central-1, credentials: pod-identity, credentials_secret: x}", "credentials_secret is used with credentials: secret only"),
        (f"{{region: eu-central-1, credentials: irsa, role_arn: '{ROLE}', sts_region: europe}}", "sts_region 'europe' is not"),
    ],
)
def test_settings_it_cannot_call_with(tmp_path: Path, settings: str, says: str) -> None:
    write(tmp_path, {"org.yaml": org(settings)["org.yaml"]})
    found = [d for d in compile_config(str(tmp_path)).diagnostics if d.rule == "GW-005"]
    assert len(found) == 1 and says in found[0].message, [d.message for d in found]


def test_no_providers_entry_is_a_missing_region(tmp_path: Path) -> None:
    write(tmp_path, {"org.yaml": BEDROCK})
    assert [d.rule for d in compile_config(str(tmp_path)).diagnostics if d.rule.startswith("GW-")] == ["GW-005"]


def test_a_role_arn_must_be_one(tmp_path: Path) -> None:
    write(tmp_path, {"org.yaml": org("{region: eu-central-1, credentials: irsa, role_arn: 'llm-gateway\"\\nkind: x'}")["org.yaml"]})
    assert [d.rule for d in compile_config(str(tmp_path)).diagnostics if d.rule.startswith("SCHEMA-")] == ["SCHEMA-006"]


def _clinical_on_bedrock(acme: Path, settings: str) -> None:  # noqa: F811 - the fixture
    """acme's clinical workspace (HIPAA, GDPR, EU residency) moved to Bedrock."""
    clinical = acme / "workspaces" / "clinical.yaml"
    clinical.write_text(clinical.read_text().replace("provider: azure-openai\n  model: gpt-5.4-mini", f"provider: bedrock\n  model: '{MODEL}'"))
    orgfile = acme / "org.yaml"
    orgfile.write_text(orgfile.read_text().replace("providers:\n", f"providers:\n  bedrock: {settings}\n", 1))


def test_in_an_eu_region_with_a_baa_the_clinical_workspace_is_clean(acme: Path) -> None:  # noqa: F811 - the fixture
    _clinical_on_bedrock(acme, "{region: eu-central-1, baa: true}")
    assert found(acme) == []


def test_eligible_but_phi_needs_the_baa_recorded(acme: Path) -> None:  # noqa: F811 - the fixture
    """Bedrock can be covered (unlike Mistral's HIPAA-001): until `baa: true`, HIPAA-002."""
    _clinical_on_bedrock(acme, "{region: eu-central-1}")
    assert found(acme) == [("HIPAA-002", "workspaces/clinical.yaml:9:13")]


def test_a_us_region_is_outside_eu_residency(acme: Path) -> None:  # noqa: F811 - the fixture
    _clinical_on_bedrock(acme, "{region: us-east-1, baa: true}")
    assert [rule for rule, _ in found(acme)] == ["DR-001", "GDPR-002"]


def test_priced_from_the_catalogue() -> None:
    price = cost.token_price("bedrock", MODEL)
    assert price is not None and (price.input, price.output) == (0.8, 3.2)
    assert price.source.startswith("LiteLLM ")
    eu = cost.token_price("bedrock", "eu.anthropic.claude-sonnet-4-5-20250929-v1:0")  # an inference profile's own price
    assert eu is not None and (eu.input, eu.output) == (3.3, 16.5)


def test_the_gateway_prices_it_as_hks_cost_does(tmp_path: Path) -> None:
    docs = render(tmp_path, org("{region: eu-central-1}"))
    info = litellm_config(docs)["model_list"][0]["model_info"]
    assert (info["input_cost_per_token"], info["output_cost_per_token"]) == pytest.approx((0.8e-6, 3.2e-6))


def test_enable_writes_the_credentials_and_says_what_is_left(tmp_path: Path) -> None:
    result = hks("llm", "enable", "--provider", "bedrock", "-C", str(tmp_path))
    assert result.exit_code == 0, result.output
    text = (tmp_path / "org.yaml").read_text()
    assert "provider: bedrock" in text and f"model: {MODEL}" in text and "credentials_secret: bedrock-aws-credentials" in text
    assert "providers.bedrock.region" in result.output and "--from-literal=AWS_ACCESS_KEY_ID=" in result.output
    assert "--from-literal=key=" not in result.output  # the API-key wording does not fit a key pair


def test_embeddings_go_through_invoke(tmp_path: Path) -> None:
    """Converse has no embeddings: an embedding model is `bedrock/<id>` (InvokeModel)."""
    text = BEDROCK.replace(f"model: '{MODEL}'}}", f"model: '{MODEL}', embeddings: {{provider: bedrock, model: '{EMBEDDING}'}}}}")
    write(tmp_path, {"org.yaml": text + "providers:\n  bedrock: {region: eu-central-1}\n"})
    compiled = compile_config(str(tmp_path))
    assert compiled.config is not None
    settings = compiled.config.org.providers["bedrock"]
    assert registry.get("bedrock").litellm_params(EMBEDDING, True, settings, "ns")["model"] == f"bedrock/{EMBEDDING}"
