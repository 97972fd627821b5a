"""What every rendered component shares: the Manifest record, labels, Pod Security levels, the
egress every workload needs, the pinned images, and the jinja2 environment the templates render in.

Every value reaches a template through a quoting `finalize`, so no string in a config can change
a document's structure.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from compiler.builtin.resources import data_dir
from compiler.model.config import Config
from compiler.render import litellm_config as litellm
from compiler.yamlout import flow

OLLAMA_PORT = litellm.OLLAMA_PORT
GATEWAY_NAME = litellm.GATEWAY_NAME
GATEWAY_PORT = litellm.GATEWAY_PORT
CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}
# Egress every workload needs, and the address ranges that are not the internet.
DNS_EGRESS = {
    "to": [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ],
    "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
}
PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10"]


@dataclass(frozen=True)
class Manifest:
    folder: str
    body: dict[str, Any]

    @property
    def path(self) -> str:
        kind = self.body["kind"].lower()
        name = self.body["metadata"]["name"]
        return f"{self.folder}/{kind}-{name}.yaml"


POD_SECURITY_MODES = ("enforce", "warn", "audit")


def platform_level(config: Config) -> str:
    """The strictest Pod Security level the platform namespace's pods meet: every pod hks renders
    meets `restricted`, except Ollama with a hostPath model store (docs/security.md)."""
    hosted = config.org.self_hosted
    if hosted is not None and hosted.storage.type == "host-path":
        return "privileged"
    return "restricted"


def pod_security(level: str, config: Config) -> dict[str, str]:
    """The namespace labels of the Pod Security admission controller, pinned to the cluster's
    version so a newer Kubernetes does not tighten the rules under a running platform."""
    version = f"v{config.org.cluster.kubernetes_version}"
    labels: dict[str, str] = {}
    for mode in POD_SECURITY_MODES:
        labels[f"pod-security.kubernetes.io/{mode}"] = level
        labels[f"pod-security.kubernetes.io/{mode}-version"] = version
    return labels


@functools.cache
def environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("templates"))),
        undefined=jinja2.StrictUndefined,
        finalize=flow,
        autoescape=False,
        keep_trailing_newline=True,
        auto_reload=False,  # templates do not change during a run: no stat of the file per render
    )


@functools.cache
def text_environment() -> Any:
    """For a program's own config file (not YAML): no quoting `finalize`, so every value must be
    checked by its caller before it reaches the template."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("templates"))),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )


def render_text(template: str, **context: Any) -> str:
    text: str = text_environment().get_template(template).render(**context)
    return text


def render_template(template: str, **context: Any) -> dict[str, Any]:
    text = environment().get_template(template).render(**context)
    document: dict[str, Any] = load_template_yaml(text)
    return document


def load_template_yaml(text: str) -> Any:
    """A rendered template's YAML, with libyaml (compiler/builtin/datafiles.py): every value reaches a
    template as JSON (quoted), and tests/render/test_render.py checks that YAML 1.1 and 1.2 read every
    rendered example the same."""
    from compiler.builtin import datafiles

    return datafiles.parse_rendered(text)


def own_service_account(config: Config, name: str) -> str | None:
    """The ServiceAccount a workload runs as when a mesh names it by identity (cluster.mesh): one of
    its own, so that an authorization policy naming it admits that workload and nothing else
    (render/components/mesh.py). Without a mesh the pod keeps the namespace's `default`, which it
    never uses (no token is mounted)."""
    return name if config.org.cluster.mesh != "none" else None


def standard_labels(config: Config, component: str, name: str | None = None) -> dict[str, str]:
    labels = {
        "app.kubernetes.io/part-of": "hks",
        "app.kubernetes.io/managed-by": "hks",
        "app.kubernetes.io/component": component,
        "hks.dev/organization": config.organization,
    }
    if name:
        labels["app.kubernetes.io/name"] = name
    return labels


def pinned_images() -> dict[str, str]:
    from compiler.builtin import datafiles

    images: dict[str, str] = datafiles.load("catalogue", "images.yaml")
    return images


def public_egress(ports: list[int]) -> dict[str, Any]:
    return {
        "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE_RANGES}}],
        "ports": [{"port": port, "protocol": "TCP"} for port in ports],
    }


def fqdn_egress(endpoints: list[Any]) -> list[dict[str, Any]]:
    """A CiliumNetworkPolicy's egress to exactly these host names (each `host` and `port`):
    DNS through Cilium's DNS proxy, which learns the names' addresses, then each port to its
    names (`toFQDNs` admits only addresses a lookup of those names returned)."""
    dns = {
        "toEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "kube-system", "k8s:k8s-app": "kube-dns"}}],
        "toPorts": [
            {
                "ports": [{"port": "53", "protocol": "ANY"}],
                "rules": {"dns": [{"matchPattern": "*"}]},
            }
        ],
    }
    rules: list[dict[str, Any]] = [dns]
    for port in sorted({e.port for e in endpoints}):
        hosts = sorted({e.host for e in endpoints if e.port == port})
        rules.append(
            {
                "toFQDNs": [{"matchName": host} for host in hosts],
                "toPorts": [{"ports": [{"port": str(port), "protocol": "TCP"}]}],
            }
        )
    return rules
