"""The self-hosted models: which ones Ollama serves, and will they fit the LLM nodes' GPUs?

The estimate follows Ollama's own (docs/research/ollama.md §6): the model file plus an f16 KV
cache of 2 × layers × kv_heads × head_dim × 2 bytes per token, for min(context, trained
context) × num_parallel tokens, plus a fixed allowance for compute buffers. When no context is
configured, Ollama picks one from total GPU memory, and so does this estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.builtin import catalogue
from compiler.diagnostics import Position
from compiler.merge import Workspace
from compiler.model.config import Config
from compiler.model.model import CustomModel, PoolReplicas, SelfHosted
from compiler.providers.base import Endpoint
from compiler.providers.registry import SELF_HOSTED as SELF_HOSTED

GIB = 1024**3
COMPUTE_ALLOWANCE_GIB = 0.5


@dataclass(frozen=True)
class Estimate:
    model: str
    weights_gib: float
    kv_cache_gib: float
    context: int
    parallel: int

    @property
    def total_gib(self) -> float:
        return self.weights_gib + self.kv_cache_gib + COMPUTE_ALLOWANCE_GIB

    def explain(self) -> str:
        return (
            f"{self.weights_gib:.1f} GiB weights + {self.kv_cache_gib:.1f} GiB KV cache "
            f"({self.context} tokens × {self.parallel} parallel) + {COMPUTE_ALLOWANCE_GIB} GiB buffers"
        )


def gpu_memory_gib(hosted: SelfHosted) -> float | None:
    gpu = hosted.gpu
    if gpu.vendor == "none" or gpu.memory_gib is None or gpu.count == 0:
        return None
    return gpu.memory_gib * gpu.count


def default_context(total_gib: float | None) -> int:
    """Ollama's choice when OLLAMA_CONTEXT_LENGTH is unset (envconfig, 0.32)."""
    if total_gib is None:
        return 4096
    if total_gib >= 47:
        return 262144
    if total_gib >= 23:
        return 32768
    return 4096


def estimate(hosted: SelfHosted, model: str, num_ctx: int | None = None) -> Estimate | None:
    info = catalogue.lookup(SELF_HOSTED, model)
    if info is None or "layers" not in info.facts:
        return None
    facts = info.facts
    wanted = num_ctx or hosted.context_length or default_context(gpu_memory_gib(hosted))
    context = min(wanted, info.context_window)
    per_token = 2 * facts["layers"] * facts["kv_heads"] * facts["head_dim"] * 2
    kv = per_token * context * hosted.num_parallel / GIB
    weights = facts["download_gb"] * 1e9 / GIB
    return Estimate(info.name, weights, kv, context, hosted.num_parallel)


@dataclass(frozen=True)
class ServedModel:
    name: str
    position: Position
    custom: CustomModel | None = None


def models_to_serve(entries: list[str | CustomModel], listed: list[Position], used: list[tuple[str, Position]]) -> list[ServedModel]:
    """The listed models in order, then any Ollama model a workspace uses that is not listed
    (pulled all the same: a model in use is never missing from the nodes)."""
    served: list[ServedModel] = []
    names: set[str] = set()
    for entry, position in zip(entries, listed, strict=False):
        name = entry if isinstance(entry, str) else entry.name
        if name not in names:
            served.append(ServedModel(name, position, None if isinstance(entry, str) else entry))
            names.add(name)
    for name, position in used:
        if name not in names:
            served.append(ServedModel(name, position))
            names.add(name)
    return served


def served_models(config: Config, workspaces: tuple[Workspace, ...]) -> list[ServedModel]:
    from compiler.model.model import SelfHosted

    hosted = config.org.self_hosted or SelfHosted()
    if hosted.pools:  # every pool's models; a model in use that no pool serves is POOL-002
        entries = [entry for pool in hosted.pools for entry in pool.models]
        listed = [
            config.org_doc.position(("self_hosted", "pools", i, "models", j))
            for i, pool in enumerate(hosted.pools)
            for j in range(len(pool.models))
        ]
    else:
        entries = list(hosted.models)
        listed = [config.org_doc.position(("self_hosted", "models", i)) for i in range(len(hosted.models))]
    return models_to_serve(entries, listed, used_models(config, workspaces))


def pull_endpoints(config: Config, workspaces: tuple[Workspace, ...]) -> list[Endpoint]:
    """Every host (and port) the LLM nodes download models from: the registries of the models
    Ollama pulls (a cloud model has none: it is refused, never pulled) and the custom GGUF
    sources. `Endpoint.is_internal` tells the ones in the cluster or on private addresses apart."""
    from compiler.providers import ollama
    from compiler.providers.base import parse_endpoint

    found: set[Endpoint] = set()
    for model in served_models(config, workspaces):
        if model.custom is not None:
            found.add(parse_endpoint(model.custom.source))
        elif not catalogue.is_cloud(SELF_HOSTED, model.name):
            found.update(ollama.pull_endpoints(model.name))
    return sorted(e for e in found if e.host)


def used_models(config: Config, workspaces: tuple[Workspace, ...]) -> list[tuple[str, Position]]:
    """Every Ollama model the organisation's defaults and the workspaces use, at the line that
    names it: primary models, fallbacks and embedding models."""
    used: list[tuple[str, Position | None]] = []
    llm = config.org.llm_config
    if llm.provider == SELF_HOSTED:
        used.append((llm.model, config.org_doc.position(("llm_config", "model"))))
    if llm.embeddings and llm.embeddings.provider == SELF_HOSTED:
        used.append((llm.embeddings.model, config.org_doc.position(("llm_config", "embeddings", "model"))))
    for workspace in workspaces:
        if workspace.llm.provider == SELF_HOSTED:
            used.append((workspace.llm.model, workspace.llm_sources["model"].origin))
        for fallback in workspace.llm.fallbacks or ():
            if fallback.provider == SELF_HOSTED:
                used.append((fallback.model, workspace.llm_sources["fallbacks"].origin))
        embeddings = workspace.llm.embeddings
        if embeddings and embeddings.provider == SELF_HOSTED:
            used.append((embeddings.model, workspace.llm_sources["embeddings.model"].origin))
    return [(n, p) for n, p in used if p is not None]


def listed_models(config: Config) -> list[tuple[str | CustomModel, tuple[str | int, ...], str]]:
    """Every model entry the config lists, with its place in org.yaml and the list's name:
    `self_hosted.models`, then each pool's `models` (as `pool 'NAME'`)."""
    hosted = config.org.self_hosted
    if hosted is None:
        return []
    found: list[tuple[str | CustomModel, tuple[str | int, ...], str]] = [
        (entry, ("self_hosted", "models", index), "self_hosted.models") for index, entry in enumerate(hosted.models)
    ]
    for i, pool in enumerate(hosted.pools):
        found += [(entry, ("self_hosted", "pools", i, "models", j), f"pool '{pool.name}'") for j, entry in enumerate(pool.models)]
    return found


# --- GPU pools (docs/self-hosted.md, "GPU pools") ------------------------------------------------


@dataclass(frozen=True)
class ServedPool:
    """One pool: its settings (the organisation's `self_hosted` with the pool's nodes, GPUs and
    models in place of the DaemonSet's), its models at their lines, and its replicas."""

    name: str
    index: int
    hosted: SelfHosted
    models: list[ServedModel]
    replicas: PoolReplicas
    position: Position

    @property
    def service(self) -> str:
        return pool_service(self.name)

    @property
    def autoscaled(self) -> bool:
        """Whether KEDA owns the pool's replicas (render/components/autoscaling.py): it may grow."""
        return self.replicas.max > self.replicas.min


def pool_service(name: str) -> str:
    """The pool's Deployment, Service and ConfigMap prefix: `ollama-NAME`."""
    return f"ollama-{name}"


def served_pools(config: Config) -> list[ServedPool]:
    """`self_hosted.pools` in order; empty for the one-DaemonSet form."""
    hosted = config.org.self_hosted
    if hosted is None:
        return []
    found = []
    for index, pool in enumerate(hosted.pools):
        where = ("self_hosted", "pools", index)
        settings = hosted.model_copy(
            update={
                "models": pool.models,
                "node_selector": pool.node_selector,
                "tolerations": pool.tolerations,
                "gpu": pool.gpu,
                # A pool's own VolumeSnapshot replaces the organisation's (docs/self-hosted.md,
                # "Storage for pools"); the rest of `storage` applies to every pool.
                "storage": hosted.storage.model_copy(update={"snapshot": pool.snapshot or hosted.storage.snapshot}),
                "nodes": max(pool.replicas.min, 1),
                "pools": [],
                "shared_models": [],
            }
        )
        listed = [config.org_doc.position((*where, "models", i)) for i in range(len(pool.models))]
        models = models_to_serve(list(pool.models), listed, [])
        found.append(ServedPool(pool.name, index, settings, models, pool.replicas, config.org_doc.position(where)))
    return found


def pools_serving(config: Config, model: str) -> list[ServedPool]:
    """The pools that list `model` (more than one only for `self_hosted.shared_models`)."""
    return [pool for pool in served_pools(config) if any(m.name == model for m in pool.models)]


# --- cold start ---------------------------------------------------------------------------------
# What a pool's new pod costs before it answers (docs/self-hosted.md, "Cold start"): the pull of
# its models over the node's link, then reading each model it warms up into GPU memory. Assumed
# figures, stated in the docs: a 1 Gbit/s pull (125 MB/s) and a 1 GB/s load from the node's
# disk, plus a fixed start (scheduling on a free node, containers, probes). A node the cluster's
# node autoscaler must add first comes on top.
PULL_BYTES_PER_SECOND = 125e6
# How long a pool that may scale to zero stays up after its last request (KEDA's cooldownPeriod):
# a cold start costs minutes, so not KEDA's default of 300 s.
COOLDOWN_SECONDS = 900
LOAD_BYTES_PER_SECOND = 1e9
POD_START_SECONDS = 30.0


@dataclass(frozen=True)
class ColdStart:
    pull_seconds: float
    load_seconds: float
    # The VolumeSnapshot the pod's volume is cloned from, when it is: then nothing is pulled (the
    # pull step finds every blob and downloads none) and the clone takes the CSI driver's time,
    # which hks does not know and does not count.
    snapshot: str | None = None

    @property
    def total_seconds(self) -> float:
        return POD_START_SECONDS + self.pull_seconds + self.load_seconds


def model_cold_start(name: str) -> ColdStart | None:
    """A pod that serves this one model: start, pull it, load it. None for a model the catalogue
    does not size (a custom GGUF, an unknown tag)."""
    info = catalogue.lookup(SELF_HOSTED, name)
    if info is None or "download_gb" not in info.facts:
        return None
    size = float(info.facts["download_gb"]) * 1e9
    return ColdStart(size / PULL_BYTES_PER_SECOND, size / LOAD_BYTES_PER_SECOND)


def loaded_models(models: list[ServedModel]) -> list[ServedModel]:
    """The models Ollama can hold in GPU memory: a cloud model (`NAME:cloud`, `-cloud`) is neither
    pulled nor loaded, and hks's Ollama refuses it (OLLAMA_NO_CLOUD)."""
    return [m for m in models if not catalogue.is_cloud(SELF_HOSTED, m.name)]


def warmed_models(models: list[ServedModel], hosted: SelfHosted) -> list[str]:
    """The models a pod's startup probe loads before it turns Ready: the first
    `max_loaded_models` chat models (an embedding model answers no prompt and loads in a moment;
    a cloud model is refused)."""
    chat = [
        m.name
        for m in models
        if not catalogue.is_cloud(SELF_HOSTED, m.name)
        and not ((info := catalogue.lookup(SELF_HOSTED, m.name)) is not None and catalogue.is_embedding(info))
    ]
    return chat[: hosted.max_loaded_models]


def pool_cold_start(pool: ServedPool) -> ColdStart:
    """A new pod of the pool pulls every model it lists before it turns Ready, and loads the
    ones its startup probe warms up; models the catalogue does not size count as nothing.

    A pod whose volume is cloned from a VolumeSnapshot (`storage.snapshot`, a pool's `snapshot`)
    pulls nothing: Ollama's pull of a model whose blobs are on the volume fetches its manifest
    and downloads no blob (server/download.go:486-499 at v0.32.15 returns a cache hit for a blob
    on disk, and server/images.go:1051-1077 then skips its digest check), so its pull time drops
    out. The clone itself is the CSI driver's (a copy-on-write clone in seconds, or a restore that
    copies every block): no figure is assumed for it (docs/self-hosted.md, "Storage for pools")."""
    warmed = warmed_models(pool.models, pool.hosted)
    starts = {m.name: model_cold_start(m.name) for m in pool.models}
    snapshot = pool.hosted.storage.snapshot if pool.hosted.storage.type == "ephemeral" else None
    pull = 0.0 if snapshot else sum(s.pull_seconds for s in starts.values() if s)
    load = sum(s.load_seconds for name, s in starts.items() if s and name in warmed)
    return ColdStart(pull, load, snapshot)


# --- scale to zero: what the gateway waits out (docs/self-hosted.md, "Scale to zero") ------------
# A request for a model whose pools are all at zero is refused at once (the pools' Services have
# no endpoints). LiteLLM counts it on its first refused attempt in
# `litellm_deployment_total_requests_total`; Prometheus scrapes that within SCRAPE_SECONDS and
# KEDA's next poll, within POLLING_SECONDS, sees the pool's `wake` trigger and scales its
# Deployment to 1 (render/components/autoscaling.py). Then a node (`replicas.node_start_seconds`),
# the pod's start, its pulls and its warm-up (pool_cold_start). The gateway holds the request by
# retrying the refused connection until then: render/litellm_config.py, _cold_start_policies.
SCRAPE_SECONDS = 30  # the gateway's ServiceMonitor interval (render/monitoring.py, SCRAPE_INTERVAL)
POLLING_SECONDS = 15  # the ScaledObject's pollingInterval
# LiteLLM's router sleeps before each retry of a model group with one deployment
# INITIAL_RETRY_DELAY × 2^k seconds, at most MAX_RETRY_DELAY, plus up to JITTER (litellm/utils.py
# calculate_retry_after, litellm/constants.py; the same in 1.108.14 and 1.110.2), and once more
# after the last retry fails before it answers.
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
JITTER = 0.75
# What LiteLLM's router retries an error by default (openai.DEFAULT_MAX_RETRIES), kept for every
# error of a waiting model but a refused connection.
ORDINARY_RETRIES = 2
# What the gateway's clients wait for a response by default: the OpenAI SDKs' timeout.
CLIENT_TIMEOUT_SECONDS = 600


def retry_sleep(index: int) -> float:
    """LiteLLM's sleep before retry `index + 1` (0-based), without its jitter."""
    return min(INITIAL_RETRY_DELAY * 2.0**index, MAX_RETRY_DELAY)


def retries_to_cover(seconds: float) -> int:
    """The fewest retries whose last one comes at least `seconds` after the first refusal."""
    retries, waited = 0, 0.0
    while waited < seconds:
        waited += retry_sleep(retries)
        retries += 1
    return retries


@dataclass(frozen=True)
class ColdStartWait:
    """What the gateway waits out for a model whose pools are all at zero."""

    wake_seconds: float  # the refusal scraped, KEDA's poll
    node_seconds: float  # a GPU node added (the pool's replicas.node_start_seconds)
    start: ColdStart  # the pod's start, pulls and warm-up

    @property
    def window_seconds(self) -> float:
        return self.wake_seconds + self.node_seconds + self.start.total_seconds

    @property
    def retries(self) -> int:
        return retries_to_cover(self.window_seconds)

    @property
    def last_retry_seconds(self) -> float:
        """When the last retry is made at the earliest (no jitter): at least the window."""
        return sum(retry_sleep(k) for k in range(self.retries))

    @property
    def gives_up_seconds(self) -> float:
        """When a request answers with an error at the latest, if the pool never turns Ready."""
        return sum(retry_sleep(k) + JITTER for k in range(self.retries + 1))


def cold_start_wait(pool: ServedPool) -> ColdStartWait:
    wake = float(SCRAPE_SECONDS + POLLING_SECONDS)
    return ColdStartWait(wake, float(pool.replicas.node_start_seconds), pool_cold_start(pool))


def waits_for(config: Config, model: str) -> ColdStartWait | None:
    """The wait of a self-hosted model every pool of which scales to zero (the longest one's);
    None when a pool that serves it keeps a pod, or none does."""
    pools = pools_serving(config, model)
    if not pools or any(p.replicas.min > 0 for p in pools):
        return None
    return max((cold_start_wait(p) for p in pools), key=lambda w: w.window_seconds)
