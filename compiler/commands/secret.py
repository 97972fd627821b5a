from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import click

from compiler.commands.editing import SuggestingGroup, fail, fail_usage, finish, repo_options

SECRET_NAME = r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"
DATA_KEY = r"^[-._a-zA-Z0-9]{1,253}$"
HEADER = (
    "# Written by `hks secret create`: sealed with the cluster's certificate (secrets.cert);\n"
    "# only that cluster's Sealed Secrets controller can unseal it, into {namespace}/{name}.\n"
)


@click.group(
    cls=SuggestingGroup,
    epilog="""\b
Examples:
  # from the platform guide (the value is read from stdin, so it stays out of shell history)
  hks secret create openai-api-key --from-literal=key=-
  hks secret create openai-api-key --from-literal=key=sk-...
  hks secret create vertex-credentials --from-file=key=./service-account.json""",
)
def command() -> None:
    """Store secrets for the cluster: sealed for Sealed Secrets, or as an external-secrets reference."""


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

    if not re.match(SECRET_NAME, name):
        fail_usage(f"'{name}' is not a Secret name: lowercase letters, digits, '-' and '.'")
    sources = _sources(literals, files)
    compiled = compile_config(directory)
    if compiled.config is None:  # other errors do not stop it: only secrets and cluster are read
        refuse(compiled.diagnostics, "org.yaml must be readable to know where the secret goes; nothing was changed")
    org = compiled.config.org
    namespace = org.cluster.namespace
    path = Path(directory) / "secrets" / f"{name}.yaml"
    readers = _readers(compiled, name)
    if org.secrets.backend == "none":
        fail(
            "secrets.backend is `none`: hks only references secrets, and this one must be made in the cluster "
            f"by other means (for example `kubectl create secret generic {name} -n {namespace} --from-literal=key=...`)",
            hint="to keep secrets in this repository, set secrets.backend: sealed-secrets and secrets.cert "
            "(kubeseal --fetch-cert > sealed-secrets.pem); to read them from a vault, external-secrets and secrets.store",
        )
    if org.secrets.backend == "external-secrets":
        _external(name, namespace, org.secrets.store, sorted(sources), readers)
        return
    held = _sealed(directory, path, name, namespace, org.secrets.cert, sources, overwrite, dry_run)
    _say_readers(name, held, readers)


def _readers(compiled: Any, name: str) -> dict[str, str]:
    """The data keys of Secret `name` the rendered gateway reads, and what for."""
    from compiler import secretrefs

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
            if not sep or not re.match(DATA_KEY, key):
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


def _read(kind: str, where: str) -> bytes:
    if kind == "file":
        path = Path(where)
        try:
            return path.read_bytes()
        except OSError as exc:
            fail_usage(f"{where}: cannot read: {exc.strerror}")
    if where == "-":
        if sys.stdin.isatty():  # typed, not piped: ask without echoing it
            return str(click.prompt("value (input hidden)", hide_input=True, err=True)).encode("utf-8")
        value = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
        # `echo $KEY | hks secret create ...` adds a newline the key does not have
        return value[:-2] if value.endswith(b"\r\n") else value[:-1] if value.endswith(b"\n") else value
    return where.encode("utf-8")


def _sealed(
    directory: str, path: Path, name: str, namespace: str, cert: str | None,
    sources: dict[str, tuple[str, str]], overwrite: bool, dry_run: bool,
) -> list[str]:
    """Seals the values into secrets/NAME.yaml; returns the data keys the file holds."""
    from compiler import seal
    from compiler.errors import InputError

    if not cert:
        fail("secrets.backend is sealed-secrets but secrets.cert is not set",
             hint="kubeseal --fetch-cert > sealed-secrets.pem, then set secrets.cert: sealed-secrets.pem")
    cert_path = Path(directory) / cert
    try:
        key = seal.public_key(cert_path.read_bytes(), str(cert_path))
    except OSError as exc:
        fail(f"{cert_path}: cannot read the sealing certificate (secrets.cert): {exc.strerror}")
    except InputError as exc:
        fail(str(exc))
    existing = _existing(path, "SealedSecret", name, namespace)
    encrypted = dict(existing.get("spec", {}).get("encryptedData") or {})
    done, kept = [], []
    for data_key, (kind, where) in sorted(sources.items()):
        if data_key in encrypted and not overwrite:
            kept.append(data_key)
            continue
        encrypted[data_key] = seal.seal(key, namespace, name, _read(kind, where))
        done.append(f"{path.parent.name}/{path.name}: sealed key '{data_key}' for {namespace}/{name}")
    if kept:
        click.echo(f"hks: {path.parent.name}/{path.name} already holds {', '.join(kept)}; kept (pass --overwrite to replace)", err=True)
    if not done:
        click.echo("nothing to change")
        return sorted(encrypted)
    text = _document(seal.sealed_secret(name, namespace, encrypted), name, namespace)
    finish(directory, [], dry_run=dry_run, done=done, texts={path: text},
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


def _existing(path: Path, kind: str, name: str, namespace: str) -> dict[str, Any]:
    """The secret file already there, if it is the same object (so its other keys are kept)."""
    if not path.exists():
        return {}
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        found = YAML(typ="safe", pure=True).load(path.read_text("utf-8"))
    except (YAMLError, OSError, UnicodeDecodeError):
        fail(f"{path}: exists and is not a readable YAML file; move it away first")
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
