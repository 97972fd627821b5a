"""End to end: the real LiteLLM proxy runs the rendered gateway config (Prometheus callback on),
serves a mix of good and failing requests against the local stand-in, and its /metrics must show
every metric the rendered rules and dashboards use, with the label values they select on. A
dashboard over a metric that does not exist is the most common monitoring bug."""

from __future__ import annotations

import concurrent.futures
import json
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from compiler.tools import cost
from compiler.render import monitoring
from tests.e2e.gateway import ROOT, chat, embed, get, render, running, scrape_token
from tests.e2e.kubeapi import KubeAPI
from tests.e2e.standin import EMBEDDING_TOKENS, MISSING_OLLAMA_MODEL, USAGE_IN, USAGE_OUT, StandIn

ORG = """\
organization: metrics
llm_config:
  provider: openai
  model: gpt-4o
providers:
  openai:
    endpoint: http://127.0.0.1:{port}/v1
  anthropic:
    endpoint: http://127.0.0.1:{port}
  ollama:
    endpoint: http://127.0.0.1:{port}
self_hosted:
  models: [llama3:8b, {missing}]
gateway:
  replicas: {{min: 1, max: 1}}
workspaces:
  chat:
    llm_override: {{budget: {{monthly_usd: 1000}}}}
  claude:
    llm_override: {{provider: anthropic, model: claude-haiku-4-5}}
  local:
    llm_override: {{provider: ollama, model: "llama3:8b"}}
  unpulled:
    llm_override: {{provider: ollama, model: "{missing}"}}
  limited:
    llm_override: {{model: gpt-4o-mini, rate_limit: {{rpm: 1}}}}
  resilient:
    llm_override:
      model: gpt-4.1
      fallbacks: [{{provider: anthropic, model: claude-haiku-4-5}}]
  doomed:
    llm_override:
      model: gpt-4.1
      # its fallback fails at once (a 404 is not retried): the request costs its own retries only
      fallbacks: [{{provider: ollama, model: "{missing}"}}]
  embedder:
    llm_override:
      embeddings: {{provider: openai, model: text-embedding-3-small}}
"""
SAMPLE = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)(\{[^}]*\})? ", re.M)


@pytest.fixture(scope="module")
def rendered(standin: StandIn, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(ORG.format(port=standin.port, missing=MISSING_OLLAMA_MODEL), tmp_path_factory)


@pytest.fixture(scope="module")
def metrics(
    rendered: Path, standin: StandIn, kubeapi: KubeAPI, litellm: Path, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """/metrics after traffic: successes on every provider, an unpulled Ollama model, a
    rate-limit rejection, a fallback that saves the request and one that does not."""
    with running(rendered, standin, kubeapi, litellm, tmp_path_factory) as url:
        asks: dict[str, Callable[[], int]] = {alias: (lambda a=alias: chat(url, a)[0]) for alias in ("claude", "local", "unpulled", "resilient", "doomed")}
        asks["chat"] = asks["chat (again)"] = lambda: chat(url, "chat")[0]
        # rpm: 1 counts per clock minute: of three requests in a row, two share a minute.
        asks["limited"] = lambda: 429 if any(chat(url, "limited")[0] == 429 for _ in range(3)) else 200
        asks["embedder.embeddings"] = lambda: embed(url, "embedder.embeddings", ["one", "two"])[0]
        # All at once: the failing model's retries (about 4 s for `resilient`, then its fallback)
        # overlap the rest instead of following them.
        with concurrent.futures.ThreadPoolExecutor(len(asks)) as pool:
            outcomes = dict(zip(asks, pool.map(lambda ask: ask(), asks.values()), strict=True))
        assert outcomes["chat"] == outcomes["chat (again)"] == outcomes["claude"] == outcomes["local"] == outcomes["resilient"] == 200, outcomes
        assert outcomes["embedder.embeddings"] == 200, outcomes
        assert outcomes["limited"] == 429 and outcomes["unpulled"] >= 400 and outcomes["doomed"] >= 500, outcomes
        deadline = time.monotonic() + 30
        while True:  # the callbacks run just after each response
            status, text = get(f"{url}/metrics", scrape_token())  # the ServiceMonitor's credential
            assert status == 200, text
            if "litellm_deployment_failed_fallbacks_total{" in text or time.monotonic() > deadline:
                return text
            time.sleep(0.5)


def _samples(text: str) -> list[tuple[str, dict[str, str]]]:
    found = []
    for name, labels in SAMPLE.findall(text):
        pairs = dict(re.findall(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"', labels or ""))
        found.append((name, pairs))
    return found


def _rules_and_dashboards(rendered: Path) -> tuple[list[dict], dict[str, str]]:
    yaml = YAML(typ="safe", pure=True)
    folder = rendered / "platform/monitoring"
    groups = yaml.load((folder / "prometheusrule-hks-llm.yaml").read_text())["spec"]["groups"]
    boards = {}
    for path in sorted(folder.glob("configmap-grafana-dashboard-*.yaml")):
        boards.update(yaml.load(path.read_text())["data"])
    return groups, boards


def test_metrics_endpoint_is_on_without_an_enterprise_licence(metrics: str) -> None:
    assert "litellm_proxy_total_requests_metric_total{" in metrics


@pytest.mark.parametrize("which", ["this test's config", "examples/acme"])
def test_every_metric_the_rules_and_dashboards_use_is_exposed(which: str, rendered: Path, metrics: str) -> None:
    folder = rendered if which.startswith("this") else ROOT / "examples" / "acme" / "rendered"
    groups, boards = _rules_and_dashboards(folder)
    exposed = {name for name, _ in _samples(metrics)}
    recorded = monitoring.recorded(groups)
    used = set().union(*(monitoring.metric_names(e) for e in monitoring.expressions(groups, boards)))
    assert {n for n in used if n.startswith("litellm_")}, "no LiteLLM metric used?"
    missing = sorted(n for n in used - recorded if n not in monitoring.EXTERNAL_METRICS and n not in exposed)
    assert not missing, f"used by the rules or dashboards but not on LiteLLM's /metrics: {missing}"
    documented = {re.sub(r"_(bucket|count|sum)$", "", n) for n in monitoring.LITELLM_METRICS}
    for name in monitoring.LITELLM_METRICS:
        assert name in exposed or re.sub(r"_(bucket|count|sum)$", "_bucket", name) in exposed, name
    assert all(re.sub(r"_(bucket|count|sum)$", "", n) in documented for n in used if n.startswith("litellm_"))


def test_the_label_values_the_rules_select_on_are_what_litellm_reports(rendered: Path, metrics: str) -> None:
    samples = _samples(metrics)

    def having(name: str, **labels: str) -> list[dict[str, str]]:
        return [l for n, l in samples if n == name and all(l.get(k) == v for k, v in labels.items())]

    # requested_model is the alias: the workspace, or <workspace>.fallback-N.
    assert having("litellm_input_tokens_metric_total", requested_model="chat", model="gpt-4o")
    assert having("litellm_input_tokens_metric_total", requested_model="resilient.fallback-1")
    # The rate-limit alert: the router's own refusal, as 429.
    assert having("litellm_proxy_failed_requests_metric_total", requested_model="limited", exception_status="429")
    # The router's refusals are no provider's failures: they carry api_provider="None" (before
    # 1.108) or "" (from 1.108), both of which the error-rate rule leaves out.
    refusals = having("litellm_deployment_failure_responses_total", requested_model="limited", exception_status="429")
    assert refusals and all(labels["api_provider"] in ("None", "") for labels in refusals), refusals
    assert 'api_provider!~\\"None|\\"' in json.dumps(_rules_and_dashboards(rendered)[0])
    assert having("litellm_deployment_failure_responses_total", requested_model="resilient", api_provider="openai")
    # The model-not-loaded alert: failures of one model on the ollama_chat provider. LiteLLM 1.80
    # turns Ollama's 404 "model not found" into APIConnectionError with status 500, so the rule
    # cannot select on 404 (docs/monitoring.md).
    [unpulled] = having(
        "litellm_deployment_failure_responses_total",
        api_provider="ollama_chat",
        litellm_model_name=MISSING_OLLAMA_MODEL,
        model_id="unpulled.deployment",
    )
    assert (unpulled["exception_status"], unpulled["exception_class"]) == ("404", "Ollama_chat.NotFoundError")
    assert having("litellm_deployment_total_requests_total", api_provider="ollama_chat", model_id="unpulled.deployment")
    assert having("litellm_deployment_successful_fallbacks_total", requested_model="resilient", fallback_model="resilient.fallback-1")
    assert having("litellm_deployment_failed_fallbacks_total", requested_model="doomed")
    assert having("litellm_deployment_state", model_id="chat.deployment")


def test_the_gateways_spend_uses_the_catalogue_prices(metrics: str) -> None:
    """The rendered model_info prices reach LiteLLM's cost tracking: two `chat` requests of the
    stand-in's usage cost exactly what the catalogue (and so `hks cost`) says."""
    price = cost.token_price("openai", "gpt-4o")
    assert price is not None
    expected = 2 * (USAGE_IN * price.input + USAGE_OUT * price.output) / 1_000_000
    [spend] = [float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines() if line.startswith("litellm_spend_metric_total{") and 'model="gpt-4o"' in line]
    assert spend == pytest.approx(expected)
    [free] = [float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines() if line.startswith("litellm_spend_metric_total{") and 'model="llama3:8b"' in line]
    assert free == 0.0


def test_embedding_tokens_are_counted_and_priced_under_the_embedding_alias(metrics: str) -> None:
    """An embedding call reports its input tokens with requested_model `<workspace>.embeddings`
    (what the spend rule and the dashboards select) and costs them at the embedding model's price."""
    price = cost.token_price("openai", "text-embedding-3-small")
    assert price is not None and price.input > 0 and price.output == 0
    tokens = 2 * EMBEDDING_TOKENS  # two texts in one request
    counted = [line for line in metrics.splitlines() if line.startswith("litellm_input_tokens_metric_total{") and 'requested_model="embedder.embeddings"' in line]
    assert len(counted) == 1 and 'model="text-embedding-3-small"' in counted[0], counted
    assert float(counted[0].rsplit(" ", 1)[1]) == tokens
    [spend] = [float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines() if line.startswith("litellm_spend_metric_total{") and 'model="text-embedding-3-small"' in line]
    assert spend == pytest.approx(tokens * price.input / 1_000_000)


def test_the_rendered_config_asks_for_the_callback(rendered: Path) -> None:
    configmap = YAML(typ="safe", pure=True).load((rendered / "platform/gateway/configmap-llm-gateway-config.yaml").read_text())
    config = YAML(typ="safe", pure=True).load(configmap["data"]["config.yaml"])
    assert "prometheus" in config["litellm_settings"]["callbacks"]
    assert json.dumps(config).count("input_cost_per_token") == len(config["model_list"])


def test_every_label_the_rules_and_dashboards_match_on_is_reported(rendered: Path, metrics: str) -> None:
    """A matcher on a label a metric does not have selects nothing, silently."""
    groups, boards = _rules_and_dashboards(rendered)
    labels: dict[str, set[str]] = {}
    for name, pairs in _samples(metrics):
        labels.setdefault(name, set()).update(pairs)
    for expr in monitoring.expressions(groups, boards):
        for name, matchers in re.findall(r"(litellm_[A-Za-z0-9_]+)\{([^}]*)\}", expr):
            for label in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)", matchers):
                assert label in labels.get(name, set()), f"{name} has no label {label!r} (in {expr})"
