"""Presidio's analyzer and anonymizer, which the gateway calls to find and mask PII."""

from __future__ import annotations

from compiler.merge import Workspace
from compiler.model.config import Config
from compiler.render import litellm_config as litellm
from compiler.render.base import (
    CONTAINER_SECURITY,
    GATEWAY_NAME,
    Manifest,
    own_service_account,
    pinned_images,
    render_template,
    standard_labels,
)
from compiler.render.components import tls

PRESIDIO_UID = 1001  # the user the Presidio images create


def render(config: Config, workspaces: tuple[Workspace, ...]) -> list[Manifest]:
    if not litellm.pii_modes(workspaces):
        return []
    images = pinned_images()
    sizes = {
        "analyzer": {"requests": {"cpu": "250m", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}},
        "anonymizer": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
    }
    manifests = []
    proxied = tls.enabled(config)
    for part in ("analyzer", "anonymizer"):
        name = f"presidio-{part}"
        common = {
            "name": name,
            "namespace": config.org.cluster.namespace,
            "labels": standard_labels(config, "pii", name),
            "selector": {"app.kubernetes.io/name": name},
            "port": litellm.PRESIDIO_PORT,
            "port_name": "https" if proxied else "http",
        }
        replicas = min(config.org.gateway.replicas.min, 2)
        account = own_service_account(config, name)
        if account:
            manifests.append(Manifest("platform/pii", render_template("gateway/serviceaccount.yaml.j2", **common)))
        manifests += [
            Manifest(
                "platform/pii",
                render_template(
                    "pii/deployment.yaml.j2",
                    **common,
                    replicas=replicas,
                    service_account=account,
                    image=images[name],
                    uid=PRESIDIO_UID,
                    resources=sizes[part],
                    container_security=CONTAINER_SECURITY,
                    backend_port=tls.backend_port(litellm.PRESIDIO_PORT),
                    probe_port=litellm.PRESIDIO_PORT if proxied else "http",
                    tls_proxy=tls.proxy_container(images["tls-proxy"], name, litellm.PRESIDIO_PORT, CONTAINER_SECURITY) if proxied else None,
                    tls_volumes=tls.proxy_volumes(name) if proxied else [],
                ),
            ),
            Manifest("platform/pii", render_template("pii/service.yaml.j2", **common)),
            Manifest(
                "platform/pii",
                render_template("pii/networkpolicy.yaml.j2", **common, gateway_selector={"app.kubernetes.io/name": GATEWAY_NAME}),
            ),
        ]
    return manifests
