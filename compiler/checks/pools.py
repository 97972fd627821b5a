"""GPU pools (`self_hosted.pools`): is every model in use served by one pool, is a model in two
pools a choice the user made, and are the pools themselves consistent? Whether each model fits
its pool's GPUs is capacity.py's (docs/self-hosted.md, "GPU pools")."""

from __future__ import annotations

from compiler.diagnostics import Diagnostic, error, info, warning
from compiler.merge import Workspace
from compiler.model.config import Config
from compiler.providers import selfhosted

RULES: dict[str, str] = {
    "POOL-001": "a self_hosted key the pools replace is set beside self_hosted.pools",
    "POOL-002": "a self-hosted model in use is served by no pool",
    "POOL-003": "a model is listed by two pools but not in self_hosted.shared_models",
    "POOL-004": "two pools have the same name",
    "POOL-005": "a pool's replicas.min is above its replicas.max",
    "POOL-006": "a pool with replicas.min 0 scales to zero: the first request after idle waits for its cold start (a note)",
    "POOL-007": "self_hosted.shared_models names a model fewer than two pools list",
    "POOL-008": "a pool autoscales (replicas.max above min) but monitoring is off, so KEDA has no metrics",
    "POOL-009": "a pool at zero takes longer to wake than a client waits by default (the OpenAI SDKs' 600 s)",
    "POOL-010": "a VolumeSnapshot to clone the model volume from is set with storage.type host-path, which has no claim to clone",
    "POOL-011": "a VolumeSnapshot to clone the model volume from is set: it must exist before the pods start (a note)",
}
# What the gateway sees of a pool's Service without endpoints (docs/self-hosted.md, "Under a mesh").
REFUSED = {
    "none": "the refused connection",
    "istio": "the connection ztunnel resets",
    "linkerd": "the 503 of Linkerd's proxy",
}
# The keys of the one-DaemonSet form that each pool sets for itself.
REPLACED = ("models", "node_selector", "tolerations", "gpu", "nodes")


def check_pools(config: Config, workspaces: tuple[Workspace, ...]) -> list[Diagnostic]:
    hosted = config.org.self_hosted
    if hosted is None or not hosted.pools:
        return []
    doc = config.org_doc
    found: list[Diagnostic] = []
    for key in REPLACED:
        if key in hosted.model_fields_set:
            found.append(
                error(
                    doc.position(("self_hosted", key), key=True),
                    "POOL-001",
                    f"self_hosted.{key} is set beside self_hosted.pools, where each pool has its own",
                    hint=f"move it into the pools (self_hosted.pools[].{'replicas' if key == 'nodes' else key}), or drop it",
                )
            )
    pools = selfhosted.served_pools(config)
    seen: dict[str, int] = {}
    for pool in pools:
        if pool.name in seen:
            found.append(
                error(
                    doc.position(("self_hosted", "pools", pool.index, "name")),
                    "POOL-004",
                    f"two pools are named '{pool.name}' (also pool {seen[pool.name] + 1}): each is a Deployment "
                    f"and Service named {pool.service}",
                    hint="give each pool a name of its own",
                )
            )
        seen.setdefault(pool.name, pool.index)
        where = ("self_hosted", "pools", pool.index, "replicas")
        if pool.replicas.min > pool.replicas.max:
            found.append(
                error(
                    doc.position((*where, "min")),
                    "POOL-005",
                    f"pool '{pool.name}': replicas.min {pool.replicas.min} is above replicas.max {pool.replicas.max}",
                )
            )
        if pool.replicas.min == 0:
            found += _scales_to_zero(config, pool)
        if pool.autoscaled and not config.org.monitoring.enabled:
            found.append(
                error(
                    doc.position((*where, "max")),
                    "POOL-008",
                    f"pool '{pool.name}' autoscales ({pool.replicas.min} to {pool.replicas.max} pods) on the gateway's "
                    "Prometheus metrics, but monitoring.enabled is false: the gateway exports none",
                    hint="turn monitoring on, or set replicas.max to replicas.min for a pool of fixed size",
                )
            )
    found += _listed_twice(config, pools)
    found += _unserved(config, workspaces, pools)
    return found


def _scales_to_zero(config: Config, pool: selfhosted.ServedPool) -> list[Diagnostic]:
    """A note: KEDA stops the pool after its cooldown, and the first request after that waits
    for a pod, held by the gateway's retries (docs/self-hosted.md, "Scale to zero"); a warning
    when that wait outlasts a client's default timeout."""
    wait = selfhosted.cold_start_wait(pool)
    start = wait.start
    where = ("self_hosted", "pools", pool.index, "replicas")
    found = [
        info(
            config.org_doc.position((*where, "min")),
            "POOL-006",
            f"pool '{pool.name}' scales to zero after {selfhosted.COOLDOWN_SECONDS // 60} minutes without requests; the "
            f"first request after that wakes it and waits: its models ({', '.join(m.name for m in pool.models)}) "
            f"answer about {_minutes(wait.window_seconds)} later (KEDA sees the request in {_minutes(wait.wake_seconds)}, "
            f"a GPU node {_minutes(wait.node_seconds)}, the pod's start {_minutes(start.total_seconds - start.pull_seconds - start.load_seconds)}, "
            f"{_pulls(start)} and its load {_minutes(start.load_seconds)}); the gateway retries "
            f"{REFUSED[config.org.cluster.mesh]} {wait.retries} times to cover that, and answers with an error (or the workspace's "
            f"fallback) only if the pool is not Ready after about {_minutes(wait.gives_up_seconds)}",
            hint="keep replicas.min at 1 where one slow first answer after idle is not acceptable; set "
            "replicas.node_start_seconds to your node autoscaler's time to add a GPU node (0 if one stays up)",
        )
    ]
    if wait.gives_up_seconds > selfhosted.CLIENT_TIMEOUT_SECONDS:
        found.append(
            warning(
                config.org_doc.position((*where, "min")),
                "POOL-009",
                f"pool '{pool.name}' takes up to {_minutes(wait.gives_up_seconds)} to wake from zero, longer than a "
                f"client waits by default (the OpenAI SDKs' {selfhosted.CLIENT_TIMEOUT_SECONDS} s): the first request "
                "after idle times out at the client while the pool starts",
                hint="keep replicas.min at 1, give the clients a longer timeout, or serve the large models from a pool "
                "that keeps a pod",
            )
        )
    return found


def _pulls(start: selfhosted.ColdStart) -> str:
    if start.snapshot:
        return f"no pulls, as its volume is cloned from the VolumeSnapshot '{start.snapshot}' (in the CSI driver's time, not counted here)"
    return f"its pulls {_minutes(start.pull_seconds)}"


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _listed_twice(config: Config, pools: list[selfhosted.ServedPool]) -> list[Diagnostic]:
    hosted = config.org.self_hosted
    assert hosted is not None
    shared = set(hosted.shared_models)
    found: list[Diagnostic] = []
    first: dict[str, selfhosted.ServedPool] = {}
    for pool in pools:
        for model in pool.models:
            other = first.setdefault(model.name, pool)
            if other is not pool and model.name not in shared and other.name != pool.name:
                found.append(
                    error(
                        model.position,
                        "POOL-003",
                        f"'{model.name}' is listed by pool '{other.name}' and by pool '{pool.name}': the gateway "
                        "would not know which to send its requests to",
                        hint="keep it in one pool, or add it to self_hosted.shared_models to spread its requests "
                        "across both",
                    )
                )
    for index, name in enumerate(hosted.shared_models):
        count = len(selfhosted.pools_serving(config, name))
        if count < 2:
            found.append(
                warning(
                    config.org_doc.position(("self_hosted", "shared_models", index)),
                    "POOL-007",
                    f"self_hosted.shared_models names '{name}', which {'one pool lists' if count else 'no pool lists'}: "
                    "there is nothing to share",
                    hint="list it in the pools that should share it, or drop it here",
                )
            )
    return found


def _unserved(config: Config, workspaces: tuple[Workspace, ...], pools: list[selfhosted.ServedPool]) -> list[Diagnostic]:
    """A model a workspace (or the organisation's default) uses must be listed by a pool: with
    pools, hks does not guess where a model should run."""
    settings = config.org.providers.get(selfhosted.SELF_HOSTED)
    if settings is not None and settings.endpoint:
        return []  # the gateway reaches an Ollama outside the cluster, not the pools
    served = {m.name for pool in pools for m in pool.models}
    found: list[Diagnostic] = []
    reported: set[tuple[str, str]] = set()
    for name, position in selfhosted.used_models(config, workspaces):
        if name in served or (name, str(position)) in reported:
            continue
        reported.add((name, str(position)))
        found.append(
            error(
                position,
                "POOL-002",
                f"the self-hosted model '{name}' is used here, but no pool in self_hosted.pools serves it",
                hint="add it to the models of the pool whose GPUs fit it (pools: "
                + ", ".join(f"'{p.name}'" for p in pools)
                + ")",
            )
        )
    return found


def check_storage(config: Config) -> list[Diagnostic]:
    """`self_hosted.storage.snapshot` and a pool's `snapshot` clone each pod's ephemeral claim from
    a VolumeSnapshot: with `storage.type: host-path` there is no claim, so the snapshot would be
    silently ignored (docs/self-hosted.md, "Storage for pools"). Otherwise a note at each: hks
    renders no VolumeSnapshot and cannot see the cluster's, and a claim cloned from a missing one
    stays Pending, its pod with it. Runs with or without pools."""
    hosted = config.org.self_hosted
    if hosted is None:
        return []
    doc = config.org_doc
    named: list[tuple[tuple[str | int, ...], str]] = [(("self_hosted", "storage", "snapshot"), hosted.storage.snapshot)] if hosted.storage.snapshot else []
    named += [(("self_hosted", "pools", i, "snapshot"), pool.snapshot) for i, pool in enumerate(hosted.pools) if pool.snapshot]
    if hosted.storage.type != "host-path":
        return [
            info(
                doc.position(path),
                "POOL-011",
                f"the VolumeSnapshot '{name}' must exist in namespace {config.org.cluster.namespace} before the pods that clone it "
                "start; until then their claims stay Pending",
                hint='make it from a running pod\'s claim first (docs/self-hosted.md, "Making the snapshot")',
            )
            for path, name in named
        ]
    return [
        error(
            doc.position(path),
            "POOL-010",
            f"{_dotted(path)} names a VolumeSnapshot to clone the model volume from, but self_hosted.storage.type is "
            "host-path: the models live in a node's folder, not in a claim that can be cloned",
            hint="set storage.type to ephemeral (the default) to clone each pod's volume from the snapshot, or drop "
            "the snapshot",
        )
        for path, _ in named
    ]


def _dotted(path: tuple[str | int, ...]) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else p for p in path).replace(".[", "[")
