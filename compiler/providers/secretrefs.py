"""Which Secrets the gateway reads, under which environment variable names.

hks only ever handles names: the LiteLLM config says `os.environ/VAR`, the Deployment fills VAR
from a `secretKeyRef`, and the secrets backend (external-secrets, sealed-secrets or none) makes
the Secret exist.
"""

from __future__ import annotations

from compiler.merge import Workspace
from compiler.model.config import Config
from compiler.providers import registry
from compiler.providers.base import SecretRef

MASTER_KEY_ENV = "LITELLM_MASTER_KEY"
DATABASE_ENV = "DATABASE_URL"
REDIS_ENV = {"host": "REDIS_HOST", "port": "REDIS_PORT", "password": "REDIS_PASSWORD"}


def providers_in_use(workspaces: tuple[Workspace, ...]) -> list[str]:
    used = {w.llm.provider for w in workspaces}
    used |= {f.provider for w in workspaces for f in w.llm.fallbacks or ()}
    used |= {w.llm.embeddings.provider for w in workspaces if w.llm.embeddings}
    return sorted(used)


def references(config: Config, workspaces: tuple[Workspace, ...]) -> list[SecretRef]:
    gateway = config.org.gateway
    refs = [SecretRef(gateway.master_key_secret, "key", MASTER_KEY_ENV, "the gateway's admin key")]
    for provider in providers_in_use(workspaces):
        refs += registry.get(provider).secrets(config.org.providers.get(provider))
    if gateway.database_secret:
        refs.append(SecretRef(gateway.database_secret, "url", DATABASE_ENV, "the gateway's Postgres URL"))
    if gateway.cache and gateway.cache.redis_secret:
        for key, env in REDIS_ENV.items():
            refs.append(SecretRef(gateway.cache.redis_secret, key, env, f"the gateway's Redis {key}"))
    return refs


def by_secret(refs: list[SecretRef]) -> dict[str, list[SecretRef]]:
    grouped: dict[str, list[SecretRef]] = {}
    for ref in refs:
        grouped.setdefault(ref.secret, []).append(ref)
    return dict(sorted(grouped.items()))
