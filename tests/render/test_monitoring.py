"""The rendered monitoring objects, checked with the real tools: promtool parses every rule and
dashboard expression and runs the rule unit tests in tests/render/monitoring/; the custom resources
match the upstream CRD schemas; every alert has its runbook section."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from compiler.render import monitoring
from compiler.pipeline import compile_config
from tests.conftest import EXAMPLES, ROOT, write
from tests.render.test_render import assert_upstream_valid, rendered_documents

PROMTOOL = shutil.which("promtool")
RULES_TEST = Path(__file__).parent / "monitoring"


def _compiled(folder: str | Path) -> Any:
    compiled = compile_config(str(folder))
    assert compiled.ok, compiled.diagnostics
    return compiled


def _monitoring_docs(name: str) -> dict[str, dict[str, Any]]:
    return {p.name: doc for p, doc in rendered_documents(name) if "platform/monitoring" in str(p)}


def _dump(value: Any, path: Path) -> Path:
    yaml = YAML(pure=True)
    yaml.width = 4096
    with path.open("w") as stream:
        yaml.dump(value, stream)
    return path


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL is not None, "promtool is missing: run tests/install-tools.sh (CI does; Debian's prometheus package)"
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=300)


# --- the rendered objects -----------------------------------------------------------------------


def test_acme_renders_a_service_monitor_rules_and_the_four_dashboards() -> None:
    docs = _monitoring_docs("acme")
    assert sorted(docs) == [
        "configmap-grafana-dashboard-hks-llm-cost.yaml",
        "configmap-grafana-dashboard-hks-llm-interactions.yaml",
        "configmap-grafana-dashboard-hks-llm-performance.yaml",
        "configmap-grafana-dashboard-hks-llm-usage.yaml",
        "prometheusrule-hks-llm.yaml",
        "secret-llm-gateway-metrics-token.yaml",
        "serviceaccount-llm-gateway-metrics.yaml",
        "servicemonitor-llm-gateway.yaml",
    ]
    monitor = docs["servicemonitor-llm-gateway.yaml"]
    assert monitor["metadata"]["labels"]["release"] == "prometheus"  # monitoring.prometheus_labels
    # The scrape credential: the token Kubernetes writes for the metrics account, in the same namespace.
    credential = {"type": "Bearer", "credentials": {"name": "llm-gateway-metrics-token", "key": "token"}}
    # acme serves TLS (cluster.tls): Prometheus verifies the gateway with the CA Bundle's ConfigMap.
    tls = {"ca": {"configMap": {"name": "hexabase-aiops-ca-bundle", "key": "ca-certificates.crt"}}, "serverName": "llm-gateway.hexabase-aiops.svc"}
    assert monitor["spec"]["endpoints"] == [
        {"port": "https", "path": "/metrics", "interval": "30s", "scheme": "https", "tlsConfig": tls, "authorization": credential}
    ]
    secret = docs["secret-llm-gateway-metrics-token.yaml"]
    assert secret["type"] == "kubernetes.io/service-account-token" and "data" not in secret
    assert secret["metadata"]["annotations"]["kubernetes.io/service-account.name"] == "llm-gateway-metrics"
    assert secret["metadata"]["namespace"] == monitor["metadata"]["namespace"]
    for name, doc in docs.items():
        if name.startswith("configmap-grafana"):
            assert doc["metadata"]["labels"]["grafana_dashboard"] == "1"
            [board] = [json.loads(text) for text in doc["data"].values()]
            variables = {v["name"] for v in board["templating"]["list"]}
            assert {"workspace", "model"} <= variables
            assert board["panels"] and all(p["targets"] for p in board["panels"])


def test_monitoring_objects_validate_against_the_upstream_crds() -> None:
    docs = [(name, doc) for name, doc in _monitoring_docs("acme").items() if doc["kind"] not in ("ConfigMap", "Secret", "ServiceAccount")]
    assert {doc["kind"] for _, doc in docs} == {"ServiceMonitor", "PrometheusRule"}
    assert_upstream_valid(docs)


def test_the_gateway_lets_prometheus_scrape_it() -> None:
    [(_, policy)] = [(p, d) for p, d in rendered_documents("acme") if p.name == "networkpolicy-llm-gateway.yaml"]
    scrape = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    assert any(scrape in rule["from"] and {"port": 4000, "protocol": "TCP"} in rule["ports"] for rule in policy["spec"]["ingress"])


def test_monitoring_disabled_renders_none_of_it(tmp_path: Path) -> None:
    write(tmp_path, {"org.yaml": "llm_config: {provider: openai, model: gpt-5.4-mini}\nmonitoring: {enabled: false}\nworkspaces: {a: {}}\n"})
    from compiler.pipeline import render_checked

    files = render_checked(_compiled(tmp_path)).files
    assert not [f for f in files if "monitoring" in f]
    assert "prometheus" not in files["platform/gateway/configmap-llm-gateway-config.yaml"]
    assert "kubernetes.io/metadata.name: monitoring" not in files["platform/gateway/networkpolicy-llm-gateway.yaml"]


def test_labels_and_thresholds_come_from_the_config(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "org.yaml": "llm_config: {provider: openai, model: gpt-5.4-mini}\n"
            "monitoring:\n  prometheus_labels: {prometheus: k8s}\n  grafana_dashboard_label: {dashboards: llm}\n"
            "  thresholds: {error_rate: 0.2, p95_latency_seconds: 30}\nworkspaces: {a: {}}\n"
        },
    )
    compiled = _compiled(tmp_path)
    alerts = {r["alert"]: r for g in monitoring.rule_groups(compiled.config, compiled.workspaces) for r in g["rules"] if "alert" in r}
    assert alerts["LLMGatewayErrorRateHigh"]["expr"].endswith("> 0.2")
    assert alerts["LLMGatewayLatencyHigh"]["expr"].endswith("> 30.0")
    assert "LLMBudgetWarning" not in alerts  # no workspace has a budget
    from compiler.pipeline import render_checked

    files = render_checked(compiled).files
    assert "prometheus: k8s" in files["platform/monitoring/servicemonitor-llm-gateway.yaml"]
    assert "dashboards: llm" in files["platform/monitoring/configmap-grafana-dashboard-hks-llm-usage.yaml"]


@pytest.mark.parametrize(("example", "least"), [("acme", 10), ("gpu-pools", 5)])  # gpu-pools: the pools' alerts
def test_every_alert_has_summary_description_and_its_runbook_section(example: str, least: int) -> None:
    runbooks = (ROOT / "docs" / "runbooks.md").read_text()
    anchors = {re.sub(r"[^a-z0-9-]", "", h.strip().lower().replace(" ", "-")) for h in re.findall(r"^## (.+)$", runbooks, re.M)}
    rules = _monitoring_docs(example)["prometheusrule-hks-llm.yaml"]["spec"]["groups"]
    alerts = [r for g in rules for r in g["rules"] if "alert" in r]
    assert len(alerts) >= least
    for alert in alerts:
        notes = alert["annotations"]
        assert notes["summary"] and notes["description"]
        base, _, anchor = notes["runbook_url"].partition("#")
        assert base.endswith("docs/runbooks.md") and anchor == alert["alert"].lower()
        assert anchor in anchors, f"docs/runbooks.md has no section '## {alert['alert']}'"


# --- metric names: documented, and only ones that exist -----------------------------------------


def test_every_metric_used_is_litellms_an_exporters_or_recorded() -> None:
    compiled = _compiled(EXAMPLES / "acme")
    groups = monitoring.rule_groups(compiled.config, compiled.workspaces)
    boards = monitoring.dashboards(compiled.config, compiled.workspaces)
    recorded = monitoring.recorded(groups)
    families = {re.sub(r"_(bucket|count|sum)$", "", n) for n in monitoring.LITELLM_METRICS}
    for expr in monitoring.expressions(groups, boards):
        names = monitoring.metric_names(expr)
        selectors = set(re.findall(r"([A-Za-z_:][A-Za-z0-9_:]*)\{", re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)))
        assert selectors <= names, f"unrecognised metric in: {expr}"
        for name in names:
            family = re.sub(r"_(bucket|count|sum)$", "", name)
            assert name in recorded or name in monitoring.EXTERNAL_METRICS or family in families, name


def test_dashboards_are_at_grafanas_latest_schema_version_and_in_its_shape() -> None:
    """Grafana migrates a dashboard from its schemaVersion up on load; one that claims the latest
    must already be in the shape migrations 40 to 42 produce (grafana/grafana,
    apps/dashboard/pkg/migration/schemaversion/v40.go to v42.go)."""
    compiled = _compiled(EXAMPLES / "acme")
    boards = monitoring.dashboards(compiled.config, compiled.workspaces)
    assert boards
    for board in map(json.loads, boards.values()):
        assert board["schemaVersion"] == 42, board["uid"]
        assert isinstance(board["refresh"], str)  # v40
        assert "time_options" not in board.get("timepicker", {})  # v41
        for panel in board["panels"]:  # v42: a field hidden from the plot is hidden from tooltips too
            for override in panel.get("fieldConfig", {}).get("overrides", []):
                for item in override.get("properties", []):
                    if item.get("id") == "custom.hideFrom" and item["value"].get("viz"):
                        assert item["value"].get("tooltip") is True, board["uid"]


# --- promtool ---------------------------------------------------------------------------------


@pytest.mark.promtool
@pytest.mark.parametrize("name", ["acme", "seed"])
def test_promtool_checks_the_rendered_rules(name: str, tmp_path: Path) -> None:
    rule = _monitoring_docs(name)["prometheusrule-hks-llm.yaml"]
    result = _promtool("check", "rules", str(_dump(rule["spec"], tmp_path / "rules.yaml")))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.promtool
def test_promtool_parses_every_dashboard_expression(tmp_path: Path) -> None:
    """promtool has no "parse this expression" command; each becomes a recording rule."""
    grafana = {"$__rate_interval": "5m", "$__range": "1d", "${workspace:regex}": "production", "${model:regex}": "gpt-5.4-mini"}
    rules = []
    for doc in _monitoring_docs("acme").values():
        if doc["kind"] != "ConfigMap":
            continue
        for text in doc["data"].values():
            for expr in monitoring.dashboard_expressions(text):
                for variable, value in grafana.items():
                    expr = expr.replace(variable, value)
                assert "$" not in expr.replace("$1", ""), f"unknown Grafana variable in {expr}"
                rules.append({"record": f"dashboard:expr_{len(rules)}:check", "expr": expr})
    assert len(rules) >= 30
    path = _dump({"groups": [{"name": "dashboards", "rules": rules}]}, tmp_path / "dashboards.yaml")
    result = _promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.promtool
def test_promtool_rule_unit_tests_fire_on_trouble_and_stay_quiet_when_healthy(tmp_path: Path) -> None:
    """tests/render/monitoring/rules_test.yaml: budget burn, budget exhausted, error rate, over the rules
    rendered from tests/render/monitoring/org.yaml. Annotations are left out here (their templates are
    checked by `promtool check rules`), so the expectations can name the alerts by their labels."""
    compiled = _compiled(RULES_TEST)
    groups = monitoring.rule_groups(compiled.config, compiled.workspaces)
    for group in groups:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    _dump({"groups": groups}, tmp_path / "rules.yaml")
    shutil.copy(RULES_TEST / "rules_test.yaml", tmp_path / "rules_test.yaml")
    result = _promtool("test", "rules", str(tmp_path / "rules_test.yaml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_labels_prometheus_and_grafana_select_on_must_be_kubernetes_labels(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "org.yaml": "llm_config: {provider: openai, model: gpt-5.4-mini}\nmonitoring:\n"
            '  prometheus_labels: {"bad key!": x}\n  grafana_dashboard_label: {grafana_dashboard: "not ok!"}\n'
        },
    )
    compiled = compile_config(str(tmp_path))
    found = sorted((d.rule, d.position.line, d.position.column) for d in compiled.diagnostics)
    assert found == [("SCHEMA-006", 3, 23), ("SCHEMA-006", 4, 48)]
