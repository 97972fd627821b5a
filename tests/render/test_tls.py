"""`cluster.tls` (render/components/tls.py): every Service hks renders serves TLS with a
Certificate from the named issuer, every client verifies it with the Bundle's CA (public roots
beside it), probes speak HTTPS, and the TLS proxy in front of Ollama and Presidio is the real
nginx running the rendered configuration. The acme example has `cluster.tls`; its golden files are
what most of these tests read. The real LiteLLM proxy serving TLS is in tests/e2e/test_tls_e2e.py."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from compiler.render.components import model_egress, tls
from tests import tlsca
from tests.builtin.test_crd_schemas import UPSTREAM
from tests.conftest import ROOT

ACME = ROOT / "examples" / "acme"
NAMESPACE = "hexabase-aiops"


def documents(rendered: Path) -> list[dict[str, Any]]:
    yaml = YAML(typ="safe", pure=True)
    paths = sorted(p for p in rendered.rglob("*.yaml") if p.name != "kustomization.yaml")
    return [yaml.load(p.read_text()) for p in paths]


@pytest.fixture(scope="module")
def acme() -> list[dict[str, Any]]:
    return documents(ACME / "rendered")


def of_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def pods(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] in ("Deployment", "DaemonSet")]


def without_tls(tmp_path: Path) -> Path:
    config = tmp_path / "config"
    shutil.copytree(ACME, config, ignore=shutil.ignore_patterns("rendered"))
    org = config / "org.yaml"
    text = org.read_text()
    start = text.index("  # Every hop inside the cluster over TLS")
    end = text.index("\nworkspaces:")
    org.write_text(text[:start] + text[end:].lstrip("\n"))
    return config


# --- what is rendered -------------------------------------------------------------------------


def test_certificates_and_the_bundle_validate_against_the_upstream_crds(acme: list[dict[str, Any]]) -> None:
    files = {"Certificate": "cert-manager.io/certificate_v1.json", "Bundle": "trust.cert-manager.io/bundle_v1alpha1.json"}
    found = {kind: of_kind(acme, kind) for kind in files}
    assert len(found["Certificate"]) == 4 and len(found["Bundle"]) == 1
    for kind, path in files.items():
        schema = json.loads((UPSTREAM / path).read_text())
        for doc in found[kind]:
            # The catalogue's Istio/Linkerd files describe only spec; these describe the document.
            errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(doc)]
            assert not errors, (doc["metadata"]["name"], errors)


# The model egress proxy's port carries only CONNECT tunnels, TLS to the registry end to end:
# what crosses the cluster in clear is the host name, which the tunnel's own TLS handshake (SNI)
# shows on every path to that host anyway (docs/security.md, "Model pulls").
TUNNELS = {model_egress.NAME}


def test_each_certificate_names_the_issuer_and_its_service(acme: list[dict[str, Any]]) -> None:
    services = {s["metadata"]["name"] for s in of_kind(acme, "Service")} - TUNNELS
    certificates = {c["spec"]["secretName"]: c for c in of_kind(acme, "Certificate")}
    assert set(certificates) == {f"{s}-tls" for s in services}
    for name in services:
        spec = certificates[f"{name}-tls"]["spec"]
        assert spec["issuerRef"] == {"name": "acme-internal-ca", "kind": "ClusterIssuer", "group": "cert-manager.io"}
        assert f"{name}.{NAMESPACE}.svc.cluster.local" in spec["dnsNames"] and f"{name}.{NAMESPACE}.svc" in spec["dnsNames"]
        assert "server auth" in spec["usages"]


def test_every_service_port_is_served_over_tls(acme: list[dict[str, Any]]) -> None:
    """Each Service port leads to a container that serves TLS with its Service's certificate:
    LiteLLM with its SSL settings, or the nginx proxy listening with `ssl` on that port."""
    proxy_config = of_kind(acme, "ConfigMap")
    [proxy_data] = [c["data"] for c in proxy_config if c["metadata"]["name"] == tls.PROXY_CONFIG]
    for service in of_kind(acme, "Service"):
        name = service["metadata"]["name"]
        [workload] = [p for p in pods(acme) if p["spec"]["selector"]["matchLabels"] == service["spec"]["selector"]]
        pod = workload["spec"]["template"]["spec"]
        if name in TUNNELS:
            [squid] = [c["data"]["squid.conf"] for c in of_kind(acme, "ConfigMap") if c["metadata"]["name"] == name]
            assert [p["port"] for p in service["spec"]["ports"]] == [model_egress.PORT]
            assert "\nhttp_access deny !CONNECT\n" in squid  # nothing but tunnels
            continue
        secrets = {v["name"]: v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
        for port in service["spec"]["ports"]:
            assert port["name"] == "https" and port["targetPort"] == "https"
            [container] = [c for c in pod["containers"] if any(p.get("name") == "https" for p in c.get("ports", []))]
            [served] = [p["containerPort"] for p in container["ports"] if p["name"] == "https"]
            assert served == port["port"]
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert secrets[mounts[tls.CERT_DIR]] == f"{name}-tls"
            if container["name"] == "litellm":
                env = {e["name"]: e.get("value") for e in container["env"]}
                assert env["SSL_CERTFILE_PATH"] == f"{tls.CERT_DIR}/tls.crt"
                assert env["SSL_KEYFILE_PATH"] == f"{tls.CERT_DIR}/tls.key"
            else:
                assert container["name"] == tls.PROXY_NAME
                assert container["command"] == ["nginx", "-c", f"{tls.PROXY_CONFIG_DIR}/{name}.conf"]
                assert f"listen {served} ssl;" in proxy_data[f"{name}.conf"]


def test_the_plain_http_servers_are_out_of_reach(acme: list[dict[str, Any]]) -> None:
    """Ollama listens on loopback only; Presidio's plain port is in no Service and no
    NetworkPolicy admits it (only the TLS port, from the gateway)."""
    [ollama] = [p for p in pods(acme) if p["metadata"]["name"] == "ollama"]
    [server] = [c for c in ollama["spec"]["template"]["spec"]["containers"] if c["name"] == "ollama"]
    assert {"name": "OLLAMA_HOST", "value": "127.0.0.1:11435"} in server["env"] and "ports" not in server
    admitted = {
        port["port"]
        for policy in of_kind(acme, "NetworkPolicy")
        if policy["metadata"]["namespace"] == NAMESPACE
        for rule in policy["spec"].get("ingress", [])
        for port in rule.get("ports", [])
    }
    assert 3001 not in admitted and 11435 not in admitted


def test_probes_speak_https(acme: list[dict[str, Any]]) -> None:
    checked = 0
    for workload in pods(acme):
        for container in workload["spec"]["template"]["spec"]["containers"]:
            for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
                probe = container.get(kind, {}).get("httpGet")
                if probe is not None:
                    assert probe.get("scheme") == "HTTPS", (workload["metadata"]["name"], container["name"], kind)
                    checked += 1
    assert checked >= 8


def test_every_client_uses_https_and_trusts_the_bundle_with_the_public_roots(acme: list[dict[str, Any]]) -> None:
    [gateway] = [p for p in pods(acme) if p["metadata"]["name"] == "llm-gateway"]
    pod = gateway["spec"]["template"]["spec"]
    [litellm] = pod["containers"]
    env = {e["name"]: e.get("value") for e in litellm["env"]}
    assert env["PRESIDIO_ANALYZER_API_BASE"].startswith("https://")
    assert env["PRESIDIO_ANONYMIZER_API_BASE"].startswith("https://")
    # SSL_CERT_FILE makes LiteLLM trust that file alone (FACTS, "Encryption in transit"): the
    # Bundle must hold the public roots too, or every call to a public provider fails.
    assert env["SSL_CERT_FILE"] == f"{tls.TRUST_DIR}/{tls.TRUST_KEY}"
    [bundle] = of_kind(acme, "Bundle")
    assert {"useDefaultCAs": True} in bundle["spec"]["sources"]
    assert {"secret": {"name": "acme-internal-ca", "key": "tls.crt"}} in bundle["spec"]["sources"]
    [trust] = [v for v in pod["volumes"] if v["name"] == "trust"]
    assert trust["configMap"]["name"] == bundle["metadata"]["name"]
    # Every namespace hks renders carries the label the Bundle selects: clients there get the CA.
    selector = bundle["spec"]["target"]["namespaceSelector"]["matchLabels"]
    for namespace in of_kind(acme, "Namespace"):
        assert selector.items() <= namespace["metadata"]["labels"].items()
    [config] = [c for c in of_kind(acme, "ConfigMap") if c["metadata"]["name"] == "llm-gateway-config"]
    bases = {m["litellm_params"].get("api_base") for m in YAML(typ="safe").load(config["data"]["config.yaml"])["model_list"]}
    assert f"https://ollama.{NAMESPACE}.svc.cluster.local:11434" in bases
    assert not any(b and b.startswith("http://") for b in bases)
    for routing in [c for c in of_kind(acme, "ConfigMap") if c["metadata"]["name"] == "llm-routing"]:
        assert routing["data"]["gateway-url"].startswith("https://")
        assert routing["data"]["ca-bundle"] == f"{bundle['metadata']['name']}/{tls.TRUST_KEY}"
    [monitor] = of_kind(acme, "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["scheme"] == "https"


def test_without_cluster_tls_nothing_changes_and_hipaa_fails_at_the_cluster_line(tmp_path: Path) -> None:
    from compiler.pipeline import compile_config

    compiled = compile_config(str(without_tls(tmp_path)))
    found = [(d.rule, d.position.line, d.message) for d in compiled.diagnostics if d.rule in ("HIPAA-007", "SOC2-003")]
    org_lines = (tmp_path / "config" / "org.yaml").read_text().splitlines()
    cluster_line = org_lines.index("cluster:") + 1
    assert ("HIPAA-007", cluster_line) in {(rule, line) for rule, line, _ in found}
    assert {line for _, line, _ in found} == {cluster_line}
    assert any("clinical" in message for rule, _, message in found if rule == "HIPAA-007")


# --- the TLS proxy, for real ------------------------------------------------------------------


class Backend(http.server.ThreadingHTTPServer):
    """The plain-HTTP server behind the proxy (Ollama or Presidio), on loopback."""


def _backend(port: int) -> Backend:
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            body = json.dumps({"path": self.path, "host": self.headers["Host"]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Backend(("127.0.0.1", port), Handler)


def _free_port_pair() -> int:
    """A port whose next port is free too (the proxy's and the server's)."""
    for _ in range(50):
        with socket.socket() as a:
            a.bind(("127.0.0.1", 0))
            port = int(a.getsockname()[1])
            with socket.socket() as b:
                try:
                    b.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port
    raise RuntimeError("no free pair of ports")


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[tuple[int, tlsca.CA, Path]]:
    """nginx running the proxy config hks renders for Ollama, with only the ports and folders
    moved (a free port pair on loopback, the test's folders for /etc/hks/tls and /tmp)."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    assert nginx is not None, "nginx is needed for this test (tests/install-tools.sh installs nginx-light)"
    ca = tlsca.make_ca()
    certs = tlsca.issue(ca, tls.dns_names("ollama", NAMESPACE), tmp_path / "tls")
    port = _free_port_pair()
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    text = tls.proxy_config(11434)
    text = text.replace("listen 11434 ssl;", f"listen 127.0.0.1:{port} ssl;")
    text = text.replace("http://127.0.0.1:11435;", f"http://127.0.0.1:{port + 1};")
    text = text.replace(" /tmp/", f" {scratch}/").replace(tls.CERT_DIR, str(certs))
    conf = tmp_path / "ollama.conf"
    conf.write_text(text)
    backend = _backend(port + 1)
    threading.Thread(target=backend.serve_forever, daemon=True).start()
    # As root (CI containers), nginx's workers would run as nobody, who cannot read the test's
    # folders; in the pod nginx runs as the pod's own non-root user.
    user = ["-g", "user root;"] if os.geteuid() == 0 else []
    process = subprocess.Popen([nginx, "-c", str(conf), "-p", str(tmp_path), "-e", "stderr", *user], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            time.sleep(0.05)
        yield port, ca, certs
    finally:
        process.terminate()
        process.wait(timeout=10)
        backend.shutdown()
        backend.server_close()


def _https(port: int, ca: tlsca.CA, path: str = "/") -> tuple[dict[str, Any], int]:
    """GET through the proxy as the gateway does: verifying the CA and the Service's name."""
    context = ssl.create_default_context(cadata=ca.pem.decode())
    from cryptography import x509

    name = f"ollama.{NAMESPACE}.svc.cluster.local"
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=name) as tls_socket,
    ):
        peer = tls_socket.getpeercert(binary_form=True)
        assert peer is not None
        serial = x509.load_der_x509_certificate(peer).serial_number
        tls_socket.sendall(f"GET {path} HTTP/1.1\r\nHost: {name}:11434\r\nConnection: close\r\n\r\n".encode())
        response = b""
        while chunk := tls_socket.recv(65536):
            response += chunk
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    return json.loads(body), serial


@pytest.mark.nginx
def test_the_proxy_serves_tls_with_the_certificate_and_forwards_to_loopback(proxy: tuple[int, tlsca.CA, Path]) -> None:
    port, ca, certs = proxy
    answer, serial = _https(port, ca, "/api/tags")
    assert answer["path"] == "/api/tags"
    assert serial == tlsca.serial(certs / "tls.crt")
    # Ollama bound to loopback admits loopback Host headers only (routes.go allowedHostsMiddleware):
    # the proxy sends its upstream's address, not the Service name.
    assert answer["host"].startswith("127.0.0.1:")


@pytest.mark.nginx
def test_the_proxy_refuses_plain_http_and_unknown_cas(proxy: tuple[int, tlsca.CA, Path]) -> None:
    port, _ca, _ = proxy
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    assert status == 400  # "The plain HTTP request was sent to HTTPS port": nothing reaches the server
    with pytest.raises(ssl.SSLCertVerificationError):
        _https(port, tlsca.make_ca("another CA"))


@pytest.mark.nginx
def test_the_proxy_serves_a_renewed_certificate_without_a_restart(proxy: tuple[int, tlsca.CA, Path]) -> None:
    port, ca, certs = proxy
    _, before = _https(port, ca)
    tlsca.issue(ca, tls.dns_names("ollama", NAMESPACE), certs)  # what cert-manager's renewal writes
    _, after = _https(port, ca)
    assert before != after == tlsca.serial(certs / "tls.crt")
