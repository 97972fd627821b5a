"""The secrets backend's objects for the Secrets the gateway reads: ExternalSecrets, or the
repository's SealedSecrets passed through."""

from __future__ import annotations

from compiler.merge import Workspace
from compiler.model.config import Config
from compiler.providers import secretrefs
from compiler.render.base import Manifest, render_template, standard_labels


def render(config: Config, workspaces: tuple[Workspace, ...]) -> list[Manifest]:
    backend = config.org.secrets
    grouped = secretrefs.by_secret(secretrefs.references(config, workspaces))
    namespace = config.org.cluster.namespace
    labels = standard_labels(config, "secrets")
    if backend.backend == "external-secrets":
        assert backend.store is not None  # checks/gateway.py requires a store for this backend (SEC-004)
        return [
            Manifest(
                "platform/secrets",
                render_template(
                    "secrets/externalsecret.yaml.j2",
                    name=name,
                    namespace=namespace,
                    labels=labels,
                    store=backend.store.model_dump(),
                    data=[{"secretKey": r.key, "remoteRef": {"key": name, "property": r.key}} for r in refs],
                ),
            )
            for name, refs in grouped.items()
        ]
    if backend.backend == "sealed-secrets":
        from compiler.checks import sealed

        found = sealed.sealed_secrets(config)
        return [Manifest("platform/secrets", found[name].body) for name in grouped if name in found]
    return []
