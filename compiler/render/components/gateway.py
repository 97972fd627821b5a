"""The gateway: the LiteLLM proxy (its config from render/litellm_config.py), its config
split under the ConfigMap size limit, its identity checks, its metrics credential and its egress."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from compiler.builtin.resources import data_dir
from compiler.merge import Workspace
from compiler.model.config import Config
from compiler.providers import egress, registry, secretrefs
from compiler.render import litellm_config as litellm
from compiler.render import objectsize
from compiler.render.base import (
    CONTAINER_SECURITY,
    DNS_EGRESS,
    GATEWAY_NAME,
    GATEWAY_PORT,
    OLLAMA_PORT,
    PRIVATE_RANGES,
    Manifest,
    fqdn_egress,
    pinned_images,
    public_egress,
    render_template,
    standard_labels,
)
from compiler.render.components import tls
from compiler.yamlout import dump

GATEWAY_UID = 10001

def render(config: Config, workspaces: tuple[Workspace, ...]) -> list[Manifest]:
    org = config.org
    namespace = org.cluster.namespace
    labels = standard_labels(config, "gateway", GATEWAY_NAME)
    selector = {"app.kubernetes.io/name": GATEWAY_NAME}
    config_yaml = dump(litellm.litellm_config(config, workspaces))
    config_data = {
        "config.yaml": config_yaml,
        f"{litellm.AUTH_MODULE}.py": _auth_module(),
        litellm.AUTH_TABLE: json.dumps(litellm.workspace_table(config, workspaces), indent=2, sort_keys=True) + "\n",
    }
    config_parts = _split(config_data)
    image = org.gateway.image or pinned_images()["litellm"]
    gateway_env = _gateway_env(config, workspaces)
    common = {
        "name": GATEWAY_NAME,
        "namespace": namespace,
        "labels": labels,
        "selector": selector,
        "port": GATEWAY_PORT,
        "port_name": "https" if tls.enabled(config) else "http",
    }
    deployment = render_template(
        "gateway/deployment.yaml.j2",
        **common,
        tls=_tls_context(config),
        **_config_volume(config_parts),
        config_hash=_digest([image, config_data, gateway_env]),
        uid=GATEWAY_UID,
        image=image,
        container_env=gateway_env,
        resources={"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}},
        container_security=CONTAINER_SECURITY,
    )
    folder = "platform/gateway"
    manifests = [
        *_config_maps(common, config_parts),
        Manifest(folder, render_template("gateway/serviceaccount.yaml.j2", **common, annotations=_account_annotations(config, workspaces))),
        *_token_review_access(config, labels),
        *_metrics_credential(config),
        Manifest(folder, deployment),
        Manifest(folder, render_template("gateway/service.yaml.j2", **common)),
        Manifest(
            folder,
            render_template("gateway/hpa.yaml.j2", **common, min_replicas=org.gateway.replicas.min, max_replicas=org.gateway.replicas.max),
        ),
        Manifest(folder, render_template("gateway/pdb.yaml.j2", **common)),
        Manifest(
            folder,
            render_template(
                "gateway/networkpolicy.yaml.j2",
                **common,
                managed_namespaces={"hks.dev/organization": config.organization},
                prometheus_namespace=org.monitoring.prometheus_namespace if org.monitoring.enabled else None,
                egress=_gateway_egress(config, workspaces),
            ),
        ),
    ]
    if org.cluster.cni == "cilium":
        manifests.append(Manifest(folder, render_template("gateway/ciliumnetworkpolicy-kube-apiserver.yaml.j2", **common)))
        endpoints = [e for e in egress.external_endpoints(config, workspaces) if not e.is_ip]
        if endpoints:
            manifests.append(
                Manifest(folder, render_template("gateway/ciliumnetworkpolicy.yaml.j2", **common, egress=fqdn_egress(endpoints)))
            )
    return manifests


def _config_maps(common: dict[str, Any], parts: dict[str, dict[str, str]]) -> list[Manifest]:
    found = []
    for name, data in parts.items():
        configmap = render_template("gateway/configmap.yaml.j2", **common, configmap=name, data={})
        configmap["data"] = data  # megabytes at thousands of workspaces: not through YAML and back
        found.append(Manifest("platform/gateway", configmap))
    return found


def _split(files: dict[str, str]) -> dict[str, dict[str, str]]:
    """The gateway's ConfigMaps (name → data): one, or the parts of files too large for one
    (compiler/render/objectsize.py)."""
    if objectsize.fits(files):
        return {f"{GATEWAY_NAME}-config": files}
    return {f"{GATEWAY_NAME}-config-{index}": data for index, data in enumerate(objectsize.parts(files), start=1)}


def _config_volume(parts: dict[str, dict[str, str]]) -> dict[str, Any]:
    """What the Deployment needs to mount the files: the ConfigMap, or its parts and the script
    that puts them together in an emptyDir before the gateway starts."""

    if len(parts) == 1 and f"{GATEWAY_NAME}-config" in parts:
        return {"config_parts": None}
    mebibytes = sum(len(text.encode()) for data in parts.values() for text in data.values()) // 2**20 + 1
    return {
        "config_parts": [{"configMap": {"name": name}} for name in parts],
        "config_size": f"{2 * mebibytes}Mi",
        "assemble_script": (data_dir("templates") / "gateway" / "assemble-config.sh").read_text("utf-8"),
    }


def _digest(value: Any) -> str:
    """The first 16 hex digits of the sha256 of `value` as sorted JSON, hashed as it is encoded
    rather than from one string: the config is megabytes at thousands of workspaces."""
    digest = hashlib.sha256()
    for chunk in json.JSONEncoder(sort_keys=True).iterencode(value):
        digest.update(chunk.encode())
    return digest.hexdigest()[:16]


def _auth_module() -> str:

    return (data_dir("templates") / "gateway" / f"{litellm.AUTH_MODULE}.py").read_text(encoding="utf-8")


def _account_annotations(config: Config, workspaces: tuple[Workspace, ...]) -> dict[str, str]:
    """What the providers in use ask of the gateway's ServiceAccount (a cloud workload identity)."""
    found: dict[str, str] = {}
    for name in secretrefs.providers_in_use(workspaces):
        found.update(registry.get(name).service_account_annotations(config.org.providers.get(name)))
    return dict(sorted(found.items()))


def _token_review_access(config: Config, labels: dict[str, str]) -> list[Manifest]:
    """A cluster-wide grant (TokenReviews are not namespaced), named after the namespace so two
    organisations in one cluster do not share it."""
    names = {"name": GATEWAY_NAME, "namespace": config.org.cluster.namespace, "labels": labels}
    role = f"{config.org.cluster.namespace}-{GATEWAY_NAME}-tokenreview"
    return [
        Manifest("platform/gateway", render_template(f"gateway/{kind}-tokenreview.yaml.j2", role=role, **names))
        for kind in ("clusterrole", "clusterrolebinding")
    ]


def _metrics_credential(config: Config) -> list[Manifest]:
    if not config.org.monitoring.enabled:
        return []
    namespace = config.org.cluster.namespace
    labels = standard_labels(config, "monitoring", litellm.METRICS_ACCOUNT)
    names = {"name": litellm.METRICS_ACCOUNT, "namespace": namespace, "labels": labels}
    token = {"secret": litellm.METRICS_TOKEN_SECRET, "account": litellm.METRICS_ACCOUNT, **names}
    return [
        Manifest("platform/monitoring", render_template("gateway/serviceaccount.yaml.j2", **names)),
        Manifest("platform/monitoring", render_template("gateway/secret-metrics-token.yaml.j2", **token)),
    ]


def _gateway_env(config: Config, workspaces: tuple[Workspace, ...]) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = []
    for ref in secretrefs.references(config, workspaces):
        key_ref: dict[str, Any] = {"name": ref.secret, "key": ref.key}
        if ref.env == secretrefs.REDIS_ENV["password"]:
            key_ref["optional"] = True  # a Redis without a password
        env.append({"name": ref.env, "valueFrom": {"secretKeyRef": key_ref}})
    if litellm.pii_modes(workspaces):
        env.append({"name": "PRESIDIO_ANALYZER_API_BASE", "value": litellm.presidio_url(config, "analyzer")})
        env.append({"name": "PRESIDIO_ANONYMIZER_API_BASE", "value": litellm.presidio_url(config, "anonymizer")})
    # The model price map ships in the image; fetching it from GitHub would need egress we forbid.
    env.append({"name": "LITELLM_LOCAL_MODEL_COST_MAP", "value": "True"})
    # No admin UI, login page or API docs to anyone who reaches the port: the master key holder
    # administers through the API (docs/gateway.md).
    env.append({"name": "DISABLE_ADMIN_UI", "value": "True"})
    env.append({"name": "NO_DOCS", "value": "True"})
    env.append({"name": "NO_REDOC", "value": "True"})
    env.append({"name": "HOME", "value": "/home/litellm"})
    env.append({"name": "XDG_CACHE_HOME", "value": "/home/litellm/.cache"})
    if tls.enabled(config):
        env.extend(_tls_env())
    return env


def _tls_env() -> list[dict[str, str]]:
    """LiteLLM serves TLS with `--ssl_certfile_path`/`--ssl_keyfile_path`, read from these variables
    (litellm/proxy/proxy_cli.py at 1.110.2: click options with envvar=, passed to uvicorn's
    ssl_certfile/ssl_keyfile). SSL_CERT_FILE makes every outgoing call (httpx, and aiohttp for
    Presidio) trust that file alone, so it names the Bundle, which holds the public roots beside
    the organisation's CA: calls to public providers still verify (docs/security.md, "tls")."""
    return [
        {"name": "SSL_CERTFILE_PATH", "value": f"{tls.CERT_DIR}/tls.crt"},
        {"name": "SSL_KEYFILE_PATH", "value": f"{tls.CERT_DIR}/tls.key"},
        {"name": "SSL_CERT_FILE", "value": f"{tls.TRUST_DIR}/{tls.TRUST_KEY}"},
    ]


def _tls_context(config: Config) -> dict[str, Any] | None:
    if not tls.enabled(config):
        return None
    return {
        "cert_dir": tls.CERT_DIR,
        "trust_dir": tls.TRUST_DIR,
        "volume": {"name": "tls", "secret": {"secretName": tls.secret_name(GATEWAY_NAME)}},
        "trust_volume": tls.trust_volume(config),
    }




def _gateway_egress(config: Config, workspaces: tuple[Workspace, ...]) -> list[dict[str, Any]]:
    """DNS, the in-cluster Ollama and Presidio, the gateway's own databases, and (without
    Cilium, which narrows it to host names) the provider ports on public addresses only."""
    rules: list[dict[str, Any]] = [DNS_EGRESS, _api_server_egress()]
    if registry.SELF_HOSTED in secretrefs.providers_in_use(workspaces):
        rules.append(_to_pods({"app.kubernetes.io/name": "ollama"}, OLLAMA_PORT))
    if litellm.pii_modes(workspaces):
        for part in ("analyzer", "anonymizer"):
            rules.append(_to_pods({"app.kubernetes.io/name": f"presidio-{part}"}, litellm.PRESIDIO_PORT))
    stores = []
    if config.org.gateway.database_secret:
        stores.append({"port": 5432, "protocol": "TCP"})
    if config.org.gateway.shares_state:
        stores.append({"port": 6379, "protocol": "TCP"})
    if stores:
        # Their addresses live in Secrets hks never reads: the cluster and private networks.
        rules.append({"to": [{"namespaceSelector": {}}] + _private_blocks(), "ports": stores})
    for endpoint in egress.internal_endpoints(config, workspaces):
        peer = {"ipBlock": {"cidr": f"{endpoint.host}/32"}} if endpoint.is_ip else {"namespaceSelector": {}}
        rules.append({"to": [peer], "ports": [{"port": endpoint.port, "protocol": "TCP"}]})
    public = egress.external_endpoints(config, workspaces)
    for endpoint in [e for e in public if e.is_ip]:
        rules.append({"to": [{"ipBlock": {"cidr": f"{endpoint.host}/32"}}], "ports": [{"port": endpoint.port, "protocol": "TCP"}]})
    named = [e for e in public if not e.is_ip]
    if named and config.org.cluster.cni != "cilium":
        rules.append(public_egress(sorted({e.port for e in named})))
    return rules


def _api_server_egress() -> dict[str, Any]:
    """The Kubernetes API, for TokenReviews: its endpoints are the control plane's addresses
    (private ones; docs/gateway.md says what a public control-plane endpoint needs)."""
    ports = [{"port": port, "protocol": "TCP"} for port in (443, 6443)]
    return {"to": _private_blocks(), "ports": ports}


def _private_blocks() -> list[dict[str, Any]]:
    return [{"ipBlock": {"cidr": cidr}} for cidr in PRIVATE_RANGES[:3]]


def _to_pods(selector: dict[str, str], port: int) -> dict[str, Any]:
    return {"to": [{"podSelector": {"matchLabels": selector}}], "ports": [{"port": port, "protocol": "TCP"}]}
