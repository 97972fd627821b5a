"""`hks secret create`: sealed for the cluster, and never a value in plaintext anywhere.

The decryption here is written from the published Sealed Secrets format (sealed-secrets
pkg/crypto/crypto.go HybridDecrypt and the strict-scope label of
pkg/apis/sealedsecrets/v1alpha1/sealedsecret_expansion.go), not with hks's own code, so a
value hks seals is one the cluster's controller can unseal.
"""

from __future__ import annotations

import base64
import datetime
import json
import struct
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.x509.oid import NameOID
from ruamel.yaml import YAML

from tests.builtin.test_crd_schemas import UPSTREAM
from tests.conftest import hks, hks_process, write

VALUE = "sk-proj-TESTVALUEdoNotLeak0123456789abcdef"
OTHER = "sk-proj-ROTATEDvalue9876543210fedcba"
NAMESPACE = "hexabase-aiops"


def certificate(key: rsa.RSAPrivateKey, days: int = 30) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sealed-secret")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=2))
        .not_valid_after(now + datetime.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def repo(tmp_path: Path, private_key: rsa.RSAPrivateKey) -> Path:
    return write(
        tmp_path / "repo",
        {
            "org.yaml": "llm_config:\n  provider: openai\n  model: gpt-5.4-mini\nworkspaces:\n  app: {}\n"
            "secrets:\n  backend: sealed-secrets\n  cert: sealed-secrets.pem\n",
            "sealed-secrets.pem": certificate(private_key),
        },
    )


def unseal(private_key: rsa.RSAPrivateKey, encrypted: str, namespace: str, name: str) -> bytes:
    """HybridDecrypt: 2-byte big-endian RSA length, RSA-OAEP(SHA-256) session key with the
    scope label, then AES-256-GCM with a zero nonce."""
    blob = base64.b64decode(encrypted, validate=True)
    (rsa_length,) = struct.unpack(">H", blob[:2])
    session_key = private_key.decrypt(
        blob[2 : 2 + rsa_length],
        padding.OAEP(
            mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=f"{namespace}/{name}".encode()
        ),
    )
    assert len(session_key) == 32
    return AESGCM(session_key).decrypt(b"\x00" * 12, blob[2 + rsa_length :], None)


def load(path: Path) -> Any:
    return YAML(typ="safe", pure=True).load(path.read_text())


def everything(root: Path, *outputs: str) -> str:
    files = [p.read_bytes().decode("utf-8", "replace") for p in sorted(root.rglob("*")) if p.is_file()]
    return "\n".join(files + list(outputs))


def assert_never_shown(value: str, root: Path, *outputs: str) -> None:
    haystack = everything(root, *outputs)
    for form in (value, base64.b64encode(value.encode()).decode(), value[4:20]):
        assert form not in haystack


def test_sealed_from_stdin_unseals_to_the_value_and_leaks_nowhere(repo: Path, private_key: rsa.RSAPrivateKey) -> None:
    result = hks_process("secret", "create", "openai-api-key", "--from-literal=key=-", cwd=repo, stdin=VALUE + "\n")
    assert result.returncode == 0, result.stderr
    sealed = load(repo / "secrets" / "openai-api-key.yaml")
    assert sealed["apiVersion"] == "bitnami.com/v1alpha1" and sealed["kind"] == "SealedSecret"
    assert sealed["metadata"] == {"name": "openai-api-key", "namespace": NAMESPACE}
    assert sealed["spec"]["template"] == {"metadata": {"name": "openai-api-key", "namespace": NAMESPACE}, "type": "Opaque"}
    assert unseal(private_key, sealed["spec"]["encryptedData"]["key"], NAMESPACE, "openai-api-key") == VALUE.encode()
    assert_never_shown(VALUE, repo, result.stdout, result.stderr)
    master = hks_process("secret", "create", "llm-gateway-master-key", "--from-literal=key=-", cwd=repo, stdin="m-key\n")
    assert master.returncode == 0, master.stderr
    assert hks_process("validate", cwd=repo).returncode == 0


def test_the_strict_scope_binds_namespace_and_name(repo: Path, private_key: rsa.RSAPrivateKey) -> None:
    assert hks("secret", "create", "openai-api-key", f"--from-literal=key={VALUE}", "-C", str(repo)).exit_code == 0
    encrypted = load(repo / "secrets" / "openai-api-key.yaml")["spec"]["encryptedData"]["key"]
    with pytest.raises(ValueError):
        unseal(private_key, encrypted, "other-namespace", "openai-api-key")
    with pytest.raises(ValueError):
        unseal(private_key, encrypted, NAMESPACE, "another-name")


def test_namespace_is_the_platform_namespace(repo: Path, private_key: rsa.RSAPrivateKey) -> None:
    org = repo / "org.yaml"
    org.write_text(org.read_text() + "cluster:\n  namespace: llm-platform\n")
    assert hks("secret", "create", "openai-api-key", f"--from-literal=key={VALUE}", "-C", str(repo)).exit_code == 0
    sealed = load(repo / "secrets" / "openai-api-key.yaml")
    assert sealed["metadata"]["namespace"] == "llm-platform"
    assert unseal(private_key, sealed["spec"]["encryptedData"]["key"], "llm-platform", "openai-api-key") == VALUE.encode()


def test_from_file_and_several_keys(repo: Path, private_key: rsa.RSAPrivateKey, tmp_path: Path) -> None:
    (tmp_path / "url.txt").write_bytes(b"postgres://user:pw@db:5432/spend")
    result = hks(
        "secret", "create", "gateway-database", f"--from-file=key={tmp_path / 'url.txt'}",
        f"--from-literal=extra={VALUE}", "-C", str(repo),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = load(repo / "secrets" / "gateway-database.yaml")["spec"]["encryptedData"]
    assert unseal(private_key, data["key"], NAMESPACE, "gateway-database") == b"postgres://user:pw@db:5432/spend"
    assert unseal(private_key, data["extra"], NAMESPACE, "gateway-database") == VALUE.encode()
    assert_never_shown(VALUE, repo, result.output)


def test_idempotent_keeps_the_sealed_value_and_overwrite_rotates(repo: Path, private_key: rsa.RSAPrivateKey) -> None:
    path = repo / "secrets" / "openai-api-key.yaml"
    assert hks("secret", "create", "openai-api-key", f"--from-literal=key={VALUE}", "-C", str(repo)).exit_code == 0
    first = path.read_bytes()
    again = hks("secret", "create", "openai-api-key", f"--from-literal=key={OTHER}", "-C", str(repo))
    assert again.exit_code == 0 and "nothing to change" in again.output and "--overwrite" in again.output
    assert path.read_bytes() == first
    rotated = hks("secret", "create", "openai-api-key", f"--from-literal=key={OTHER}", "--overwrite", "-C", str(repo))
    assert rotated.exit_code == 0
    encrypted = load(path)["spec"]["encryptedData"]["key"]
    assert unseal(private_key, encrypted, NAMESPACE, "openai-api-key") == OTHER.encode()
    assert_never_shown(OTHER, repo, again.output, rotated.output)


def test_a_new_key_keeps_the_others_sealed_as_they_were(repo: Path) -> None:
    path = repo / "secrets" / "openai-api-key.yaml"
    assert hks("secret", "create", "openai-api-key", f"--from-literal=key={VALUE}", "-C", str(repo)).exit_code == 0
    before = load(path)["spec"]["encryptedData"]["key"]
    assert hks("secret", "create", "openai-api-key", "--from-literal=org=acme", "-C", str(repo)).exit_code == 0
    assert load(path)["spec"]["encryptedData"]["key"] == before


def test_dry_run_writes_nothing_and_shows_no_value(repo: Path) -> None:
    result = hks("secret", "create", "openai-api-key", f"--from-literal=key={VALUE}", "--dry-run", "-C", str(repo))
    assert result.exit_code == 0 and "+kind: SealedSecret" in result.output
    assert not (repo / "secrets").exists()
    assert_never_shown(VALUE, repo, result.output)


def test_sealed_secret_matches_the_upstream_crd_schema(repo: Path) -> None:
    import jsonschema

    assert hks("secret", "create", "openai-api-key", f"--from-literal=key={VALUE}", "-C", str(repo)).exit_code == 0
    schema = json.loads((UPSTREAM / "bitnami.com" / "sealedsecret_v1alpha1.json").read_text())
    jsonschema.validate(load(repo / "secrets" / "openai-api-key.yaml"), schema)


def test_external_secrets_says_where_the_value_goes_and_writes_nothing(tmp_path: Path) -> None:
    """`hks render` writes the ExternalSecret of every referenced Secret, from the config."""
    repo = write(
        tmp_path / "repo",
        {
            "org.yaml": "llm_config:\n  provider: openai\n  model: gpt-5.4-mini\nworkspaces:\n  app: {}\n"
            "secrets:\n  backend: external-secrets\n  store:\n    name: vault\n    kind: ClusterSecretStore\n"
        },
    )
    result = hks_process("secret", "create", "openai-api-key", "--from-literal=key=-", cwd=repo, stdin=VALUE)
    assert result.returncode == 0, result.stderr
    assert "ClusterSecretStore 'vault' under the remote key 'openai-api-key', property 'key'" in result.stdout
    assert "hks render writes the ExternalSecret hexabase-aiops/openai-api-key" in result.stdout
    assert not (repo / "secrets").exists()
    assert_never_shown(VALUE, repo, result.stdout, result.stderr)
    out = tmp_path / "out"
    assert hks("render", str(repo), "-o", str(out)).exit_code == 0
    rendered = load(out / "platform" / "secrets" / "externalsecret-openai-api-key.yaml")
    assert rendered["spec"]["data"] == [{"secretKey": "key", "remoteRef": {"key": "openai-api-key", "property": "key"}}]
    assert rendered["spec"]["secretStoreRef"] == {"name": "vault", "kind": "ClusterSecretStore"}


def test_a_secret_nothing_reads_is_noted(repo: Path) -> None:
    result = hks("secret", "create", "unused-thing", "--from-literal=key=x", "-C", str(repo))
    assert result.exit_code == 0 and "nothing in this config reads the Secret 'unused-thing'" in result.output


def test_a_missing_data_key_the_gateway_reads_is_noted(repo: Path) -> None:
    result = hks("secret", "create", "openai-api-key", f"--from-literal=apikey={VALUE}", "-C", str(repo))
    assert result.exit_code == 0 and "the gateway also reads data key 'key' of 'openai-api-key'" in result.output
    assert_never_shown(VALUE, repo, result.output)


def test_backend_none_refuses_and_explains(tmp_path: Path) -> None:
    repo = write(tmp_path / "repo", {"org.yaml": "llm_config:\n  provider: openai\n  model: gpt-5.4-mini\n"})
    result = hks("secret", "create", "openai-api-key", f"--from-literal=key={VALUE}", "-C", str(repo))
    assert result.exit_code == 1
    assert "secrets.backend is `none`" in result.output and "kubectl create secret generic openai-api-key" in result.output
    assert not (repo / "secrets").exists()
    assert_never_shown(VALUE, repo, result.output)


@pytest.mark.parametrize(
    "args",
    [
        [f"--from-literal={VALUE}"],  # no key: the whole entry may be the value
        [f"--from-literal=bad key={VALUE}"],
        [f"--from-literal=key={VALUE}", f"--from-literal=key={VALUE}"],
    ],
)
def test_malformed_values_are_usage_errors_that_do_not_repeat_them(repo: Path, args: list[str]) -> None:
    result = hks("secret", "create", "openai-api-key", *args, "-C", str(repo))
    assert result.exit_code == 2
    assert_never_shown(VALUE, repo, result.output)


def test_expired_certificate_is_refused(repo: Path, private_key: rsa.RSAPrivateKey) -> None:
    (repo / "sealed-secrets.pem").write_bytes(certificate(private_key, days=-1))
    result = hks("secret", "create", "openai-api-key", f"--from-literal=key={VALUE}", "-C", str(repo))
    assert result.exit_code == 1 and "expired" in result.output
    assert not (repo / "secrets").exists()


def test_missing_certificate_is_refused(repo: Path) -> None:
    (repo / "sealed-secrets.pem").unlink()
    result = hks("secret", "create", "openai-api-key", f"--from-literal=key={VALUE}", "-C", str(repo))
    assert result.exit_code == 1 and "cannot read the sealing certificate" in result.output


def test_adding_a_key_to_a_complete_secret_notes_nothing_missing(repo: Path) -> None:
    assert hks("secret", "create", "openai-api-key", f"--from-literal=key={VALUE}", "-C", str(repo)).exit_code == 0
    result = hks("secret", "create", "openai-api-key", "--from-literal=org=acme", "-C", str(repo))
    assert result.exit_code == 0 and "also reads" not in result.output


def test_backend_none_names_the_command_that_chooses_one(tmp_path: Path) -> None:
    repo = write(tmp_path / "repo", {"org.yaml": "llm_config:\n  provider: openai\n  model: gpt-4o\n"})
    result = hks("secret", "create", "openai-api-key", f"--from-literal=key={VALUE}", "-C", str(repo))
    assert "hks secret backend sealed-secrets --cert sealed-secrets.pem" in result.output


def test_secret_backend_sealed_secrets_sets_it_and_names_what_to_store(tmp_path: Path, private_key: rsa.RSAPrivateKey) -> None:
    org = "llm_config:\n  provider: openai  # the default\n  model: gpt-4o\nworkspaces:\n  app: {}\n"
    repo = write(tmp_path / "repo", {"org.yaml": org})
    (repo / "sealed-secrets.pem").write_bytes(certificate(private_key))
    result = hks("secret", "backend", "sealed-secrets", "--cert", "sealed-secrets.pem", "-C", str(repo))
    assert result.exit_code == 0, result.output
    assert (repo / "org.yaml").read_text() == org + "secrets:\n  backend: sealed-secrets\n  cert: sealed-secrets.pem\n"
    # the Secrets the config reads are the next steps, each with its command
    assert "next: store the gateway's admin key: hks secret create llm-gateway-master-key --from-literal=key=-" in result.output
    assert "hks secret create openai-api-key --from-literal=key=-" in result.output
    again = hks("secret", "backend", "sealed-secrets", "--cert", "sealed-secrets.pem", "-C", str(repo))
    assert again.exit_code == 0 and "nothing to change" in again.output
    back = hks("secret", "backend", "none", "-C", str(repo))
    assert back.exit_code == 0, back.output
    assert "secrets.cert removed" in back.output and "kubectl create secret generic openai-api-key" in back.output


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["sealed-secrets"], 2, "sealed-secrets needs it: --cert"),
        (["none", "--cert", "x.pem"], 2, "--cert goes with sealed-secrets"),
        (["external-secrets"], 2, "external-secrets needs it: --store NAME"),
        (["sealed-secrets", "--cert", "missing.pem"], 1, "kubeseal --fetch-cert >"),
        (["sealed-secret", "--cert", "x.pem"], 2, "Did you mean 'sealed-secrets'?"),
    ],
)
def test_secret_backend_refusals_change_nothing(tmp_path: Path, args: list[str], code: int, says: str) -> None:
    org = "llm_config:\n  provider: openai\n  model: gpt-4o\n"
    repo = write(tmp_path / "repo", {"org.yaml": org})
    result = hks("secret", "backend", *args, "-C", str(repo))
    assert result.exit_code == code and says in result.output, result.output
    assert (repo / "org.yaml").read_text() == org


def test_secret_backend_external_secrets_takes_a_store(tmp_path: Path) -> None:
    repo = write(tmp_path / "repo", {"org.yaml": "llm_config:\n  provider: openai\n  model: gpt-4o\nworkspaces:\n  app: {}\n"})
    result = hks("secret", "backend", "external-secrets", "--store", "vault", "-C", str(repo))
    assert result.exit_code == 0, result.output
    assert "store:\n    name: vault\n    kind: ClusterSecretStore\n" in (repo / "org.yaml").read_text()
    assert "hks secret create openai-api-key" in result.output


def test_a_value_secret_create_reads_is_redacted_from_whatever_prints_next() -> None:
    from compiler import redact
    from compiler.commands import secret

    value = "plain-words-no-key-shape-4711"
    assert redact.redact(f"a message quoting {value}") == f"a message quoting {value}"  # no shape of a key
    assert secret._read("password", "literal", value) == value.encode()
    assert value not in redact.redact(f"a message quoting {value}")


def test_a_file_validate_would_refuse_is_not_written(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """secret create checks the file it writes as validate checks secrets/ (SEC-003's shape)."""
    from compiler.tools import seal

    real = seal.sealed_secret
    monkeypatch.setattr(seal, "sealed_secret", lambda *a: {**real(*a), "kind": "Secret"})
    result = hks("secret", "create", "openai-api-key", f"--from-literal=key={VALUE}", "-C", str(repo))
    assert result.exit_code == 1 and "SEC-003" in result.output and "nothing was changed" in result.output
    assert not (repo / "secrets" / "openai-api-key.yaml").exists()


def test_the_error_count_after_create_is_the_one_validate_reports(repo: Path) -> None:
    """Issue 16: the pre-write check sees the file it is about to write (a pending secrets/ file),
    so the errors it counts are the ones `hks validate` reports once the file is written."""
    from compiler.diagnostics import Severity
    from compiler.pipeline import compile_config

    before = hks("validate", "-C", str(repo))
    assert before.output.count("error[SEC-002]") == 2, before.output  # the master key and the API key
    created = hks("secret", "create", "openai-api-key", f"--from-literal=key={VALUE}", "-C", str(repo))
    assert created.exit_code == 0, created.output
    after = hks("validate", "-C", str(repo))
    assert after.output.count("error[SEC-002]") == 1 and after.output.endswith("1 error\n"), after.output
    assert "the config still has 1 error(s) it had before" in created.output
    # the check before the write, given the file as a pending edit, sees what validate sees after it
    path = repo / "secrets" / "openai-api-key.yaml"
    written = path.read_bytes()
    on_disk = [d for d in compile_config(str(repo)).diagnostics if d.severity == Severity.ERROR]
    path.unlink()
    pending = compile_config(str(repo), pending={path: written}).diagnostics
    assert [d for d in pending if d.severity == Severity.ERROR] == on_disk and len(on_disk) == 1


def test_rotating_a_secret_kept_as_yml_rewrites_that_file(repo: Path, private_key: rsa.RSAPrivateKey) -> None:
    """A second file for the same Secret would be sealed beside the first, and render keeps one."""
    assert hks("secret", "create", "openai-api-key", f"--from-literal=key={VALUE}", "-C", str(repo)).exit_code == 0
    yml = repo / "secrets" / "openai-api-key.yml"
    (repo / "secrets" / "openai-api-key.yaml").rename(yml)
    rotated = hks("secret", "create", "openai-api-key", f"--from-literal=key={OTHER}", "--overwrite", "-C", str(repo))
    assert rotated.exit_code == 0, rotated.output
    assert sorted(p.name for p in (repo / "secrets").iterdir()) == ["openai-api-key.yml"]
    assert unseal(private_key, load(yml)["spec"]["encryptedData"]["key"], NAMESPACE, "openai-api-key") == OTHER.encode()


def test_two_files_sealing_one_secret_are_an_error_at_the_second(repo: Path) -> None:
    assert hks("secret", "create", "openai-api-key", f"--from-literal=key={VALUE}", "-C", str(repo)).exit_code == 0
    first = repo / "secrets" / "openai-api-key.yaml"
    (repo / "secrets" / "openai-api-key.yml").write_bytes(first.read_bytes())  # the name is the file's (SEC-003)
    result = hks_process("validate", cwd=repo)
    assert result.returncode == 1
    assert "secrets/openai-api-key.yml:6:9: error[SEC-005]: the SealedSecret 'openai-api-key' is also sealed in secrets/openai-api-key.yaml" in result.stdout
