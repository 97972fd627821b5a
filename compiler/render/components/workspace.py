"""One workspace: its namespace, network policies, the routing ConfigMap its pods read, and RBAC."""

from __future__ import annotations

import json

from compiler.merge import Workspace
from compiler.model.config import Config
from compiler.render import litellm_config as gateway
from compiler.render.base import DNS_EGRESS, GATEWAY_NAME, GATEWAY_PORT, Manifest, pod_security, render_template, standard_labels
from compiler.render.components import mesh, tls
from compiler.targets import embedding_alias


def render(config: Config, workspace: Workspace) -> list[Manifest]:
    namespace = str(workspace.namespace.value)
    labels = {**standard_labels(config, "workspace"), "hks.dev/workspace": workspace.name}
    folder = f"workspaces/{workspace.name}"
    common = {"namespace": namespace, "labels": labels}
    manifests = [
        Manifest(
            folder,
            render_template(
                "workspace/namespace.yaml.j2",
                namespace=namespace,
                labels={**labels, **pod_security("restricted", config), **mesh.namespace_labels(config)},
                annotations=mesh.namespace_annotations(config),
            ),
        ),
        Manifest(folder, render_template("platform/networkpolicy-default-deny.yaml.j2", **common)),
        Manifest(
            folder,
            render_template(
                "workspace/networkpolicy-llm-gateway.yaml.j2",
                **common,
                egress=[
                    DNS_EGRESS,
                    {
                        "to": [
                            {
                                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": config.org.cluster.namespace}},
                                "podSelector": {"matchLabels": {"app.kubernetes.io/name": GATEWAY_NAME}},
                            }
                        ],
                        "ports": [{"port": GATEWAY_PORT, "protocol": "TCP"}],
                    },
                ],
            ),
        ),
        Manifest(folder, render_template("workspace/configmap-routing.yaml.j2", **common, data=routing(config, workspace))),
        Manifest(folder, render_template("workspace/role.yaml.j2", **common)),
    ]
    subjects = [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": g} for g in workspace.members.groups]
    subjects += [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": u} for u in workspace.members.users]
    if subjects:
        manifests.append(Manifest(folder, render_template("workspace/rolebinding.yaml.j2", **common, subjects=subjects)))
    return manifests


def routing(config: Config, workspace: Workspace) -> dict[str, str]:
    """What the platform's services read: where to send this workspace's requests, and with
    which credential: a projected ServiceAccount token for `token-audience` (docs/gateway.md,
    "How a workspace's pod calls the gateway"), and the alias to embed text with
    (`embeddings-model`, when the workspace has an embedding model). The gateway sets the
    priority itself."""
    llm = workspace.llm
    settings = llm.model_dump(mode="json", exclude_none=True)
    embeddings = {"embeddings-model": embedding_alias(workspace.name)} if llm.embeddings else {}
    # Under cluster.tls: the ConfigMap (written into this namespace by trust-manager) whose
    # `ca-certificates.crt` verifies the gateway, with the public roots beside it.
    trust = {"ca-bundle": f"{tls.bundle_name(config)}/{tls.TRUST_KEY}"} if tls.enabled(config) else {}
    return {
        **embeddings,
        **trust,
        "gateway-url": gateway.gateway_url(config),
        "model": workspace.name,
        "priority": llm.priority,
        "provider": llm.provider,
        "settings.json": json.dumps(settings, indent=2, sort_keys=True) + "\n",
        "token-audience": gateway.token_audience(config),
        "upstream-model": llm.model,
        "workspace": workspace.name,
    }
