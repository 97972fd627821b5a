"""The gateway's rendering rules: egress, secrets backends, and what validate says about settings
LiteLLM cannot honour. The real proxy runs in tests/e2e."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from compiler.pipeline import compile_config, render_checked
from tests.conftest import write
from tests.render.test_render import assert_upstream_valid

OPENAI_EU = """\
llm_config: {provider: openai, model: gpt-5.4-mini}
providers:
  openai: {region: eu}
  google: {project: acme, location: europe-west4}
"""


def render(tmp_path: Path, files: dict[str, str]) -> dict[str, dict[str, Any]]:
    write(tmp_path, files)
    compiled = compile_config(str(tmp_path))
    assert compiled.ok, [str(d.position) + " " + d.message for d in compiled.diagnostics]
    stream = render_checked(compiled).stream
    return {f"{d['kind']}/{d['metadata']['name']}": d for d in YAML(typ="safe").load_all(stream)}


def rules(tmp_path: Path, files: dict[str, str]) -> list[tuple[str, str, str]]:
    write(tmp_path, files)
    return [(d.rule, d.severity.value, str(d.position)) for d in compile_config(str(tmp_path)).diagnostics]


def litellm_config(docs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    config: dict[str, Any] = YAML(typ="safe").load(docs["ConfigMap/llm-gateway-config"]["data"]["config.yaml"])
    return config


# --- egress -------------------------------------------------------------------------------------


# The gateway's way to the Kubernetes API (TokenReviews): the control plane's private addresses.
API_SERVER = {
    "to": [{"ipBlock": {"cidr": cidr}} for cidr in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")],
    "ports": [{"port": 443, "protocol": "TCP"}, {"port": 6443, "protocol": "TCP"}],
}


def test_cilium_allows_exactly_the_provider_hosts_in_use(tmp_path: Path) -> None:
    org = OPENAI_EU + "cluster: {cni: cilium}\nworkspaces:\n  vertex: {llm_override: {provider: google, model: gemini-3.5-flash}}\n  chat: {}\n"
    docs = render(tmp_path, {"org.yaml": org})
    policy = docs["CiliumNetworkPolicy/llm-gateway-fqdn"]
    fqdns = [m["matchName"] for rule in policy["spec"]["egress"] for m in rule.get("toFQDNs", [])]
    assert fqdns == ["eu.api.openai.com", "europe-west4-aiplatform.googleapis.com", "oauth2.googleapis.com"]
    # The Kubernetes policy keeps DNS, in-cluster rules and the Kubernetes API only: Cilium narrows
    # the internet to names.
    egress = docs["NetworkPolicy/llm-gateway"]["spec"]["egress"]
    assert not [rule for rule in egress if any("ipBlock" in peer for peer in rule.get("to", [])) and rule != API_SERVER]
    # Cilium's CIDR rules miss the control plane's host-network endpoints: the API is named.
    api = docs["CiliumNetworkPolicy/llm-gateway-kube-apiserver"]
    assert [rule["toEntities"] for rule in api["spec"]["egress"]] == [["kube-apiserver"]]
    assert_upstream_valid([("CiliumNetworkPolicy", policy), ("CiliumNetworkPolicy", api)])


def test_on_premises_workspaces_get_no_way_out_of_the_cluster(tmp_path: Path) -> None:
    org = "llm_config: {provider: ollama, model: llama3:8b}\ndata_residency: on-premises\ncluster: {cni: cilium}\n"
    org += "workspaces:\n  a: {}\n  b: {}\n"
    docs = render(tmp_path, {"org.yaml": org})
    assert "CiliumNetworkPolicy/llm-gateway-fqdn" not in docs
    egress = docs["NetworkPolicy/llm-gateway"]["spec"]["egress"]
    assert API_SERVER in egress  # token reviews; private addresses only
    peers = [peer for rule in egress if rule != API_SERVER for peer in rule.get("to", [])]
    assert not [p for p in peers if "ipBlock" in p]
    assert {p["podSelector"]["matchLabels"].get("app.kubernetes.io/name") or p["podSelector"]["matchLabels"].get("k8s-app") for p in peers} == {"kube-dns", "ollama"}


def test_https_out_only_when_a_commercial_provider_is_used(tmp_path: Path) -> None:
    docs = render(tmp_path, {"org.yaml": "llm_config: {provider: openai, model: gpt-5.4-mini}\nworkspaces:\n  a: {}\n"})
    egress = docs["NetworkPolicy/llm-gateway"]["spec"]["egress"]
    [internet] = [rule for rule in egress if any("ipBlock" in peer for peer in rule.get("to", [])) and rule != API_SERVER]
    assert internet["ports"] == [{"port": 443, "protocol": "TCP"}]
    assert "10.0.0.0/8" in internet["to"][0]["ipBlock"]["except"]


# --- routing details ------------------------------------------------------------------------------


def test_provider_prefixes_and_parameters(tmp_path: Path) -> None:
    org = OPENAI_EU + """\
  azure-openai: {endpoint: "https://x.openai.azure.com", api_version: "2024-10-21", deployments: {gpt-5.4-mini: prod-4o}}
workspaces:
  vertex: {llm_override: {provider: google, model: gemini-3.5-flash}}
  azure: {llm_override: {provider: azure-openai, model: gpt-5.4-mini, top_p: 0.5, timeout_seconds: 30}}
  local: {llm_override: {provider: ollama, model: "llama3:8b"}}
self_hosted: {models: ["llama3:8b"]}
"""
    config = litellm_config(render(tmp_path, {"org.yaml": org}))
    params = {m["model_name"]: m["litellm_params"] for m in config["model_list"]}
    assert params["vertex"]["model"] == "vertex_ai/gemini-3.5-flash"
    assert (params["vertex"]["vertex_project"], params["vertex"]["vertex_location"]) == ("acme", "europe-west4")
    assert params["vertex"]["vertex_credentials"] == "os.environ/VERTEX_CREDENTIALS"
    assert params["azure"]["model"] == "azure/prod-4o"
    assert (params["azure"]["api_base"], params["azure"]["api_version"]) == ("https://x.openai.azure.com", "2024-10-21")
    assert (params["azure"]["top_p"], params["azure"]["timeout"]) == (0.5, 30)
    assert params["local"] == {
        "model": "ollama_chat/llama3:8b",
        "api_base": "http://ollama.hexabase-aiops.svc.cluster.local:11434",
        "temperature": 0.7,
        "max_tokens": 4096,
    }
    assert "router_settings" not in config  # no limits, no fallbacks: LiteLLM's defaults


def test_every_api_key_is_an_environment_reference_fed_by_a_secret(tmp_path: Path) -> None:
    org = OPENAI_EU + "workspaces:\n  a: {}\n  b: {llm_override: {provider: anthropic, model: claude-sonnet-4-6}}\n"
    docs = render(tmp_path, {"org.yaml": org})
    config = litellm_config(docs)
    keys = {m["model_name"]: m["litellm_params"]["api_key"] for m in config["model_list"]}
    assert keys == {"a": "os.environ/OPENAI_API_KEY", "b": "os.environ/ANTHROPIC_API_KEY"}
    assert config["general_settings"]["master_key"] == "os.environ/LITELLM_MASTER_KEY"
    env = docs["Deployment/llm-gateway"]["spec"]["template"]["spec"]["containers"][0]["env"]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in env if "valueFrom" in e}
    assert refs == {
        "LITELLM_MASTER_KEY": {"name": "llm-gateway-master-key", "key": "key"},
        "OPENAI_API_KEY": {"name": "openai-api-key", "key": "key"},
        "ANTHROPIC_API_KEY": {"name": "anthropic-api-key", "key": "key"},
    }


def test_config_change_rolls_the_gateway(tmp_path: Path) -> None:
    base = "llm_config: {provider: openai, model: gpt-5.4-mini}\nworkspaces:\n  a: {}\n"
    first = render(tmp_path / "one", {"org.yaml": base})
    second = render(tmp_path / "two", {"org.yaml": base.replace("a: {}", "a: {llm_override: {temperature: 0.1}}")})

    def config_hash(docs: dict[str, dict[str, Any]]) -> str:
        return str(docs["Deployment/llm-gateway"]["spec"]["template"]["metadata"]["annotations"]["hks.dev/config-hash"])

    assert config_hash(first) != config_hash(second)


def test_presidio_is_rendered_only_when_a_workspace_asks_for_pii_handling(tmp_path: Path) -> None:
    base = "llm_config: {provider: openai, model: gpt-5.4-mini}\nworkspaces:\n  a: {}\n"
    assert not [k for k in render(tmp_path / "off", {"org.yaml": base}) if "presidio" in k]
    docs = render(tmp_path / "on", {"org.yaml": base.replace("a: {}", "a: {llm_override: {sanitization: {pii: block}}}")})
    assert {k for k in docs if "presidio" in k} == {
        "Deployment/presidio-analyzer", "Deployment/presidio-anonymizer", "Service/presidio-analyzer",
        "Service/presidio-anonymizer", "NetworkPolicy/presidio-analyzer-from-gateway",
        "NetworkPolicy/presidio-anonymizer-from-gateway",
    }  # fmt: skip
    [guardrail] = litellm_config(docs)["guardrails"]
    assert guardrail["guardrail_name"] == "pii-block"
    assert set(guardrail["litellm_params"]["pii_entities_config"].values()) == {"BLOCK"}


# --- secrets backends -----------------------------------------------------------------------------

SEALED = """\
apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata:
  name: {name}
  namespace: hexabase-aiops
spec:
  encryptedData:
    key: AgBy3i4OJSWK+PiTySYZZA==
  template:
    metadata:
      name: {name}
      namespace: hexabase-aiops
"""
SEALED_ORG = "llm_config: {provider: openai, model: gpt-5.4-mini}\nsecrets: {backend: sealed-secrets}\nworkspaces:\n  a: {}\n"


def test_sealed_secrets_from_the_repository_are_rendered(tmp_path: Path) -> None:
    files = {"org.yaml": SEALED_ORG}
    for name in ("openai-api-key", "llm-gateway-master-key"):
        files[f"secrets/{name}.yaml"] = SEALED.format(name=name)
    docs = render(tmp_path, files)
    sealed = {k: d for k, d in docs.items() if k.startswith("SealedSecret/")}
    assert sorted(sealed) == ["SealedSecret/llm-gateway-master-key", "SealedSecret/openai-api-key"]
    assert_upstream_valid(list(sealed.items()))


def test_a_referenced_secret_without_a_sealed_secret_is_an_error(tmp_path: Path) -> None:
    files = {"org.yaml": SEALED_ORG, "secrets/openai-api-key.yaml": SEALED.format(name="openai-api-key")}
    found = rules(tmp_path, files)
    assert ("SEC-002", "error", f"{tmp_path}/org.yaml:2:20") in found


def test_a_sealed_secret_for_another_namespace_is_an_error(tmp_path: Path) -> None:
    files = {"org.yaml": SEALED_ORG}
    for name in ("openai-api-key", "llm-gateway-master-key"):
        files[f"secrets/{name}.yaml"] = SEALED.format(name=name)
    files["secrets/openai-api-key.yaml"] = files["secrets/openai-api-key.yaml"].replace(
        "  namespace: hexabase-aiops\nspec", "  namespace: default\nspec"
    )
    assert ("SEC-003", "error", f"{tmp_path}/secrets/openai-api-key.yaml:5:14") in rules(tmp_path, files)


def test_external_secrets_backend_needs_a_store(tmp_path: Path) -> None:
    org = "llm_config: {provider: openai, model: gpt-5.4-mini}\nsecrets:\n  backend: external-secrets\n"
    assert ("SEC-004", "error", f"{tmp_path}/org.yaml:3:12") in rules(tmp_path, {"org.yaml": org})


def test_external_secrets_read_each_referenced_key_from_the_store(tmp_path: Path) -> None:
    org = SEALED_ORG.replace("{backend: sealed-secrets}", "{backend: external-secrets, store: {name: vault}}")
    docs = render(tmp_path, {"org.yaml": org})
    secret = docs["ExternalSecret/openai-api-key"]["spec"]
    assert secret["secretStoreRef"] == {"name": "vault", "kind": "ClusterSecretStore"}
    assert secret["data"] == [{"secretKey": "key", "remoteRef": {"key": "openai-api-key", "property": "key"}}]


# --- what validate says ---------------------------------------------------------------------------


def test_limits_counted_per_replica_without_redis_warn_once_per_setting(tmp_path: Path) -> None:
    org = "llm_config: {provider: openai, model: gpt-5.4-mini, rate_limit: {rpm: 10}}\nworkspaces:\n  a: {}\n  b: {}\n"
    assert rules(tmp_path, {"org.yaml": org}) == [("GW-003", "warning", f"{tmp_path}/org.yaml:1:71")]
    shared = org + "gateway: {cache: {redis_secret: redis}}\n"
    assert "GW-003" not in [rule for rule, *_ in rules(tmp_path, {"org.yaml": shared})]
    single = org + "gateway: {replicas: {min: 1, max: 1}}\n"
    assert rules(tmp_path, {"org.yaml": single}) == []


def test_a_rate_limit_too_small_for_shared_replicas_warns_at_its_line(tmp_path: Path) -> None:
    """Up to 4 replicas (the default) learn each other's counts 0.1 s late: below 30 a minute the
    overshoot is more than a tenth of the limit."""
    org = "llm_config: {provider: openai, model: gpt-5.4-mini}\ngateway: {cache: {redis_secret: redis}}\nworkspaces:\n"
    small = org + "  a:\n    llm_override: {rate_limit: {rpm: 29}}\n"
    assert rules(tmp_path, {"org.yaml": small}) == [("GW-012", "warning", f"{tmp_path}/org.yaml:5:38")]
    assert rules(tmp_path, {"org.yaml": small.replace("29", "30")}) == []
    two = small.replace("{redis_secret: redis}", "{redis_secret: redis}, replicas: {min: 2, max: 2}")
    assert rules(tmp_path, {"org.yaml": two.replace("29", "9")})[0][0] == "GW-012"
    assert rules(tmp_path, {"org.yaml": two.replace("29", "10")}) == []
    one = small.replace("{redis_secret: redis}", "{redis_secret: redis}, replicas: {min: 1, max: 1}")
    assert rules(tmp_path, {"org.yaml": one.replace("29", "1")}) == []


def test_audit_log_without_a_database_is_an_error(tmp_path: Path) -> None:
    org = "llm_config: {provider: openai, model: gpt-5.4-mini}\ngateway:\n  audit_log: {enabled: true}\n"
    assert rules(tmp_path, {"org.yaml": org}) == [("GW-002", "error", f"{tmp_path}/org.yaml:3:24")]


def test_azure_without_endpoint_is_an_error(tmp_path: Path) -> None:
    org = "llm_config: {provider: azure-openai, model: gpt-5.4-mini}\nproviders:\n  azure-openai: {api_version: '2024-10-21'}\nworkspaces: {a: {}}\n"
    assert ("GW-005", "error", f"{tmp_path}/org.yaml:3:17") in rules(tmp_path, {"org.yaml": org})


def test_endpoint_with_an_impossible_port_is_an_error(tmp_path: Path) -> None:
    org = "llm_config: {provider: openai, model: gpt-5.4-mini}\nproviders:\n  openai: {endpoint: 'https://x:99999/v1'}\n"
    assert ("GW-006", "error", f"{tmp_path}/org.yaml:3:22") in rules(tmp_path, {"org.yaml": org})


def test_budget_on_a_free_self_hosted_model_warns(tmp_path: Path) -> None:
    org = "llm_config: {provider: ollama, model: llama3:8b, budget: {monthly_usd: 10}}\n"
    org += "gateway: {replicas: {min: 1, max: 1}, cache: {redis_secret: redis}}\n"
    org += "workspaces:\n  a: {}\n"
    assert rules(tmp_path, {"org.yaml": org}) == [("GW-004", "warning", f"{tmp_path}/org.yaml:1:72")]


def test_a_rate_limit_passes_once_per_fallback_alias_a_budget_does_not(tmp_path: Path) -> None:
    """LiteLLM counts rpm/tpm per alias and falls back when one is reached (GW-009); the workspace
    hooks count the budget across the alias and its fallbacks, so a budget alone is no finding."""
    fallback = "fallbacks: [{provider: anthropic, model: claude-haiku-4-5}]"
    org = (
        "llm_config: {provider: openai, model: gpt-5.4-mini}\n"
        "gateway: {replicas: {min: 1, max: 1}, cache: {redis_secret: redis}}\n"
        f"workspaces:\n  limited: {{llm_override: {{rate_limit: {{rpm: 10}}, {fallback}}}}}\n"
        f"  budgeted: {{llm_override: {{budget: {{monthly_usd: 10}}, {fallback}}}}}\n"
    )
    write(tmp_path, {"org.yaml": org})
    [found] = compile_config(str(tmp_path)).diagnostics
    assert (found.rule, found.severity.value, str(found.position)) == ("GW-009", "info", f"{tmp_path}/org.yaml:4:62")
    assert found.message.startswith("workspace 'limited': LiteLLM counts rate limits per model alias")
    assert "up to 2 times the rate limit" in found.message


def test_the_response_cache_beside_a_pii_guardrail_is_no_finding(tmp_path: Path) -> None:
    """LiteLLM 1.80 ran Presidio's logging hook for every request once the cache was on (the old
    GW-007); from 1.108.14 the guardrail's hooks run for the aliases that name it only."""
    org = (
        "llm_config: {provider: openai, model: gpt-5.4-mini}\n"
        "gateway: {replicas: {min: 1, max: 1}, cache: {redis_secret: redis}}\n"
        "workspaces:\n  cached: {llm_override: {cache: {enabled: true}}}\n"
        "  private: {llm_override: {sanitization: {pii: redact}}}\n  plain: {}\n"
    )
    assert rules(tmp_path, {"org.yaml": org}) == []


def test_a_malformed_endpoint_is_an_error_not_a_crash(tmp_path: Path) -> None:
    """`http://[::1` makes urlsplit raise, and the policy facts and egress read endpoints too.
    Found while hardening (issue 9); the endpoint pattern now refuses it first."""
    org = (
        "llm_config: {provider: openai, model: gpt-5.4-mini}\n"
        "providers:\n  openai: {endpoint: 'http://[::1'}\n"
        "  azure-openai: {endpoint: 'http://[::1', api_version: '2024-10-21'}\n"
        "workspaces:\n  a: {}\n  b: {llm_override: {provider: azure-openai, model: gpt-5.4-mini}}\n"
    )
    found = rules(tmp_path, {"org.yaml": org})
    assert [(rule, severity) for rule, severity, _ in found] == [("SCHEMA-006", "error"), ("SCHEMA-006", "error")]


# --- workspace identity ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["acme", "seed"])
def test_no_workspace_object_references_the_master_key(name: str) -> None:
    from tests.render.test_render import rendered_documents

    platform = {"acme": "hexabase-aiops", "seed": "hexabase-aiops"}[name]
    workspace_docs = [(p, d) for p, d in rendered_documents(name) if d["metadata"].get("namespace", d["metadata"]["name"]) != platform]
    workspace_docs = [(p, d) for p, d in workspace_docs if "workspaces" in p.parts]
    assert workspace_docs
    for path, doc in workspace_docs:
        text = json.dumps(doc)
        assert "master-key" not in text and "MASTER_KEY" not in text, path
    routing = [d for _, d in workspace_docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "llm-routing"]
    assert routing and all(d["data"]["token-audience"] == f"llm-gateway.{platform}.svc" for d in routing)


def test_the_gateway_table_names_each_workspace_namespace_its_aliases_priority_and_budget(tmp_path: Path) -> None:
    from compiler.tools import cost

    GPT_4O, HAIKU = cost.token_price("openai", "gpt-5.4-mini"), cost.token_price("anthropic", "claude-haiku-4-5")
    assert GPT_4O and HAIKU and GPT_4O.input_per_token > 0
    org = (
        "llm_config: {provider: openai, model: gpt-5.4-mini}\nworkspaces:\n"
        "  a: {namespace: team-a, llm_override: {priority: critical, budget: {monthly_usd: 50},"
        " fallbacks: [{provider: anthropic, model: claude-haiku-4-5}]}}\n  b: {}\n"
    )
    docs = render(tmp_path, {"org.yaml": org})
    data = docs["ConfigMap/llm-gateway-config"]["data"]
    table = json.loads(data["workspaces.json"])
    assert table == {
        "audience": "llm-gateway.hexabase-aiops.svc",
        "metrics": "system:serviceaccount:hexabase-aiops:llm-gateway-metrics",
        "workspaces": {
            "b": {
                "workspace": "b", "aliases": ["b"], "priority": 128, "budget_usd": None, "max_tokens": 4096, "cache": False,
                "embeddings": None, "pii_guardrail": None,
                "prices": {"b": [GPT_4O.input_per_token, GPT_4O.output_per_token]},
            },
            "team-a": {
                "workspace": "a", "aliases": ["a", "a.fallback-1"], "priority": 1, "budget_usd": 50.0, "max_tokens": 4096, "cache": False,
                "embeddings": None, "pii_guardrail": None,
                "prices": {"a": [GPT_4O.input_per_token, GPT_4O.output_per_token], "a.fallback-1": [HAIKU.input_per_token, HAIKU.output_per_token]},
            },
        },
    }
    config = YAML(typ="safe").load(data["config.yaml"])
    assert config["litellm_settings"]["global_disable_no_log_param"] is True  # no-log would skip the spend count
    assert config["general_settings"]["custom_auth"] == "hks_workspace_auth.user_api_key_auth"
    assert "hks_workspace_auth.workspace_hooks" in config["litellm_settings"]["callbacks"]
    assert config["litellm_settings"]["require_auth_for_metrics_endpoint"] is True
    assert "def user_api_key_auth" in data["hks_workspace_auth.py"]
    pod = docs["Deployment/llm-gateway"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "llm-gateway" and pod["automountServiceAccountToken"] is False
    role = docs["ClusterRole/hexabase-aiops-llm-gateway-tokenreview"]
    assert role["rules"] == [{"apiGroups": ["authentication.k8s.io"], "resources": ["tokenreviews"], "verbs": ["create"]}]
