from __future__ import annotations

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
    if (cert is not None) != (backend == "sealed-secrets"):
        fail_usage("--cert goes with sealed-secrets, and sealed-secrets needs it: --cert sealed-secrets.pem "
                   "(kubeseal --fetch-cert > sealed-secrets.pem)")
    if (store is not None) != (backend == "external-secrets"):
        fail_usage("--store goes with external-secrets, and external-secrets needs it: --store NAME")
    from compiler.tools import secret

    org = open_or_exit(require_org(directory, "secret backend"))
    if cert is not None:
        cert = secret.cert_in_config(Path(directory), cert)
        secret.check_cert(Path(directory), cert)
    done = secret.set_backend(org, backend, cert, {"name": store, "kind": store_kind} if store is not None else None)
    if finish(directory, [org], dry_run=dry_run, done=done, allow=frozenset({"SEC-002"})):
        for step in secret.to_store(directory, backend):
            click.echo(f"next: {step}")


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
    from compiler.tools import secret

    if not secret.is_name(name):
        fail_usage(f"{printable(repr(name))} is not a Secret name: lowercase letters, digits and '-', in parts "
                   "separated by '.', each starting and ending with a letter or digit")
    sources = _sources(literals, files)
    require_org(directory, "secret create")
    compiled = compile_config(directory)
    if compiled.config is None:  # other errors do not stop it: only secrets and cluster are read
        refuse(compiled.diagnostics, "org.yaml must be readable to know where the secret goes; nothing was changed")
    org = compiled.config.org
    namespace = org.cluster.namespace
    path = secret.secret_file(Path(directory) / "secrets", name)
    readers = secret.readers(compiled, name)
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
    from compiler.tools.secret import is_data_key

    found: dict[str, tuple[str, str]] = {}
    for option, kind, entries in (("--from-literal", "literal", literals), ("--from-file", "file", files)):
        for entry in entries:
            key, sep, rest = entry.partition("=")
            if not sep or not is_data_key(key):
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
    from compiler.tools import secret

    value = secret.read_file(where) if kind == "file" else _read_stdin() if where == "-" else where.encode("utf-8")
    return secret.checked_value(key, value)


def _read_stdin() -> bytes:
    from compiler.tools.secret import MAX_VALUE_BYTES

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
    from compiler.tools import secret

    sealing = secret.seal_values(directory, path, name, namespace, cert, sources,
                                 lambda key: _read(key, *sources[key]), overwrite=overwrite)
    if sealing.kept:
        click.echo(f"hks: {path} already holds {', '.join(sealing.kept)}; kept (pass --overwrite to replace)", err=True)
    if sealing.text is None:
        click.echo("nothing to change")
        return sealing.holds
    secret.check_readable(path, sealing.text, version)
    # the check sees the new file: one without a data key the gateway reads is noted below, not refused
    finish(directory, [], dry_run=dry_run, done=sealing.done, texts={path: sealing.text}, allow=frozenset({"SEC-002"}),
           next_steps=["commit it; `hks render` ships it and the cluster's controller unseals it"])
    return sealing.holds


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
