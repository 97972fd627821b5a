"""Sealed Secrets, in the format the bitnami-labs/sealed-secrets controller unseals.

Read from the sealed-secrets source (github.com/bitnami-labs/sealed-secrets):
- pkg/crypto/crypto.go `HybridEncrypt`: a random 32-byte session key; the key is encrypted with
  RSA-OAEP (SHA-256, also for MGF1, as Go's rsa.EncryptOAEP does) under the given label; the
  value with AES-256-GCM under the session key and a zero nonce (the key is used once); output
  = 2-byte big-endian length of the RSA ciphertext || RSA ciphertext || AES-GCM ciphertext+tag.
- pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go: `EncryptionLabel` is
  "namespace/name" for the default strict scope; `NewSealedSecret` seals each value on its own
  and stores it base64 (standard encoding) in `spec.encryptedData[key]`, and copies the Secret's
  metadata to `spec.template.metadata`.
- pkg/apis/sealedsecrets/v1alpha1/register.go: group bitnami.com, version v1alpha1.
- pkg/kubeseal/kubeseal.go `ParseKey`: the public key is the first certificate of the PEM
  file, which must hold an RSA key and must not have expired.
"""

from __future__ import annotations

import base64
import datetime
import os
import struct
from typing import TYPE_CHECKING, Any

from compiler.errors import InputError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

SESSION_KEY_BYTES = 32
GCM_NONCE_BYTES = 12
API_VERSION = "bitnami.com/v1alpha1"


def public_key(pem: bytes, where: str) -> RSAPublicKey:
    """The cluster's RSA public key from its certificate, refusing what kubeseal refuses."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        certificate = x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise InputError(f"{where}: not a PEM certificate ({exc})") from exc
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise InputError(f"{where}: the certificate's key is not RSA; Sealed Secrets uses RSA keys")
    if datetime.datetime.now(datetime.UTC) > certificate.not_valid_after_utc:
        expired = certificate.not_valid_after_utc.date().isoformat()
        raise InputError(f"{where}: the certificate expired on {expired}; fetch the current one (kubeseal --fetch-cert)")
    return key


def label(namespace: str, name: str) -> bytes:
    """The strict scope: the value unseals only into this Secret name in this namespace."""
    return f"{namespace}/{name}".encode()


def hybrid_encrypt(key: RSAPublicKey, plaintext: bytes, scope_label: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    session_key = os.urandom(SESSION_KEY_BYTES)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=scope_label)
    rsa_ciphertext: bytes = key.encrypt(session_key, oaep)
    aes_ciphertext = AESGCM(session_key).encrypt(bytes(GCM_NONCE_BYTES), plaintext, None)
    return struct.pack(">H", len(rsa_ciphertext)) + rsa_ciphertext + aes_ciphertext


def seal(key: RSAPublicKey, namespace: str, name: str, value: bytes) -> str:
    return base64.b64encode(hybrid_encrypt(key, value, label(namespace, name))).decode("ascii")


def sealed_secret(name: str, namespace: str, encrypted: dict[str, str]) -> dict[str, Any]:
    metadata = {"name": name, "namespace": namespace}
    return {
        "apiVersion": API_VERSION,
        "kind": "SealedSecret",
        "metadata": dict(metadata),
        "spec": {
            "encryptedData": dict(sorted(encrypted.items())),
            "template": {"metadata": dict(metadata), "type": "Opaque"},
        },
    }
