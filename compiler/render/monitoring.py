"""The effective config → what Prometheus and Grafana need: the gateway's scrape target, the
alert and recording rules, and the dashboards. Returns plain values; render/components/monitoring.py wraps them in
Kubernetes objects.

Every metric is one LiteLLM really exposes (the e2e test scrapes the pinned 1.110.2 and the
oldest supported 1.108.14 and checks each name used here), or one of the cluster exporters in
EXTERNAL_METRICS. Ollama has no Prometheus endpoint (docs/monitoring.md), so models are watched
through the gateway's per-deployment metrics and the DaemonSet through kube-state-metrics.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from compiler.merge import Workspace
from compiler.model.config import Config
from compiler.render import litellm_config as gateway
from compiler.targets import targets

# Names as /metrics shows them (prometheus_client adds `_total` to counters and `_bucket`,
# `_sum`, `_count` to histograms) → where LiteLLM 1.110.2 defines them (1.108.14: the same names).
LITELLM_METRICS: dict[str, str] = {
    "litellm_proxy_total_requests_metric_total": "litellm/integrations/prometheus.py:562",
    "litellm_proxy_failed_requests_metric_total": "litellm/integrations/prometheus.py:556",
    "litellm_request_total_latency_metric_bucket": "litellm/integrations/prometheus.py:569",
    "litellm_llm_api_latency_metric_bucket": "litellm/integrations/prometheus.py:578",
    "litellm_spend_metric_total": "litellm/integrations/prometheus.py:600",
    "litellm_total_tokens_metric_total": "litellm/integrations/prometheus.py:607",
    "litellm_input_tokens_metric_total": "litellm/integrations/prometheus.py:613",
    "litellm_output_tokens_metric_total": "litellm/integrations/prometheus.py:619",
    "litellm_overhead_latency_metric_bucket": "litellm/integrations/prometheus.py:858",
    "litellm_deployment_state": "litellm/integrations/prometheus.py:909",
    "litellm_deployment_success_responses_total": "litellm/integrations/prometheus.py:934",
    "litellm_deployment_failure_responses_total": "litellm/integrations/prometheus.py:939",
    "litellm_deployment_total_requests_total": "litellm/integrations/prometheus.py:945",
    "litellm_deployment_latency_per_output_token_bucket": "litellm/integrations/prometheus.py:952",
    "litellm_deployment_successful_fallbacks_total": "litellm/integrations/prometheus.py:958",
    "litellm_deployment_failed_fallbacks_total": "litellm/integrations/prometheus.py:964",
}
# Metrics from exporters a Kubernetes monitoring stack runs beside Prometheus, not from LiteLLM.
EXTERNAL_METRICS: dict[str, str] = {
    "kube_daemonset_status_desired_number_scheduled": "kube-state-metrics",
    "kube_daemonset_status_number_available": "kube-state-metrics",
    "kube_pod_container_status_restarts_total": "kube-state-metrics",
    "DCGM_FI_DEV_GPU_UTIL": "NVIDIA DCGM exporter (GPU operator; optional)",
    "DCGM_FI_DEV_FB_USED": "NVIDIA DCGM exporter (GPU operator; optional)",
    "up": "Prometheus itself (one series per scrape target)",
}

SPEND_RATE = "workspace:litellm_spend_usd:rate1h"
SPEND_MONTH = "workspace:litellm_spend_usd:month_to_date"
BUDGET = "workspace:litellm_budget_usd:monthly"
FAILURES = "workspace_provider:litellm_deployment_failures:rate5m"
REQUESTS = "workspace_provider:litellm_deployment_requests:rate5m"
# The workspace an alias belongs to: `production`, `production.fallback-1` and
# `production.embeddings` are production's.
WORKSPACE_OF = '"workspace", "$1", "requested_model", "([^.]+).*"'
SCRAPE_INTERVAL = "30s"
# Grafana's latest dashboard schema version, the last of its v1 dashboard API (grafana/grafana,
# apps/dashboard/pkg/migration/schemaversion/README.md; read 2026-11-25). Migrations 40 to 42
# change nothing in the dashboards hks writes (tests/render/test_monitoring.py checks their shape).
DASHBOARD_SCHEMA_VERSION = 42


def runbook(config: Config, alert: str) -> str:
    return f"{config.org.monitoring.runbook_url}#{alert.lower()}"


# --- ServiceMonitor ---------------------------------------------------------------------------


def service_monitor_spec(config: Config) -> dict[str, Any]:
    endpoint: dict[str, Any] = {"port": "http", "path": "/metrics", "interval": SCRAPE_INTERVAL, "scheme": "http"}
    if config.org.cluster.tls is not None:
        # The gateway serves TLS (cluster.tls): Prometheus verifies it against the CA Bundle
        # trust-manager writes into this namespace (render/components/tls.py).
        from compiler.render.components import tls

        namespace = config.org.cluster.namespace
        endpoint["port"] = "https"
        endpoint["scheme"] = "https"
        endpoint["tlsConfig"] = {
            "ca": {"configMap": {"name": tls.bundle_name(config), "key": tls.TRUST_KEY}},
            "serverName": f"{gateway.GATEWAY_NAME}.{namespace}.svc",
        }
    return {
        "selector": {"matchLabels": {"app.kubernetes.io/name": gateway.GATEWAY_NAME}},
        "namespaceSelector": {"matchNames": [config.org.cluster.namespace]},
        "endpoints": [
            {
                **endpoint,
                # A credential of its own, good for /metrics only (hks_workspace_auth.py): the
                # metrics name workspaces and keys, so they are not open to every caller. The
                # Secret is a ServiceAccount token Kubernetes fills in (render/components/gateway.py).
                "authorization": {
                    "type": "Bearer",
                    "credentials": {"name": gateway.METRICS_TOKEN_SECRET, "key": "token"},
                },
            }
        ],
    }


# --- rules ------------------------------------------------------------------------------------


def rule_groups(config: Config, workspaces: tuple[Workspace, ...]) -> list[dict[str, Any]]:
    groups = [
        {"name": "hks-llm-spend.rules", "interval": "1m", "rules": _spend_records(workspaces)},
        {"name": "hks-llm-gateway.rules", "rules": _gateway_records()},
        {"name": "hks-llm-gateway.alerts", "rules": _gateway_alerts(config)},
    ]
    budget_alerts = _budget_alerts(config, workspaces)
    if budget_alerts:
        groups.append({"name": "hks-llm-budget.alerts", "rules": budget_alerts})
    if _serves_ollama(config, workspaces):
        groups.append({"name": "hks-ollama.alerts", "rules": _ollama_alerts(config)})
    return groups


def _serves_ollama(config: Config, workspaces: tuple[Workspace, ...]) -> bool:
    from compiler.providers import selfhosted

    return bool(selfhosted.served_models(config, workspaces))


def _number(value: float) -> str:
    """A float as PromQL writes it, without binary noise (2.5e-06, not 2.4999999e-06)."""
    return repr(round(value, 12))


def _spend_records(workspaces: tuple[Workspace, ...]) -> list[dict[str, Any]]:
    """Spend per workspace in USD per second: LiteLLM's own spend counter for each of the
    workspace's paid aliases. The gateway is configured with the catalogue's prices, and a
    cache hit costs nothing there, where a token counter would count it again."""
    from compiler.builtin import catalogue

    rules: list[dict[str, Any]] = []
    for workspace in workspaces:
        terms = []
        for target in targets(workspace):
            price = catalogue.token_price(target.provider, target.model)
            if price is None or not (price.input_per_token or price.output_per_token):
                continue  # self-hosted: the nodes cost the same whatever the traffic
            selector = f'litellm_spend_metric_total{{requested_model="{target.alias}"}}'
            terms.append(f"(sum(rate({selector}[1h])) or vector(0))")
        if terms:
            rules.append({"record": SPEND_RATE, "expr": "\n  + ".join(terms), "labels": {"workspace": workspace.name}})
    for workspace in workspaces:
        if workspace.llm.budget:
            rules.append(
                {
                    "record": BUDGET,
                    "expr": f"vector({_number(workspace.llm.budget.monthly_usd)})",
                    "labels": {"workspace": workspace.name},
                }
            )
    if rules:
        rules.append({"record": SPEND_MONTH, "expr": _month_to_date()})
    return rules


def _month_to_date() -> str:
    """Spend since the first of the month: on day k, the hourly spend rates of the last k days
    summed. PromQL ranges are fixed, hence one branch per day of the month; the window starts
    at most one day early (the previous month's last hours), so the alerts err early, never late.
    Needs the spend series kept for 31 days (Prometheus retention ≥ 31d)."""
    branches = [
        f"(sum_over_time({SPEND_RATE}[{day}d:1h]) * 3600 and on() day_of_month() == {day})" for day in range(1, 32)
    ]
    return "\n  or ".join(branches)


def _by_workspace(expr: str) -> str:
    return f"label_replace({expr}, {WORKSPACE_OF})"


def _gateway_records() -> list[dict[str, Any]]:
    # Requests the router refused before choosing a deployment (its own rate limits) carry
    # api_provider="None" (LiteLLM before 1.108) or "" (from 1.108); they are counted by the
    # rate-limit alert, not as provider errors.
    failures = _by_workspace('rate(litellm_deployment_failure_responses_total{api_provider!~"None|"}[5m])')
    requests = _by_workspace('rate(litellm_deployment_total_requests_total{api_provider!~"None|"}[5m])')
    return [
        {"record": FAILURES, "expr": f"sum by (workspace, api_provider) ({failures})"},
        {"record": REQUESTS, "expr": f"sum by (workspace, api_provider) ({requests})"},
    ]


def _alert(config: Config, name: str, expr: str, duration: str, severity: str, summary: str, description: str) -> dict[str, Any]:
    return {
        "alert": name,
        "expr": expr,
        "for": duration,
        "labels": {"severity": severity, "organization": config.organization},
        "annotations": {"summary": summary, "description": description, "runbook_url": runbook(config, name)},
    }


def _gateway_alerts(config: Config) -> list[dict[str, Any]]:
    limits = config.org.monitoring.thresholds
    target = f'up{{job="{gateway.GATEWAY_NAME}",namespace="{config.org.cluster.namespace}"}}'
    return [
        _alert(
            config,
            "LLMGatewayMetricsDown",
            # No target scraped at all (absent, or every scrape refused) or one that fails.
            f"absent({target} == 1) or ({target} == 0)",
            "5m",
            "critical",
            "Prometheus cannot scrape the LLM gateway's metrics",
            "For 5 minutes no gateway replica's /metrics was scraped, or one replica's scrape failed (the "
            "target is missing, down or refused: check the scrape token Secret). The gateway alerts are "
            "blind to what is not scraped.",
        ),
        *_traffic_alerts(config, limits),
    ]


def _traffic_alerts(config: Config, limits: Any) -> list[dict[str, Any]]:
    latency = _by_workspace("rate(litellm_request_total_latency_metric_bucket[5m])")
    fallbacks = _by_workspace("rate(litellm_deployment_successful_fallbacks_total[10m])")
    requests = _by_workspace("rate(litellm_proxy_total_requests_metric_total[10m])")
    rejected = _by_workspace('rate(litellm_proxy_failed_requests_metric_total{exception_status="429"}[5m])')
    return [
        _alert(
            config,
            "LLMGatewayErrorRateHigh",
            f"({FAILURES} / {REQUESTS}) > {_number(limits.error_rate)}",
            "10m",
            "critical",
            "LLM error rate high for workspace {{ $labels.workspace }} on {{ $labels.api_provider }}",
            f"{{{{ $value | humanizePercentage }}}} of the requests workspace {{{{ $labels.workspace }}}} sent to "
            f"{{{{ $labels.api_provider }}}} failed over the last 5 minutes (threshold {limits.error_rate:.0%}).",
        ),
        _alert(
            config,
            "LLMGatewayLatencyHigh",
            f"histogram_quantile(0.95, sum by (workspace, le) ({latency})) > {_number(limits.p95_latency_seconds)}",
            "15m",
            "warning",
            "LLM p95 latency high for workspace {{ $labels.workspace }}",
            f"The 95th percentile of request latency through the gateway for {{{{ $labels.workspace }}}} is "
            f"{{{{ $value | humanizeDuration }}}} (threshold {limits.p95_latency_seconds:g}s).",
        ),
        _alert(
            config,
            "LLMProviderFailingOver",
            f"(sum by (workspace) ({fallbacks}) / sum by (workspace) ({requests})) > {_number(limits.error_rate)}",
            "10m",
            "warning",
            "Workspace {{ $labels.workspace }} is being served by its fallback model",
            "{{ $value | humanizePercentage }} of the workspace's requests fell back from the primary model: "
            "its provider is failing.",
        ),
        _alert(
            config,
            "LLMFallbackExhausted",
            "sum by (requested_model, fallback_model) (increase(litellm_deployment_failed_fallbacks_total[10m])) > 0",
            "0m",
            "critical",
            "Requests to {{ $labels.requested_model }} failed on the primary and the fallback model",
            "{{ $value | humanize }} requests in 10 minutes failed on {{ $labels.requested_model }} and then on "
            "its fallback {{ $labels.fallback_model }}: the clients got errors.",
        ),
        _alert(
            config,
            "LLMDeploymentOutage",
            'max by (litellm_model_name, api_provider, model_id) (litellm_deployment_state{model_id!=""}) == 2',
            "5m",
            "critical",
            "Model {{ $labels.litellm_model_name }} on {{ $labels.api_provider }} is down",
            "The gateway reports a complete outage of deployment {{ $labels.model_id }}.",
        ),
        _alert(
            config,
            "LLMRateLimitRejections",
            f"sum by (workspace) ({rejected}) > 0",
            "10m",
            "warning",
            "The gateway is refusing requests of workspace {{ $labels.workspace }} (rate limit)",
            "{{ $value | humanize }} requests a second of {{ $labels.workspace }} are refused with HTTP 429 by "
            "the workspace's rate_limit; raise it or slow the clients down.",
        ),
    ]


def _budget_alerts(config: Config, workspaces: tuple[Workspace, ...]) -> list[dict[str, Any]]:
    if not any(w.llm.budget for w in workspaces):
        return []
    ratio = config.org.monitoring.thresholds.budget_warning_ratio
    left = "scalar((days_in_month() - day_of_month()) * 86400 + 86400 - hour() * 3600 - minute() * 60)"
    return [
        _alert(
            config,
            "LLMBudgetBurnRateHigh",
            f"({SPEND_MONTH} + avg_over_time({SPEND_RATE}[6h]) * {left})\n"
            f"  > on(workspace) {BUDGET}\n"
            f"unless on(workspace) ({SPEND_MONTH} >= on(workspace) {BUDGET})",
            "30m",
            "warning",
            "Workspace {{ $labels.workspace }} will exceed its monthly LLM budget before the month ends",
            "At the spend rate of the last 6 hours, {{ $labels.workspace }} would spend "
            "${{ $value | printf \"%.2f\" }} by the end of the month, more than its budget.monthly_usd.",
        ),
        _alert(
            config,
            "LLMBudgetWarning",
            f"({SPEND_MONTH} / on(workspace) {BUDGET}) >= {_number(ratio)}",
            "5m",
            "warning",
            f"Workspace {{{{ $labels.workspace }}}} has spent {ratio:.0%} of its monthly LLM budget",
            "{{ $labels.workspace }} has spent {{ $value | humanizePercentage }} of its budget.monthly_usd this month.",
        ),
        _alert(
            config,
            "LLMBudgetExhausted",
            f"({SPEND_MONTH} / on(workspace) {BUDGET}) >= 1",
            "5m",
            "critical",
            "Workspace {{ $labels.workspace }} has used up its monthly LLM budget",
            "{{ $labels.workspace }} has spent {{ $value | humanizePercentage }} of its budget.monthly_usd this month; "
            "the gateway refuses its requests until the budget window resets.",
        ),
    ]


def _ollama_alerts(config: Config) -> list[dict[str, Any]]:
    from compiler.providers import selfhosted

    pools = selfhosted.served_pools(config)
    if pools:
        return _pool_alerts(config, pools)
    where = f'namespace="{config.org.cluster.namespace}", daemonset="ollama"'
    failed = 'increase(litellm_deployment_failure_responses_total{api_provider="ollama_chat"}[10m])'
    sent = 'increase(litellm_deployment_total_requests_total{api_provider="ollama_chat"}[10m])'
    return [
        _alert(
            config,
            "OllamaDaemonSetNotAvailable",
            f"kube_daemonset_status_number_available{{{where}}}\n"
            f"  < kube_daemonset_status_desired_number_scheduled{{{where}}}\n"
            f"or kube_daemonset_status_desired_number_scheduled{{{where}}} == 0",
            "15m",
            "critical",
            "Ollama is not running on every LLM node",
            "{{ $value }} Ollama pods are available in {{ $labels.namespace }}, fewer than the LLM nodes it is "
            "scheduled on (or no node matches its node selector).",
        ),
        _alert(
            config,
            "OllamaModelNotLoaded",
            # The signal: every request to one Ollama model failed for 10 minutes while Ollama pods
            # are available. Not the status: LiteLLM 1.108.14 and 1.110.2 report Ollama's 404
            # "model not found" as 404 (Ollama_chat.NotFoundError), 1.80 reported it as 500
            # (APIConnectionError), and a model that is there but fails to load gives other ones.
            f"(sum by (litellm_model_name, model_id) ({failed}) > 0)\n"
            f"  >= sum by (litellm_model_name, model_id) ({sent})\n"
            f"unless on() (kube_daemonset_status_number_available{{{where}}} == 0)",
            "0m",
            "critical",
            "Every request to Ollama model {{ $labels.litellm_model_name }} fails",
            "All the gateway's requests to {{ $labels.litellm_model_name }} ({{ $labels.model_id }}) failed in the "
            "last 10 minutes while Ollama pods are up: the model is most likely not pulled on the nodes.",
        ),
    ]


def _pool_alerts(config: Config, pools: list[Any]) -> list[dict[str, Any]]:
    """GPU pools: each pool's Deployment short of the replicas it asks for, and a model whose
    every request fails while its pool has pods available (by the pool's Service in api_base)."""
    names = "|".join(sorted(p.service for p in pools))
    where = f'namespace="{config.org.cluster.namespace}", deployment=~"{names}"'
    failed = 'increase(litellm_deployment_failure_responses_total{api_provider="ollama_chat"}[10m])'
    sent = 'increase(litellm_deployment_total_requests_total{api_provider="ollama_chat"}[10m])'
    return [
        _alert(
            config,
            "OllamaPoolNotAvailable",
            f"kube_deployment_status_replicas_available{{{where}}}\n  < kube_deployment_spec_replicas{{{where}}}",
            "15m",
            "critical",
            "GPU pool {{ $labels.deployment }} runs fewer Ollama pods than it asks for",
            "{{ $value }} pods of {{ $labels.deployment }} are available in {{ $labels.namespace }}, fewer than its "
            "replicas: no node of the pool is free (or none matches its node selector), or its models are still "
            "being pulled.",
        ),
        _alert(
            config,
            "OllamaModelNotLoaded",
            # As for the DaemonSet, one clause per pool: its models, held back while that pool has
            # no pod available (a pool at zero, replicas.min 0, refuses every request: POOL-006;
            # one short of pods is OllamaPoolNotAvailable's).
            "\nor\n".join(_pool_model_failures(config, pool, failed, sent) for pool in pools),
            "0m",
            "critical",
            "Every request to Ollama model {{ $labels.litellm_model_name }} fails",
            "All the gateway's requests to {{ $labels.litellm_model_name }} ({{ $labels.model_id }}) failed in the "
            "last 10 minutes while Ollama pods are up: the model is most likely not pulled in its pool.",
        ),
    ]


def _pool_model_failures(config: Config, pool: Any, failed: str, sent: str) -> str:
    models = "|".join(regex_literal(m.name) for m in pool.models)
    only = f'litellm_model_name=~"{models}", '
    available = f'kube_deployment_status_replicas_available{{namespace="{config.org.cluster.namespace}", deployment="{pool.service}"}}'
    return (
        f"((sum by (litellm_model_name, model_id) ({failed.replace('{', '{' + only, 1)}) > 0)\n"
        f"  >= sum by (litellm_model_name, model_id) ({sent.replace('{', '{' + only, 1)})\n"
        f"unless on() ({available} == 0))"
    )


def regex_literal(text: str) -> str:
    """A model name as an RE2 literal inside a PromQL string (its backslashes doubled)."""
    import re

    return re.sub(r"([.+*?()\[\]{}|^$\\])", r"\\\\\1", text)


# --- dashboards -------------------------------------------------------------------------------


@functools.cache
def _dashboard_data() -> dict[str, Any]:
    from compiler.builtin import datafiles

    data: dict[str, Any] = datafiles.load("templates", "monitoring/dashboards.yaml")
    return data


# Placeholders the dashboard data may use in an expression ($NAMESPACE is the platform's).
MACROS = {
    "$WORKSPACE": 'requested_model=~"(${workspace:regex})(\\\\.fallback-[0-9]+|\\\\.embeddings)?"',
    "$EMBEDDINGS": 'requested_model=~"(${workspace:regex})\\\\.embeddings"',
    "$MODEL": 'model=~"${model:regex}"',
}


def dashboards(config: Config, workspaces: tuple[Workspace, ...]) -> dict[str, str]:
    """Grafana dashboard JSON by file name, built from templates/monitoring/dashboards.yaml."""
    data = _dashboard_data()
    found = {}
    for board in data["dashboards"]:
        found[f"{board['uid']}.json"] = json.dumps(_dashboard(config, workspaces, board), indent=2, sort_keys=True) + "\n"
    return found


def dashboard_expressions(board_json: str) -> list[str]:
    board = json.loads(board_json)
    return [t["expr"] for p in board["panels"] for t in p.get("targets", [])]


def _expand(config: Config, expr: str) -> str:
    for macro in ("$WORKSPACE", "$EMBEDDINGS", "$MODEL"):
        expr = expr.replace(macro, MACROS[macro])
    return expr.replace("$NAMESPACE", f'namespace="{config.org.cluster.namespace}"')


def _dashboard(config: Config, workspaces: tuple[Workspace, ...], board: dict[str, Any]) -> dict[str, Any]:
    panels = []
    x = y = 0
    row_height = 0
    for index, spec in enumerate(board["panels"], start=1):
        width = int(spec.get("width", 12))
        height = int(spec.get("height", 8))
        if x + width > 24:
            x, y = 0, y + row_height
            row_height = 0
        panels.append(_panel(config, spec, index, {"x": x, "y": y, "w": width, "h": height}))
        x += width
        row_height = max(row_height, height)
    return {
        "uid": board["uid"],
        "title": board["title"],
        "description": board.get("description", ""),
        "tags": ["hks", "llm"],
        "editable": False,
        "schemaVersion": DASHBOARD_SCHEMA_VERSION,
        "version": 1,
        "time": {"from": board.get("from", "now-24h"), "to": "now"},
        "refresh": "1m",
        "timezone": "utc",
        "templating": {"list": _variables(config, workspaces)},
        "panels": panels,
        "annotations": {"list": []},
        "links": [],
    }


def _panel(config: Config, spec: dict[str, Any], index: int, grid: dict[str, int]) -> dict[str, Any]:
    kind = spec.get("type", "timeseries")
    datasource = {"type": "prometheus", "uid": "${datasource}"}
    targets = [
        {
            "refId": chr(ord("A") + i),
            "datasource": datasource,
            "expr": _expand(config, t["expr"]),
            "legendFormat": t.get("legend", ""),
            **({"instant": True} if kind in ("stat", "bargauge", "table", "piechart") else {}),
        }
        for i, t in enumerate(spec["targets"])
    ]
    panel: dict[str, Any] = {
        "id": index,
        "type": kind,
        "title": spec["title"],
        "description": spec.get("description", ""),
        "datasource": datasource,
        "gridPos": grid,
        "targets": targets,
        "fieldConfig": {"defaults": {"unit": spec.get("unit", "short")}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}} if kind == "timeseries" else {},
    }
    return panel


def _variables(config: Config, workspaces: tuple[Workspace, ...]) -> list[dict[str, Any]]:
    names = [w.name for w in workspaces]
    return [
        {"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Data source"},
        {
            "name": "workspace",
            "label": "Workspace",
            "type": "custom",
            "query": ",".join(names),
            "multi": True,
            "includeAll": True,
            "allValue": "[^.]+",
            "current": {"text": "All", "value": "$__all"},
            "options": [],
        },
        {
            "name": "model",
            "label": "Model",
            "type": "query",
            "datasource": {"type": "prometheus", "uid": "${datasource}"},
            "query": {"query": "label_values(litellm_input_tokens_metric_total, model)", "refId": "model"},
            "definition": "label_values(litellm_input_tokens_metric_total, model)",
            "refresh": 2,
            "multi": True,
            "includeAll": True,
            "allValue": ".+",
            "current": {"text": "All", "value": "$__all"},
            "sort": 1,
        },
    ]


# --- what the rules and dashboards read ---------------------------------------------------------

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_MATCHERS = re.compile(r"\{[^}]*\}")
_LABEL_LISTS = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_METRIC = re.compile(r"\b(?:litellm_|kube_|DCGM_)[A-Za-z0-9_]+|\b[a-z_]+:[a-z0-9_]+:[a-z0-9_]+\b|\bup\b")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: LiteLLM's, the cluster exporters' and the
    recorded `level:metric:operation` ones (string literals, such as label values, are skipped)."""
    text = _STRING.sub('""', expr)
    text = _MATCHERS.sub("{}", text)
    return set(_METRIC.findall(_LABEL_LISTS.sub("", text)))


def expressions(groups: list[dict[str, Any]], boards: dict[str, str]) -> list[str]:
    found = [rule["expr"] for group in groups for rule in group["rules"]]
    for board in boards.values():
        found += dashboard_expressions(board)
    return found


def recorded(groups: list[dict[str, Any]]) -> set[str]:
    return {rule["record"] for group in groups for rule in group["rules"] if "record" in rule}
