from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import click

from compiler.commands.editing import (
    SuggestingChoice,
    SuggestingGroup,
    fail,
    fail_usage,
    finish,
    open_or_exit,
    repo_options,
    require_org,
)

SECRET_NAME = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"  # model.DNS_SUBDOMAIN
DATA_KEY = r"^[-._a-zA-Z0-9]{1,253}$"
# A value is read up to this size (so /dev/zero ends): sealed and base64-encoded, about 11 KiB of
# plain value fills one YAML string of the MAX_STRING_CHARS that validate reads.
MAX_VALUE_BYTES = 16 * 1024
MAX_CERT_BYTES = 64 * 1024  # a PEM certificate is a few KiB
HEADER = (
    "# Written by `hks secret create`: sealed with the cluster's certificate (secrets.cert);\n"
    "# only that cluster's Sealed Secrets controller can unseal it, into {namespace}/{name}.\n"
)


@click.group(
    cls=SuggestingGroup,
    epilog="""\b
Examples:
  # once: where secrets live (kubeseal --fetch-cert > sealed-secrets.pem gives the certificate)
  hks secret backend sealed-secrets --cert sealed-secrets.pem
  # from the platform guide (the value is read from stdin, so it stays out of shell history)
  hks secret create openai-api-key --from-literal=key=-
  hks secret create openai-api-key --from-literal=key=sk-...
  hks secret create vertex-credentials --from-file=key=./service-account.json""",
)
def command() -> None:
    """Store secrets for the cluster: sealed for Sealed Secrets, or as an external-secrets reference."""


BACKENDS = ("external-secrets", "none", "sealed-secrets")


@command.command(
    epilog="""\b
Examples:
  kubeseal --fetch-cert > sealed-secrets.pem
  hks secret backend sealed-secrets --cert sealed-secrets.pem
  hks secret backend external-secrets --store vault
  hks secret backend none
\b
Sets secrets.backend in org.yaml (with secrets.cert or secrets.store), then names each Secret
the config reads that is not stored yet, with the `hks secret create` that stores it.""",
)
@click.argument("backend", type=SuggestingChoice(BACKENDS))
@click.option(
    "--cert",
    metavar="PATH",
    help="sealed-secrets: the cluster's public certificate, a file in the config folder (from the current folder, or from the config folder as secrets.cert holds it).",
)
@click.option("--store", metavar="NAME", help="external-secrets: the SecretStore or ClusterSecretStore to read from.")
@click.option("--store-kind", type=click.Choice(["ClusterSecretStore", "SecretStore"]), default="ClusterSecretStore", show_default=True)
@repo_options
def backend(backend: str, cert: str | None, store: str | None, store_kind: str, directory: str, dry_run: bool) -> None:
    """Choose where secrets live: sealed in this repository, read from a vault, or made by other means."""
    from compiler.tools import edit

    if (cert is not None) != (backend == "sealed-secrets"):
        fail_usage("--cert goes with sealed-secrets, and sealed-secrets needs it: --cert sealed-secrets.pem "
                   "(kubeseal --fetch-cert > sealed-secrets.pem)")
    if (store is not None) != (backend == "external-secrets"):
        fail_usage("--store goes with external-secrets, and external-secrets needs it: --store NAME")
    org = open_or_exit(require_org(directory, "secret backend"))
    if cert is not None:
        cert = _in_config(Path(directory), cert)
        _check_cert(Path(directory), cert)
    wanted: dict[str, object] = {"backend": backend}
    if cert is not None:
        wanted["cert"] = cert
    if store is not None:
        wanted["store"] = {"name": store, "kind": store_kind}
    done = []
    for key in ("backend", "cert", "store"):
        if key in wanted:
            if edit.set_path(org.data, ("secrets", key), wanted[key], org.original):
                done.append(f"{org.path}: secrets.{key}: {_show(wanted[key])}")
        elif edit.find(org.data, ("secrets", key)) is not None:
            edit.delete_key(edit.find(org.data, ("secrets",)), key)
            done.append(f"{org.path}: secrets.{key} removed")
    if finish(directory, [org], dry_run=dry_run, done=done, allow=frozenset({"SEC-002"})):
        for step in _to_store(directory, backend):
            click.echo(f"next: {step}")


def _show(value: object) -> str:
    return f"{value['name']} ({value['kind']})" if isinstance(value, dict) else str(value)


def _in_config(root: Path, cert: str) -> str:
    """The certificate's path as secrets.cert holds it, from the config folder. Given from the
    current folder (as a shell completes it: `-C cfg --cert cfg/sealed-secrets.pem`) it is made
    relative; a file outside the config folder is refused, as the repository must hold it."""
    given = Path(cert)
    if given.is_absolute() or (root / given).exists() or not given.is_file():
        return cert  # from the config folder (or missing: _check_cert says where it looked)
    try:
        return given.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        fail(f"{cert} is outside the config folder {root}: secrets.cert names a file in the config repository",
             hint=f"move it there (mv {cert} {root / given.name}), then --cert {root / given.name}")


def _check_cert(root: Path, cert: str) -> None:
    from compiler.errors import InputError
    from compiler.tools import seal

    path = root / cert
    try:
        seal.public_key(_cert_bytes(root, path), str(path))
    except OSError as exc:
        fail(f"{path}: cannot read the certificate: {exc.strerror}",
             hint=f"fetch it from the cluster: kubeseal --fetch-cert > {path}")
    except InputError as exc:
        fail(str(exc))


def _cert_bytes(root: Path, path: Path) -> bytes:
    """secrets.cert: a regular file of the config repository, of a certificate's size."""
    from compiler.errors import InputError
    from compiler.load.safefs import TooLarge, Unsafe, read_regular

    try:
        return read_regular(path, root, MAX_CERT_BYTES)
    except Unsafe as exc:
        raise InputError(f"{exc} (secrets.cert must be a file in the config repository)") from exc
    except TooLarge as exc:
        raise InputError(f"{path}: {exc.size} bytes, over the {MAX_CERT_BYTES} of a certificate (secrets.cert)") from exc


def _to_store(directory: str, backend: str) -> list[str]:
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


@command.command(
    epilog="""\b
Examples:
  hks secret create openai-api-key --from-literal=key=-    < key.txt
  hks secret create gateway-database --from-file=key=./database-url.txt
  hks secret create openai-api-key --from-literal=key=- --overwrite   # rotate
\b
With secrets.backend: sealed-secrets, the values are sealed with the certificate at
secrets.cert into secrets/NAME.yaml (a SealedSecret for the namespace cluster.namespace).
With external-secrets, `hks render` already writes the ExternalSecret of every Secret the
config references (remote key NAME in secrets.store): hks says where to put the value and
writes nothing. With none, hks refuses: the Secret is made in the cluster by other means.
No value is ever printed or written unsealed.""",
)
@click.argument("name")
@click.option("--from-literal", "literals", multiple=True, metavar="KEY=VALUE", help="A value; VALUE `-` reads it from stdin (repeatable).")
@click.option("--from-file", "files", multiple=True, metavar="KEY=PATH", help="A value read from a file (repeatable).")
@click.option("--overwrite", is_flag=True, help="Replace keys the sealed secret already holds.")
@repo_options
def create(name: str, literals: tuple[str, ...], files: tuple[str, ...], overwrite: bool, directory: str, dry_run: bool) -> None:
    """Create the secret NAME, sealed or as an external reference.

    Provider API keys use the data key `key`, as providers.*.api_key_secret expects."""
    from compiler.commands.editing import refuse
    from compiler.pipeline import compile_config
    from compiler.printable import printable

    if len(name) > 253 or not re.fullmatch(SECRET_NAME, name):
        fail_usage(f"{printable(repr(name))} is not a Secret name: lowercase letters, digits and '-', in parts "
                   "separated by '.', each starting and ending with a letter or digit")
    sources = _sources(literals, files)
    require_org(directory, "secret create")
    compiled = compile_config(directory)
    if compiled.config is None:  # other errors do not stop it: only secrets and cluster are read
        refuse(compiled.diagnostics, "org.yaml must be readable to know where the secret goes; nothing was changed")
    org = compiled.config.org
    namespace = org.cluster.namespace
    path = _secret_file(Path(directory) / "secrets", name)
    readers = _readers(compiled, name)
    if org.secrets.backend == "none":
        fail(
            "secrets.backend is `none`, so hks keeps no secrets: choose where they live, then run this again",
            hint="kubeseal --fetch-cert > sealed-secrets.pem && hks secret backend sealed-secrets --cert sealed-secrets.pem "
            "(or: hks secret backend external-secrets --store NAME; "
            f"or make it in the cluster: kubectl create secret generic {name} -n {namespace} --from-literal=key=...)",
        )
    if org.secrets.backend == "external-secrets":
        _external(name, namespace, org.secrets.store, sorted(sources), readers)
        return
    held = _sealed(directory, path, name, namespace, org.secrets.cert, sources, overwrite, dry_run, org.cluster.kubernetes_version)
    _say_readers(name, held, readers)


def _secret_file(folder: Path, name: str) -> Path:
    """secrets/NAME.yaml, or the NAME.yml already there: a second file would seal the Secret twice."""
    existing = folder / f"{name}.yml"
    return existing if existing.exists() or existing.is_symlink() else folder / f"{name}.yaml"


def _readers(compiled: Any, name: str) -> dict[str, str]:
    """The data keys of Secret `name` the rendered gateway reads, and what for."""
    from compiler.providers import secretrefs

    refs = secretrefs.by_secret(secretrefs.references(compiled.config, compiled.workspaces)).get(name, [])
    return {ref.key: ref.purpose for ref in refs}


def _say_readers(name: str, keys: list[str], readers: dict[str, str]) -> None:
    if not readers:
        click.echo(f"hks: note: nothing in this config reads the Secret '{name}' yet "
                   "(providers.<name>.api_key_secret and gateway.*_secret name the ones it reads)", err=True)
    for key, purpose in sorted(readers.items()):
        if key not in keys:
            click.echo(f"hks: note: the gateway also reads data key '{key}' of '{name}' ({purpose}); "
                       f"add it with --from-literal={key}=-", err=True)


def _sources(literals: tuple[str, ...], files: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    """key → (kind, where). Values are read later, and only when they are sealed."""
    found: dict[str, tuple[str, str]] = {}
    for option, kind, entries in (("--from-literal", "literal", literals), ("--from-file", "file", files)):
        for entry in entries:
            key, sep, rest = entry.partition("=")
            if not sep or not re.fullmatch(DATA_KEY, key):
                # never echo the entry: it may be the value itself
                fail_usage(f"{option} needs KEY=VALUE with a key of letters, digits, '-', '_' and '.'")
            if key in found:
                fail_usage(f"key '{key}' is given twice")
            found[key] = (kind, rest)
    if not found:
        fail_usage("give the value: --from-literal=key=- (stdin), --from-literal=key=VALUE or --from-file=key=PATH")
    if sum(1 for kind, where in found.values() if kind == "literal" and where == "-") > 1:
        fail_usage("only one value can come from stdin")
    return found


def _read(key: str, kind: str, where: str) -> bytes:
    """The value of data key `key`: at most MAX_VALUE_BYTES, never empty."""
    value = _read_file(where) if kind == "file" else _read_stdin() if where == "-" else where.encode("utf-8")
    if len(value) > MAX_VALUE_BYTES:
        fail_usage(f"the value of key '{key}' is over {MAX_VALUE_BYTES} bytes: hks seals values up to that size "
                   "(nothing was changed)")
    if not value:
        fail_usage(f"the value of key '{key}' is empty: hks seals no empty value (nothing was changed)")
    from compiler import redact

    redact.remember(value.decode("utf-8", "replace"))  # whatever prints next, never this value
    return value


def _read_file(where: str) -> bytes:
    """Reads a bounded amount; a FIFO with no writer is empty, not a hang."""
    import fcntl
    import os

    try:
        descriptor = os.open(where, os.O_RDONLY | os.O_NONBLOCK)
        fcntl.fcntl(descriptor, fcntl.F_SETFL, fcntl.fcntl(descriptor, fcntl.F_GETFL) & ~os.O_NONBLOCK)
        with os.fdopen(descriptor, "rb") as handle:
            return handle.read(MAX_VALUE_BYTES + 1)
    except IsADirectoryError:
        fail_usage(f"{where}: is a folder, not a file")
    except OSError as exc:
        fail_usage(f"{where}: cannot read: {exc.strerror}")


def _read_stdin() -> bytes:
    if sys.stdin.isatty():  # typed, not piped: ask without echoing it
        return str(click.prompt("value (input hidden)", hide_input=True, err=True)).encode("utf-8")
    stream = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else None
    value = stream.read(MAX_VALUE_BYTES + 2) if stream else sys.stdin.read(MAX_VALUE_BYTES + 2).encode()
    # `echo $KEY | hks secret create ...` adds a newline the key does not have
    return value[:-2] if value.endswith(b"\r\n") else value[:-1] if value.endswith(b"\n") else value


def _sealed(
    directory: str, path: Path, name: str, namespace: str, cert: str | None,
    sources: dict[str, tuple[str, str]], overwrite: bool, dry_run: bool, version: str,
) -> list[str]:
    """Seals the values into secrets/NAME.yaml; returns the data keys the file holds."""
    from compiler.errors import InputError
    from compiler.tools import seal

    if not cert:
        fail("secrets.backend is sealed-secrets but secrets.cert is not set",
             hint="kubeseal --fetch-cert > sealed-secrets.pem, then set secrets.cert: sealed-secrets.pem")
    cert_path = Path(directory) / cert
    try:
        key = seal.public_key(_cert_bytes(Path(directory), cert_path), str(cert_path))
    except OSError as exc:
        fail(f"{cert_path}: cannot read the sealing certificate (secrets.cert): {exc.strerror}")
    except InputError as exc:
        fail(str(exc))
    existing = _existing(Path(directory), path, "SealedSecret", name, namespace)
    encrypted = dict(existing.get("spec", {}).get("encryptedData") or {})
    done, kept = [], []
    for data_key, (kind, where) in sorted(sources.items()):
        if data_key in encrypted and not overwrite:
            kept.append(data_key)
            continue
        encrypted[data_key] = seal.seal(key, namespace, name, _read(data_key, kind, where))
        done.append(f"{path}: sealed key '{data_key}' for {namespace}/{name}")
    if kept:
        click.echo(f"hks: {path} already holds {', '.join(kept)}; kept (pass --overwrite to replace)", err=True)
    if not done:
        click.echo("nothing to change")
        return sorted(encrypted)
    text = _document(seal.sealed_secret(name, namespace, encrypted), name, namespace)
    _check_readable(path, text, version)
    # the check sees the new file: one without a data key the gateway reads is noted below, not refused
    finish(directory, [], dry_run=dry_run, done=done, texts={path: text}, allow=frozenset({"SEC-002"}),
           next_steps=["commit it; `hks render` ships it and the cluster's controller unseals it"])
    return sorted(encrypted)


def _external(name: str, namespace: str, store: Any, keys: list[str], readers: dict[str, str]) -> None:
    """`hks render` writes the ExternalSecret of every referenced Secret (remote key = its name,
    property = the data key), so there is no file to write: only where the value goes."""
    if store is None:
        fail("secrets.backend is external-secrets but secrets.store is not set",
             hint="set secrets.store: {name: vault, kind: ClusterSecretStore}")
    properties = ", ".join(f"'{k}'" for k in keys)
    click.echo(
        f"put the value in the {store.kind} '{store.name}' under the remote key '{name}', property {properties}; "
        f"for a Vault KV store: `vault kv put <mount>/{name} {keys[0]}=-` reads it from stdin. "
        "hks did not read or keep the value"
    )
    if readers:
        click.echo(f"hks render writes the ExternalSecret {namespace}/{name} that makes the Secret from it")
    _say_readers(name, keys, readers)


def _check_readable(path: Path, text: str, version: str) -> None:
    """The file to write passes what validate checks a secrets/ file for: the loader's limits
    (a value too long, say), no secret in plain text, and the SealedSecret's own shape."""
    from compiler.checks.sealed import shape_problems
    from compiler.checks.secrets import scan_secrets
    from compiler.commands.editing import refuse
    from compiler.load.parse import parse_document

    doc, problems = parse_document(text.encode("utf-8"), str(path))
    if doc is not None:
        problems = scan_secrets([doc]) or shape_problems(doc, version)
    if doc is None or problems:
        refuse(problems, f"{path} would not pass `hks validate`; nothing was changed")


def _existing(root: Path, path: Path, kind: str, name: str, namespace: str) -> dict[str, Any]:
    """The secret file already there, if it is the same object (so its other keys are kept);
    read as validate reads it: a regular file of the repository, within every limit."""
    if not (path.exists() or path.is_symlink()):
        return {}
    from compiler.commands.editing import refuse
    from compiler.load.parse import to_plain
    from compiler.load.repo import load_file

    doc, problems = load_file(path, root)
    if doc is None:
        refuse(problems, f"{path}: exists and cannot be read; move it away first (nothing was changed)")
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
