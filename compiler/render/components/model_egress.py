"""The model egress proxy: the only workload in the platform namespace with public egress, and
only to the hosts the LLM nodes download models from (docs/security.md, "Model pulls").

NetworkPolicies (and CiliumNetworkPolicies) select pods, not containers: an Ollama pod whose
policy let its pull step reach the internet would let its serving container reach it too. So
the pull steps (`pull-models`, `fetch-gguf`) reach the internet only through this proxy
(HTTPS_PROXY), and the Ollama pods' own egress admits DNS, this proxy and the in-cluster
sources, no public address at all. With nothing to download from outside the cluster (every
model a custom GGUF in it) nothing here is rendered.

The proxy is Squid (`model-egress`, pinned in catalogue/images.yaml: Canonical's ubuntu/squid,
built from Ubuntu's own package), in the foreground as a non-root user with a read-only root
filesystem, with hks's config only: CONNECT to the model hosts' ports, never to a private,
loopback or link-local address whatever a name resolves to, no plain HTTP, no cache. Without
Cilium its NetworkPolicy admits public addresses on those ports and Squid's allow-list narrows
them to the hosts; under Cilium a CiliumNetworkPolicy names the hosts themselves.

In a mesh the pull reaches the proxy through it, as every flow of the flow table
(render/components/mesh.py): Istio ambient captures a pod's traffic from its sandbox's creation,
before any init container; Linkerd's proxy is a native sidecar, started before the init
containers (linkerd2 charts/patch/templates/patch.json:2-11 and :135-136, "This ordering allows
us to proxy traffic in subsequent initContainers"). The proxy's Linkerd Server is `opaque`: the
CONNECT tunnel carries TLS to the registry end to end, and Linkerd passes it on as TCP.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any

from compiler.merge import Workspace
from compiler.model.config import Config
from compiler.providers import selfhosted
from compiler.providers.base import Endpoint
from compiler.render.base import (
    CONTAINER_SECURITY,
    DNS_EGRESS,
    Manifest,
    fqdn_egress,
    own_service_account,
    pinned_images,
    public_egress,
    render_template,
    render_text,
    standard_labels,
)

NAME = "model-egress"
PORT = 3128  # Squid's own
UID = 10003  # any non-root user: Squid started without root never changes user
FOLDER = "platform/model-egress"
CONFIG_DIR = "/etc/hks/squid"
OLLAMA_PODS = {"app.kubernetes.io/name": "ollama"}
# Never a destination, whatever a host name resolves to: the cluster, private networks,
# loopback, link-local (cloud metadata), and the ranges that are not unicast internet.
BLOCKED = (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4", "::/128", "::1", "fc00::/7", "fe80::/10", "ff00::/8",
)  # fmt: skip
# A host name as Squid's `dstdomain` reads it: hks writes nothing else into the config.
HOST_NAME = re.compile(r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")


@dataclass(frozen=True)
class Rule:
    port: int
    names: tuple[str, ...]
    addresses: tuple[str, ...]


def destinations(config: Config, workspaces: tuple[Workspace, ...]) -> list[Endpoint]:
    """The public hosts (and ports) the model pulls need: what the proxy admits."""
    return [e for e in selfhosted.pull_endpoints(config, workspaces) if not e.is_internal and _usable(e)]


def enabled(config: Config, workspaces: tuple[Workspace, ...]) -> bool:
    return bool(destinations(config, workspaces))


def url(config: Config) -> str:
    return f"http://{NAME}.{config.org.cluster.namespace}.svc.cluster.local:{PORT}"


def render(config: Config, workspaces: tuple[Workspace, ...]) -> list[Manifest]:
    hosts = destinations(config, workspaces)
    if not hosts:
        return []
    namespace = config.org.cluster.namespace
    labels = standard_labels(config, "model-egress", NAME)
    selector = {"app.kubernetes.io/name": NAME}
    common = {"namespace": namespace, "labels": labels, "selector": selector, "name": NAME}
    image = pinned_images()[NAME]
    squid = squid_config(hosts)
    account = own_service_account(config, NAME)
    cilium = config.org.cluster.cni == "cilium"
    egress: list[dict[str, Any]] = [DNS_EGRESS]
    if not cilium:
        egress.append(public_egress(sorted({e.port for e in hosts})))
    docs = [
        *([render_template("gateway/serviceaccount.yaml.j2", **common | {"name": account})] if account else []),
        render_template("ollama/configmap.yaml.j2", **common, data={"squid.conf": squid}),
        render_template(
            "model-egress/deployment.yaml.j2",
            **common,
            service_account=account,
            config_hash=hashlib.sha256(json.dumps([image, squid]).encode()).hexdigest()[:16],
            uid=UID,
            image=image,
            command=["/usr/sbin/squid", "-N", "-f", f"{CONFIG_DIR}/squid.conf"],
            port=PORT,
            resources={"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "256Mi"}},
            container_security=CONTAINER_SECURITY,
            config_dir=CONFIG_DIR,
        ),
        render_template("ollama/service.yaml.j2", **common, port=PORT, port_name="proxy"),
        render_template("model-egress/networkpolicy.yaml.j2", **common, clients=OLLAMA_PODS, port=PORT, egress=egress),
    ]
    if cilium:
        named = [e for e in hosts if not e.is_ip]
        if named:
            docs.append(render_template("model-egress/ciliumnetworkpolicy.yaml.j2", **common, egress=fqdn_egress(named)))
    return [Manifest(FOLDER, doc) for doc in docs]


def squid_config(hosts: list[Endpoint]) -> str:
    """Squid's config: CONNECT to each port's hosts (names, and public IPv4 addresses), nothing else."""
    rules = [
        Rule(
            port,
            tuple(sorted(e.host for e in hosts if e.port == port and not e.is_ip)),
            tuple(sorted(f"{e.host}/32" for e in hosts if e.port == port and e.is_ip)),
        )
        for port in sorted({e.port for e in hosts})
    ]
    return render_text("model-egress/squid.conf.j2", port=PORT, blocked=BLOCKED, rules=rules)


def pull_egress(config: Config, workspaces: tuple[Workspace, ...]) -> list[dict[str, Any]]:
    """The Ollama pods' egress: DNS, this proxy (when there is anything to fetch from outside),
    and the in-cluster or private sources of custom GGUF models, each on its own port."""
    rules: list[dict[str, Any]] = [DNS_EGRESS]
    if enabled(config, workspaces):
        rules.append({"to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": NAME}}}], "ports": [{"port": PORT, "protocol": "TCP"}]})
    inside = [e for e in selfhosted.pull_endpoints(config, workspaces) if e.is_internal]
    for port in sorted({e.port for e in inside}):
        peers: list[dict[str, Any]] = []
        if any(not e.is_ip for e in inside if e.port == port):
            peers.append({"namespaceSelector": {}})  # a Service in the cluster: any namespace's pods
        peers += [{"ipBlock": {"cidr": f"{e.host}/32"}} for e in inside if e.port == port and e.is_ip]
        rules.append({"to": peers, "ports": [{"port": port, "protocol": "TCP"}]})
    return rules


def pull_env(config: Config, workspaces: tuple[Workspace, ...], curl: bool) -> list[dict[str, str]]:
    """The pull steps' proxy settings: Ollama reads HTTPS_PROXY and NO_PROXY (Go's
    ProxyFromEnvironment; never HTTP_PROXY, which Ollama's FAQ warns against), curl reads
    `https_proxy`/`HTTPS_PROXY`, `http_proxy` (lower case only) and `no_proxy`/`NO_PROXY`, and
    fetch-gguf.sh passes `--proxytunnel`, so an http:// source is fetched through CONNECT too.
    In-cluster sources are reached directly."""
    if not enabled(config, workspaces):
        return []
    inside = sorted({e.host for e in selfhosted.pull_endpoints(config, workspaces) if e.is_internal})
    proxy = url(config)
    bypass = ",".join(["127.0.0.1", "localhost", *inside])
    env = {"HTTPS_PROXY": proxy, "NO_PROXY": bypass}
    if curl:
        env |= {"https_proxy": proxy, "http_proxy": proxy, "no_proxy": bypass}
    return [{"name": key, "value": value} for key, value in sorted(env.items())]


def _usable(endpoint: Endpoint) -> bool:
    """A host Squid's config can name: a DNS name or a public IPv4 address (a source on any
    other address fails its download, at the proxy's refusal)."""
    if endpoint.is_ip:
        return ipaddress.IPv4Address(endpoint.host).is_global
    return HOST_NAME.match(endpoint.host) is not None and 0 < endpoint.port < 65536
