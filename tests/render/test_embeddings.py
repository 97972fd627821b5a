"""A workspace's embedding model (`llm_config.embeddings` / `llm_override.embeddings`): merged like
any setting, checked against the catalogue and every policy rule that reasons about a
workspace's models, at the line that names it, and rendered as `<workspace>.embeddings`
(tests/e2e/test_embeddings_e2e.py runs it through the real proxy)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from compiler.builtin import catalogue
from compiler.pipeline import compile_config
from compiler.providers import registry
from compiler.tools import cost
from tests.conftest import hks, write
from tests.render.test_gateway import litellm_config, render, rules

OLLAMA = "embeddings: {provider: ollama, model: 'nomic-embed-text:v1.5'}"
OPENAI = "embeddings: {provider: openai, model: text-embedding-3-small}"
GATEWAY = "gateway: {replicas: {min: 1, max: 1}, cache: {redis_secret: redis}}\n"


def place(root: Path, text: str, before: str, value: str) -> str:
    """`org.yaml:line:column` of `value` where it follows the first `before` in `text`."""
    for number, line in enumerate(text.splitlines(), start=1):
        if before in line:
            return f"{root}/org.yaml:{number}:{line.index(value, line.index(before)) + 1}"
    raise AssertionError(f"{before!r} not in {text!r}")


def org(*workspaces: str, llm: str = "", extra: str = "") -> str:
    body = "".join(f"  {w}\n" for w in workspaces)
    return f"llm_config: {{provider: openai, model: gpt-5.4-mini{llm}}}\n{GATEWAY}{extra}workspaces:\n{body}"


# --- merge and explain ----------------------------------------------------------------------------


def test_a_workspace_inherits_the_organisations_embedding_model_and_may_replace_it(tmp_path: Path) -> None:
    text = org("a: {}", f"b: {{llm_override: {{{OLLAMA}}}}}", "c: {llm_override: {embeddings: null}}", llm=f", {OPENAI}")
    write(tmp_path, {"org.yaml": text})
    compiled = compile_config(str(tmp_path))
    assert compiled.ok, [d.message for d in compiled.diagnostics]
    found = {w.name: w.llm.embeddings and (w.llm.embeddings.provider, w.llm.embeddings.model) for w in compiled.workspaces}
    assert found == {"a": ("openai", "text-embedding-3-small"), "b": ("ollama", "nomic-embed-text:v1.5"), "c": None}
    b = next(w for w in compiled.workspaces if w.name == "b")
    assert str(b.llm_sources["embeddings.model"].origin) == place(tmp_path, text, "b:", "'nomic")


# --- the catalogue --------------------------------------------------------------------------------


def test_anthropic_offers_no_embedding_model(tmp_path: Path) -> None:
    text = org("a: {llm_override: {embeddings: {provider: anthropic, model: claude-haiku-4-5}}}")
    assert rules(tmp_path, {"org.yaml": text}) == [("EMB-002", "error", place(tmp_path, text, "embeddings", "claude"))]
    result = hks("validate", str(tmp_path))
    assert result.exit_code == 1
    offering = ", ".join(p for p in registry.NAMES if catalogue.offers_embeddings(p))
    assert "anthropic offers no embedding models" in result.output and f"({offering})" in result.output
    assert offering.startswith("azure-openai, google, ")


def test_a_chat_model_cannot_embed_and_an_embedding_model_cannot_chat(tmp_path: Path) -> None:
    text = org(
        "a: {llm_override: {embeddings: {provider: openai, model: gpt-5.4-mini}}}",
        "b: {llm_override: {model: text-embedding-3-small}}",
    )
    assert rules(tmp_path, {"org.yaml": text}) == [
        ("EMB-001", "error", place(tmp_path, text, "a:", "gpt-5.4-mini")),
        ("EMB-001", "error", place(tmp_path, text, "b:", "text-embedding")),
    ]


def test_an_unknown_embedding_model_gets_a_suggestion(tmp_path: Path) -> None:
    text = org("a: {llm_override: {embeddings: {provider: ollama, model: 'nomic-embed-txt:v1.5'}}}")
    write(tmp_path, {"org.yaml": text})
    [found] = compile_config(str(tmp_path)).diagnostics
    assert (found.rule, str(found.position)) == ("CAT-001", place(tmp_path, text, "a:", "'nomic"))
    assert found.hint and "nomic-embed-text:v1.5" in found.hint


# --- every policy rule about a workspace's models covers its embedding model ----------------------


@pytest.mark.parametrize(
    ("workspace", "extra", "expected"),
    [
        # HIPAA-001: the Gemini API, which no BAA covers, is an error at the embedding setting's line
        ("a: {compliance: [hipaa], llm_override: {sanitization: {pii: redact}, embeddings: {provider: google, model: gemini-embedding-001}}}",
         "providers: {openai: {baa: true}}\n", ("HIPAA-001", "error")),
        # HIPAA-002: a provider whose BAA is not recorded, as for a chat model
        ("a: {compliance: [hipaa], llm_override: {sanitization: {pii: redact}, embeddings: {provider: azure-openai, model: text-embedding-3-small}}}",
         "providers: {openai: {baa: true}, azure-openai: {endpoint: 'https://a.openai.azure.com', api_version: '2024-10-21', region: eastus}}\n",
         ("HIPAA-002", "info")),
        # DR-002: an on-premises workspace's commercial embedding model
        ("a: {data_residency: on-premises, llm_override: {provider: ollama, model: 'llama3:8b', embeddings: {provider: openai, model: text-embedding-3-small}}}",
         "", ("DR-002", "error")),
        # DR-001: an EU workspace's embedding model processed outside the EU
        ("a: {data_residency: eu, llm_override: {provider: ollama, model: 'llama3:8b', embeddings: {provider: openai, model: text-embedding-3-small}}}",
         "", ("DR-001", "error")),
        # GDPR-002: personal data embedded outside the EU
        ("a: {compliance: [gdpr], llm_override: {provider: ollama, model: 'llama3:8b', embeddings: {provider: openai, model: text-embedding-3-small}}}",
         "", ("GDPR-002", "warning")),
    ],
    ids=["HIPAA-001", "HIPAA-002", "DR-002", "DR-001", "GDPR-002"],
)
def test_policy_rules_apply_to_the_embedding_model_at_its_line(tmp_path: Path, workspace: str, extra: str, expected: tuple) -> None:
    rule, severity = expected
    text = org(workspace, extra=extra)
    found = [r for r in rules(tmp_path, {"org.yaml": text}) if not r[0].startswith(("GW-", "HIPAA-004"))]
    embedding_provider = workspace[workspace.index("embeddings: {provider: ") + len("embeddings: {provider: "):].split(",")[0]
    assert (rule, severity, place(tmp_path, text, "embeddings", embedding_provider)) in found, found
    without = workspace.replace(workspace[workspace.index("embeddings:") :], "}}")
    assert rule not in {r[0] for r in rules(tmp_path, {"org.yaml": org(without, extra=extra)})}


def test_hipaa_asks_for_tls_to_the_embedding_models_server_too(tmp_path: Path) -> None:
    plain = "providers: {ollama: {endpoint: 'http://ollama.internal:11434'}}\n"
    hipaa = "a: {compliance: [hipaa], llm_override: {sanitization: {pii: redact}"
    with_embeddings = org(f"{hipaa}, {OLLAMA}}}}}", extra=plain)
    assert "HIPAA-005" in {r[0] for r in rules(tmp_path, {"org.yaml": with_embeddings})}
    assert "HIPAA-005" not in {r[0] for r in rules(tmp_path, {"org.yaml": org(f"{hipaa}}}}}", extra=plain)})}


def diagnostic(tmp_path: Path, text: str, rule: str) -> Any:
    write(tmp_path, {"org.yaml": text})
    return next(d for d in compile_config(str(tmp_path)).diagnostics if d.rule == rule)


def test_hints_for_an_embedding_model_suggest_embedding_models_and_the_embeddings_flag(tmp_path: Path) -> None:
    retired = diagnostic(tmp_path, org("a: {}", llm=", embeddings: {provider: google, model: gemini-embedding-2-preview}"), "CAT-004")
    assert "embedding model, such as gemini-embedding-001" in retired.hint and "--embeddings" in retired.hint
    assert retired.flag_hint.startswith("use --embeddings google/MODEL with a current google embedding model")
    elsewhere = diagnostic(tmp_path, org("a: {llm_override: {embeddings: {provider: google, model: text-embedding-3-small}}}"), "CAT-003")
    assert "embeddings: {provider: openai, model: text-embedding-3-small}" in elsewhere.hint
    assert "such as gemini-embedding-001" in elsewhere.hint
    assert elsewhere.flag_hint == "use --embeddings openai/text-embedding-3-small, or --embeddings google/gemini-embedding-001"


def test_an_on_premises_embedding_model_on_a_server_outside_the_cluster_is_refused(tmp_path: Path) -> None:
    text = org(
        "a: {data_residency: on-premises, llm_override: {provider: ollama, model: 'llama3:8b', "
        "embeddings: {provider: ollama, model: 'nomic-embed-text:v1.5'}}}",
        extra="providers: {ollama: {endpoint: 'https://ollama.example.com'}}\n",
    )
    assert ("GW-008", "error", place(tmp_path, text, "endpoint", "'https")) in rules(tmp_path, {"org.yaml": text})


def test_a_budget_is_reachable_through_a_paid_embedding_model(tmp_path: Path) -> None:
    free = "a: {llm_override: {provider: ollama, model: 'llama3:8b', budget: {monthly_usd: 5}}}"
    paid = f"a: {{llm_override: {{provider: ollama, model: 'llama3:8b', budget: {{monthly_usd: 5}}, {OPENAI}}}}}"
    assert "GW-004" in {r[0] for r in rules(tmp_path, {"org.yaml": org(free)})}
    assert "GW-004" not in {r[0] for r in rules(tmp_path, {"org.yaml": org(paid)})}


# --- the gateway --------------------------------------------------------------------------------


def test_embedding_aliases_get_the_embedding_prefix_and_no_chat_settings(tmp_path: Path) -> None:
    docs = render(tmp_path, {"org.yaml": org(f"search: {{llm_override: {{{OLLAMA}, rate_limit: {{rpm: 60}}, budget: {{monthly_usd: 9}}}}}}", f"rag: {{llm_override: {{{OPENAI}}}}}")})
    deployments = {d["model_name"]: d for d in litellm_config(docs)["model_list"]}
    assert sorted(deployments) == ["rag", "rag.embeddings", "search", "search.embeddings"]
    search = deployments["search.embeddings"]["litellm_params"]
    assert search["model"] == "ollama/nomic-embed-text:v1.5"  # ollama_chat/ has no embedding route
    assert deployments["search"]["litellm_params"]["model"] == "openai/gpt-5.4-mini"
    assert {k: search[k] for k in ("rpm", "max_budget")} == {"rpm": 60, "max_budget": 9}
    assert not {"max_tokens", "temperature", "top_p"} & set(search)
    rag = deployments["rag.embeddings"]
    assert rag["litellm_params"]["model"] == "openai/text-embedding-3-small"
    price = cost.token_price("openai", "text-embedding-3-small")
    assert price and rag["model_info"]["input_cost_per_token"] == price.input_per_token > 0
    assert rag["model_info"]["output_cost_per_token"] == 0
    router = litellm_config(docs)["router_settings"]
    assert "search.embeddings" in router["model_group_retry_policy"]
    table = json.loads(docs["ConfigMap/llm-gateway-config"]["data"]["workspaces.json"])["workspaces"]
    assert (table["search"]["aliases"], table["search"]["embeddings"]) == (["search"], "search.embeddings")
    assert table["rag"]["prices"]["rag.embeddings"] == [price.input_per_token, 0.0]
    ollama = docs["ConfigMap/ollama-models"]["data"]["models.txt"]
    assert "nomic-embed-text:v1.5" in ollama.split()


def test_the_nodes_pull_a_self_hosted_embedding_model_and_warm_up_only_chat_models(tmp_path: Path) -> None:
    text = "llm_config: {provider: ollama, model: 'llama3:8b', " + OLLAMA + "}\n"
    text += "self_hosted: {models: ['all-minilm:22m'], max_loaded_models: 2}\nworkspaces: {a: {}}\n"
    docs = render(tmp_path, {"org.yaml": text})
    assert docs["ConfigMap/ollama-models"]["data"]["models.txt"].split() == ["all-minilm:22m", "llama3:8b", "nomic-embed-text:v1.5"]
    pod = docs["DaemonSet/ollama"]["spec"]["template"]["spec"]
    warm = next(c for c in pod["containers"] if c["name"] == "ollama")["startupProbe"]["exec"]["command"]
    assert warm[-1:] == ["llama3:8b"] and "all-minilm:22m" not in warm and "nomic-embed-text:v1.5" not in warm


def test_the_embedding_provider_gets_its_key_and_its_way_out(tmp_path: Path) -> None:
    """A workspace whose chat model is self-hosted but embeds with OpenAI: the gateway gets the
    OpenAI key and may reach api.openai.com, and nothing else outside."""
    text = "llm_config: {provider: ollama, model: 'llama3:8b', " + OPENAI + "}\n"
    text += "cluster: {cni: cilium}\nworkspaces: {a: {}}\n"
    docs = render(tmp_path, {"org.yaml": text})
    env = docs["Deployment/llm-gateway"]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "OPENAI_API_KEY", "valueFrom": {"secretKeyRef": {"name": "openai-api-key", "key": "key"}}} in env
    policy = docs["CiliumNetworkPolicy/llm-gateway-fqdn"]
    assert [m["matchName"] for rule in policy["spec"]["egress"] for m in rule.get("toFQDNs", [])] == ["api.openai.com"]


def test_the_routing_configmap_names_the_embedding_alias(tmp_path: Path) -> None:
    from compiler.render.components import workspace as rendering

    write(tmp_path, {"org.yaml": org(f"rag: {{llm_override: {{{OPENAI}}}}}", "plain: {}")})
    compiled = compile_config(str(tmp_path))
    by_name = {w.name: rendering.routing(compiled.config, w) for w in compiled.workspaces}
    assert by_name["rag"]["embeddings-model"] == "rag.embeddings"
    assert json.loads(by_name["rag"]["settings.json"])["embeddings"] == {"provider": "openai", "model": "text-embedding-3-small"}
    assert "embeddings-model" not in by_name["plain"]


def test_the_cache_is_on_by_default_and_every_uncached_alias_opts_out(tmp_path: Path) -> None:
    """`default_off` never reads embeddings back (LiteLLM 1.80 to 1.110.2): hks renders `default_on`
    and keeps every other workspace's aliases out of the cache, reading and writing."""
    cached = f"cached: {{llm_override: {{cache: {{enabled: true, ttl_seconds: 60}}, {OPENAI}}}}}"
    docs = render(tmp_path, {"org.yaml": org(cached, f"plain: {{llm_override: {{{OPENAI}}}}}")})
    config = litellm_config(docs)
    assert config["litellm_settings"]["cache_params"]["mode"] == "default_on"
    caches = {d["model_name"]: d["litellm_params"].get("cache") for d in config["model_list"]}
    assert caches == {
        "cached": {"ttl": 60},
        "cached.embeddings": {"ttl": 60},
        "plain": {"no-cache": True, "no-store": True},
        "plain.embeddings": {"no-cache": True, "no-store": True},
    }


def test_without_any_cache_no_alias_says_anything_about_it(tmp_path: Path) -> None:
    config = litellm_config(render(tmp_path, {"org.yaml": org(f"plain: {{llm_override: {{{OPENAI}}}}}")}))
    assert "cache" not in config.get("litellm_settings", {})
    assert all("cache" not in d["litellm_params"] for d in config["model_list"])


# --- cost -------------------------------------------------------------------------------------------


def test_hks_cost_prices_embedded_tokens_at_the_embedding_models_price(tmp_path: Path) -> None:
    usage = "usage: {requests_per_day: 0, input_tokens: 0, output_tokens: 0, embedding_tokens_per_day: 1000000}"
    write(tmp_path, {"org.yaml": org(f"rag: {{{usage}, llm_override: {{{OPENAI}}}}}", f"lazy: {{usage: {{requests_per_day: 0, input_tokens: 0, output_tokens: 0}}, llm_override: {{{OPENAI}}}}}")})
    result = hks("cost", str(tmp_path), "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)["estimate"]
    rag = next(w for w in report["workspaces"] if w["name"] == "rag")
    price = cost.token_price("openai", "text-embedding-3-small")
    assert price is not None
    monthly = 1_000_000 * cost.DAYS_PER_MONTH * price.input / 1_000_000
    assert rag["shares"][-1] == {"model": "openai/text-embedding-3-small", "fraction": 1.0, "monthly_usd": round(monthly, 2), "embedding": True}
    assert rag["monthly_usd"] == round(monthly, 2)
    text = hks("cost", str(tmp_path)).output
    assert "lazy: embeddings (openai/text-embedding-3-small) not estimated: no usage.embedding_tokens_per_day" in text
