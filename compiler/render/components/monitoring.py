"""What Prometheus and Grafana read: the gateway's ServiceMonitor, the alert and recording rules,
the dashboards (their content is built in render/monitoring.py)."""

from __future__ import annotations

from compiler.merge import Workspace
from compiler.model.config import Config
from compiler.render import monitoring, objectsize
from compiler.render.base import GATEWAY_NAME, Manifest, render_template, standard_labels


def render(config: Config, workspaces: tuple[Workspace, ...]) -> list[Manifest]:
    settings = config.org.monitoring
    if not settings.enabled:
        return []
    namespace = config.org.cluster.namespace
    folder = "platform/monitoring"
    labels = {**standard_labels(config, "monitoring"), **settings.prometheus_labels}
    manifests = [
        Manifest(
            folder,
            render_template(
                "monitoring/servicemonitor.yaml.j2",
                name=GATEWAY_NAME,
                namespace=namespace,
                labels=labels,
                spec=monitoring.service_monitor_spec(config),
            ),
        ),
    ]
    for index, groups in enumerate(objectsize.rule_objects(monitoring.rule_groups(config, workspaces)), start=1):
        name = "hks-llm" if index == 1 else f"hks-llm-{index}"
        rule = render_template("monitoring/prometheusrule.yaml.j2", name=name, namespace=namespace, labels=labels, groups=[])
        rule["spec"]["groups"] = groups  # megabytes at thousands of workspaces: not through YAML and back
        manifests.append(Manifest(folder, rule))
    dashboard_labels = {**standard_labels(config, "monitoring"), **settings.grafana_dashboard_label}
    for file, board in monitoring.dashboards(config, workspaces).items():
        manifests.append(
            Manifest(
                folder,
                render_template(
                    "monitoring/configmap-dashboard.yaml.j2",
                    name=f"grafana-dashboard-{file.removesuffix('.json')}",
                    namespace=namespace,
                    labels=dashboard_labels,
                    data={file: board},
                ),
            )
        )
    return manifests
