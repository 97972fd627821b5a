"""The model egress proxy (render/components/model_egress.py): the only workload with public
egress, and only to the hosts model pulls need. Squid runs the rendered config for real (Debian's
squid package; the pod runs Canonical's ubuntu/squid), with only its listening address, log
paths and host table moved; the serving pods' own egress admits no public address."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from compiler.pipeline import compile_config, render_checked
from compiler.providers import ollama
from tests.builtin import test_crd_schemas as crd
from tests.conftest import EXAMPLES, write

GGUF_SHA = "e" * 64
# A custom GGUF on a public host and port, one on a host whose name resolves to a private address
# (the test's host table says so), one in the cluster, and Ollama's own registry.
ORG = f"""\
llm_config: {{provider: ollama, model: "llama3.2:3b"}}
cluster: {{namespace: llm-platform}}
self_hosted:
  models:
    - llama3.2:3b
    - name: team-a:7b
      source: https://models.example.com:8443/a.gguf
      sha256: {GGUF_SHA}
    - name: team-b:7b
      source: https://private.example.com/b.gguf
      sha256: {GGUF_SHA}
    - name: team-c:7b
      source: http://files.models.svc.cluster.local:8080/c.gguf
      sha256: {GGUF_SHA}
"""


def render(tmp_path: Path, org: str = ORG) -> dict[str, dict[str, Any]]:
    write(tmp_path / "config", {"org.yaml": org})
    compiled = compile_config(str(tmp_path / "config"))
    assert compiled.ok, [f"{d.position} {d.message}" for d in compiled.diagnostics]
    yaml = YAML(typ="safe")
    return {path: yaml.load(text) for path, text in render_checked(compiled).files.items() if not path.endswith("kustomization.yaml")}


def pod_spec(doc: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = doc["spec"]["template"]["spec"]
    return spec


def env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container.get("env", [])}


# --- what is rendered ------------------------------------------------------------------------


def test_the_ollama_pods_reach_only_dns_the_proxy_and_in_cluster_sources(tmp_path: Path) -> None:
    files = render(tmp_path)
    pulls = files["platform/ollama/networkpolicy-ollama-model-pulls.yaml"]["spec"]
    assert pulls["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "ollama"}
    peers = [(peer, [p["port"] for p in rule["ports"]]) for rule in pulls["egress"] for peer in rule["to"]]
    assert not [peer for peer, _ in peers if "ipBlock" in peer], "no address block: nothing public"
    assert ({"podSelector": {"matchLabels": {"app.kubernetes.io/name": "model-egress"}}}, [3128]) in peers
    assert ({"namespaceSelector": {}}, [8080]) in peers  # the in-cluster source, on its own port only
    assert len(peers) == 3  # and DNS


def test_the_pull_steps_go_through_the_proxy_and_the_server_knows_nothing_of_it(tmp_path: Path) -> None:
    files = render(tmp_path)
    spec = pod_spec(files["platform/ollama/daemonset-ollama.yaml"])
    steps = {c["name"]: c for c in spec["initContainers"]}
    proxy = "http://model-egress.llm-platform.svc.cluster.local:3128"
    bypass = "127.0.0.1,localhost,files.models.svc.cluster.local"
    assert env(steps["pull-models"]) | {"HTTPS_PROXY": proxy, "NO_PROXY": bypass} == env(steps["pull-models"])
    assert "HTTP_PROXY" not in env(steps["pull-models"])  # Ollama's FAQ: it would catch the CLI's calls
    curl = env(steps["fetch-gguf"])
    assert curl == {"HTTPS_PROXY": proxy, "https_proxy": proxy, "http_proxy": proxy, "NO_PROXY": bypass, "no_proxy": bypass}
    server = spec["containers"][0]
    assert not {k for k in env(server) if "proxy" in k.lower()}


def test_only_the_proxy_has_public_egress_and_only_ollama_may_use_it(tmp_path: Path) -> None:
    files = render(tmp_path)
    policy = files["platform/model-egress/networkpolicy-model-egress.yaml"]["spec"]
    assert policy["ingress"] == [
        {"from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "ollama"}}}], "ports": [{"port": 3128, "protocol": "TCP"}]}
    ]
    [public] = [rule for rule in policy["egress"] if "ipBlock" in rule["to"][0]]
    assert public["to"][0]["ipBlock"]["cidr"] == "0.0.0.0/0"
    assert {"10.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16"} <= set(public["to"][0]["ipBlock"]["except"])
    assert [p["port"] for p in public["ports"]] == [443, 8443]
    public_blocks = [
        path
        for path, doc in files.items()
        if doc["kind"] == "NetworkPolicy"
        for rule in doc["spec"].get("egress", [])
        for peer in rule.get("to", [])
        if peer.get("ipBlock", {}).get("cidr") == "0.0.0.0/0"
    ]
    assert sorted(set(public_blocks)) == ["platform/model-egress/networkpolicy-model-egress.yaml"]  # the gateway: no provider here


def test_the_proxy_runs_restricted_with_its_rendered_config(tmp_path: Path) -> None:
    files = render(tmp_path)
    deployment = files["platform/model-egress/deployment-model-egress.yaml"]
    spec = pod_spec(deployment)
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] > 0
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    [squid] = spec["containers"]
    assert squid["securityContext"] == {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}}
    assert squid["command"] == ["/usr/sbin/squid", "-N", "-f", "/etc/hks/squid/squid.conf"]
    assert squid["image"].startswith("docker.io/ubuntu/squid:")
    assert spec["automountServiceAccountToken"] is False


def test_with_every_model_from_inside_the_cluster_there_is_no_proxy_and_no_way_out(tmp_path: Path) -> None:
    org = f"""\
llm_config: {{provider: ollama, model: "team-c:7b"}}
self_hosted:
  models:
    - name: team-c:7b
      source: http://files.models.svc.cluster.local:8080/c.gguf
      sha256: {GGUF_SHA}
    - name: team-d:7b
      source: https://10.20.0.5/d.gguf
      sha256: {GGUF_SHA}
"""
    files = render(tmp_path, org)
    assert not [p for p in files if "model-egress" in p]
    egress = files["platform/ollama/networkpolicy-ollama-model-pulls.yaml"]["spec"]["egress"]
    assert egress[1:] == [
        {"to": [{"ipBlock": {"cidr": "10.20.0.5/32"}}], "ports": [{"port": 443, "protocol": "TCP"}]},
        {"to": [{"namespaceSelector": {}}], "ports": [{"port": 8080, "protocol": "TCP"}]},
    ]
    spec = pod_spec(files["platform/ollama/daemonset-ollama.yaml"])
    assert not [c for c in spec["initContainers"] if {k for k in env(c) if "proxy" in k.lower()}]


def test_under_cilium_the_proxy_reaches_exactly_the_model_hosts_by_name(tmp_path: Path) -> None:
    files = render(tmp_path, ORG.replace("cluster: {namespace: llm-platform}", "cluster: {namespace: llm-platform, cni: cilium}"))
    policy = files["platform/model-egress/networkpolicy-model-egress.yaml"]["spec"]
    assert not [rule for rule in policy["egress"] if "ipBlock" in rule["to"][0]], "Cilium adds the policies up: no public block"
    fqdn = files["platform/model-egress/ciliumnetworkpolicy-model-egress-fqdn.yaml"]["spec"]
    assert fqdn["endpointSelector"] == {"matchLabels": {"app.kubernetes.io/name": "model-egress"}}
    names = {(rule["toPorts"][0]["ports"][0]["port"], n["matchName"]) for rule in fqdn["egress"] for n in rule.get("toFQDNs", [])}
    assert names == {
        ("443", ollama.REGISTRY),
        *(("443", host) for host in ollama.REGISTRY_BLOB_HOSTS),
        ("443", "private.example.com"),
        ("8443", "models.example.com"),
    }
    assert not [p for p, doc in files.items() if doc["kind"] == "CiliumNetworkPolicy" and "ollama" in p]
    document = files["platform/model-egress/ciliumnetworkpolicy-model-egress-fqdn.yaml"]
    # Cilium's own CRD schema (tests/builtin/test_crd_schemas.py)
    assert crd.errors(crd.upstream_validator("CiliumNetworkPolicy"), document) == []


@pytest.mark.parametrize(
    ("model", "hosts"),
    [
        ("llama3.2:3b", [("registry.ollama.ai", 443), ("dd20bb891979d25aebc8bec07b2b3bbc.r2.cloudflarestorage.com", 443)]),
        ("library/llama3.2", [("registry.ollama.ai", 443), ("dd20bb891979d25aebc8bec07b2b3bbc.r2.cloudflarestorage.com", 443)]),
        ("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M", [("hf.co", 443)]),
        ("registry.example:5000/team/model:1b", [("registry.example", 5000)]),
    ],
)
def test_a_model_is_pulled_from_the_registry_its_name_says(model: str, hosts: list[tuple[str, int]]) -> None:
    assert [(e.host, e.port) for e in ollama.pull_endpoints(model)] == hosts


# --- squid, for real -------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def squid(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """Squid with the rendered config, moved only where a test must: the listening address, the
    logs (a file, not the pod's stdout), and a host table that says where the test's names point."""
    files = render(tmp_path)
    text = files["platform/model-egress/configmap-model-egress.yaml"]["data"]["squid.conf"]
    port = _free_port()
    # Beside the test's folder, not in it: pytest's folders are the test user's alone, and Squid
    # runs as nobody when the tests run as root (below).
    run = Path(tempfile.mkdtemp(prefix="hks-squid-"))
    (run / "hosts").write_text("10.1.2.3 private.example.com\n")
    assert "\nhttp_port 3128\n" in text
    text = text.replace("\nhttp_port 3128\n", f"\nhttp_port 127.0.0.1:{port}\n")
    text = text.replace("access_log stdio:/dev/stdout", f"access_log stdio:{run}/access.log")
    text = text.replace("cache_log /dev/stderr", f"cache_log {run}/cache.log")
    text += f"hosts_file {run}/hosts\n"
    conf = run / "squid.conf"
    conf.write_text(text)
    binary = shutil.which("squid") or "/usr/sbin/squid"
    parsed = subprocess.run([binary, "-k", "parse", "-f", str(conf)], capture_output=True, text=True, timeout=30, check=False)
    assert parsed.returncode == 0 and "ERROR" not in parsed.stderr, parsed.stderr
    # In the pod Squid starts as a non-root user, and so it does here: as root (CI containers) the
    # test drops to nobody, who owns the test's folder.
    user: list[str] = []
    if os.geteuid() == 0:
        for path in [run, *run.iterdir()]:
            shutil.chown(path, "nobody")
        user = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    process = subprocess.Popen([*user, binary, "-N", "-f", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            assert time.monotonic() < deadline, "squid did not start"
            time.sleep(0.05)
        yield port, run
    finally:
        process.kill()  # SIGTERM would wait out Squid's shutdown_lifetime (30 s) for open tunnels
        process.wait(timeout=20)
        shutil.rmtree(run, ignore_errors=True)


def ask(port: int, request: str) -> tuple[int, str]:
    """Squid's answer to one request: its status, and its error page's name (X-Squid-Error)."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            if not chunk:
                break
            head += chunk
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), headers.get("X-Squid-Error", "")


def connect(port: int, target: str) -> tuple[int, str]:
    return ask(port, f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n")


@pytest.mark.squid
def test_squid_tunnels_to_the_model_hosts_only(squid: tuple[int, Path]) -> None:
    port, _ = squid
    for target in [f"{ollama.REGISTRY}:443", *(f"{h}:443" for h in ollama.REGISTRY_BLOB_HOSTS), "models.example.com:8443"]:
        status, error = connect(port, target)
        # Admitted: a tunnel (200), or offline a failure to resolve or reach the host; never a refusal.
        assert status != 403 and not error.startswith("ERR_ACCESS_DENIED"), (target, status, error)
    for target in [
        "example.com:443",  # any other host
        f"sub.{ollama.REGISTRY}:443",  # exact names only
        f"{ollama.REGISTRY}:80",  # another port of an allowed host
        f"{ollama.REGISTRY}:22",
        "models.example.com:443",  # a custom source's host on a port that is not its own
        "10.0.0.1:443",  # private, loopback and link-local addresses
        "127.0.0.1:3128",
        "169.254.169.254:443",
        "[::1]:443",
        "private.example.com:443",  # an allowed name that resolves to a private address
    ]:
        assert connect(port, target) == (403, "ERR_ACCESS_DENIED 0"), target


@pytest.mark.squid
def test_squid_forwards_no_plain_request(squid: tuple[int, Path]) -> None:
    port, run = squid
    # On the allowed host's own port too, and as an https:// URL Squid would fetch itself.
    for method, url in [("GET", f"http://{ollama.REGISTRY}/v2/"), ("POST", f"http://{ollama.REGISTRY}:443/v2/"), ("GET", f"https://{ollama.REGISTRY}/v2/")]:
        request = f"{method} {url} HTTP/1.1\r\nHost: {ollama.REGISTRY}\r\nContent-Length: 0\r\n\r\n"
        assert ask(port, request) == (403, "ERR_ACCESS_DENIED 0"), (method, url)
    wait_for_log(run, f"GET http://{ollama.REGISTRY}/v2/", f"POST http://{ollama.REGISTRY}:443/v2/", f"GET https://{ollama.REGISTRY}/v2/")
    assert "TCP_TUNNEL" not in (run / "access.log").read_text() and "TCP_MISS" not in (run / "access.log").read_text()


@pytest.mark.squid
def test_curl_in_fetch_gguf_goes_through_the_proxy_by_connect(squid: tuple[int, Path], tmp_path: Path) -> None:
    """curl with the fetch step's environment and the script's own flags: an https:// and an
    http:// source both become CONNECT requests to the proxy, refused here for a host not listed."""
    port, run = squid
    files = render(tmp_path / "again")
    spec = pod_spec(files["platform/ollama/daemonset-ollama.yaml"])
    [fetch] = [c for c in spec["initContainers"] if c["name"] == "fetch-gguf"]
    script = files["platform/ollama/configmap-ollama-models.yaml"]["data"]["fetch-gguf.sh"]
    assert "curl -fsSL --proxytunnel " in script
    proxy = f"http://127.0.0.1:{port}"
    variables = {k: (proxy if k.lower() != "no_proxy" else v) for k, v in env(fetch).items()}
    for url in ("https://elsewhere.example.com/x.gguf", "http://elsewhere.example.com/y.gguf"):
        done = subprocess.run(
            ["curl", "-fsSL", "--proxytunnel", "--max-time", "20", "-o", os.devnull, url],
            env={"PATH": os.environ["PATH"], **variables},
            capture_output=True,
            check=False,
            text=True,
            timeout=60,
        )
        assert done.returncode != 0 and "403" in done.stderr, done.stderr
    wait_for_log(run, "CONNECT elsewhere.example.com:443", "CONNECT elsewhere.example.com:80")


def wait_for_log(run: Path, *lines: str) -> None:
    """Squid writes its access log a moment after it answers."""
    deadline = time.monotonic() + 10
    while not all(line in (log := (run / "access.log").read_text()) for line in lines):
        assert time.monotonic() < deadline, log
        time.sleep(0.05)


# --- in a mesh -------------------------------------------------------------------------------


def _pools_with_mesh(tmp_path: Path, mesh: str) -> dict[str, dict[str, Any]]:
    config = tmp_path / "config"
    shutil.copytree(EXAMPLES / "gpu-pools", config, ignore=shutil.ignore_patterns("rendered", "explain.txt"))
    org = config / "org.yaml"
    org.write_text(org.read_text().replace("\ncluster:\n", f"\ncluster:\n  mesh: {mesh}\n", 1))
    compiled = compile_config(str(config))
    assert compiled.ok, [f"{d.position} {d.message}" for d in compiled.diagnostics]
    yaml = YAML(typ="safe")
    return {path: yaml.load(text) for path, text in render_checked(compiled).files.items() if not path.endswith("kustomization.yaml")}


def test_under_linkerd_only_the_ollama_accounts_reach_the_proxy_as_a_tls_tunnel(tmp_path: Path) -> None:
    files = _pools_with_mesh(tmp_path, "linkerd")
    server = files["platform/mesh/server-model-egress.yaml"]["spec"]
    assert (server["port"], server["proxyProtocol"], server["accessPolicy"]) == (3128, "opaque", "deny")
    identities = files["platform/mesh/meshtlsauthentication-model-egress-clients.yaml"]["spec"]["identityRefs"]
    assert [(i["kind"], i["name"]) for i in identities] == [("ServiceAccount", "ollama-large"), ("ServiceAccount", "ollama-small")]
    for pool in ("large", "small"):
        assert pod_spec(files[f"platform/ollama/deployment-ollama-{pool}.yaml"])["serviceAccountName"] == f"ollama-{pool}"


def test_under_istio_the_ollama_pods_reach_the_proxy_by_identity_and_tunnel_port(tmp_path: Path) -> None:
    files = _pools_with_mesh(tmp_path, "istio")
    policy = files["platform/mesh/authorizationpolicy-model-egress.yaml"]["spec"]
    assert policy["rules"] == [
        {
            "from": [{"source": {"principals": [f"cluster.local/ns/northwind-llm/sa/ollama-{pool}" for pool in ("large", "small")]}}],
            "to": [{"operation": {"ports": ["3128"]}}],
        }
    ]
    # The pools' pods are all `ollama` by name: one egress policy to the proxy's tunnel port.
    egress = files["platform/mesh/networkpolicy-ollama-hbone-egress.yaml"]["spec"]
    assert egress["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "ollama"}}
    assert egress["egress"][0]["to"][0]["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "model-egress"}}
