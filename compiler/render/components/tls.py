"""`cluster.tls` without a mesh: a cert-manager Certificate for every Service hks renders, the CA
given to every client through a trust-manager Bundle, and the TLS proxy in front of the servers
that have no TLS of their own (Ollama, Presidio). docs/security.md, "tls".

The gateway serves TLS itself (LiteLLM's `SSL_CERTFILE_PATH`/`SSL_KEYFILE_PATH`, read in its
proxy_cli.py at 1.110.2). Ollama and Presidio listen in plain HTTP behind nginx in the same pod
(`tls-proxy`, pinned in catalogue/images.yaml): nginx names the certificate through a variable,
so it reads the file at each TLS handshake and serves a renewed certificate without a restart
(nginx documents this for `ssl_certificate` since 1.15.9).
"""

from __future__ import annotations

from typing import Any

from compiler.merge import Workspace
from compiler.model.config import Config
from compiler.render.base import Manifest, render_template, standard_labels

FOLDER = "platform/tls"
# Where every TLS server reads its key pair, and every client the CA bundle.
CERT_DIR = "/etc/hks/tls"
TRUST_DIR = "/etc/hks/trust"
TRUST_KEY = "ca-certificates.crt"
# The proxy in front of a plain-HTTP server: it listens on the Service's port, the server on
# the next one (on loopback where the server allows it: Ollama; Presidio's gunicorn binds all
# addresses, and only the proxy's port is admitted by its NetworkPolicy).
PROXY_NAME = "tls-proxy"
PROXY_CONFIG = "tls-proxy"
PROXY_CONFIG_DIR = "/etc/hks/tls-proxy"


def enabled(config: Config) -> bool:
    return config.org.cluster.tls is not None


def secret_name(service: str) -> str:
    return f"{service}-tls"


def bundle_name(config: Config) -> str:
    """Cluster-scoped, so named after the platform namespace (two organisations in one cluster
    do not share it); trust-manager writes a ConfigMap of this name into each target namespace."""
    return f"{config.org.cluster.namespace}-ca-bundle"


def backend_port(port: int) -> int:
    return port + 1


def render(config: Config, workspaces: tuple[Workspace, ...]) -> list[Manifest]:
    """The Certificates of the Services this config renders, the CA Bundle, and the proxy's config."""
    from compiler.providers import selfhosted
    from compiler.render import litellm_config as litellm

    tls = config.org.cluster.tls
    if tls is None:
        return []
    namespace = config.org.cluster.namespace
    services = {litellm.GATEWAY_NAME: litellm.GATEWAY_PORT}
    if selfhosted.served_models(config, workspaces):
        for name in [p.service for p in selfhosted.served_pools(config)] or ["ollama"]:
            services[name] = litellm.OLLAMA_PORT
    if litellm.pii_modes(workspaces):
        for part in ("analyzer", "anonymizer"):
            services[f"presidio-{part}"] = litellm.PRESIDIO_PORT
    issuer = {"name": tls.issuer.name, "kind": tls.issuer.kind, "group": "cert-manager.io"}
    manifests = [
        Manifest(
            FOLDER,
            render_template(
                "tls/certificate.yaml.j2",
                name=secret_name(service),
                namespace=namespace,
                labels=standard_labels(config, "tls", service),
                secret=secret_name(service),
                dns_names=dns_names(service, namespace),
                issuer=issuer,
            ),
        )
        for service in sorted(services)
    ]
    manifests.append(
        Manifest(
            FOLDER,
            render_template(
                "tls/bundle.yaml.j2",
                name=bundle_name(config),
                labels=standard_labels(config, "tls"),
                source={"name": tls.ca.secret, "key": tls.ca.key},
                key=TRUST_KEY,
                namespaces={"hks.dev/organization": config.organization},
            ),
        )
    )
    proxied = {name: port for name, port in services.items() if name != litellm.GATEWAY_NAME}
    if proxied:
        data = {f"{name}.conf": proxy_config(port) for name, port in sorted(proxied.items())}
        manifests.append(
            Manifest(
                FOLDER,
                render_template(
                    "tls/configmap-proxy.yaml.j2",
                    name=PROXY_CONFIG,
                    namespace=namespace,
                    labels=standard_labels(config, "tls", PROXY_NAME),
                    data=data,
                ),
            )
        )
    return manifests


def dns_names(service: str, namespace: str) -> list[str]:
    return [service, f"{service}.{namespace}", f"{service}.{namespace}.svc", f"{service}.{namespace}.svc.cluster.local"]


def proxy_config(port: int) -> str:
    """nginx in front of a plain-HTTP server on loopback: TLS 1.2 and 1.3 only, no buffering
    (Ollama streams its answers), no limit on the request size or the time an answer takes
    (the gateway's own limits and timeouts apply before it). The Host it sends is nginx's
    default, the loopback address: Ollama bound to loopback refuses other host names
    (allowedHostsMiddleware, server/routes.go:1803-1833 at v0.32.15)."""
    return f"""\
# TLS in front of the plain-HTTP server in this pod (docs/security.md, "tls").
worker_processes 1;
pid /tmp/nginx.pid;
error_log stderr warn;
daemon off;
events {{
    worker_connections 1024;
}}
http {{
    access_log off;
    server_tokens off;
    client_body_temp_path /tmp/client_temp;
    proxy_temp_path /tmp/proxy_temp;
    fastcgi_temp_path /tmp/fastcgi_temp;
    uwsgi_temp_path /tmp/uwsgi_temp;
    scgi_temp_path /tmp/scgi_temp;
    client_max_body_size 0;
    proxy_buffering off;
    proxy_request_buffering off;
    proxy_read_timeout 3600s;
    proxy_send_timeout 3600s;
    # A variable in the file name: nginx reads the key pair at each handshake, so a certificate
    # cert-manager renews is served without a restart.
    map $server_port $tls_dir {{
        default {CERT_DIR};
    }}
    server {{
        listen {port} ssl;
        ssl_certificate $tls_dir/tls.crt;
        ssl_certificate_key $tls_dir/tls.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        location / {{
            proxy_pass http://127.0.0.1:{backend_port(port)};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"""


def proxy_container(image: str, service: str, port: int, container_security: dict[str, Any]) -> dict[str, Any]:
    """The nginx container in a pod whose server has no TLS of its own."""
    return {
        "name": PROXY_NAME,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["nginx", "-c", f"{PROXY_CONFIG_DIR}/{service}.conf"],
        "ports": [{"name": "https", "containerPort": port, "protocol": "TCP"}],
        # The server's own probes go through this proxy over HTTPS (the path the gateway takes);
        # these say only that nginx listens.
        "readinessProbe": {"tcpSocket": {"port": port}, "periodSeconds": 10},
        "livenessProbe": {"tcpSocket": {"port": port}, "periodSeconds": 20},
        "resources": {"requests": {"cpu": "50m", "memory": "32Mi"}, "limits": {"cpu": "1", "memory": "128Mi"}},
        "securityContext": container_security,
        "volumeMounts": [
            {"name": "tls", "mountPath": CERT_DIR, "readOnly": True},
            {"name": PROXY_CONFIG, "mountPath": PROXY_CONFIG_DIR, "readOnly": True},
            {"name": "tls-proxy-tmp", "mountPath": "/tmp"},
        ],
    }


def proxy_volumes(service: str) -> list[dict[str, Any]]:
    return [
        {"name": "tls", "secret": {"secretName": secret_name(service)}},
        {"name": PROXY_CONFIG, "configMap": {"name": PROXY_CONFIG, "items": [{"key": f"{service}.conf", "path": f"{service}.conf"}]}},
        {"name": "tls-proxy-tmp", "emptyDir": {"sizeLimit": "64Mi"}},
    ]


def trust_volume(config: Config) -> dict[str, Any]:
    return {"name": "trust", "configMap": {"name": bundle_name(config), "items": [{"key": TRUST_KEY, "path": TRUST_KEY}]}}
