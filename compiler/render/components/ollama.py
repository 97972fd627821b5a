"""Ollama, serving the self-hosted models: its DaemonSet on the LLM nodes, the models it pulls or
builds, its Service and its network policies."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from compiler.builtin.resources import data_dir
from compiler.merge import Workspace
from compiler.model.config import Config
from compiler.providers import selfhosted
from compiler.render.base import (
    CONTAINER_SECURITY,
    GATEWAY_NAME,
    OLLAMA_PORT,
    Manifest,
    own_service_account,
    pinned_images,
    render_template,
    standard_labels,
)
from compiler.render.components import model_egress, tls

OLLAMA_UID = 10001
OLLAMA_HOME = "/home/ollama"
# Every Ollama hks runs refuses Ollama's cloud models, whose requests leave the cluster for
# ollama.com. Ollama 0.32.15 reads the variable with Go's strconv.ParseBool
# (envconfig/config.go:238, `NoCloudEnv = Bool("OLLAMA_NO_CLOUD")`; Bool at :192) and, when it is
# true, answers a cloud model's generate, chat and embed requests with 403 "ollama cloud is
# disabled" (server/cloud_proxy.go:181-183, server/routes.go:309-311 and :2519-2521). The
# pull container gets it too: that is an Ollama server as well. docs/self-hosted.md, "Cloud models".
NO_CLOUD = {"name": "OLLAMA_NO_CLOUD", "value": "1"}


MODELS_CONFIG = "ollama-models"
SNAPSHOT_API_GROUP = "snapshot.storage.k8s.io"  # the CSI snapshot CRDs' group (VolumeSnapshot, v1)
POOL_LABEL = "hks.dev/pool"  # a GPU pool's pods, which its Deployment and Service select on


def render(config: Config, workspaces: tuple[Workspace, ...]) -> list[Manifest]:
    """The one DaemonSet on every LLM node, or (with `self_hosted.pools`) a Deployment and a
    Service per pool. Both share the ServiceAccount and the network policies, which select every
    Ollama pod by `app.kubernetes.io/name: ollama`."""
    from compiler.model.model import SelfHosted

    models = selfhosted.served_models(config, workspaces)
    if not models:
        return []
    hosted = config.org.self_hosted or SelfHosted()
    namespace = config.org.cluster.namespace
    labels = standard_labels(config, "llm-server", "ollama")
    proxy_env = (model_egress.pull_env(config, workspaces, curl=False), model_egress.pull_env(config, workspaces, curl=True))
    selector = {"app.kubernetes.io/name": "ollama"}
    proxied = tls.enabled(config)
    common = {"namespace": namespace, "labels": labels, "selector": selector, "port": OLLAMA_PORT, "port_name": "https" if proxied else "http"}
    gateway_selector = {"app.kubernetes.io/name": GATEWAY_NAME}
    if hosted.pools:
        accounts = []
        servers = [m for pool in selfhosted.served_pools(config) for m in _pool(config, pool, common, proxy_env)]
    else:
        account = own_service_account(config, "ollama")
        accounts = [render_template("gateway/serviceaccount.yaml.j2", **common, name=account)] if account else []
        data = _ollama_config(models)
        servers = [
            render_template("ollama/configmap.yaml.j2", **common, name=MODELS_CONFIG, data=data),
            render_template(
                "ollama/daemonset.yaml.j2",
                **common,
                **_pod(config, hosted, models, data, "ollama", MODELS_CONFIG, account, proxy_env),
            ),
            render_template("ollama/service.yaml.j2", **common, name="ollama"),
        ]
    return [
        *(Manifest("platform/ollama", body) for body in accounts),
        *(Manifest("platform/ollama", body) for body in servers),
        Manifest("platform/ollama", render_template("ollama/networkpolicy.yaml.j2", **common, gateway_selector=gateway_selector)),
        Manifest(
            "platform/ollama",
            render_template("ollama/networkpolicy-egress.yaml.j2", **common, egress=model_egress.pull_egress(config, workspaces)),
        ),
    ]


def _pool(config: Config, pool: selfhosted.ServedPool, common: dict[str, Any], proxy_env: tuple[list[Any], list[Any]]) -> list[dict[str, Any]]:
    """A pool's ConfigMap, Deployment and Service (and, in a mesh, ServiceAccount), named
    `ollama-POOL`; its pods also carry `hks.dev/pool`, which its Deployment and Service select on.
    `replicas` is the pool's `min`, or left out when the pool's ScaledObject owns it
    (render/components/autoscaling.py), so that neither Argo CD nor a re-apply fights KEDA."""
    name = pool.service
    labels = {**common["labels"], POOL_LABEL: pool.name}
    selector = {**common["selector"], POOL_LABEL: pool.name}
    own = {**common, "labels": labels, "selector": selector}
    data = _ollama_config(pool.models)
    config_map = f"{name}-models"
    account = own_service_account(config, name)
    accounts = [render_template("gateway/serviceaccount.yaml.j2", **own, name=account)] if account else []
    return [
        *accounts,
        render_template("ollama/configmap.yaml.j2", **own, name=config_map, data=data),
        render_template(
            "ollama/deployment.yaml.j2",
            **own,
            name=name,
            replicas=None if pool.autoscaled else pool.replicas.min,
            **_pod(config, pool.hosted, pool.models, data, name, config_map, account, proxy_env),
        ),
        render_template("ollama/service.yaml.j2", **own, name=name),
    ]


def _pod(
    config: Config,
    hosted: Any,
    models: list[selfhosted.ServedModel],
    data: dict[str, str],
    service: str,
    config_map: str,
    account: str | None,
    proxy_env: tuple[list[Any], list[Any]],
) -> dict[str, Any]:
    """The pod template's values: `hosted` is the DaemonSet's settings or a pool's; `proxy_env`
    the pull steps' way out (Ollama's, then curl's: render/components/model_egress.py)."""
    images = pinned_images()
    image = hosted.image or images["ollama-rocm" if hosted.gpu.vendor == "amd" else "ollama"]
    proxied = tls.enabled(config)
    hashed: list[Any] = [image, data]
    if proxied:  # the proxy's config is the tls component's ConfigMap: a change to it restarts the pods
        hashed.append([images["tls-proxy"], tls.proxy_config(OLLAMA_PORT)])
    return {
        "service_account": account,
        "config_hash": hashlib.sha256(json.dumps(hashed, sort_keys=True).encode()).hexdigest()[:16],
        "config_map": config_map,
        "node_selector": hosted.node_selector,
        "tolerations": [t.model_dump(exclude_none=True) for t in hosted.tolerations],
        "runtime_class": hosted.gpu.runtime_class,
        "supplemental_groups": sorted(set(hosted.gpu.device_groups)) if hosted.gpu.vendor == "amd" else [],
        "uid": OLLAMA_UID,
        "home": OLLAMA_HOME,
        "image": image,
        "fetch_image": images["curl"],
        "custom_models": any(m.custom for m in models),
        "server_env": _ollama_env(hosted, proxied),
        "probe_port": OLLAMA_PORT if proxied else "http",
        "tls_proxy": tls.proxy_container(images["tls-proxy"], service, OLLAMA_PORT, CONTAINER_SECURITY) if proxied else None,
        "tls_volumes": tls.proxy_volumes(service) if proxied else [],
        "pull_env": [
            {"name": "OLLAMA_HOST", "value": f"127.0.0.1:{OLLAMA_PORT}"},
            {"name": "OLLAMA_MODELS", "value": "/models"},
            {"name": "HOME", "value": OLLAMA_HOME},
            NO_CLOUD,
            *proxy_env[0],
        ],
        "fetch_env": proxy_env[1],
        "warm_up_command": _warm_up(models, hosted),
        "resources": _ollama_resources(hosted, models),
        "pull_resources": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"cpu": "2", "memory": "2Gi"}},
        "small_resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "500m", "memory": "64Mi"}},
        "container_security": CONTAINER_SECURITY,
        "host_path": hosted.storage.host_path if hosted.storage.type == "host-path" else None,
        "claim": _model_claim(hosted.storage),
    }


def _model_claim(storage: Any) -> dict[str, Any]:
    """The spec of each pod's ephemeral claim. With a `snapshot`, the claim is cloned from that
    VolumeSnapshot (docs/self-hosted.md, "Storage for pools"): `dataSource`, the field that names
    a VolumeSnapshot or a claim in the pod's own namespace (the API copies it into
    `dataSourceRef`); the CSI external-provisioner refuses a claim smaller than the snapshot's
    `restoreSize`, so `size` must be at least that."""
    claim: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": storage.size}}}
    if storage.storage_class:
        claim["storageClassName"] = storage.storage_class
    if storage.snapshot and storage.type == "ephemeral":
        claim["dataSource"] = {"apiGroup": SNAPSHOT_API_GROUP, "kind": "VolumeSnapshot", "name": storage.snapshot}
    return claim


def _ollama_config(models: list[selfhosted.ServedModel]) -> dict[str, str]:
    scripts = data_dir("templates") / "ollama"
    # A cloud model has no weights to pull, and this Ollama refuses it (NO_CLOUD; CAT-009, CAT-010).
    pulled = [m.name for m in models if m.custom is None and not _is_cloud(m.name)]
    custom = [m for m in models if m.custom is not None]
    data = {
        "models.txt": "".join(f"{name}\n" for name in pulled),
        "custom-models.txt": "".join(f"{m.name} modelfile-{i}\n" for i, m in enumerate(custom)),
        "gguf-sources.txt": "".join(f"{m.custom.sha256} {m.custom.source}\n" for m in custom if m.custom),
        "pull-models.sh": (scripts / "pull-models.sh").read_text("utf-8"),
    }
    if custom:
        data["fetch-gguf.sh"] = (scripts / "fetch-gguf.sh").read_text("utf-8")
    for index, model in enumerate(custom):
        assert model.custom is not None
        data[f"modelfile-{index}"] = modelfile(model.custom)
    return dict(sorted(data.items()))


def modelfile(model: Any) -> str:
    lines = [f"FROM /models/gguf/{model.sha256}.gguf"]
    lines += [f"PARAMETER {key} {_parameter(value)}" for key, value in sorted(model.parameters.items())]
    if model.system:
        lines.append(f'SYSTEM """{model.system}"""')
    return "\n".join(lines) + "\n"


def _parameter(value: Any) -> str:
    return json.dumps(value) if isinstance(value, str) else str(value)


def _ollama_env(hosted: Any, proxied: bool) -> list[dict[str, str]]:
    # Behind the TLS proxy (cluster.tls), on loopback only: nothing outside the pod reaches it in
    # plain HTTP. The startup probe's `ollama run` reads the same variable to find the server.
    host = f"127.0.0.1:{tls.backend_port(OLLAMA_PORT)}" if proxied else f"0.0.0.0:{OLLAMA_PORT}"
    env = {
        "OLLAMA_HOST": host,
        "OLLAMA_MODELS": "/models",
        "HOME": OLLAMA_HOME,
        "OLLAMA_KEEP_ALIVE": hosted.keep_alive,
        "OLLAMA_NUM_PARALLEL": str(hosted.num_parallel),
        "OLLAMA_MAX_LOADED_MODELS": str(hosted.max_loaded_models),
        "OLLAMA_MAX_QUEUE": str(hosted.max_queue),
    }
    if hosted.context_length:
        env["OLLAMA_CONTEXT_LENGTH"] = str(hosted.context_length)
    return [*({"name": key, "value": value} for key, value in env.items()), NO_CLOUD]


def _warm_up(models: list[selfhosted.ServedModel], hosted: Any) -> list[str]:
    """Loads the first `max_loaded_models` chat models (an embedding model answers no prompt and
    loads in a moment); the names are arguments, never script text."""
    resident = selfhosted.warmed_models(models, hosted)
    script = 'for model in "$@"; do ollama run "$model" "" >/dev/null || exit 1; done'
    return ["/bin/sh", "-c", script, "warm-up", *resident]


def _is_cloud(name: str) -> bool:
    """An Ollama cloud model: loading it would fail the startup probe (the server refuses it), and
    the pod would never turn Ready for the models it does serve."""
    from compiler.builtin import catalogue

    return catalogue.is_cloud(selfhosted.SELF_HOSTED, name)


def _ollama_resources(hosted: Any, models: list[selfhosted.ServedModel]) -> dict[str, Any]:
    gpu_resource = {"nvidia": "nvidia.com/gpu", "amd": "amd.com/gpu"}.get(hosted.gpu.vendor)
    estimates = [selfhosted.estimate(hosted, m.name) for m in models]
    largest = max((e.total_gib for e in estimates if e), default=8.0)
    # On GPU nodes the weights live in GPU memory; on CPU nodes they need host memory.
    memory_gib = 8 if gpu_resource and hosted.gpu.count else int(largest) + 2
    resources: dict[str, Any] = {
        "requests": {"cpu": "1", "memory": f"{memory_gib}Gi"},
        "limits": {"memory": f"{memory_gib * 2}Gi"},
    }
    if gpu_resource and hosted.gpu.count:
        resources["requests"][gpu_resource] = str(hosted.gpu.count)
        resources["limits"][gpu_resource] = str(hosted.gpu.count)
    return resources
