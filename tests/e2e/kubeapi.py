"""A local stand-in for the one Kubernetes API call the gateway makes: TokenReview. It serves
HTTPS on loopback with a certificate of a test CA (as the real API server does, which the gateway
reaches with its ServiceAccount's `ca.crt`), demands the gateway's own bearer token, and judges a
reviewed token as the API server's ServiceAccount authenticator does: an RS256 JWT signed by the
cluster's issuer key, not expired, with an audience in `spec.audiences`; the answer names the
ServiceAccount and the audiences that matched.

`token()` mints the projected token a kubelet would give a workspace's pod."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

ISSUER = "https://kubernetes.default.svc.cluster.local"
API_AUDIENCE = ISSUER  # the API server's own audience: what a review without spec.audiences asks for
CLUSTER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # the issuer's signing key
GATEWAY_TOKEN = "e2e-gateway-own-serviceaccount-token"  # what the gateway authenticates to the API with


def token(namespace: str, audience: str, *, account: str = "default", expires_in: int = 3600, key: Any = None) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": [audience],
        "sub": f"system:serviceaccount:{namespace}:{account}",
        "iat": now,
        "nbf": now,
        "exp": now + expires_in,
        "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": account}},
    }
    header = _b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims).encode())
    signature = (key or CLUSTER_KEY).sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{payload}.{_b64(signature)}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(jwt: str) -> dict[str, Any] | None:
    """The claims of a token the cluster's key signed, or None."""
    try:
        header, payload, signature = jwt.split(".")
        CLUSTER_KEY.public_key().verify(
            base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)),
            f"{header}.{payload}".encode(),
            padding.PKCS1v15(),
            hashes.SHA256(),
        )
        claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return claims
    except Exception:  # any malformed or badly signed token is simply not authenticated
        return None


def review(spec: dict[str, Any]) -> dict[str, Any]:
    claims = _claims(str(spec.get("token", "")))
    if claims is None or claims.get("exp", 0) <= time.time() or claims.get("iss") != ISSUER:
        return {"authenticated": False, "error": "invalid bearer token"}
    wanted = spec.get("audiences") or [API_AUDIENCE]
    matched = [a for a in claims.get("aud", []) if a in wanted]
    if not matched:
        return {"authenticated": False, "error": "token audiences is invalid for the target audiences"}
    return {"authenticated": True, "user": {"username": claims["sub"], "groups": ["system:serviceaccounts"]}, "audiences": matched}


class KubeAPI:
    def __init__(self, folder: Path) -> None:
        self.reviews = 0
        self.ca_file = folder / "ca.crt"
        self.token_file = folder / "token"
        self.token_file.write_text(GATEWAY_TOKEN + "\n")
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.socket = self._tls(folder).wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def env(self) -> dict[str, str]:
        """How the gateway finds this API: what the kubelet and the projected volume give a pod."""
        return {
            "KUBERNETES_SERVICE_HOST": "127.0.0.1",
            "KUBERNETES_SERVICE_PORT": str(self.port),
            "HKS_KUBERNETES_CA_FILE": str(self.ca_file),
            "HKS_KUBERNETES_TOKEN_FILE": str(self.token_file),
        }

    def start(self) -> KubeAPI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _tls(self, folder: Path) -> ssl.SSLContext:
        ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "e2e-cluster-ca")])
        now = datetime.datetime.now(datetime.timezone.utc)
        ca = (
            x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256())
        )  # fmt: skip
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        cert = (
            x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(ca_key, hashes.SHA256())
        )  # fmt: skip
        self.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        (folder / "server.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (folder / "server.key").write_bytes(
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(folder / "server.crt", folder / "server.key")
        return context

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if self.headers.get("Authorization") != f"Bearer {GATEWAY_TOKEN}":
                    return self._send(401, {"kind": "Status", "status": "Failure", "code": 401})
                if self.path != "/apis/authentication.k8s.io/v1/tokenreviews" or body.get("kind") != "TokenReview":
                    return self._send(404, {"kind": "Status", "status": "Failure", "code": 404})
                api.reviews += 1
                self._send(201, {**body, "status": review(body.get("spec", {}))})

            def _send(self, code: int, document: dict[str, Any]) -> None:
                data = json.dumps(document).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
