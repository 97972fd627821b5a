"""The effective config → Kubernetes manifests, through the jinja2 templates in `templates/`.

Returns documents and writes nothing (write.py does). Every value reaches a template through
a quoting `finalize`, so no string in a config can change a document's structure.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from compiler.builtin.resources import data_dir
from compiler.merge import Workspace
from compiler.model.config import Config
from compiler.names import ARGOCD_FOLDER, ARGOCD_NAMESPACE, ARGOCD_PROJECT, KUSTOMIZATION_HEADER, application_name
from compiler.providers import selfhosted
from compiler.render import litellm_config as gateway
from compiler.render import monitoring, objectsize, scanners
from compiler.yamlout import dump, flow

OLLAMA_PORT = gateway.OLLAMA_PORT
OLLAMA_UID = 10001
OLLAMA_HOME = "/home/ollama"
GATEWAY_NAME = gateway.GATEWAY_NAME
GATEWAY_PORT = gateway.GATEWAY_PORT
CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}
# Egress every workload needs, and the address ranges that are not the internet.
DNS_EGRESS = {
    "to": [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ],
    "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
}
PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10"]


@dataclass(frozen=True)
class Manifest:
    folder: str
    body: dict[str, Any]

    @property
    def path(self) -> str:
        kind = self.body["kind"].lower()
        name = self.body["metadata"]["name"]
        return f"{self.folder}/{kind}-{name}.yaml"


def render(config: Config, workspaces: tuple[Workspace, ...]) -> list[Manifest]:
    return sorted(manifests(config, workspaces), key=lambda m: m.path)


def manifests(config: Config, workspaces: tuple[Workspace, ...]) -> Iterator[Manifest]:
    """Every manifest, in no particular order, one component (and one workspace) at a time, so
    the caller can let each go before the next is built: at 10,000 workspaces holding them all
    took most of a gigabyte."""
    from compiler.render import gateway as render_gateway

    env = _environment()
    components: list[Callable[[Any, Config, tuple[Workspace, ...]], list[Manifest]]] = [
        _platform,
        _ollama,
        render_gateway.gateway,
        render_gateway.presidio,
        render_gateway.secrets,
        _monitoring,
    ]
    for component in components:
        yield from _annotated(component(env, config, workspaces))
    for workspace in workspaces:
        yield from _annotated(_workspace(env, config, workspace))
    yield from _argocd(env, config)


def _annotated(manifests: list[Manifest]) -> Iterator[Manifest]:
    for manifest in manifests:
        yield _with_sync_wave(Manifest(manifest.folder, scanners.annotate(manifest.body)))


def _platform(env: Any, config: Config, workspaces: tuple[Workspace, ...]) -> list[Manifest]:
    namespace = config.org.cluster.namespace
    labels = standard_labels(config, "platform")
    return [
        Manifest(
            "platform",
            render_template(
                env,
                "platform/namespace.yaml.j2",
                namespace=namespace,
                labels={**labels, **pod_security(platform_level(config), config)},
            ),
        ),
        Manifest("platform", render_template(env, "platform/networkpolicy-default-deny.yaml.j2", namespace=namespace, labels=labels)),
    ]


# --- Pod Security Standards -----------------------------------------------------------------------

POD_SECURITY_MODES = ("enforce", "warn", "audit")


def platform_level(config: Config) -> str:
    """The strictest Pod Security level the platform namespace's pods meet: every pod hks renders
    meets `restricted`, except Ollama with a hostPath model store (docs/security.md)."""
    hosted = config.org.self_hosted
    if hosted is not None and hosted.storage.type == "host-path":
        return "privileged"
    return "restricted"


def pod_security(level: str, config: Config) -> dict[str, str]:
    """The namespace labels of the Pod Security admission controller, pinned to the cluster's
    version so a newer Kubernetes does not tighten the rules under a running platform."""
    version = f"v{config.org.cluster.kubernetes_version}"
    labels: dict[str, str] = {}
    for mode in POD_SECURITY_MODES:
        labels[f"pod-security.kubernetes.io/{mode}"] = level
        labels[f"pod-security.kubernetes.io/{mode}-version"] = version
    return labels


def files(manifests: Iterable[Manifest]) -> dict[str, str]:
    found = {m.path: dump(m.body) for m in manifests}
    return dict(sorted({**found, **kustomizations(found)}.items()))


def kustomizations(paths: Iterable[str]) -> dict[str, str]:
    """The kustomization listing the resources at `paths`, and the Argo CD Applications' own.

    The Applications (folder `argocd/`) are not in the top one: the Applications deploy the
    folder, so the folder must not deploy them."""
    resources = sorted(set(paths))
    apps = [p for p in resources if p.startswith(ARGOCD_FOLDER + "/")]
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [p for p in resources if p not in apps],
    }
    found = {"kustomization.yaml": KUSTOMIZATION_HEADER + dump(kustomization)}
    if apps:
        own = {**kustomization, "resources": [p.removeprefix(ARGOCD_FOLDER + "/") for p in apps]}
        found[f"{ARGOCD_FOLDER}/kustomization.yaml"] = KUSTOMIZATION_HEADER + dump(own)
    return found


def stream(written: dict[str, str]) -> str:
    """One YAML stream of the rendered resources, for an Argo CD plugin: without the
    kustomizations and the Applications, which an Application must not deploy (it would own
    itself)."""
    return "".join(
        f"---\n{text}"
        for path, text in sorted(written.items())
        if not path.endswith("kustomization.yaml") and not path.startswith(ARGOCD_FOLDER + "/")
    )


@functools.cache
def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(data_dir("templates"))),
        undefined=jinja2.StrictUndefined,
        finalize=flow,
        autoescape=False,
        keep_trailing_newline=True,
        auto_reload=False,  # templates do not change during a run: no stat of the file per render
    )


def render_template(env: Any, template: str, **context: Any) -> dict[str, Any]:
    text = env.get_template(template).render(**context)
    document: dict[str, Any] = load_template_yaml(text)
    return document


def load_template_yaml(text: str) -> Any:
    """A rendered template's YAML, with libyaml (compiler/builtin/datafiles.py): every value reaches a
    template as JSON (quoted), and tests/test_render.py checks that YAML 1.1 and 1.2 read every
    rendered example the same."""
    from compiler.builtin import datafiles

    return datafiles.parse_rendered(text)


def standard_labels(config: Config, component: str, name: str | None = None) -> dict[str, str]:
    labels = {
        "app.kubernetes.io/part-of": "hks",
        "app.kubernetes.io/managed-by": "hks",
        "app.kubernetes.io/component": component,
        "hks.dev/organization": config.organization,
    }
    if name:
        labels["app.kubernetes.io/name"] = name
    return labels


def pinned_images() -> dict[str, str]:
    from compiler.builtin import datafiles

    images: dict[str, str] = datafiles.load("catalogue", "images.yaml")
    return images


# --- Ollama -----------------------------------------------------------------------------------


def _ollama(env: Any, config: Config, workspaces: tuple[Workspace, ...]) -> list[Manifest]:
    from compiler.model.model import SelfHosted

    models = selfhosted.served_models(config, workspaces)
    if not models:
        return []
    hosted = config.org.self_hosted or SelfHosted()
    namespace = config.org.cluster.namespace
    labels = standard_labels(config, "llm-server", "ollama")
    selector = {"app.kubernetes.io/name": "ollama"}
    data = _ollama_config(models)
    images = pinned_images()
    image = hosted.image or images["ollama-rocm" if hosted.gpu.vendor == "amd" else "ollama"]
    common = {"namespace": namespace, "labels": labels, "selector": selector, "port": OLLAMA_PORT}
    daemonset = render_template(
        env,
        "ollama/daemonset.yaml.j2",
        **common,
        config_hash=hashlib.sha256(json.dumps([image, data], sort_keys=True).encode()).hexdigest()[:16],
        node_selector=hosted.node_selector,
        tolerations=[t.model_dump(exclude_none=True) for t in hosted.tolerations],
        uid=OLLAMA_UID,
        home=OLLAMA_HOME,
        image=image,
        fetch_image=images["curl"],
        custom_models=any(m.custom for m in models),
        server_env=_ollama_env(hosted),
        pull_env=[{"name": "OLLAMA_HOST", "value": f"127.0.0.1:{OLLAMA_PORT}"}, {"name": "OLLAMA_MODELS", "value": "/models"}, {"name": "HOME", "value": OLLAMA_HOME}],
        warm_up_command=_warm_up(models, hosted),
        resources=_ollama_resources(hosted, models),
        pull_resources={"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"cpu": "2", "memory": "2Gi"}},
        small_resources={"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "500m", "memory": "64Mi"}},
        container_security=CONTAINER_SECURITY,
        host_path=hosted.storage.host_path if hosted.storage.type == "host-path" else None,
        claim=_model_claim(hosted.storage),
    )
    gateway_selector = {"app.kubernetes.io/name": GATEWAY_NAME}
    return [
        Manifest("platform/ollama", render_template(env, "ollama/configmap.yaml.j2", **common, data=data)),
        Manifest("platform/ollama", daemonset),
        Manifest("platform/ollama", render_template(env, "ollama/service.yaml.j2", **common)),
        Manifest("platform/ollama", render_template(env, "ollama/networkpolicy.yaml.j2", **common, gateway_selector=gateway_selector)),
        Manifest(
            "platform/ollama",
            render_template(env, "ollama/networkpolicy-egress.yaml.j2", **common, egress=[DNS_EGRESS, public_egress(_pull_ports(models))]),
        ),
    ]


def _pull_ports(models: list[selfhosted.ServedModel]) -> list[int]:
    """HTTPS to Ollama's registry, and the ports of custom GGUF sources."""
    from urllib.parse import urlsplit

    ports = {443}
    for model in models:
        if model.custom is not None:
            try:
                url = urlsplit(model.custom.source)
                port, scheme = url.port, url.scheme
            except ValueError:  # not a URL with a usable port (`[::1`, `:99999`): the HTTPS default
                port, scheme = None, "https"
            ports.add(port or (80 if scheme == "http" else 443))
    return sorted(ports)


def public_egress(ports: list[int]) -> dict[str, Any]:
    return {
        "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE_RANGES}}],
        "ports": [{"port": port, "protocol": "TCP"} for port in ports],
    }


def _model_claim(storage: Any) -> dict[str, Any]:
    claim: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": storage.size}}}
    if storage.storage_class:
        claim["storageClassName"] = storage.storage_class
    return claim


def _ollama_config(models: list[selfhosted.ServedModel]) -> dict[str, str]:
    scripts = data_dir("templates") / "ollama"
    pulled = [m.name for m in models if m.custom is None]
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


def _ollama_env(hosted: Any) -> list[dict[str, str]]:
    env = {
        "OLLAMA_HOST": f"0.0.0.0:{OLLAMA_PORT}",
        "OLLAMA_MODELS": "/models",
        "HOME": OLLAMA_HOME,
        "OLLAMA_KEEP_ALIVE": hosted.keep_alive,
        "OLLAMA_NUM_PARALLEL": str(hosted.num_parallel),
        "OLLAMA_MAX_LOADED_MODELS": str(hosted.max_loaded_models),
        "OLLAMA_MAX_QUEUE": str(hosted.max_queue),
    }
    if hosted.context_length:
        env["OLLAMA_CONTEXT_LENGTH"] = str(hosted.context_length)
    return [{"name": key, "value": value} for key, value in env.items()]


def _warm_up(models: list[selfhosted.ServedModel], hosted: Any) -> list[str]:
    """Loads the first `max_loaded_models` chat models (an embedding model answers no prompt and
    loads in a moment); the names are arguments, never script text."""
    chat = [m.name for m in models if not _is_embedding(m.name)]
    resident = chat[: hosted.max_loaded_models]
    script = 'for model in "$@"; do ollama run "$model" "" >/dev/null || exit 1; done'
    return ["/bin/sh", "-c", script, "warm-up", *resident]


def _is_embedding(name: str) -> bool:
    from compiler.builtin import catalogue

    info = catalogue.lookup("ollama", name)
    return info is not None and catalogue.is_embedding(info)


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


# --- monitoring ---------------------------------------------------------------------------------


def _monitoring(env: Any, config: Config, workspaces: tuple[Workspace, ...]) -> list[Manifest]:
    settings = config.org.monitoring
    if not settings.enabled:
        return []
    namespace = config.org.cluster.namespace
    folder = "platform/monitoring"
    labels = {**standard_labels(config, "monitoring"), **settings.prometheus_labels}
    manifests = [
        Manifest(
            folder,
            render_template(
                env,
                "monitoring/servicemonitor.yaml.j2",
                name=GATEWAY_NAME,
                namespace=namespace,
                labels=labels,
                spec=monitoring.service_monitor_spec(config),
            ),
        ),
    ]
    for index, groups in enumerate(objectsize.rule_objects(monitoring.rule_groups(config, workspaces)), start=1):
        name = "hks-llm" if index == 1 else f"hks-llm-{index}"
        rule = render_template(env, "monitoring/prometheusrule.yaml.j2", name=name, namespace=namespace, labels=labels, groups=[])
        rule["spec"]["groups"] = groups  # megabytes at thousands of workspaces: not through YAML and back
        manifests.append(Manifest(folder, rule))
    dashboard_labels = {**standard_labels(config, "monitoring"), **settings.grafana_dashboard_label}
    for file, board in monitoring.dashboards(config, workspaces).items():
        manifests.append(
            Manifest(
                folder,
                render_template(
                    env,
                    "monitoring/configmap-dashboard.yaml.j2",
                    name=f"grafana-dashboard-{file.removesuffix('.json')}",
                    namespace=namespace,
                    labels=dashboard_labels,
                    data={file: board},
                ),
            )
        )
    return manifests


# --- workspaces -------------------------------------------------------------------------------


def _workspace(env: Any, config: Config, workspace: Workspace) -> list[Manifest]:
    namespace = str(workspace.namespace.value)
    labels = {**standard_labels(config, "workspace"), "hks.dev/workspace": workspace.name}
    folder = f"workspaces/{workspace.name}"
    common = {"namespace": namespace, "labels": labels}
    manifests = [
        Manifest(
            folder,
            render_template(env, "workspace/namespace.yaml.j2", namespace=namespace, labels={**labels, **pod_security("restricted", config)}),
        ),
        Manifest(folder, render_template(env, "platform/networkpolicy-default-deny.yaml.j2", **common)),
        Manifest(
            folder,
            render_template(
                env,
                "workspace/networkpolicy-llm-gateway.yaml.j2",
                **common,
                egress=[
                    DNS_EGRESS,
                    {
                        "to": [
                            {
                                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": config.org.cluster.namespace}},
                                "podSelector": {"matchLabels": {"app.kubernetes.io/name": GATEWAY_NAME}},
                            }
                        ],
                        "ports": [{"port": GATEWAY_PORT, "protocol": "TCP"}],
                    },
                ],
            ),
        ),
        Manifest(folder, render_template(env, "workspace/configmap-routing.yaml.j2", **common, data=routing(config, workspace))),
        Manifest(folder, render_template(env, "workspace/role.yaml.j2", **common)),
    ]
    subjects = [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": g} for g in workspace.members.groups]
    subjects += [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": u} for u in workspace.members.users]
    if subjects:
        manifests.append(Manifest(folder, render_template(env, "workspace/rolebinding.yaml.j2", **common, subjects=subjects)))
    return manifests


def routing(config: Config, workspace: Workspace) -> dict[str, str]:
    """What the platform's services read: where to send this workspace's requests, and with
    which credential: a projected ServiceAccount token for `token-audience` (docs/gateway.md,
    "How a workspace's pod calls the gateway"), and the alias to embed text with
    (`embeddings-model`, when the workspace has an embedding model). The gateway sets the
    priority itself."""
    llm = workspace.llm
    settings = llm.model_dump(mode="json", exclude_none=True)
    embeddings = {"embeddings-model": gateway.embedding_alias(workspace.name)} if llm.embeddings else {}
    return {
        **embeddings,
        "gateway-url": gateway.gateway_url(config),
        "model": workspace.name,
        "priority": llm.priority,
        "provider": llm.provider,
        "settings.json": json.dumps(settings, indent=2, sort_keys=True) + "\n",
        "token-audience": gateway.token_audience(config),
        "upstream-model": llm.model,
        "workspace": workspace.name,
    }


# --- Argo CD ------------------------------------------------------------------------------------

SYNC_WAVE = "argocd.argoproj.io/sync-wave"
# Argo CD applies lower waves first and waits for them to be healthy: namespaces, then the
# secrets the workloads read, then everything else (wave 0, no annotation).
# A ServiceAccount goes with the secrets: Kubernetes deletes a token Secret whose account is missing.
SYNC_WAVES = {"Namespace": "-2", "ExternalSecret": "-1", "SealedSecret": "-1", "Secret": "-1", "ServiceAccount": "-1"}
SYNC_POLICY = {
    "automated": {"prune": True, "selfHeal": True},
    "syncOptions": ["CreateNamespace=true"],
}


def _with_sync_wave(manifest: Manifest) -> Manifest:
    wave = SYNC_WAVES.get(manifest.body["kind"])
    if wave is None:
        return manifest
    metadata = dict(manifest.body["metadata"])
    metadata["annotations"] = {**metadata.get("annotations", {}), SYNC_WAVE: wave}
    return Manifest(manifest.folder, {**manifest.body, "metadata": metadata})


def _argocd(env: Any, config: Config) -> list[Manifest]:
    """The Application(s) that deploy the rendered folder from `cluster.repo_url`: one for the
    whole folder, or (`applications: per-workspace`) one for the platform and an ApplicationSet
    whose Git files generator makes one per workspace folder, found by its Namespace file."""
    cluster = config.org.cluster
    if not cluster.repo_url:
        return []
    path = _join(cluster.config_folder.strip("/"), cluster.path.strip("/"))
    destination: dict[str, str] = {"name": cluster.destination.name} if cluster.destination.name else {"server": cluster.destination.server}
    common = {
        "argocd_namespace": ARGOCD_NAMESPACE,
        "project": ARGOCD_PROJECT,
        "labels": standard_labels(config, "argocd"),
        "sync_policy": SYNC_POLICY,
    }
    source = {"repoURL": cluster.repo_url, "targetRevision": cluster.revision}
    name = application_name(config.organization)
    if cluster.applications == "single":
        app = render_template(
            env,
            "argocd/application.yaml.j2",
            **common,
            name=name,
            source={**source, "path": path},
            destination={**destination, "namespace": cluster.namespace},
        )
        return [Manifest(ARGOCD_FOLDER, app)]
    platform = render_template(
        env,
        "argocd/application.yaml.j2",
        **common,
        name=application_name(config.organization, "platform"),
        source={**source, "path": _join(path, "platform"), "directory": {"recurse": True}},
        destination={**destination, "namespace": cluster.namespace},
    )
    # Orders it first under an app-of-apps; Argo CD waits for its health only if the
    # Application health check is restored (docs/config.md).
    platform["metadata"]["annotations"] = {SYNC_WAVE: "-1"}
    workspaces = render_template(
        env,
        "argocd/applicationset.yaml.j2",
        **common,
        name=f"{name}-workspaces",
        repo_url=cluster.repo_url,
        revision=cluster.revision,
        files_path=_join(path, "workspaces/*/namespace-*.yaml"),
        app_name=application_name(config.organization, "{{.path.basename}}"),
        app_labels={**standard_labels(config, "argocd"), "hks.dev/workspace": "{{.path.basename}}"},
        source={**source, "path": "{{.path.path}}"},
        destination={**destination, "namespace": "{{.metadata.name}}"},
    )
    return [Manifest(ARGOCD_FOLDER, platform), Manifest(ARGOCD_FOLDER, workspaces)]


def _join(path: str, tail: str) -> str:
    return tail if path == "." else f"{path}/{tail}"
