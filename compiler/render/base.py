"""What every rendered component shares: the Manifest record, labels, Pod Security levels, the
egress every workload needs, the pinned images, and the jinja2 environment the templates render in.

Every value reaches a template through a quoting `finalize`, so no string in a config can change
a document's structure.
"""

from __future__ import annotations

import functools
import re
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
    return _jinja(finalize=flow)


def _jinja(**options: Any) -> Any:
    """A template environment over templates/, with what every one of hks's shares."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("templates"))),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        auto_reload=False,  # templates do not change during a run: no stat of the file per render
        **options,
    )


@functools.cache
def text_environment() -> Any:
    """For a program's own config file (not YAML): no quoting `finalize`, so every value must be
    checked by its caller before it reaches the template."""
    return _jinja(trim_blocks=True, lstrip_blocks=True)


def render_text(template: str, **context: Any) -> str:
    text: str = text_environment().get_template(template).render(**context)
    return text


def render_template(template: str, **context: Any) -> dict[str, Any]:
    """The template's document: the YAML the template renders to, parsed.

    Rendered with a marker in place of each value, whose parse is cached (a template renders to
    the same marked text for every workspace), then the values are put in as data: what
    parsing their JSON would give, without writing and parsing it again (render at 1,000
    workspaces parsed 6,000 documents). A value whose JSON could read back otherwise (a float,
    a string with a surrogate, a key that is not a string), or a marker anywhere but a plain
    scalar of its own (quoted, in a block scalar, a key), renders the text for real and parses
    it; tests/test_render.py holds the two ways equal on every example and awkward values."""
    try:
        document: dict[str, Any] = _by_markers(template, context)
    except _NotData:
        document = rendered_for_real(template, **context)
    return document


def _by_markers(template: str, context: dict[str, Any]) -> Any:
    slots: list[Any] = []
    text = _marking_environment().get_template(template).render(**context, **{_SLOTS: slots})
    return _filled(_skeleton(text, len(slots)), slots)


def rendered_for_real(template: str, **context: Any) -> Any:
    """The template rendered to text with every value as JSON, and that text parsed."""
    return load_template_yaml(environment().get_template(template).render(**context))


_SLOTS = "_hks_values"  # the render's list of values, in its context
_MARK = "hks-value-"  # a marker: _MARK, the value's index, _MARK_END (a plain scalar YAML reads as a string)
_MARK_END = "-hks"
_MAX_KEY = 128  # keys whose JSON stays under libyaml's 1,024 characters of a simple key
_SURROGATE = re.compile("[\ud800-\udfff]")


class _NotData(Exception):
    """Render this template for real."""


@functools.cache
def _marking_environment() -> Any:
    import jinja2

    @jinja2.pass_context  # also keeps jinja from folding a constant `{{ {...} }}` at compile time
    def mark(context: Any, value: Any) -> str:
        slots = context.get(_SLOTS)
        if not isinstance(slots, list):
            raise _NotData  # an imported template without its caller's context
        slots.append(value)
        return f"{_MARK}{len(slots) - 1}{_MARK_END}"

    return _jinja(finalize=mark)


@functools.lru_cache(maxsize=1024)
def _skeleton(text: str, slots: int) -> Any:
    """The marked text parsed (never changed: _filled copies it)."""
    if text.count(_MARK) != slots:
        raise _NotData  # a marker in the template's own text
    try:
        if not _markers_plain(text):
            raise _NotData
        return load_template_yaml(text)
    except Exception as exc:  # what the text with its values says: a syntax error, say
        raise _NotData from exc


def _markers_plain(text: str) -> bool:
    """Whether every marker is a plain scalar of its own, a value and not a key: inside quotes
    ('{{ x }}') or a block scalar the value's JSON would be part of a string."""
    from compiler.builtin import datafiles

    loader_class = datafiles.libyaml_loader()
    if loader_class is None:
        return False
    loader = loader_class(text)
    try:
        root = loader.get_single_node()
    finally:
        loader.dispose()
    pending, seen = [root], set()
    while pending:
        node = pending.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if node.id == "scalar":
            if _MARK in node.value and node.style:  # libyaml: "" for plain, None in pure PyYAML
                return False
        elif node.id == "mapping":
            if any(key.id != "scalar" or _MARK in key.value for key, _ in node.value):
                return False
            pending += [value for _, value in node.value]
        else:
            pending += node.value
    return True


def _filled(node: Any, slots: list[Any]) -> Any:
    kind = type(node)
    if kind is str:
        if _MARK not in node:
            return node
        index = node.removeprefix(_MARK).removesuffix(_MARK_END)
        if node != f"{_MARK}{index}{_MARK_END}" or not index.isdigit():
            raise _NotData  # a marker inside a longer string: the value's JSON is part of the text
        return _data(slots[int(index)], 0)
    if kind is dict:
        return {key: _filled(value, slots) for key, value in node.items()}  # no key is a marker (_markers_plain)
    if kind is list:
        return [_filled(item, slots) for item in node]
    return node  # a scalar of the template's own text: immutable


def _data(value: Any, depth: int) -> Any:
    """A copy of `value` equal to what libyaml reads from its JSON (base.flow), or _NotData."""
    kind = type(value)
    if kind is str:
        if not value.isprintable() and _SURROGATE.search(value):
            raise _NotData  # libyaml refuses its escape: the error is the real render's
        return value
    if kind is int or kind is bool or value is None:
        return value
    if depth > 32:
        raise _NotData
    if kind is dict:
        copy = {}
        for key, item in value.items():
            if type(key) is not str or len(key) > _MAX_KEY or (not key.isprintable() and _awkward_key(key)):
                raise _NotData  # JSON turns 1, True and None keys into strings
            copy[key] = _data(item, depth + 1)
        return copy
    if kind is list or kind is tuple:
        return [_data(item, depth + 1) for item in value]
    raise _NotData  # a float (JSON's 1e-05 is a string to YAML 1.1), an enum, a model


def _awkward_key(key: str) -> bool:
    return bool(_SURROGATE.search(key)) or len(key) > _MAX_KEY // 2  # escapes are up to 10 characters each


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
