"""`hks secret`: a Secret's values sealed into secrets/NAME.yaml (seal.py does the cryptography),
the certificate it is sealed with, and what is left to store for each Secret the config reads.

Every refusal is an errors.Refused (exit 1) or, for a value or file given on the command line
that cannot be used, an errors.InputError (exit 2); the command prints them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compiler.errors import InputError, Refused

if TYPE_CHECKING:
    from compiler.pipeline import Compiled
    from compiler.tools.edit import YamlFile

DATA_KEY = r"^[-._a-zA-Z0-9]{1,253}$"  # a Secret's data key (Kubernetes' IsConfigMapKey)
# A value is read up to this size (so /dev/zero ends): sealed and base64-encoded, about 11 KiB of
# plain value fills one YAML string of the MAX_STRING_CHARS that validate reads.
MAX_VALUE_BYTES = 16 * 1024
MAX_CERT_BYTES = 64 * 1024  # a PEM certificate is a few KiB
HEADER = (
    "# Written by `hks secret create`: sealed with the cluster's certificate (secrets.cert);\n"
    "# only that cluster's Sealed Secrets controller can unseal it, into {namespace}/{name}.\n"
)
BACKEND_KEYS = ("backend", "cert", "store")  # secrets: in org.yaml, in the order they are written


def is_name(name: str) -> bool:
    """A Secret's name as the model takes it (model.types.DNS_SUBDOMAIN, at most 253)."""
    from compiler.model.types import DNS_SUBDOMAIN

    return len(name) <= 253 and re.fullmatch(DNS_SUBDOMAIN, name) is not None


def is_data_key(key: str) -> bool:
    return re.fullmatch(DATA_KEY, key) is not None


# --- the backend -----------------------------------------------------------------------------


def set_backend(org: YamlFile, backend: str, cert: str | None, store: dict[str, str] | None) -> list[str]:
    """secrets.backend in org.yaml, with secrets.cert or secrets.store as the backend takes
    them (the other removed); returns the lines that say what changed."""
    from compiler.tools import edit

    wanted: dict[str, object] = {"backend": backend}
    if cert is not None:
        wanted["cert"] = cert
    if store is not None:
        wanted["store"] = store
    done = []
    for key in BACKEND_KEYS:
        if key in wanted:
            if edit.set_path(org.data, ("secrets", key), wanted[key], org.original):
                done.append(f"{org.path}: secrets.{key}: {_show(wanted[key])}")
        elif edit.find(org.data, ("secrets", key)) is not None:
            edit.delete_key(edit.find(org.data, ("secrets",)), key)
            done.append(f"{org.path}: secrets.{key} removed")
    return done


def _show(value: object) -> str:
    return f"{value['name']} ({value['kind']})" if isinstance(value, dict) else str(value)


def cert_in_config(root: Path, cert: str) -> str:
    """The certificate's path as secrets.cert holds it, from the config folder. Given from the
    current folder (as a shell completes it: `-C cfg --cert cfg/sealed-secrets.pem`) it is made
    relative; a file outside the config folder is refused, as the repository must hold it."""
    given = Path(cert)
    if given.is_absolute() or (root / given).exists() or not given.is_file():
        return cert  # from the config folder (or missing: check_cert says where it looked)
    try:
        return given.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise Refused(f"{cert} is outside the config folder {root}: secrets.cert names a file in the config repository",
                      hint=f"move it there (mv {cert} {root / given.name}), then --cert {root / given.name}") from None


def check_cert(root: Path, cert: str) -> None:
    """Refuses a secrets.cert that cannot seal: unreadable, not a PEM certificate, not RSA, expired."""
    from compiler.tools import seal

    path = root / cert
    try:
        seal.public_key(cert_bytes(root, path), str(path))
    except OSError as exc:
        raise Refused(f"{path}: cannot read the certificate: {exc.strerror}",
                      hint=f"fetch it from the cluster: kubeseal --fetch-cert > {path}") from None
    except InputError as exc:
        raise Refused(str(exc)) from None


def cert_bytes(root: Path, path: Path) -> bytes:
    """secrets.cert: a regular file of the config repository, of a certificate's size."""
    from compiler.load.safefs import TooLarge, Unsafe, read_regular

    try:
        return read_regular(path, root, MAX_CERT_BYTES)
    except Unsafe as exc:
        raise InputError(f"{exc} (secrets.cert must be a file in the config repository)") from exc
    except TooLarge as exc:
        raise InputError(f"{path}: {exc.size} bytes, over the {MAX_CERT_BYTES} of a certificate (secrets.cert)") from exc


def to_store(directory: str, backend: str) -> list[str]:
    """What is left to do for each Secret the config reads, with this backend."""
    from compiler.pipeline import compile_config
    from compiler.providers import secretrefs

    compiled = compile_config(directory)
    if compiled.config is None:
        return []
    refs = secretrefs.by_secret(secretrefs.references(compiled.config, compiled.workspaces))
    namespace = compiled.config.org.cluster.namespace
    steps = []
    for name, uses in sorted(refs.items()):
        keys = sorted({ref.key for ref in uses})
        if backend == "none":
            steps.append(f"make the Secret {name} in the cluster: kubectl create secret generic {name} -n {namespace} "
                         + " ".join(f"--from-literal={k}=..." for k in keys))
        elif backend == "external-secrets" or not (Path(directory) / "secrets" / f"{name}.yaml").exists():
            steps.append(f"store {uses[0].purpose}: hks secret create {name} "
                         + " ".join(f"--from-literal={k}=-" for k in keys))
    return steps


# --- one Secret --------------------------------------------------------------------------------


def secret_file(folder: Path, name: str) -> Path:
    """secrets/NAME.yaml, or the NAME.yml already there: a second file would seal the Secret twice."""
    existing = folder / f"{name}.yml"
    return existing if existing.exists() or existing.is_symlink() else folder / f"{name}.yaml"


def readers(compiled: Compiled, name: str) -> dict[str, str]:
    """The data keys of Secret `name` the rendered gateway reads, and what for."""
    from compiler.providers import secretrefs

    assert compiled.config is not None
    refs = secretrefs.by_secret(secretrefs.references(compiled.config, compiled.workspaces)).get(name, [])
    return {ref.key: ref.purpose for ref in refs}


def read_file(where: str) -> bytes:
    """A value's file, `--from-file`: a bounded amount; a FIFO with no writer is empty, not a hang."""
    import fcntl
    import os

    try:
        descriptor = os.open(where, os.O_RDONLY | os.O_NONBLOCK)
        fcntl.fcntl(descriptor, fcntl.F_SETFL, fcntl.fcntl(descriptor, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        with os.fdopen(descriptor, "rb") as handle:
            return handle.read(MAX_VALUE_BYTES + 1)
    except IsADirectoryError:
        raise InputError(f"{where}: is a folder, not a file") from None
    except OSError as exc:
        raise InputError(f"{where}: cannot read: {exc.strerror}") from None


def checked_value(key: str, value: bytes) -> bytes:
    """The value of data key `key` as hks seals it: at most MAX_VALUE_BYTES, never empty; from
    now on redacted from whatever prints."""
    if len(value) > MAX_VALUE_BYTES:
        raise InputError(f"the value of key '{key}' is over {MAX_VALUE_BYTES} bytes: hks seals values up to that size "
                         "(nothing was changed)")
    if not value:
        raise InputError(f"the value of key '{key}' is empty: hks seals no empty value (nothing was changed)")
    from compiler import redact

    redact.remember(value.decode("utf-8", "replace"))  # whatever prints next, never this value
    return value


@dataclass(frozen=True)
class Sealing:
    """secrets/NAME.yaml with the new values sealed in: `text` (None: nothing to change)."""

    path: Path
    text: str | None
    holds: list[str]  # the data keys the file holds afterwards
    kept: list[str]  # given keys it held already, kept (no --overwrite)
    done: list[str]  # what was sealed, one line a key


def seal_values(
    directory: str, path: Path, name: str, namespace: str, cert: str | None,
    keys: Iterable[str], read: Callable[[str], bytes], *, overwrite: bool,
) -> Sealing:
    """The SealedSecret `path` with the value of each of `keys` (`read(key)`, called only for
    the keys it seals) sealed in, besides the keys the file holds already."""
    from compiler.tools import seal

    if not cert:
        raise Refused("secrets.backend is sealed-secrets but secrets.cert is not set",
                      hint="kubeseal --fetch-cert > sealed-secrets.pem, then set secrets.cert: sealed-secrets.pem")
    cert_path = Path(directory) / cert
    try:
        key = seal.public_key(cert_bytes(Path(directory), cert_path), str(cert_path))
    except OSError as exc:
        raise Refused(f"{cert_path}: cannot read the sealing certificate (secrets.cert): {exc.strerror}") from None
    except InputError as exc:
        raise Refused(str(exc)) from None
    existing = _existing(Path(directory), path, "SealedSecret", name, namespace)
    encrypted = dict(existing.get("spec", {}).get("encryptedData") or {})
    done, kept = [], []
    for data_key in sorted(keys):
        if data_key in encrypted and not overwrite:
            kept.append(data_key)
            continue
        encrypted[data_key] = seal.seal(key, namespace, name, read(data_key))
        done.append(f"{path}: sealed key '{data_key}' for {namespace}/{name}")
    text = _document(seal.sealed_secret(name, namespace, encrypted), name, namespace) if done else None
    return Sealing(path, text, sorted(encrypted), kept, done)


def check_readable(path: Path, text: str, version: str) -> None:
    """The file to write passes what validate checks a secrets/ file for: the loader's limits
    (a value too long, say), no secret in plain text, and the SealedSecret's own shape."""
    from compiler.checks.sealed import shape_problems
    from compiler.checks.secrets import scan_secrets
    from compiler.load.parse import parse_document

    doc, problems = parse_document(text.encode("utf-8"), str(path))
    if doc is not None:
        problems = scan_secrets([doc]) or shape_problems(doc, version)
    if doc is None or problems:
        raise Refused(f"{path} would not pass `hks validate`; nothing was changed", problems)


def _existing(root: Path, path: Path, kind: str, name: str, namespace: str) -> dict[str, Any]:
    """The secret file already there, if it is the same object (so its other keys are kept);
    read as validate reads it: a regular file of the repository, within every limit."""
    if not (path.exists() or path.is_symlink()):
        return {}
    from compiler.load.parse import to_plain
    from compiler.load.repo import load_file

    doc, problems = load_file(path, root)
    if doc is None:
        raise Refused(f"{path}: exists and cannot be read; move it away first (nothing was changed)", problems)
    found = to_plain(doc.data)
    same = (
        isinstance(found, dict)
        and found.get("kind") == kind
        and (found.get("metadata") or {}).get("name") == name
        and (found.get("metadata") or {}).get("namespace") == namespace
    )
    return found if same else {}


def _document(body: dict[str, Any], name: str, namespace: str) -> str:
    from compiler.yamlout import dump

    return HEADER.format(name=name, namespace=namespace) + dump(body)
