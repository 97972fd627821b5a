"""The provider protocol: everything hks knows about one LLM provider, asked through one class.

A provider is a module in this folder holding a `Provider` subclass (and, when it has keys of
its own under `providers.<name>`, a `Settings` subclass), whose instance is the module's
`PROVIDER`; `registry.PROVIDERS` lists it. The pipeline asks these methods and never branches on
a provider's name: the defaults below are an API-key provider's (one key in a Secret, one public
host, LiteLLM's `<prefix>/<model>`), so most providers override a few attributes only.

This module imports nothing of hks but the model's building blocks: the model (the schema's
provider names and settings) is built from the providers, not the other way round.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pydantic import Field

from compiler.model.types import ENDPOINT, Strict
from compiler.model.types import SecretName as SecretName  # for providers' own Secret settings

CLUSTER_SUFFIXES = (".svc", ".svc.cluster.local", ".cluster.local")  # Kubernetes Service names
HTTPS = 443


@dataclass(frozen=True, order=True)
class Endpoint:
    host: str
    port: int

    @property
    def is_ip(self) -> bool:
        try:
            ipaddress.IPv4Address(self.host)
        except ValueError:
            return False
        return True

    @property
    def is_internal(self) -> bool:
        """In the cluster or on a private network: not "outside" for `on-premises`."""
        if self.is_ip:
            return ipaddress.IPv4Address(self.host).is_private
        return "." not in self.host or self.host.endswith(CLUSTER_SUFFIXES)


def parse_endpoint(url: str) -> Endpoint:
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return Endpoint(parts.hostname or "", port)
    except ValueError:  # validate refuses such endpoints (GW-006) before anything renders
        return Endpoint("", 443)


@dataclass(frozen=True)
class SecretRef:
    secret: str  # the Kubernetes Secret's name
    key: str  # its data key
    env: str  # the gateway's environment variable
    purpose: str  # what it is for, in words, for messages and docs


class Settings(Strict):
    """The keys every provider takes under `providers.<name>`. A provider with keys of its own
    subclasses it; the org file's settings class inherits every provider's (registry.settings_class)."""

    api_key_secret: SecretName | None = Field(
        None, description="Name of the Secret holding the API key (data key `key`); default `<provider>-api-key`."
    )
    endpoint: str | None = Field(
        None, pattern=ENDPOINT, description="API base URL (for `ollama`: a server outside the cluster)."
    )
    region: str | None = Field(None, description="Region the provider processes in (Azure, OpenAI data residency).")
    baa: bool = Field(False, description="A HIPAA Business Associate Agreement is signed with this provider.")


S = TypeVar("S", bound=Settings)


def own(settings: Settings | None, kind: type[S]) -> S:
    """A provider's view of its settings: the org's settings object inherits every provider's
    class, so this is the object itself; its defaults when the provider has no settings."""
    return settings if isinstance(settings, kind) else kind()


class Provider:
    """One provider. Attributes are the facts; methods derive what depends on its settings."""

    name: str = ""  # its key under `providers:` and in `provider:`, sorted into registry.PROVIDERS
    title: str = ""  # how messages name it
    litellm_prefix: str = ""  # LiteLLM's provider prefix: the deployment's model is `<prefix>/<model>`
    key_env: str = ""  # the variable LiteLLM reads the API key from (`os.environ/...`); "" for none
    host: str = ""  # the public API host when `endpoint` is not set; "" for none
    commercial: bool = True  # a company processes the prompts and bills per token (else price 0)
    suggest_last: bool = False  # serves other makers' models: suggested after the maker
    catalogued: bool = True  # its model names are checked against the catalogue (CAT-*)
    settings: type[Settings] = Settings  # its keys under `providers.<name>`

    # --- secrets -------------------------------------------------------------------------------

    def default_secret(self) -> str:
        return f"{self.name}-api-key"

    def api_key_env(self, settings: Settings | None) -> str:
        return self.key_env

    def secrets(self, settings: Settings | None) -> list[SecretRef]:
        """The Secrets the gateway reads for this provider (none: it needs no credential)."""
        env = self.api_key_env(settings)
        if not env:
            return []
        secret = settings.api_key_secret if settings and settings.api_key_secret else self.default_secret()
        return [SecretRef(secret, "key", env, f"the {self.name} API key")]

    def service_account_annotations(self, settings: Settings | None) -> dict[str, str]:
        """Annotations the gateway's ServiceAccount needs (a cloud workload identity)."""
        return {}

    # --- network -------------------------------------------------------------------------------

    def endpoints(self, settings: Settings | None) -> list[Endpoint]:
        """Where the gateway connects for this provider; `endpoint`, when set, replaces the host."""
        if settings and settings.endpoint:
            return [parse_endpoint(settings.endpoint)]
        return [Endpoint(self.host, HTTPS)] if self.host else []

    # --- LiteLLM -------------------------------------------------------------------------------

    def litellm_params(self, model: str, embedding: bool, settings: Settings | None, namespace: str) -> dict[str, Any]:
        """The deployment's `litellm_params` that say where and how to call the model."""
        params: dict[str, Any] = {"model": f"{self.litellm_prefix}/{model}", "api_key": f"os.environ/{self.api_key_env(settings)}"}
        return {**params, "api_base": settings.endpoint} if settings and settings.endpoint else params

    def base_model(self, model: str, settings: Settings | None) -> str | None:
        """The model LiteLLM should price the deployment as, when its name hides it."""
        return None

    # --- catalogue, policy facts, checks -------------------------------------------------------

    def normalise(self, model: str) -> str:
        """The catalogue's name for a model name as written."""
        return model

    def mode(self, settings: Settings | None) -> tuple[str, str | None]:
        """Its deployment mode (a key under catalogue/providers.yaml's modes) and the region chosen."""
        return self.name, None

    def uses_vertex_dates(self, settings: Settings | None) -> bool:
        """Whether models retire on Vertex AI's dates (the catalogue's `vertex_retires`)."""
        return False

    def problems(self, settings: Settings | None) -> list[str]:
        """What its settings lack for LiteLLM to call it, in words (GW-005)."""
        return []

    # --- editing commands ----------------------------------------------------------------------

    def starter(self, model: str) -> str:
        """Its block in the org.yaml `hks init --provider` writes, which starts with `model`."""
        return api_key_block(self.name, self.default_secret())

    def enable_settings(self) -> dict[str, Any]:
        """What `hks llm enable` writes under `providers.<name>`."""
        return {"api_key_secret": self.default_secret()}

    def enable_steps(self) -> list[str]:
        """What is left to do after `hks llm enable`, besides storing the key."""
        return []


def api_key_block(name: str, secret: str, extra: str = "") -> str:
    return f"""
providers:
  {name}:
    # The Kubernetes Secret (data key `key`) in cluster.namespace that holds the API key; never
    # the key itself. Create it in the cluster, e.g.:
    #   kubectl -n hexabase-aiops create secret generic {secret} --from-literal=key=...
    api_key_secret: {secret}
{extra}"""
