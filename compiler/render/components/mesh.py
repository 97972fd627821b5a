"""The service mesh (`cluster.mesh`): every namespace hks renders joins it, mutual TLS is strict
there, and the mesh's authorization policies, keyed by ServiceAccount identity, admit exactly the
flows the NetworkPolicies admit between the workloads hks renders (docs/security.md, "Encryption
in transit"). Nothing is rendered with `mesh: none`.

Istio runs in ambient mode: the namespace label `istio.io/dataplane-mode: ambient` hands every pod
to the node's ztunnel, which the istio-cni node agent sets up when the pod's sandbox is created,
before any init container runs, so Ollama's model pulls work as they do today; no container is
injected, so the namespaces stay at Pod Security `restricted`; kubelet probes are let through by
the node agent; and the policies are L4 only (identity and port), which ztunnel enforces without
a waypoint. Its tunnel (HBONE) reaches a pod on port 15008, which NetworkPolicies must admit
beside the application port: the `*-hbone` policies below, from and to exactly the same peers.

Linkerd injects its proxy by the namespace annotation `linkerd.io/inject: enabled`, as a native
sidecar (`config.linkerd.io/proxy-enable-native-sidecar`), so it runs before the init containers;
ports without a `Server` deny every connection (`config.linkerd.io/default-inbound-policy: deny`).

The model pulls reach the model egress proxy through the mesh in both, as every other flow of the
table: ambient captures a pod's traffic before its init containers start, and Linkerd's native
sidecar starts before them (render/components/model_egress.py). Its Linkerd Server is `opaque`:
the CONNECT tunnel is TLS to the registry end to end, passed on as TCP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from compiler.merge import Workspace
from compiler.model.config import Config
from compiler.providers import selfhosted
from compiler.render import litellm_config as litellm
from compiler.render.base import GATEWAY_NAME, GATEWAY_PORT, OLLAMA_PORT, Manifest, render_template, standard_labels
from compiler.render.components import model_egress

FOLDER = "platform/mesh"
HBONE_PORT = 15008  # Istio ambient's mutual-TLS tunnel between ztunnels, into the destination pod
TRUST_DOMAIN = "cluster.local"  # Istio's default trust domain: the principals' prefix
AMBIENT = {"istio.io/dataplane-mode": "ambient"}
LINKERD = {
    "config.linkerd.io/default-inbound-policy": "deny",
    "config.linkerd.io/proxy-enable-native-sidecar": "true",
    "linkerd.io/inject": "enabled",
}
LINKERD_GROUP = "policy.linkerd.io"
# Clients per policy object: the gateway's clients are every workspace, and an object applied
# client-side carries a copy of itself in an annotation of at most 256 KiB (render/objectsize.py).
# Allow policies add up in both meshes, so more clients take more objects.
CLIENTS_PER_OBJECT = 1000


@dataclass(frozen=True)
class Client:
    """Who may connect: one ServiceAccount, or (account None) every ServiceAccount of a namespace
    (a workspace's own pods, whose accounts are the team's; Prometheus, whose account is the
    operator's). `pods`: the `app.kubernetes.io/name` of its pods where that is not the account's
    name (a GPU pool's `ollama-POOL` runs pods named `ollama`)."""

    namespace: str
    account: str | None = None
    workspace: bool = False
    pods: str | None = None

    @property
    def pod_name(self) -> str | None:
        return self.pods or self.account


@dataclass(frozen=True)
class Inbound:
    """A workload hks renders (by its `app.kubernetes.io/name`), the port it serves, and its clients."""

    name: str
    port: int
    clients: tuple[Client, ...]
    opaque: bool = False  # Linkerd passes it on as TCP, without reading HTTP in it


def namespace_labels(config: Config) -> dict[str, str]:
    return dict(AMBIENT) if config.org.cluster.mesh == "istio" else {}


def namespace_annotations(config: Config) -> dict[str, str]:
    return dict(LINKERD) if config.org.cluster.mesh == "linkerd" else {}


def inbound(config: Config, workspaces: tuple[Workspace, ...]) -> list[Inbound]:
    """The flow table between rendered workloads, the same the NetworkPolicies encode: the
    workspaces (and Prometheus) to the gateway, the gateway to Ollama and to Presidio, and the
    Ollama pods (their model pulls) to the model egress proxy."""
    org = config.org
    platform = org.cluster.namespace
    gateway = Client(platform, GATEWAY_NAME)
    callers = [Client(str(w.namespace.value), workspace=True) for w in workspaces]
    if org.monitoring.enabled:
        callers.append(Client(org.monitoring.prometheus_namespace))
    flows = [Inbound(GATEWAY_NAME, GATEWAY_PORT, tuple(sorted(set(callers), key=lambda c: c.namespace)))]
    if selfhosted.served_models(config, workspaces):
        flows.append(Inbound("ollama", OLLAMA_PORT, (gateway,)))
    if litellm.pii_modes(workspaces):
        flows += [Inbound(f"presidio-{part}", litellm.PRESIDIO_PORT, (gateway,)) for part in ("analyzer", "anonymizer")]
    if model_egress.enabled(config, workspaces):
        accounts = sorted(p.service for p in selfhosted.served_pools(config)) or ["ollama"]
        pulls = tuple(Client(platform, account, pods="ollama") for account in accounts)
        flows.append(Inbound(model_egress.NAME, model_egress.PORT, pulls, opaque=True))
    return flows


def render(config: Config, workspaces: tuple[Workspace, ...]) -> list[Manifest]:
    mesh = config.org.cluster.mesh
    if mesh == "none":
        return []
    namespace = config.org.cluster.namespace
    labels = standard_labels(config, "mesh")
    flows = inbound(config, workspaces)
    if mesh == "istio":
        own = [Manifest(FOLDER, doc) for doc in _istio_namespace(namespace, labels)]
        return own + [m for flow in flows for m in _istio(config, flow, labels)] + _hbone_egress(config, flows, labels)
    return [m for flow in flows for m in _linkerd(config, flow, labels)]


def render_workspace(config: Config, workspace: Workspace) -> list[Manifest]:
    """A workspace's namespace accepts nothing (as its default-deny NetworkPolicy says); its
    pods reach the gateway through the mesh. Linkerd: the namespace's annotations say it all."""
    if config.org.cluster.mesh != "istio":
        return []
    namespace = str(workspace.namespace.value)
    labels = {**standard_labels(config, "mesh"), "hks.dev/workspace": workspace.name}
    folder = f"workspaces/{workspace.name}"
    gateway = _pods(config.org.cluster.namespace, GATEWAY_NAME)
    egress = render_template(
        "mesh/networkpolicy-hbone.yaml.j2",
        name=f"{GATEWAY_NAME}-hbone",
        namespace=namespace,
        labels=labels,
        selector={},
        ingress=[],
        egress=[{"to": [gateway], "ports": [{"port": HBONE_PORT, "protocol": "TCP"}]}],
    )
    return [Manifest(folder, doc) for doc in [*_istio_namespace(namespace, labels), egress]]


# --- Istio ------------------------------------------------------------------------------------


def _istio_namespace(namespace: str, labels: dict[str, str]) -> list[dict[str, Any]]:
    """Mutual TLS required of every connection into the namespace, and an ALLOW policy that
    matches nothing: a pod no other policy names accepts nobody."""
    return [
        render_template("mesh/istio-peerauthentication.yaml.j2", name="default", namespace=namespace, labels=labels),
        render_template("mesh/istio-authorizationpolicy.yaml.j2", name="allow-nothing", namespace=namespace, labels=labels, spec={}),
    ]


def principal(client: Client) -> str:
    return f"{TRUST_DOMAIN}/ns/{client.namespace}/sa/{client.account}"


def _istio(config: Config, flow: Inbound, labels: dict[str, str]) -> list[Manifest]:
    namespace = config.org.cluster.namespace
    selector = {"app.kubernetes.io/name": flow.name}
    manifests = []
    for name, clients in _parts(flow):
        sources = []
        principals = [principal(c) for c in clients if c.account is not None]
        namespaces = [c.namespace for c in clients if c.account is None]
        if principals:
            sources.append({"source": {"principals": principals}})
        if namespaces:
            sources.append({"source": {"namespaces": namespaces}})
        spec = {
            "selector": {"matchLabels": selector},
            "action": "ALLOW",
            "rules": [{"from": sources, "to": [{"operation": {"ports": [str(flow.port)]}}]}],
        }
        policy = render_template("mesh/istio-authorizationpolicy.yaml.j2", name=name, namespace=namespace, labels=labels, spec=spec)
        manifests.append(Manifest(FOLDER, policy))
    peers: list[dict[str, Any]] = []
    for client in flow.clients:
        peer = _peer(config, client)
        if peer not in peers:
            peers.append(peer)
    hbone = render_template(
        "mesh/networkpolicy-hbone.yaml.j2",
        name=f"{flow.name}-hbone",
        namespace=namespace,
        labels=labels,
        selector=selector,
        ingress=[{"from": peers, "ports": [{"port": HBONE_PORT, "protocol": "TCP"}]}],
        egress=[],
    )
    return [*manifests, Manifest(FOLDER, hbone)]


def _parts(flow: Inbound) -> list[tuple[str, tuple[Client, ...]]]:
    """The flow's clients in objects of at most CLIENTS_PER_OBJECT: `NAME`, `NAME-2`, ..."""
    step = CLIENTS_PER_OBJECT
    chunks = [flow.clients[i : i + step] for i in range(0, len(flow.clients), step)]
    return [(flow.name if i == 0 else f"{flow.name}-{i + 1}", chunk) for i, chunk in enumerate(chunks)]


def _hbone_egress(config: Config, flows: list[Inbound], labels: dict[str, str]) -> list[Manifest]:
    """The platform's own callers (the gateway) reach their destinations' tunnel port."""
    namespace = config.org.cluster.namespace
    callers: dict[str, list[str]] = {}
    for flow in flows:
        for client in flow.clients:
            if client.namespace == namespace and client.pod_name is not None and flow.name not in callers.get(client.pod_name, []):
                callers.setdefault(client.pod_name, []).append(flow.name)
    return [
        Manifest(
            FOLDER,
            render_template(
                "mesh/networkpolicy-hbone.yaml.j2",
                name=f"{account}-hbone-egress",
                namespace=namespace,
                labels=labels,
                selector={"app.kubernetes.io/name": account},
                ingress=[],
                egress=[{"to": [_pods(namespace, d) for d in targets], "ports": [{"port": HBONE_PORT, "protocol": "TCP"}]}],
            ),
        )
        for account, targets in sorted(callers.items())
    ]


def _pods(namespace: str, name: str) -> dict[str, Any]:
    return {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": name}},
    }


def _peer(config: Config, client: Client) -> dict[str, Any]:
    """A client as a NetworkPolicy peer: hks's own accounts are its workloads of the same name;
    the workspaces are the organisation's namespaces, as in the gateway's own NetworkPolicy (one
    selector, whatever the number of workspaces)."""
    if client.workspace:
        return {"namespaceSelector": {"matchLabels": {"hks.dev/organization": config.organization}}}
    if client.pod_name is None:
        return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": client.namespace}}}
    return _pods(client.namespace, client.pod_name)


# --- Linkerd ----------------------------------------------------------------------------------


def _linkerd(config: Config, flow: Inbound, labels: dict[str, str]) -> list[Manifest]:
    namespace = config.org.cluster.namespace
    common = {"namespace": namespace, "labels": labels}
    server = {"group": LINKERD_GROUP, "kind": "Server", "name": flow.name}
    manifests = [
        Manifest(
            FOLDER,
            render_template(
                "mesh/linkerd-server.yaml.j2",
                **common,
                name=flow.name,
                selector={"app.kubernetes.io/name": flow.name},
                port=flow.port,
                opaque=flow.opaque,
            ),
        )
    ]
    for name, clients in _parts(flow):
        authentication = f"{name}-clients"
        identities = [
            {"kind": "ServiceAccount", "name": c.account, "namespace": c.namespace} if c.account is not None else {"kind": "Namespace", "name": c.namespace}
            for c in clients
        ]
        required = [{"group": LINKERD_GROUP, "kind": "MeshTLSAuthentication", "name": authentication}]
        manifests += [
            Manifest(FOLDER, render_template("mesh/linkerd-meshtlsauthentication.yaml.j2", **common, name=authentication, identities=identities)),
            Manifest(FOLDER, render_template("mesh/linkerd-authorizationpolicy.yaml.j2", **common, name=name, target=server, required=required)),
        ]
    return manifests
