"""The typed config model: the single source of truth for what a config repository may say.

The JSON Schemas in `schemas/` are generated from these classes (`hks schema`), and every key's
description here is the documentation editors show.
"""

from __future__ import annotations

import types
import typing
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, Discriminator, Field, Tag, create_model

from compiler.model.types import DNS_SUBDOMAIN as DNS_SUBDOMAIN
from compiler.model.types import ENDPOINT as ENDPOINT
from compiler.model.types import SecretName, Strict
from compiler.providers import registry
from compiler.providers.base import Settings

DNS_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
INT32_MAX = 2**31 - 1  # Kubernetes' int32 fields (replica counts)
# AMD GPUs: the groups that own /dev/kfd and /dev/dri/renderD* on the node. `video` is 44 on Debian
# and Ubuntu; `render` is allocated per host (104 to 110 and 991 to 993 are all reported): 109 is
# the GID ROCm's own container images give it, to match Ubuntu hosts (ROCm/ROCm-docker#93).
AMD_DEVICE_GROUPS = (44, 109)
# An RBAC subject's name: not empty, no control characters (the API server refuses both).
SUBJECT = r"^[^\x00-\x1f\x7f]+$"
RESIDENCY = r"^(on-premises|[a-z]{2})$"
DURATION = r"^(-1|0|[0-9]+(ms|s|m|h))$"
SHA256 = r"^[0-9a-f]{64}$"
NO_TRIPLE_QUOTES = r'^([^"]|"[^"]|""[^"])*"{0,2}$'
MODEL_NAME = r"^[A-Za-z0-9][A-Za-z0-9._/:-]{0,199}$"
# Values that reach a script or a line-based file (models.txt, gguf-sources.txt, the Modelfile,
# `ollama pull`, curl): one token, no whitespace or control character, no leading `-`.
PROVIDER_MODEL = r"^[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,199}$"  # also Vertex's `name@version`
SOURCE = r"^[^\s\x00-\x1f\x7f-][^\s\x00-\x1f\x7f]{0,2047}$"
PARAMETER_KEY = r"^[a-z][a-z0-9_]{0,63}$"
REL_FOLDER = r"^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*/?$"
REPO_FOLDER = r"^(\.|[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*/?)$"

if TYPE_CHECKING:  # the provider modules say what is valid; a type checker sees the common part
    ProviderName = str
    ProviderSettings = Settings
else:
    # The schema's enum: the registry's sorted names. Its settings: every provider's keys.
    ProviderName = Literal[registry.NAMES]
    ProviderSettings = registry.settings_class()
Framework = Literal["hipaa", "gdpr", "soc2"]
DnsLabel = Annotated[str, Field(pattern=DNS_LABEL, max_length=63)]
Residency = Annotated[
    str,
    Field(
        pattern=RESIDENCY,
        description="Where data may be processed: a two-letter region (`eu`, `us`, `jp`, ...) or "
        "`on-premises` (nothing leaves the cluster).",
        examples=["eu", "on-premises"],
    ),
]


def is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def unwrap_type(tp: Any) -> Any:
    """Strips Optional and Annotated; of other unions, keeps the one model member if any."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            models = [a for a in members if is_model(unwrap_type(a))]
            tp = models[0] if len(members) > 1 and models else members[0]
        else:
            return tp


# --- llm_config -------------------------------------------------------------------------------


class Fallback(Strict):
    """A model the gateway tries when the primary fails."""

    provider: ProviderName = Field(description="The fallback's provider.")
    model: str = Field(min_length=1, pattern=PROVIDER_MODEL, description="The fallback's model name.")


class Embeddings(Strict):
    """The model a workspace's services embed text with (semantic search), routed by the gateway
    under the alias `<workspace>.embeddings` with the same limits, budget, PII handling and
    compliance rules as the chat model."""

    provider: ProviderName = Field(description="Who serves the embedding model (Anthropic offers none).")
    model: str = Field(
        min_length=1,
        description="The embedding model: an Ollama tag or the provider's model name.",
        examples=["nomic-embed-text:v1.5", "text-embedding-3-small"],
    )


class RateLimit(Strict):
    rpm: int | None = Field(None, ge=1, description="Requests per minute.", examples=[600])
    tpm: int | None = Field(None, ge=1, description="Tokens per minute.", examples=[100000])


class Budget(Strict):
    monthly_usd: float = Field(gt=0, description="Spend limit per calendar month, in US dollars.", examples=[500])


class Cache(Strict):
    enabled: bool = Field(False, description="Cache responses to identical requests in the gateway.")
    ttl_seconds: int | None = Field(None, ge=1, description="How long a cached response is kept.")


class Sanitization(Strict):
    pii: Literal["redact", "block", "off"] = Field(
        "off", description="What the gateway does with personal data in prompts: redact it, block the request, or nothing."
    )


class LLMConfig(Strict):
    """The LLM settings: the organisation's defaults, and each workspace's effective result."""

    provider: ProviderName = Field(description="Who serves the model.", examples=["ollama", "openai"])
    model: str = Field(
        min_length=1,
        pattern=PROVIDER_MODEL,
        description="The model: an Ollama tag or the provider's model name.",
        examples=["llama3:8b", "gpt-4"],
    )
    temperature: float = Field(0.7, ge=0, le=2, description="Sampling temperature, 0 to 2.", examples=[0.7])
    max_tokens: int = Field(4096, ge=1, description="The most tokens a response may have.", examples=[4096])
    top_p: float | None = Field(None, ge=0, le=1, description="Nucleus sampling, 0 to 1.")
    timeout_seconds: int | None = Field(None, ge=1, description="How long the gateway waits for the provider.")
    fallbacks: list[Fallback] | None = Field(None, description="Models tried in order when this one fails.")
    embeddings: Embeddings | None = Field(
        None, description="The embedding model, routed as `<workspace>.embeddings` (docs/gateway.md, \"Embeddings\")."
    )
    rate_limit: RateLimit | None = Field(None, description="Request and token limits per minute.")
    budget: Budget | None = Field(None, description="Monthly spend limit.")
    cache: Cache | None = Field(None, description="Response caching in the gateway.")
    sanitization: Sanitization | None = Field(None, description="Personal data handling before the provider sees a prompt.")
    priority: Literal["critical", "standard", "batch"] = Field(
        "standard", description="Queue priority of this workload's requests."
    )


REQUIRED_LLM_KEYS = frozenset(name for name, f in LLMConfig.model_fields.items() if f.is_required())


def _partial(model: type[Strict], name: str, doc: str) -> type[Strict]:
    """`model` with every key optional and nullable (`null` drops an inherited value),
    nested settings blocks included: an override may set any subset at any depth."""
    fields: dict[str, Any] = {}
    for key, info in model.model_fields.items():
        nested = unwrap_type(info.annotation)
        if is_model(nested):
            annotation: Any = _partial(nested, f"{nested.__name__}Override", nested.__doc__ or "")
        else:
            annotation = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
        fields[key] = (annotation | None, Field(None, description=info.description, examples=info.examples))
    partial: type[Strict] = create_model(name, __base__=Strict, __doc__=doc, **fields)
    return partial


if TYPE_CHECKING:

    class LLMOverride(Strict):
        """What the type checker sees of the partial model built at run time."""

else:
    LLMOverride = _partial(
        LLMConfig, "LLMOverride", "Any subset of llm_config's keys; `null` drops an inherited optional key."
    )


# --- workspaces -------------------------------------------------------------------------------


Subject = Annotated[str, Field(pattern=SUBJECT, max_length=253)]


class Members(Strict):
    groups: list[Subject] = Field(default_factory=list, description="Groups bound to the workspace's role.")
    users: list[Subject] = Field(default_factory=list, description="Users bound to the workspace's role.")


class Usage(Strict):
    """Expected volume, for `hks cost`."""

    requests_per_day: int = Field(ge=0, description="Requests per day.", examples=[5000])
    input_tokens: int = Field(ge=0, description="Average input tokens per request.", examples=[800])
    output_tokens: int = Field(ge=0, description="Average output tokens per request.", examples=[300])
    embedding_tokens_per_day: int | None = Field(
        None, ge=0, description="Tokens sent to the embedding model per day (`llm_config.embeddings`).", examples=[2000000]
    )


class WorkspaceBody(Strict):
    """A workspace, as written inline under `workspaces:` in org.yaml."""

    namespace: DnsLabel | None = Field(None, description="The workspace's namespace (default: its name).")
    members: Members | None = Field(None, description="Who the workspace's RBAC binds.")
    llm_override: LLMOverride | None = Field(
        None, description="Overrides of the organisation's llm_config."
    )
    compliance: list[Framework] = Field(
        default_factory=list, description="Frameworks added to the organisation's (never removed)."
    )
    data_residency: Residency | None = Field(None, description="May narrow the organisation's residency, never widen it.")
    usage: Usage | None = Field(None, description="Expected volume, for `hks cost`.")


class WorkspaceFile(WorkspaceBody):
    """A workspace file, `workspaces/<name>.yaml`."""

    workspace: DnsLabel | None = Field(None, description="The workspace's name; must match the file's name.")


# --- organisation -----------------------------------------------------------------------------


class SecretStoreRef(Strict):
    name: DnsLabel = Field(description="The external-secrets store's name.")
    kind: Literal["SecretStore", "ClusterSecretStore"] = Field("ClusterSecretStore")


class Secrets(Strict):
    backend: Literal["external-secrets", "sealed-secrets", "none"] = Field(
        "none", description="How secrets reach the cluster; `none` only references them."
    )
    store: SecretStoreRef | None = Field(None, description="external-secrets: the store to read from.")
    cert: str | None = Field(None, description="sealed-secrets: path to the cluster's public certificate.")


class CustomModel(Strict):
    """A custom GGUF model, imported with a Modelfile."""

    name: str = Field(pattern=MODEL_NAME, description="The model's name in Ollama.", examples=["acme-support:7b"])
    source: str = Field(min_length=1, pattern=SOURCE, description="URL of the GGUF file.")
    sha256: str = Field(pattern=SHA256, description="The GGUF file's sha256, checked before import.")
    parameters: dict[Annotated[str, Field(pattern=PARAMETER_KEY)], str | int | float] = Field(
        default_factory=dict, description="Modelfile PARAMETERs."
    )
    system: str | None = Field(None, pattern=NO_TRIPLE_QUOTES, description="Modelfile SYSTEM prompt.")


def _model_kind(value: Any) -> str:
    return "~custom" if isinstance(value, dict) else "~tag"


# Union member tags start with `~`, so diagnostics can tell them from keys in the user's file
# (which may start with `~` too: schema.py drops exactly these names from error locations).
UNION_TAGS = ("~tag", "~custom")
ModelEntry = Annotated[
    Annotated[Annotated[str, Field(pattern=MODEL_NAME)], Tag(UNION_TAGS[0])] | Annotated[CustomModel, Tag(UNION_TAGS[1])],
    Discriminator(_model_kind),
]


class Toleration(Strict):
    key: str | None = None
    operator: Literal["Exists", "Equal"] = "Equal"
    value: str | None = None
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None


class Gpu(Strict):
    vendor: Literal["nvidia", "amd", "none"] = Field("nvidia", description="GPU vendor; `none` runs on CPU.")
    count: int = Field(1, ge=0, description="GPUs per node.")
    memory_gib: float | None = Field(None, gt=0, description="Memory per GPU, GiB.", examples=[24])
    hourly_usd: float | None = Field(None, ge=0, description="Cost of one LLM node per hour, for `hks cost`.")
    runtime_class: str | None = Field(
        None,
        pattern=DNS_SUBDOMAIN,
        max_length=253,
        description="The pods' `runtimeClassName` (a RuntimeClass the GPU operator installs, such as `nvidia`); "
        "the cluster's default runtime when unset.",
        examples=["nvidia"],
    )
    device_groups: list[Annotated[int, Field(ge=1, le=INT32_MAX)]] = Field(
        default=list(AMD_DEVICE_GROUPS),
        max_length=16,
        description="With `vendor: amd`: the group IDs that own `/dev/kfd` and `/dev/dri/renderD*` on the nodes, "
        "given to the Ollama pods as `supplementalGroups` (`video` is 44 on Debian and Ubuntu; `render` is "
        "allocated per host: check with `getent group render` on a node).",
        examples=[[44, 993]],
    )


class PoolReplicas(Strict):
    min: int = Field(1, ge=0, le=INT32_MAX, description="Pods the pool keeps running when idle; 0 scales it to "
                     "zero, with a cold start on the first request after idle (docs/self-hosted.md, \"Autoscaling\").")
    max: int = Field(1, ge=1, le=INT32_MAX, description="The most pods KEDA scales the pool to under load; above "
                     "`min`, the pool gets a ScaledObject.")
    node_start_seconds: int = Field(
        300,
        ge=0,
        le=3600,
        description="With `min: 0`: how long the cluster's node autoscaler takes to add a GPU node for the pool's "
        "first pod (0 when a node of the pool stays up). Counted in the cold start the gateway's retries wait "
        "out (docs/self-hosted.md, \"Scale to zero\").",
    )


class Pool(Strict):
    """A group of identical GPU nodes serving some of the self-hosted models: one Deployment and
    its Service (docs/self-hosted.md, "GPU pools")."""

    name: str = Field(
        pattern=DNS_LABEL,
        max_length=40,
        description="The pool's name: its Deployment and Service are `ollama-NAME`.",
        examples=["small"],
    )
    node_selector: dict[str, str] = Field(
        default_factory=lambda: {"node-role": "llm"}, description="Labels of the pool's nodes."
    )
    tolerations: list[Toleration] = Field(default_factory=list, description="Tolerations for the pool's nodes' taints.")
    gpu: Gpu = Field(default_factory=Gpu, description="The GPUs of each of the pool's pods (one pod per node).")
    models: list[ModelEntry] = Field(min_length=1, description="Ollama tags or custom GGUF models the pool serves.")
    replicas: PoolReplicas = Field(default_factory=PoolReplicas)
    snapshot: str | None = Field(
        None,
        pattern=DNS_SUBDOMAIN,
        max_length=253,
        description="A VolumeSnapshot in the Ollama namespace that holds this pool's models: each new pod's "
        "ephemeral volume is cloned from it instead of pulling them (in place of `self_hosted.storage.snapshot` for "
        "this pool; only with `storage.type: ephemeral`). docs/self-hosted.md, \"Storage for pools\".",
        examples=["ollama-large-models"],
    )


class Storage(Strict):
    """Where each LLM node keeps its models (docs/self-hosted.md, "Storage" and "Storage for pools",
    weighs the kinds)."""

    type: Literal["ephemeral", "host-path"] = Field(
        "ephemeral",
        description="`ephemeral`: a generic ephemeral volume per Ollama pod from `storage_class` (Pod Security "
        "`restricted`; models are pulled again when the pod is replaced). `host-path`: a node-local folder that "
        "survives pod replacement, but makes the platform namespace `privileged`.",
    )
    storage_class: str | None = Field(
        None,
        pattern=DNS_SUBDOMAIN,
        max_length=253,
        description="StorageClass of the ephemeral volume (a node-local one, such as local-path or TopoLVM); "
        "the cluster's default when unset.",
        examples=["local-path"],
    )
    size: str = Field(
        "200Gi", pattern=r"^[1-9][0-9]{0,5}(Mi|Gi|Ti)$", description="Size of the ephemeral volume.", examples=["500Gi"]
    )
    host_path: str = Field(
        "/var/lib/hks/ollama",
        pattern=r"^/[A-Za-z0-9._/-]*$",
        max_length=1024,
        description="Node-local folder for the models, with `type: host-path`.",
    )
    snapshot: str | None = Field(
        None,
        pattern=DNS_SUBDOMAIN,
        max_length=253,
        description="A VolumeSnapshot in the Ollama namespace that already holds the models: each pod's ephemeral "
        "volume is cloned from it (the claim's `dataSource`), so a new pod only checks its models instead of pulling "
        "them, and Pod Security stays `restricted`. Only with `type: ephemeral`; the StorageClass's CSI driver must "
        "restore snapshots and `size` be at least the snapshot's restoreSize. A pool's own `snapshot` replaces it. "
        "docs/self-hosted.md, \"Storage for pools\".",
        examples=["ollama-models"],
    )


class SelfHosted(Strict):
    models: list[ModelEntry] = Field(default_factory=list, description="Ollama tags or custom GGUF models.")
    node_selector: dict[str, str] = Field(
        default_factory=lambda: {"node-role": "llm"}, description="Labels of the LLM nodes."
    )
    tolerations: list[Toleration] = Field(default_factory=list, description="Tolerations for the LLM nodes' taints.")
    gpu: Gpu = Field(default_factory=Gpu, description="The LLM nodes' GPUs.")
    context_length: int | None = Field(None, ge=256, description="Caps every model's context (OLLAMA_CONTEXT_LENGTH).")
    storage: Storage = Field(default_factory=Storage)
    keep_alive: str = Field("5m", pattern=DURATION, description="How long a model stays loaded; `-1` forever.")
    num_parallel: int = Field(1, ge=1, description="Parallel requests per model.")
    max_loaded_models: int = Field(1, ge=1, description="Models loaded at once per node.")
    max_queue: int = Field(512, ge=1, description="Requests queued before Ollama answers busy.")
    image: str | None = Field(None, description="Override of the pinned Ollama image.")
    nodes: int = Field(1, ge=1, description="How many LLM nodes run Ollama, for `hks cost` (× `gpu.hourly_usd`).")
    pools: list[Pool] = Field(
        default_factory=list,
        description="GPU pools, each a Deployment serving its own models, in place of the one DaemonSet on every "
        "LLM node (`models`, `node_selector`, `tolerations`, `gpu` and `nodes` then move into the pools).",
    )
    shared_models: list[Annotated[str, Field(pattern=MODEL_NAME)]] = Field(
        default_factory=list,
        description="Models that more than one pool lists on purpose: the gateway spreads their requests across "
        "those pools. A model in two pools that is not named here is an error (POOL-003).",
    )


class Replicas(Strict):
    min: int = Field(2, ge=1, le=INT32_MAX)
    max: int = Field(4, ge=1, le=INT32_MAX)


class GatewayCache(Strict):
    redis_secret: SecretName | None = Field(
        None,
        description="Secret with the Redis connection (data keys `host`, `port`, `password`), shared by the "
        "replicas for the response cache, rate-limit and budget counters.",
    )
    phi_approved: bool = Field(
        False,
        description="The organisation has assessed the response cache as a store for protected health "
        "information (encrypted, access-controlled, within a BAA's scope), so HIPAA workspaces may cache.",
    )


class AuditLog(Strict):
    enabled: bool = Field(
        False, description="Keep an audit trail of every request in the gateway's Postgres spend logs (needs `database_secret`)."
    )
    retention_days: int | None = Field(None, ge=1, description="How long audit records are kept.")
    store_prompts: bool = Field(False, description="Keep prompts and responses in the audit records too.")


class Gateway(Strict):
    replicas: Replicas = Field(default_factory=Replicas)
    image: str | None = Field(None, description="Override of the pinned LiteLLM proxy image.")
    cache: GatewayCache | None = None
    audit_log: AuditLog = Field(default_factory=AuditLog)
    database_secret: SecretName | None = Field(
        None, description="Secret with the Postgres URL for spend logs (data key `url`)."
    )
    master_key_secret: SecretName = Field(
        "llm-gateway-master-key", description="Secret with the gateway's admin key (data key `key`)."
    )

    @property
    def shares_state(self) -> bool:
        """Whether the replicas count rate limits, budgets and the cache together (through Redis)."""
        return self.cache is not None and self.cache.redis_secret is not None


class Destination(Strict):
    server: str = Field("https://kubernetes.default.svc")
    name: str | None = None


class IssuerRef(Strict):
    name: str = Field(pattern=DNS_SUBDOMAIN, max_length=253, description="The cert-manager issuer's name.")
    kind: Literal["Issuer", "ClusterIssuer"] = Field(
        "ClusterIssuer", description="`Issuer` must live in each namespace hks renders; `ClusterIssuer` serves them all."
    )


class CASource(Strict):
    secret: str = Field(
        pattern=DNS_SUBDOMAIN,
        max_length=253,
        description="A Secret in trust-manager's trust namespace (`cert-manager` unless installed otherwise) that holds "
        "the issuer's CA certificate.",
    )
    key: str = Field(
        "tls.crt",
        pattern=r"^[-._a-zA-Z0-9]+$",
        max_length=253,
        description="Its key with the CA certificate (PEM): `tls.crt` in a CA issuer's own key pair, `ca.crt` in a "
        "Certificate's Secret.",
    )


class TLS(Strict):
    issuer: IssuerRef = Field(description="The cert-manager issuer that signs a certificate for every hop hks renders.")
    ca: CASource = Field(
        description="Where trust-manager reads the issuer's CA to give every client (a `Bundle` with the public roots "
        "beside it, docs/security.md)."
    )


class Cluster(Strict):
    namespace: DnsLabel = Field("hexabase-aiops", description="Namespace of the platform services.")
    kubernetes_version: str = Field("1.37", pattern=r"^1\.[0-9]+$", description="Kubernetes version to validate against.")
    cni: Literal["default", "cilium"] = Field("default", description="`cilium` adds FQDN egress policies.")
    repo_url: str | None = Field(None, description="Argo CD: the repository holding the rendered manifests.")
    revision: str = Field("HEAD", description="Argo CD: the revision to sync.")
    path: str = Field(
        "rendered",
        pattern=REL_FOLDER,
        description="The rendered folder, relative to the config folder: what `hks render --check` checks and Argo CD deploys.",
    )
    config_folder: str = Field(
        ".",
        pattern=REPO_FOLDER,
        description="Argo CD: the config folder's place in repo_url (`.`: the repository's top), "
        "so the Application finds config_folder/path.",
        examples=["llm-config"],
    )
    destination: Destination = Field(default_factory=Destination)
    applications: Literal["single", "per-workspace"] = Field("single")
    mesh: Literal["none", "istio", "linkerd"] = Field(
        "none",
        description="The service mesh that encrypts and authenticates every hop inside the cluster (mutual TLS, "
        "strict), with authorization policies for exactly the flows hks renders (docs/security.md).",
    )
    tls: TLS | None = Field(
        None,
        description="Without a mesh: cert-manager certificates for the gateway, Ollama and Presidio, "
        "and their CA given to every client (docs/security.md).",
    )


class Thresholds(Strict):
    error_rate: float = Field(0.05, gt=0, le=1, description="Error ratio that alerts.")
    p95_latency_seconds: float = Field(10, gt=0, description="p95 latency that alerts.")
    budget_warning_ratio: float = Field(0.8, gt=0, le=1, description="Share of budget spent that warns.")


LABEL_KEY = r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
LABEL_VALUE = r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$"
Labels = dict[Annotated[str, Field(pattern=LABEL_KEY)], Annotated[str, Field(pattern=LABEL_VALUE)]]


class Monitoring(Strict):
    enabled: bool = Field(True, description="Render the ServiceMonitor, alert rules and dashboards; turn on LiteLLM's metrics.")
    prometheus_labels: Labels = Field(
        default_factory=lambda: {"release": "prometheus"}, description="Labels Prometheus selects monitors on."
    )
    grafana_dashboard_label: Labels = Field(
        default_factory=lambda: {"grafana_dashboard": "1"}, description="Label the Grafana sidecar selects on."
    )
    thresholds: Thresholds = Field(default_factory=Thresholds)
    prometheus_namespace: DnsLabel = Field(
        "monitoring", description="Namespace Prometheus runs in; the gateway's NetworkPolicy lets it scrape /metrics."
    )
    prometheus_url: str = Field(
        "http://prometheus-operated.monitoring.svc:9090",
        pattern=r"^https?://[^\s/]+(/\S*)?$",
        description="Where KEDA queries Prometheus to scale the GPU pools (the Prometheus Operator's "
        "`prometheus-operated` Service by default).",
    )
    runbook_url: str = Field(
        "https://github.com/hexabase/hks/blob/main/docs/runbooks.md",
        pattern=r"^https?://\S+$",
        description="Where the alert runbooks are published; each alert links to its section.",
    )


class OrgFile(Strict):
    """org.yaml: the organisation's defaults."""

    organization: DnsLabel | None = Field(None, description="The organisation's name; default: the folder's name.")
    llm_config: LLMConfig = Field(description="The default LLM settings every workspace inherits.")
    workspaces: dict[DnsLabel, WorkspaceBody] = Field(default_factory=dict, description="Workspaces defined inline.")
    compliance: list[Framework] = Field(default_factory=list, description="Frameworks every workspace follows.")
    data_residency: Residency | None = Field(None)
    providers: dict[ProviderName, ProviderSettings] = Field(default_factory=dict, description="Per-provider settings.")
    secrets: Secrets = Field(default_factory=Secrets)
    self_hosted: SelfHosted | None = Field(None, description="The Ollama deployment.")
    gateway: Gateway = Field(default_factory=Gateway)
    cluster: Cluster = Field(default_factory=Cluster)
    monitoring: Monitoring = Field(default_factory=Monitoring)


__all__ = ["LLMConfig", "LLMOverride", "OrgFile", "WorkspaceBody", "WorkspaceFile"]
