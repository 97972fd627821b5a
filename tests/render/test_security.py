"""Hardening of what hks renders: a real scanner (checkov), the Kubernetes Pod Security Standards
checked field by field, and the graph of allowed network flows against the intended one."""

from __future__ import annotations

import copy
import functools
import ipaddress
import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from compiler.pipeline import compile_config, render_checked
from compiler.render import scanners
from compiler.write import write_tree
from tests.builtin.test_crd_schemas import UPSTREAM as UPSTREAM_CRDS
from tests.conftest import EXAMPLES, ROOT

RENDERED = sorted(p.name for p in EXAMPLES.iterdir() if (p / "rendered").is_dir())
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
SECURITY_DOC = ROOT / "docs" / "security.md"
GGUF_SHA = "c" * 64


# --- configs: the examples, and one that turns every feature on ---------------------------------


def copy_example(name: str, target: Path) -> Path:
    shutil.copytree(EXAMPLES / name, target, ignore=shutil.ignore_patterns("rendered", "explain.txt"))
    return target


def everything_on(target: Path, *, storage: str = "ephemeral") -> Path:
    """acme (every provider, Ollama, Presidio, ExternalSecrets, Postgres, Redis) plus Cilium FQDN
    policies, a custom GGUF model from a non-default port, and the chosen model storage."""
    copy_example("acme", target)
    org = target / "org.yaml"
    yaml = YAML()
    data = yaml.load(org.read_text())
    data["self_hosted"]["models"].append(
        {"name": "acme-support:7b", "source": "https://models.example:8443/acme.gguf", "sha256": GGUF_SHA}
    )
    data["self_hosted"]["storage"] = {"type": storage}
    data["cluster"]["cni"] = "cilium"  # keeping acme's cluster.tls
    with org.open("w") as handle:
        yaml.dump(data, handle)
    return target


def with_mesh(target: Path, mesh: str) -> Path:
    """acme with `cluster.mesh` set (docs/security.md, "Encryption in transit")."""
    copy_example("acme", target)
    org = target / "org.yaml"
    yaml = YAML()
    data = yaml.load(org.read_text())
    data["cluster"]["mesh"] = mesh
    with org.open("w") as handle:
        yaml.dump(data, handle)
    return target


def pools_with_mesh(target: Path, mesh: str) -> Path:
    """examples/gpu-pools with `cluster.mesh` and `cluster.tls`: a certificate, a proxy and mesh
    policies for each pool."""
    copy_example("gpu-pools", target)
    org = target / "org.yaml"
    yaml = YAML()
    data = yaml.load(org.read_text())
    data["cluster"]["mesh"] = mesh
    data["cluster"]["tls"] = {"issuer": {"name": "ca", "kind": "ClusterIssuer"}, "ca": {"secret": "ca", "key": "tls.crt"}}
    with org.open("w") as handle:
        yaml.dump(data, handle)
    return target


def render_to(config: Path, out: Path) -> Path:
    compiled = compile_config(str(config))
    assert compiled.ok, [f"{d.position} {d.message}" for d in compiled.diagnostics]
    write_tree(out, render_checked(compiled).files.items())
    return out


CONFIGS = {
    "acme": lambda tmp: render_to(copy_example("acme", tmp / "config"), tmp / "out"),
    "seed": lambda tmp: render_to(copy_example("seed", tmp / "config"), tmp / "out"),
    "everything-on": lambda tmp: render_to(everything_on(tmp / "config"), tmp / "out"),
    "host-path": lambda tmp: render_to(everything_on(tmp / "config", storage="host-path"), tmp / "out"),
    "mesh-istio": lambda tmp: render_to(with_mesh(tmp / "config", "istio"), tmp / "out"),
    "mesh-linkerd": lambda tmp: render_to(with_mesh(tmp / "config", "linkerd"), tmp / "out"),
    "gpu-pools": lambda tmp: render_to(copy_example("gpu-pools", tmp / "config"), tmp / "out"),
    "gpu-pools-istio": lambda tmp: render_to(pools_with_mesh(tmp / "config", "istio"), tmp / "out"),
    "gpu-pools-linkerd": lambda tmp: render_to(pools_with_mesh(tmp / "config", "linkerd"), tmp / "out"),
}
MESHES = {"mesh-istio": "istio", "mesh-linkerd": "linkerd", "gpu-pools-istio": "istio", "gpu-pools-linkerd": "linkerd"}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Each config rendered once for the module: name -> output folder."""
    cache: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in cache:
            cache[name] = CONFIGS[name](tmp_path_factory.mktemp(name))
        return cache[name]

    return get


def documents(out: Path) -> list[dict[str, Any]]:
    """The documents of a rendered folder, each caller's own copy: a folder is read once (up to
    nine tests read each of the module's), as no test changes a folder once it is rendered."""
    return copy.deepcopy(_read_documents(out))


@functools.cache
def _read_documents(out: Path) -> list[dict[str, Any]]:
    paths = sorted(p for p in out.rglob("*.yaml") if p.name != "kustomization.yaml")
    return [YAML(typ="safe").load(p.read_text()) for p in paths]


def test_every_rendered_example_is_covered() -> None:
    assert set(RENDERED) <= set(CONFIGS)


# --- checkov ----------------------------------------------------------------------------------


def documented_reasons() -> set[str]:
    """The reasons in docs/security.md's exception table: `| CKV_K8S_n | resource | reason |`."""
    rows = re.findall(r"^\| `(CKV_K8S_\d+)` \| [^|]+ \| (.+?) \|$", SECURITY_DOC.read_text(), re.MULTILINE)
    return {f"{check}={reason}" for check, reason in rows}


@pytest.fixture(scope="module")
def checkov(rendered: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """One checkov run over every config's output, each in a folder of its name (checkov's start
    costs seconds): config name -> "passed"/"failed"/"skipped" -> checks."""
    assert CHECKOV.is_file(), "checkov is needed for this test (tests/install-tools.sh installs it)"
    root = tmp_path_factory.mktemp("checkov")
    for name in CONFIGS:
        shutil.copytree(rendered(name), root / name)
    result = subprocess.run(
        [str(CHECKOV), "-d", str(root), "--framework", "kubernetes", "--skip-download", "-o", "json"],
        capture_output=True,
        check=False,
        text=True,
        timeout=600,
    )
    report = json.loads(result.stdout)
    results = [r["results"] for r in (report if isinstance(report, list) else [report])]
    by_config: dict[str, dict[str, list[dict[str, Any]]]] = {name: {"passed": [], "failed": [], "skipped": []} for name in CONFIGS}
    for kind in ("passed", "failed", "skipped"):
        for check in (c for r in results for c in r[f"{kind}_checks"]):
            by_config[check["file_path"].strip("/").split("/")[0]][kind].append(check)
    assert result.returncode == (1 if any(c["failed"] for c in by_config.values()) else 0), result.stderr
    return by_config


@pytest.mark.checkov
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_checkov_finds_nothing_without_a_documented_skip(name: str, checkov: dict[str, dict[str, list[dict[str, Any]]]]) -> None:
    checks = checkov[name]
    failed = [f"{c['check_id']} {c['resource']} ({c['file_path']})" for c in checks["failed"]]
    assert not failed, "\n".join(failed)
    assert len(checks["passed"]) > 100, "checkov checked almost nothing: did it find the files?"
    documented = documented_reasons()
    for check in checks["skipped"]:
        assert f"{check['check_id']}={check['check_result']['suppress_comment']}" in documented, check["resource"]


def test_every_skip_is_documented_and_parses() -> None:
    documented = documented_reasons()
    for skip in scanners.SKIPS:
        assert "=" not in skip.reason, "checkov splits the annotation at '='"
        assert f"{skip.check}={skip.reason}" in documented, skip
    assert documented == {f"{s.check}={s.reason}" for s in scanners.SKIPS}


def test_a_digest_pinned_image_needs_no_skip(tmp_path: Path) -> None:
    config = copy_example("acme", tmp_path / "config")
    org = config / "org.yaml"
    digest = "sha256:" + "d" * 64
    org.write_text(org.read_text().replace("gateway:\n", f"gateway:\n  image: ghcr.io/berriai/litellm:v1.110.2@{digest}\n", 1))
    docs = {(d["kind"], d["metadata"]["name"]): d for d in documents(render_to(config, tmp_path / "out"))}
    annotations = docs[("Deployment", "llm-gateway")]["metadata"]["annotations"]
    assert sorted(v.split("=")[0] for v in annotations.values()) == ["CKV_K8S_35"]


# --- Pod Security Standards -------------------------------------------------------------------
# From https://kubernetes.io/docs/concepts/security/pod-security-standards/, control by control.

BASELINE_CAPABILITIES = {
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
    "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}  # fmt: skip
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}  # fmt: skip
SELINUX_TYPES = {None, "", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
RESTRICTED_VOLUMES = {
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret",
}  # fmt: skip
LEVELS = ("privileged", "baseline", "restricted")
POD_KINDS = {"Pod", "Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "Job", "CronJob"}


def pod_of(doc: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(pod metadata, pod spec) of a workload."""
    if doc["kind"] == "Pod":
        return doc["metadata"], doc["spec"]
    template = doc["spec"]["jobTemplate"]["spec"]["template"] if doc["kind"] == "CronJob" else doc["spec"]["template"]
    return template.get("metadata", {}), template["spec"]


def containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for part in ("initContainers", "containers", "ephemeralContainers") for c in spec.get(part, [])]


def baseline_violations(meta: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    found = []
    pod_sc = spec.get("securityContext", {})
    everything = [("pod", pod_sc)] + [(c["name"], c.get("securityContext", {})) for c in containers(spec)]
    # HostProcess
    for who, sc in everything:
        if sc.get("windowsOptions", {}).get("hostProcess"):
            found.append(f"{who}: windowsOptions.hostProcess")
    # Host Namespaces
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(key):
            found.append(f"pod: {key}")
    for who, sc in everything[1:]:
        # Privileged Containers
        if sc.get("privileged"):
            found.append(f"{who}: privileged")
        # Capabilities
        extra = set(sc.get("capabilities", {}).get("add", [])) - BASELINE_CAPABILITIES
        if extra:
            found.append(f"{who}: capabilities.add {sorted(extra)}")
        # /proc Mount Type
        if sc.get("procMount", "Default") != "Default":
            found.append(f"{who}: procMount")
    # HostPath Volumes
    found += [f"volume {v['name']}: hostPath" for v in spec.get("volumes", []) if "hostPath" in v]
    # Host Ports
    for c in containers(spec):
        found += [f"{c['name']}: hostPort" for p in c.get("ports", []) if p.get("hostPort", 0)]
    for who, sc in everything:
        # AppArmor
        if sc.get("appArmorProfile", {}).get("type", "RuntimeDefault") not in ("RuntimeDefault", "Localhost"):
            found.append(f"{who}: appArmorProfile")
        # SELinux
        selinux = sc.get("seLinuxOptions", {})
        if selinux.get("type") not in SELINUX_TYPES or selinux.get("user") or selinux.get("role"):
            found.append(f"{who}: seLinuxOptions")
        # Seccomp
        if sc.get("seccompProfile", {}).get("type") == "Unconfined":
            found.append(f"{who}: seccompProfile Unconfined")
    for key, value in meta.get("annotations", {}).items():
        apparmor = key.startswith("container.apparmor.security.beta.kubernetes.io/")
        if apparmor and value != "runtime/default" and not value.startswith("localhost/"):
            found.append(f"annotation {key}")
    # Sysctls
    found += [f"sysctl {s['name']}" for s in pod_sc.get("sysctls", []) if s["name"] not in SAFE_SYSCTLS]
    return found


def restricted_violations(meta: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    found = baseline_violations(meta, spec)
    pod_sc = spec.get("securityContext", {})
    # Volume Types
    for volume in spec.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUMES:
            found.append(f"volume {volume['name']}: {sorted(kinds)}")
    if pod_sc.get("runAsUser") == 0:
        found.append("pod: runAsUser 0")
    pod_seccomp = pod_sc.get("seccompProfile", {}).get("type")
    for c in containers(spec):
        sc = c.get("securityContext", {})
        who = c["name"]
        # Privilege Escalation
        if sc.get("allowPrivilegeEscalation") is not False:
            found.append(f"{who}: allowPrivilegeEscalation is not false")
        # Running as Non-root
        non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
        if non_root is not True:
            found.append(f"{who}: runAsNonRoot is not true")
        # Running as Non-root user
        if sc.get("runAsUser") == 0:
            found.append(f"{who}: runAsUser 0")
        # Seccomp
        if sc.get("seccompProfile", {}).get("type", pod_seccomp) not in ("RuntimeDefault", "Localhost"):
            found.append(f"{who}: seccompProfile is not RuntimeDefault or Localhost")
        # Capabilities
        caps = sc.get("capabilities", {})
        if "ALL" not in caps.get("drop", []):
            found.append(f"{who}: capabilities.drop lacks ALL")
        if set(caps.get("add", [])) - {"NET_BIND_SERVICE"}:
            found.append(f"{who}: capabilities.add beyond NET_BIND_SERVICE")
    return found


def strictest_level(meta: dict[str, Any], spec: dict[str, Any]) -> str:
    if not restricted_violations(meta, spec):
        return "restricted"
    return "baseline" if not baseline_violations(meta, spec) else "privileged"


def test_the_checks_tell_the_levels_apart() -> None:
    good = {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{"name": "c", "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}}],
        "volumes": [{"name": "v", "emptyDir": {}}],
    }
    assert strictest_level({}, good) == "restricted"
    as_root = json.loads(json.dumps(good))
    as_root["containers"][0]["securityContext"]["runAsUser"] = 0
    assert strictest_level({}, as_root) == "baseline"
    for key, value in [("hostNetwork", True), ("volumes", [{"name": "v", "hostPath": {"path": "/x"}}])]:
        assert strictest_level({}, {**good, key: value}) == "privileged"


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_every_namespace_is_labelled_at_the_strictest_level_its_pods_meet(name: str, rendered: Any) -> None:
    docs = documents(rendered(name))
    namespaces = {d["metadata"]["name"]: d["metadata"]["labels"] for d in docs if d["kind"] == "Namespace"}
    assert namespaces
    pods: dict[str, list[tuple[str, dict[str, Any], dict[str, Any]]]] = {ns: [] for ns in namespaces}
    for doc in docs:
        if doc["kind"] in POD_KINDS:
            meta, spec = pod_of(doc)
            pods[doc["metadata"]["namespace"]].append((doc["metadata"]["name"], meta, spec))
    for namespace, labels in namespaces.items():
        level = labels["pod-security.kubernetes.io/enforce"]
        for mode in ("warn", "audit"):
            assert labels[f"pod-security.kubernetes.io/{mode}"] == level
            assert labels[f"pod-security.kubernetes.io/{mode}-version"] == labels["pod-security.kubernetes.io/enforce-version"]
        assert labels["pod-security.kubernetes.io/enforce-version"] == "v1.37"  # the default cluster.kubernetes_version
        met = [strictest_level(meta, spec) for _, meta, spec in pods[namespace]]
        for workload, meta, spec in pods[namespace]:
            problems = restricted_violations(meta, spec) if level == "restricted" else baseline_violations(meta, spec)
            assert level == "privileged" or not problems, f"{namespace}/{workload} breaks {level}: {problems}"
        assert level == min(met, key=LEVELS.index, default="restricted"), namespace
    if name != "host-path":
        assert {labels["pod-security.kubernetes.io/enforce"] for labels in namespaces.values()} == {"restricted"}


# --- network flows ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """Something that sends or receives traffic. `controlled`: its namespace is rendered by hks,
    so its NetworkPolicies decide; elsewhere only the other side's policies apply."""

    role: str
    namespace: str | None
    namespace_labels: dict[str, str] = field(hash=False)
    labels: dict[str, str] = field(hash=False)
    ip: str
    controlled: bool
    # The mesh identity (namespace, ServiceAccount) it connects with; None: it is not in the mesh.
    identity: tuple[str, str] | None = None


POD_IP = "10.244.1.10"


def outside_endpoints() -> list[Endpoint]:
    def ns(name: str) -> dict[str, str]:
        return {"kubernetes.io/metadata.name": name}

    return [
        Endpoint("kube-dns", "kube-system", ns("kube-system"), {"k8s-app": "kube-dns"}, POD_IP, False),
        # Prometheus is in the mesh (docs/security.md): its namespace's accounts are named.
        Endpoint("prometheus", "monitoring", ns("monitoring"), {"app.kubernetes.io/name": "prometheus"}, POD_IP, False, ("monitoring", "prometheus")),
        # Someone else's meshed pod: it has an identity, and no policy names it.
        Endpoint("cluster-pod", "default", ns("default"), {"app": "other"}, POD_IP, False, ("default", "default")),
        Endpoint("private-network", None, {}, {}, "10.20.0.5", False),
        Endpoint("internet", None, {}, {}, "203.0.113.7", False),
    ]


def rendered_endpoints(docs: list[dict[str, Any]]) -> list[Endpoint]:
    namespaces = {
        d["metadata"]["name"]: {**d["metadata"]["labels"], "kubernetes.io/metadata.name": d["metadata"]["name"]}
        for d in docs
        if d["kind"] == "Namespace"
    }
    found = []
    with_pods = set()
    for doc in docs:
        if doc["kind"] in POD_KINDS:
            meta, spec = pod_of(doc)
            namespace = doc["metadata"]["namespace"]
            with_pods.add(namespace)
            account = (namespace, spec.get("serviceAccountName", "default"))
            found.append(Endpoint(doc["metadata"]["name"], namespace, namespaces[namespace], meta["labels"], POD_IP, True, account))
    for namespace, labels in namespaces.items():
        if labels.get("app.kubernetes.io/component") == "workspace":
            # The workspace team's own services, with labels and accounts hks knows nothing about.
            found.append(Endpoint("workspace", namespace, labels, {"app": "service"}, POD_IP, True, (namespace, "service")))
    return found


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert set(selector) <= {"matchLabels"}, "matchExpressions: teach the flow test to read them"
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def peer_matches(peer: dict[str, Any], policy_namespace: str, endpoint: Endpoint) -> bool:
    if "ipBlock" in peer:
        address = ipaddress.ip_address(endpoint.ip)
        block = peer["ipBlock"]
        return address in ipaddress.ip_network(block["cidr"]) and not any(
            address in ipaddress.ip_network(cidr) for cidr in block.get("except", [])
        )
    if endpoint.namespace is None:
        return False
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], endpoint.namespace_labels):
            return False
    elif endpoint.namespace != policy_namespace:
        return False
    return selects(peer.get("podSelector", {}), endpoint.labels)


def rule_allows(rule: dict[str, Any], direction: str, namespace: str, peer: Endpoint, port: tuple[int, str]) -> bool:
    ports = rule.get("ports")
    if ports and not any(p.get("port") == port[0] and p.get("protocol", "TCP") == port[1] for p in ports):
        return False
    peers = rule.get("to" if direction == "Egress" else "from")
    return not peers or any(peer_matches(p, namespace, peer) for p in peers)


def cilium_allows(policy: dict[str, Any], peer: Endpoint, port: tuple[int, str]) -> bool:
    """One egress rule set of a CiliumNetworkPolicy: `toFQDNs` reach public addresses (the names
    are checked in tests/render/test_gateway.py), `toEndpoints` pods by `k8s:` labels."""
    for rule in policy["spec"].get("egress", []):
        ports = [p for to in rule.get("toPorts", []) for p in to.get("ports", [])]
        if ports and not any(int(p["port"]) == port[0] and p["protocol"] in (port[1], "ANY") for p in ports):
            continue
        if rule.get("toFQDNs") and peer.role == "internet":
            return True
        for selector in rule.get("toEndpoints", []):
            labels = {k.removeprefix("k8s:"): v for k, v in selector.get("matchLabels", {}).items()}
            namespace = labels.pop("io.kubernetes.pod.namespace", None)
            if peer.namespace is not None and namespace in (None, peer.namespace) and selects({"matchLabels": labels}, peer.labels):
                return True
    return False


def side_allows(policies: list[dict[str, Any]], direction: str, me: Endpoint, peer: Endpoint, port: tuple[int, str]) -> bool:
    if not me.controlled:
        return True
    mine = [
        p
        for p in policies
        if p["kind"] == "NetworkPolicy"
        and p["metadata"]["namespace"] == me.namespace
        and direction in p["spec"]["policyTypes"]
        and selects(p["spec"]["podSelector"], me.labels)
    ]
    cilium = [
        p
        for p in policies
        if p["kind"] == "CiliumNetworkPolicy"
        and p["metadata"]["namespace"] == me.namespace
        and selects(p["spec"]["endpointSelector"], me.labels)
        and direction == "Egress"
    ]
    if not mine and not cilium:
        return True  # not isolated: default-deny is missing, and the test below says so
    key = "egress" if direction == "Egress" else "ingress"
    allowed = any(rule_allows(r, direction, me.namespace or "", peer, port) for p in mine for r in p["spec"].get(key, []))
    return allowed or any(cilium_allows(p, peer, port) for p in cilium)


def flow_graph(docs: list[dict[str, Any]]) -> set[tuple[str, str, int, str]]:
    """Allowed (source, destination, port, protocol) flows. With Cilium, Kubernetes policies and
    CiliumNetworkPolicies add up; only the egress kinds hks renders are read."""
    policies = [d for d in docs if d["kind"] in ("NetworkPolicy", "CiliumNetworkPolicy")]
    endpoints = rendered_endpoints(docs) + outside_endpoints()
    ports = candidate_ports(docs)
    return {
        (src.role, dst.role, port[0], port[1])
        for src in endpoints
        for dst in endpoints
        if src is not dst and (src.controlled or dst.controlled)
        for port in sorted(ports)
        if side_allows(policies, "Egress", src, dst, port) and side_allows(policies, "Ingress", dst, src, port)
    }


def candidate_ports(docs: list[dict[str, Any]]) -> set[tuple[int, str]]:
    """Common ports, and every port a NetworkPolicy, a CiliumNetworkPolicy or a container names."""
    ports = {(22, "TCP"), (53, "UDP"), (53, "TCP"), (80, "TCP"), (443, "TCP"), (8080, "TCP"), (9090, "TCP")}
    for policy in (d for d in docs if d["kind"] == "NetworkPolicy"):
        for rule in policy["spec"].get("ingress", []) + policy["spec"].get("egress", []):
            ports |= {(p["port"], p.get("protocol", "TCP")) for p in rule.get("ports", [])}
    for policy in (d for d in docs if d["kind"] == "CiliumNetworkPolicy"):
        for rule in policy["spec"].get("egress", []):
            ports |= {(int(p["port"]), p["protocol"]) for to in rule.get("toPorts", []) for p in to["ports"] if p["protocol"] != "ANY"}
    for doc in docs:
        if doc["kind"] in POD_KINDS:
            ports |= {(p["containerPort"], "TCP") for c in containers(pod_of(doc)[1]) for p in c.get("ports", [])}
    return ports


OUTSIDE = ("kube-dns", "prometheus", "cluster-pod", "private-network")  # the gateway's stores: in the cluster or private
DNS = [(53, "UDP"), (53, "TCP")]
# The intended flows, as data: (source, destination, ports, the feature that needs them).
# `*outside*` is every endpoint hks does not render in the cluster or on private networks (the
# Postgres and Redis addresses live in Secrets hks never reads; public addresses are not allowed).
INTENDED: list[tuple[str, str, list[tuple[int, str]], str]] = [
    ("workspace", "kube-dns", DNS, "always"),
    ("workspace", "llm-gateway", [(4000, "TCP")], "always"),
    ("llm-gateway", "kube-dns", DNS, "always"),
    # The Kubernetes API, for TokenReviews: its endpoints are the control plane's private addresses,
    # which a NetworkPolicy can only name as private ranges (docs/gateway.md).
    ("llm-gateway", "*outside*", [(443, "TCP"), (6443, "TCP")], "always"),
    ("llm-gateway", "ollama", [(11434, "TCP")], "ollama"),
    ("llm-gateway", "presidio-analyzer", [(3000, "TCP")], "pii"),
    ("llm-gateway", "presidio-anonymizer", [(3000, "TCP")], "pii"),
    ("llm-gateway", "internet", [(443, "TCP")], "providers-by-address"),
    ("llm-gateway", "internet", [(443, "TCP")], "providers-by-name"),  # Cilium toFQDNs
    ("llm-gateway", "*outside*", [(5432, "TCP")], "database"),
    ("llm-gateway", "*outside*", [(6379, "TCP")], "redis"),
    # Model pulls: the Ollama pods reach no public address, only the model egress proxy, the one
    # workload with public egress (to the model hosts' ports; by name under Cilium).
    ("ollama", "kube-dns", DNS, "ollama"),
    ("ollama", "model-egress", [(3128, "TCP")], "ollama"),
    ("model-egress", "kube-dns", DNS, "ollama"),
    ("model-egress", "internet", [(443, "TCP")], "ollama"),
    ("model-egress", "internet", [(8443, "TCP")], "gguf-on-8443"),
    # GPU pools: the gateway to each pool's pods, each pool's pulls (examples/gpu-pools).
    ("llm-gateway", "ollama-small", [(11434, "TCP")], "pools"),
    ("llm-gateway", "ollama-large", [(11434, "TCP")], "pools"),
    ("ollama-small", "kube-dns", DNS, "pools"),
    ("ollama-large", "kube-dns", DNS, "pools"),
    ("ollama-small", "model-egress", [(3128, "TCP")], "pools"),
    ("ollama-large", "model-egress", [(3128, "TCP")], "pools"),
    ("model-egress", "kube-dns", DNS, "pools"),
    ("model-egress", "internet", [(443, "TCP")], "pools"),
    ("prometheus", "llm-gateway", [(4000, "TCP")], "monitoring"),  # the ServiceMonitor's scrape
    # Istio ambient: the same flows between meshed pods also reach the destination's tunnel port
    # (HBONE, 15008), where ztunnel checks identity and the application port inside.
    ("workspace", "llm-gateway", [(15008, "TCP")], "hbone"),
    ("prometheus", "llm-gateway", [(15008, "TCP")], "hbone-monitoring"),
    ("llm-gateway", "ollama", [(15008, "TCP")], "hbone-ollama"),
    ("ollama", "model-egress", [(15008, "TCP")], "hbone-ollama"),
    ("llm-gateway", "ollama-small", [(15008, "TCP")], "hbone-pools"),
    ("llm-gateway", "ollama-large", [(15008, "TCP")], "hbone-pools"),
    ("ollama-small", "model-egress", [(15008, "TCP")], "hbone-pools"),
    ("ollama-large", "model-egress", [(15008, "TCP")], "hbone-pools"),
    ("llm-gateway", "presidio-analyzer", [(15008, "TCP")], "hbone-pii"),
    ("llm-gateway", "presidio-anonymizer", [(15008, "TCP")], "hbone-pii"),
]
HBONE = {"hbone", "hbone-monitoring", "hbone-ollama", "hbone-pii", "hbone-pools"}
FEATURES = {
    "acme": {"always", "ollama", "pii", "providers-by-address", "database", "redis", "monitoring"},
    "seed": {"always", "ollama", "providers-by-address", "monitoring"},
    "everything-on": {"always", "ollama", "pii", "database", "redis", "gguf-on-8443", "providers-by-name", "monitoring"},
    "host-path": {"always", "ollama", "pii", "database", "redis", "gguf-on-8443", "providers-by-name", "monitoring"},
    "mesh-istio": {"always", "ollama", "pii", "providers-by-address", "database", "redis", "monitoring", *HBONE - {"hbone-pools"}},
    "mesh-linkerd": {"always", "ollama", "pii", "providers-by-address", "database", "redis", "monitoring"},
    "gpu-pools": {"always", "pools", "monitoring"},
    "gpu-pools-istio": {"always", "pools", "monitoring", "hbone", "hbone-monitoring", "hbone-pools"},
    "gpu-pools-linkerd": {"always", "pools", "monitoring"},
}


def intended(features: set[str]) -> set[tuple[str, str, int, str]]:
    flows = set()
    for source, destination, ports, feature in INTENDED:
        if feature in features:
            for target in OUTSIDE if destination == "*outside*" else (destination,):
                flows |= {(source, target, port, protocol) for port, protocol in ports}
    return flows


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_allowed_flows_are_exactly_the_intended_ones(name: str, rendered: Any) -> None:
    docs = documents(rendered(name))
    allowed = flow_graph(docs)
    expected = intended(FEATURES[name])
    assert sorted(allowed - expected) == [], "flows nobody intended"
    assert sorted(expected - allowed) == [], "intended flows the policies block"


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_every_namespace_denies_by_default_and_every_policy_is_named(name: str, rendered: Any) -> None:
    docs = documents(rendered(name))
    policies = [d for d in docs if d["kind"] == "NetworkPolicy"]
    for namespace in (d["metadata"]["name"] for d in docs if d["kind"] == "Namespace"):
        deny = [p for p in policies if p["metadata"]["namespace"] == namespace and p["metadata"]["name"] == "default-deny"]
        assert len(deny) == 1, namespace
        assert deny[0]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    names = [(p["kind"], p["metadata"]["namespace"], p["metadata"]["name"]) for p in policies]
    assert len(names) == len(set(names))


def test_the_flow_graph_catches_an_unintended_flow(rendered: Any) -> None:
    docs = documents(rendered("acme"))
    for doc in docs:
        if doc["kind"] == "NetworkPolicy" and doc["metadata"]["name"] == "ollama-model-pulls":
            doc["spec"]["egress"].append({"to": [{"podSelector": {}}]})  # Ollama may now reach its neighbours
    extra = flow_graph(docs) - intended(FEATURES["acme"])
    assert ("ollama", "llm-gateway", 4000, "TCP") in extra


# --- the mesh: mutual TLS and authorization by identity ----------------------------------------
# The mesh's policies, read as Istio (ambient) and Linkerd evaluate them, give a second flow graph
# between identities; it must admit exactly the intended flows into the workloads hks renders
# (the NetworkPolicies' table, without Istio's tunnel port), and nothing without mutual TLS.

ISTIO_TRUST_DOMAIN = "cluster.local"
LINKERD_DEFAULT_INBOUND = "all-unauthenticated"  # Linkerd's install default, where nothing says otherwise


def in_namespace(docs: list[dict[str, Any]], kind: str, namespace: str | None, api_group: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind and d["apiVersion"].startswith(api_group + "/") and d["metadata"].get("namespace") == namespace]


def istio_meshed(dst: Endpoint) -> bool:
    return dst.namespace_labels.get("istio.io/dataplane-mode") == "ambient" and dst.labels.get("istio.io/dataplane-mode") != "none"


def istio_mtls_mode(docs: list[dict[str, Any]], dst: Endpoint, port: int) -> str:
    """The effective PeerAuthentication mode: a workload's own policy over its namespace's; the
    mesh's default (no policy) is PERMISSIVE."""
    policies = in_namespace(docs, "PeerAuthentication", dst.namespace, "security.istio.io")
    selected = [p for p in policies if "selector" in p["spec"] and selects(p["spec"]["selector"], dst.labels)]
    whole = [p for p in policies if "selector" not in p["spec"]]
    for policy in selected + whole:
        spec = policy["spec"]
        port_mode = spec.get("portLevelMtls", {}).get(str(port), {}).get("mode") if policy in selected else None
        mode = port_mode or spec.get("mtls", {}).get("mode", "UNSET")
        if mode != "UNSET":
            return str(mode)
    return "PERMISSIVE"


def istio_source_matches(source: dict[str, Any], src: Endpoint) -> bool:
    assert set(source) <= {"principals", "namespaces"}, f"teach the flow test to read {sorted(source)}"
    if src.identity is None:
        return False  # every field below needs a peer certificate
    namespace, account = src.identity
    principal = f"{ISTIO_TRUST_DOMAIN}/ns/{namespace}/sa/{account}"

    def match(pattern: str, value: str) -> bool:
        if pattern == "*":
            return True
        if pattern.endswith("*"):
            return value.startswith(pattern[:-1])
        if pattern.startswith("*"):
            return value.endswith(pattern[1:])
        return pattern == value

    checks = [("principals", principal), ("namespaces", namespace)]
    return all(any(match(p, value) for p in source[key]) for key, value in checks if key in source)


def istio_rule_matches(rule: dict[str, Any], src: Endpoint, port: int) -> bool:
    assert set(rule) <= {"from", "to"}, f"teach the flow test to read {sorted(rule)}"
    sources = rule.get("from")
    if sources is not None and not any(istio_source_matches(f["source"], src) for f in sources):
        return False
    operations = rule.get("to")
    if operations is None:
        return True
    for operation in (t["operation"] for t in operations):
        assert set(operation) <= {"ports"}, f"teach the flow test to read {sorted(operation)}"
        if "ports" not in operation or str(port) in operation["ports"]:
            return True
    return False


def istio_admits(docs: list[dict[str, Any]], src: Endpoint, dst: Endpoint, port: int) -> bool:
    if not istio_meshed(dst):
        return True  # outside the mesh: its policies do not apply
    if src.identity is None and istio_mtls_mode(docs, dst, port) != "STRICT":
        pass  # plaintext accepted; authorization below still applies
    elif src.identity is None:
        return False
    policies = [
        p
        for p in in_namespace(docs, "AuthorizationPolicy", dst.namespace, "security.istio.io")
        if "selector" not in p["spec"] or selects(p["spec"]["selector"], dst.labels)
    ]
    assert all(p["spec"].get("action", "ALLOW") == "ALLOW" for p in policies), "teach the flow test DENY/CUSTOM"
    if not policies:
        return True  # Istio allows where no ALLOW policy applies
    return any(istio_rule_matches(rule, src, port) for p in policies for rule in p["spec"].get("rules", []))


def linkerd_meshed(dst: Endpoint, pod_annotations: dict[str, str]) -> bool:
    inject = pod_annotations.get("linkerd.io/inject", dst.namespace_labels.get("linkerd.io/inject"))
    return inject == "enabled"


def linkerd_default(policy: str, src: Endpoint) -> bool:
    if policy == "deny":
        return False
    if policy in ("all-authenticated", "cluster-authenticated"):
        return src.identity is not None
    return True  # all-unauthenticated, cluster-unauthenticated, audit


def linkerd_authenticated(docs: list[dict[str, Any]], ref: dict[str, Any], namespace: str, src: Endpoint) -> bool:
    assert ref["kind"] == "MeshTLSAuthentication", f"teach the flow test to read {ref['kind']}"
    found = in_namespace(docs, "MeshTLSAuthentication", ref.get("namespace", namespace), "policy.linkerd.io")
    authentication = [a for a in found if a["metadata"]["name"] == ref["name"]]
    if not authentication or src.identity is None:
        return False  # a missing reference makes Linkerd ignore the policy
    spec = authentication[0]["spec"]
    assert "identities" not in spec, "teach the flow test to read identity strings"
    own_namespace = authentication[0]["metadata"]["namespace"]
    for identity in spec["identityRefs"]:
        if identity["kind"] == "Namespace" and identity["name"] == src.identity[0]:
            return True
        if identity["kind"] == "ServiceAccount" and (identity.get("namespace", own_namespace), identity["name"]) == src.identity:
            return True
    return False


def linkerd_admits(docs: list[dict[str, Any]], src: Endpoint, dst: Endpoint, port: int, pod_annotations: dict[str, str]) -> bool:
    if not linkerd_meshed(dst, pod_annotations):
        return True
    servers = [
        s
        for s in in_namespace(docs, "Server", dst.namespace, "policy.linkerd.io")
        if selects(s["spec"]["podSelector"], dst.labels) and s["spec"]["port"] == port
    ]
    if not servers:
        default = pod_annotations.get(
            "config.linkerd.io/default-inbound-policy",
            dst.namespace_labels.get("config.linkerd.io/default-inbound-policy", LINKERD_DEFAULT_INBOUND),
        )
        return linkerd_default(default, src)
    assert len(servers) == 1, "two Servers on one port: Linkerd picks the oldest"
    server = servers[0]
    for policy in in_namespace(docs, "AuthorizationPolicy", dst.namespace, "policy.linkerd.io"):
        target = policy["spec"]["targetRef"]
        assert target["kind"] == "Server", f"teach the flow test to read a {target['kind']} target"
        if target["name"] != server["metadata"]["name"]:
            continue
        refs = policy["spec"]["requiredAuthenticationRefs"]
        if all(linkerd_authenticated(docs, ref, dst.namespace or "", src) for ref in refs):
            return True
    return linkerd_default(server["spec"].get("accessPolicy", "deny"), src)


def namespace_metadata(docs: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """Labels and annotations of each rendered namespace, in one map (the evaluators read both)."""
    return {
        d["metadata"]["name"]: {
            **d["metadata"].get("labels", {}),
            **d["metadata"].get("annotations", {}),
            "kubernetes.io/metadata.name": d["metadata"]["name"],
        }
        for d in docs
        if d["kind"] == "Namespace"
    }


def mesh_graph(docs: list[dict[str, Any]], mesh: str) -> set[tuple[str, str, int, str]]:
    """(source, destination, port, TCP) the mesh admits into every endpoint hks renders."""
    metadata = namespace_metadata(docs)
    endpoints = [
        Endpoint(e.role, e.namespace, metadata[e.namespace], e.labels, e.ip, e.controlled, e.identity) if e.controlled and e.namespace else e
        for e in rendered_endpoints(docs)
    ] + outside_endpoints()
    annotations = {(d["metadata"]["namespace"], d["metadata"]["name"]): pod_of(d)[0].get("annotations", {}) for d in docs if d["kind"] in POD_KINDS}
    flows = set()
    for dst in (e for e in endpoints if e.controlled):
        pod_annotations = annotations.get((dst.namespace or "", dst.role), {})
        for src in endpoints:
            if src is dst:
                continue
            for port, protocol in sorted(candidate_ports(docs)):
                if protocol != "TCP":
                    continue
                admitted = istio_admits(docs, src, dst, port) if mesh == "istio" else linkerd_admits(docs, src, dst, port, pod_annotations)
                if admitted:
                    flows.add((src.role, dst.role, port, protocol))
    return flows


def intended_into_rendered(name: str, docs: list[dict[str, Any]]) -> set[tuple[str, str, int, str]]:
    roles = {e.role for e in rendered_endpoints(docs)}
    return {f for f in intended(FEATURES[name] - HBONE) if f[1] in roles}


@pytest.mark.parametrize("name", sorted(MESHES))
def test_the_mesh_admits_exactly_the_intended_flows(name: str, rendered: Any) -> None:
    docs = documents(rendered(name))
    allowed = mesh_graph(docs, MESHES[name])
    expected = intended_into_rendered(name, docs)
    assert ("workspace", "llm-gateway", 4000, "TCP") in expected
    assert sorted(allowed - expected) == [], "flows the mesh admits that nobody intended"
    assert sorted(expected - allowed) == [], "intended flows the mesh refuses"


@pytest.mark.parametrize("name", ["mesh-istio", "mesh-linkerd"])  # the test's own check: acme's batch namespace
def test_the_mesh_graph_catches_a_stranger_and_plaintext(name: str, rendered: Any) -> None:
    docs = json.loads(json.dumps(documents(rendered(name))))
    mesh = MESHES[name]
    for doc in docs:
        if doc["kind"] in ("AuthorizationPolicy", "MeshTLSAuthentication") and doc["metadata"]["name"] in ("ollama", "ollama-clients"):
            if mesh == "istio":
                doc["spec"]["rules"][0]["from"].append({"source": {"namespaces": ["default"]}})
            elif doc["kind"] == "MeshTLSAuthentication":
                doc["spec"]["identityRefs"].append({"kind": "Namespace", "name": "default"})
        if doc["kind"] == "PeerAuthentication" and doc["metadata"]["namespace"] == "batch":
            doc["spec"]["mtls"]["mode"] = "PERMISSIVE"
        if doc["kind"] == "AuthorizationPolicy" and doc["metadata"]["name"] == "allow-nothing" and doc["metadata"]["namespace"] == "batch":
            doc["spec"] = {"rules": [{}]}  # allow everything
        if doc["kind"] == "Namespace" and doc["metadata"]["name"] == "batch" and mesh == "linkerd":
            doc["metadata"]["annotations"]["config.linkerd.io/default-inbound-policy"] = "all-unauthenticated"
    extra = mesh_graph(docs, mesh) - intended_into_rendered(name, docs)
    assert ("cluster-pod", "ollama", 11434, "TCP") in extra
    assert ("internet", "workspace", 8080, "TCP") in extra  # plaintext into the batch namespace


@pytest.mark.parametrize("name", sorted(MESHES))
def test_every_service_port_is_covered_by_mutual_tls(name: str, rendered: Any) -> None:
    """Every rendered Service port leads to pods that take mutual TLS only on that port."""
    docs = documents(rendered(name))
    mesh = MESHES[name]
    metadata = namespace_metadata(docs)
    pods = [(d["metadata"]["namespace"], *pod_of(d)) for d in docs if d["kind"] in POD_KINDS]
    services = [d for d in docs if d["kind"] == "Service"]
    assert services
    for service in services:
        namespace = service["metadata"]["namespace"]
        backends = [(meta, spec) for ns, meta, spec in pods if ns == namespace and selects({"matchLabels": service["spec"]["selector"]}, meta["labels"])]
        assert backends, service["metadata"]["name"]
        for port in service["spec"]["ports"]:
            for meta, spec in backends:
                target = port.get("targetPort", port["port"])
                numbers = [p["containerPort"] for c in spec["containers"] for p in c.get("ports", []) if target in (p.get("name"), p["containerPort"])]
                assert len(numbers) == 1, (service["metadata"]["name"], target)
                pod = Endpoint("pod", namespace, metadata[namespace], meta["labels"], POD_IP, True, None)
                where = f"{namespace}/{service['metadata']['name']}:{port['port']}"
                if mesh == "istio":
                    assert istio_meshed(pod), where
                    assert istio_mtls_mode(docs, pod, numbers[0]) == "STRICT", where
                else:
                    assert linkerd_meshed(pod, meta.get("annotations", {})), where
                    servers = [
                        s
                        for s in in_namespace(docs, "Server", namespace, "policy.linkerd.io")
                        if selects(s["spec"]["podSelector"], meta["labels"]) and s["spec"]["port"] == numbers[0]
                    ]
                    assert len(servers) == 1 and servers[0]["spec"]["accessPolicy"] == "deny", where
                # A client without a certificate gets nowhere, whoever it claims to be.
                plaintext = Endpoint("plaintext", "default", {}, {}, POD_IP, False, None)
                admitted = (
                    istio_admits(docs, plaintext, pod, numbers[0])
                    if mesh == "istio"
                    else linkerd_admits(docs, plaintext, pod, numbers[0], meta.get("annotations", {}))
                )
                assert not admitted, where


@pytest.mark.parametrize("name", sorted(MESHES))
def test_nothing_in_hks_namespaces_is_permissive(name: str, rendered: Any) -> None:
    docs = documents(rendered(name))
    mesh = MESHES[name]
    namespaces = namespace_metadata(docs)
    assert len(namespaces) == (3 if name.startswith("gpu-pools") else 7)  # the platform and the workspaces
    if mesh == "istio":
        for namespace, metadata in namespaces.items():
            assert metadata.get("istio.io/dataplane-mode") == "ambient", namespace
            whole = [p for p in in_namespace(docs, "PeerAuthentication", namespace, "security.istio.io") if "selector" not in p["spec"]]
            assert [p["spec"] for p in whole] == [{"mtls": {"mode": "STRICT"}}], namespace
            nothing = in_namespace(docs, "AuthorizationPolicy", namespace, "security.istio.io")
            assert any(p["spec"] == {} for p in nothing), f"{namespace} has no allow-nothing policy"
        modes = {json.dumps(d["spec"], sort_keys=True) for d in docs if d["kind"] == "PeerAuthentication"}
        assert modes == {'{"mtls": {"mode": "STRICT"}}'}
    else:
        for namespace, metadata in namespaces.items():
            assert metadata.get("linkerd.io/inject") == "enabled", namespace
            assert metadata.get("config.linkerd.io/default-inbound-policy") == "deny", namespace
        assert {d["spec"]["accessPolicy"] for d in docs if d["kind"] == "Server"} == {"deny"}
        assert not [d for d in docs if d["kind"] == "NetworkAuthentication"]
    for doc in (d for d in docs if d["kind"] in POD_KINDS):
        meta, spec = pod_of(doc)
        overrides = [
            k
            for k in {**meta.get("annotations", {}), **meta.get("labels", {})}
            if k.startswith(("config.linkerd.io/", "linkerd.io/", "sidecar.istio.io/", "traffic.sidecar.istio.io/", "istio.io/"))
        ]
        assert overrides == [], f"{doc['metadata']['name']} overrides its namespace's mesh settings"
        assert spec.get("serviceAccountName") == doc["metadata"]["name"], "each workload has an identity of its own"




@pytest.mark.parametrize("name", sorted(MESHES))
def test_every_mesh_resource_passes_its_upstream_crd_schema(name: str, rendered: Any) -> None:
    import jsonschema

    docs = [d for d in documents(rendered(name)) if d["apiVersion"].split("/")[0] in ("security.istio.io", "policy.linkerd.io")]
    assert docs
    for doc in docs:
        group, version = doc["apiVersion"].split("/")
        schema = json.loads((UPSTREAM_CRDS / group / f"{doc['kind'].lower()}_{version}.json").read_text("utf-8"))
        validator = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)(schema)
        problems = [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]
        assert problems == [], f"{doc['kind']} {doc['metadata']['namespace']}/{doc['metadata']['name']}"


@pytest.mark.parametrize("name", ["mesh-istio", "mesh-linkerd"])  # acme's six workspaces
def test_many_clients_take_several_policies_that_add_up(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """At thousands of workspaces the gateway's clients fill several objects (each under the
    client-side apply annotation's 256 KiB); the mesh admits the same flows."""
    from compiler.render.components import mesh

    monkeypatch.setattr(mesh, "CLIENTS_PER_OBJECT", 3)
    docs = documents(CONFIGS[name](tmp_path))
    gateway = sorted(
        d["metadata"]["name"]
        for d in docs
        if d["kind"] in ("AuthorizationPolicy", "MeshTLSAuthentication") and d["metadata"]["name"].startswith("llm-gateway")
    )
    expected_names = {
        "mesh-istio": ["llm-gateway", "llm-gateway-2", "llm-gateway-3"],
        "mesh-linkerd": [
            "llm-gateway", "llm-gateway-2", "llm-gateway-2-clients", "llm-gateway-3", "llm-gateway-3-clients", "llm-gateway-clients",
        ],
    }  # fmt: skip
    assert gateway == expected_names[name]  # six workspaces and Prometheus, three to an object
    assert mesh_graph(docs, MESHES[name]) == intended_into_rendered(name, docs)
