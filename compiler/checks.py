"""Checks of the effective config: the plaintext-secret scan, self-hosted capacity, namespaces and
the cluster settings (the catalogue's own checks are in catalogue_checks.py)."""

from __future__ import annotations

from compiler import catalogue, selfhosted
from compiler.config import Config
from compiler.diagnostics import Diagnostic, error, warning
from compiler.facts import Secret
from compiler.load import Document
from compiler.merge import Workspace
from compiler.secretscan import find_secrets
from compiler.suggest import did_you_mean


SECRET_MESSAGE = "this value looks like {kind}: config files hold secret names, never secret values"
SECRET_HINT = "remove it from the file (and from Git history), rotate the key, and store it with `hks secret create`"


def secret_diagnostics(secrets: list[Secret]) -> list[Diagnostic]:
    """SEC-001 for configs the policy stage cannot evaluate (the baseline pack reports the rest)."""
    return [error(s.position, "SEC-001", SECRET_MESSAGE.format(kind=s.kind), hint=SECRET_HINT) for s in secrets]


def scan_secrets(docs: list[Document]) -> list[Diagnostic]:
    return secret_diagnostics(find_secrets(docs))


def check_installed(config: Config) -> list[Diagnostic]:
    """self_hosted.models is checked like every other model: a tag the catalogue does not know
    (a typo's pull fails on the node, and the pod never turns Ready) and a tag that moves
    (`llama3`, `llama3:latest`: each node may pull a different model)."""
    hosted = config.org.self_hosted
    found: list[Diagnostic] = []
    for index, tag in enumerate(hosted.models if hosted else ()):
        if not isinstance(tag, str):
            found += _check_source(config, index, tag.name, tag.source)
            continue
        where = config.org_doc.position(("self_hosted", "models", index))
        family, _, version = tag.partition(":")
        pinned = sorted(t for t in catalogue.models("ollama") if t.split(":")[0] == family and not t.endswith(":latest"))
        if version in ("", "latest"):
            found.append(warning(where, "CAT-007", f"'{tag}' is not pinned: its model changes when Ollama moves the tag, "
                                 "and nodes that pull at different times serve different models",
                                 hint=f"pin a size tag, such as {', '.join(pinned[:3])}" if pinned else "pin a tag that names the size"))
        elif catalogue.lookup("ollama", tag) is None:
            hint = did_you_mean(tag, catalogue.models("ollama")) or "hks cannot check that it exists or fits the GPU"
            found.append(warning(where, "CAT-001", f"model '{tag}' is not in the catalogue of ollama models", hint))
    return found


def _check_source(config: Config, index: int, name: str, source: str) -> list[Diagnostic]:
    """Each LLM node downloads a custom model itself (templates/ollama/fetch-gguf.sh, with curl):
    a path on the author's machine means nothing there, and file:// would read the node's disk."""
    if source.startswith(("https://", "http://")):
        return []
    return [error(
        config.org_doc.position(("self_hosted", "models", index, "source")),
        "CAT-008",
        f"the source of '{name}' is not an http(s) URL: the LLM nodes download the file themselves, "
        "so a path on this machine cannot reach them",
        hint="upload the file where the nodes can fetch it (an object store, an internal web server, "
        "a Hugging Face repository) and give its https:// URL",
    )]


def check_self_hosted(config: Config, workspaces: tuple[Workspace, ...]) -> list[Diagnostic]:
    """Each model must fit the nodes' GPU memory; all of them should stay loaded together."""
    from compiler.model import SelfHosted
    hosted = config.org.self_hosted or SelfHosted()
    memory = selfhosted.gpu_memory_gib(hosted)
    served = selfhosted.served_models(config, workspaces)
    diagnostics: list[Diagnostic] = []
    if memory is None or not served:
        return diagnostics
    estimates = []
    for model in served:
        num_ctx = model.custom.parameters.get("num_ctx") if model.custom else None
        found = selfhosted.estimate(hosted, model.name, num_ctx if isinstance(num_ctx, int) else None)
        if found is None:
            continue
        estimates.append(found)
        if found.total_gib > memory:
            diagnostics.append(
                error(
                    model.position,
                    "CAP-001",
                    f"{model.name} needs about {found.total_gib:.1f} GiB ({found.explain()}), "
                    f"more than the {memory:g} GiB of GPU memory on each LLM node",
                    hint="lower self_hosted.context_length or num_parallel, pick a smaller model or "
                    "quantisation, or give the nodes more GPUs (self_hosted.gpu)",
                )
            )
    resident = sorted((e.total_gib for e in estimates), reverse=True)[: hosted.max_loaded_models]
    where = config.org_doc.position(("self_hosted", "max_loaded_models")) if hosted.max_loaded_models else served[0].position
    if len(served) > hosted.max_loaded_models:
        diagnostics.append(
            warning(
                config.org_doc.position(("self_hosted",), key=True) if config.org.self_hosted else served[0].position,
                "CAP-002",
                f"{len(served)} models are served but max_loaded_models is {hosted.max_loaded_models}: "
                "Ollama will evict and reload them, and first requests after a switch will be slow",
                hint="raise self_hosted.max_loaded_models if the GPU memory allows it",
            )
        )
    elif len(resident) > 1 and sum(resident) > memory:
        diagnostics.append(
            warning(
                where,
                "CAP-002",
                f"the {len(resident)} models kept loaded need about {sum(resident):.1f} GiB together, "
                f"more than the {memory:g} GiB of GPU memory: Ollama will evict and reload them",
            )
        )
    return diagnostics


def check_workspaces(config: Config, workspaces: tuple[Workspace, ...]) -> list[Diagnostic]:
    """Namespaces must not collide: with each other, or with the platform's own."""
    diagnostics: list[Diagnostic] = []
    taken: dict[str, str] = {config.org.cluster.namespace: "the platform services (cluster.namespace)"}
    for workspace in workspaces:
        namespace = str(workspace.namespace.value)
        if namespace in taken:
            diagnostics.append(
                error(
                    workspace.namespace.origin or workspace.defined_at,
                    "REPO-005",
                    f"namespace '{namespace}' of workspace '{workspace.name}' is already used by {taken[namespace]}",
                    hint="set `namespace:` to a name of its own",
                )
            )
        else:
            taken[namespace] = f"workspace '{workspace.name}'"
    return diagnostics


def check_cluster(config: Config) -> list[Diagnostic]:
    from compiler import k8s

    version = config.org.cluster.kubernetes_version
    diagnostics = check_application_names(config) + check_rendered_folder(config)
    if k8s.supported(version):
        return diagnostics
    return [
        error(
            config.org_doc.position(("cluster", "kubernetes_version")),
            "K8S-001",
            f"hks has no schemas for Kubernetes {version}; it validates against 1.19 to {k8s.latest_version()[:4]}",
        )
    ] + diagnostics


# Folders of the config repository itself: a rendered folder there would replace them.
CONFIG_FOLDERS = ("workspaces", "policies", "schemas", "secrets")


def check_rendered_folder(config: Config) -> list[Diagnostic]:
    first = config.org.cluster.path.strip("/").split("/")[0]
    if first not in CONFIG_FOLDERS:
        return []
    return [
        error(
            config.org_doc.position(("cluster", "path")),
            "REPO-007",
            f"cluster.path '{config.org.cluster.path}' is inside the config's own {first}/ folder",
            hint="name a folder of its own, such as 'rendered'",
        )
    ]


# With label tracking (Argo CD before 3.0, or application.resourceTrackingMethod: label) the
# Application's name goes in the app.kubernetes.io/instance label, which holds 63 characters.
ARGOCD_NAME_LIMIT = 63


def check_application_names(config: Config) -> list[Diagnostic]:
    """Names of the Argo CD Applications render makes that a tracking label cannot hold."""
    from compiler.render import application_name

    cluster = config.org.cluster
    if not cluster.repo_url:
        return []
    parts = [None] if cluster.applications == "single" else ["platform"] + [w.name for w in config.workspaces]
    too_long = [application_name(config.organization, part) for part in parts]
    too_long = [name for name in too_long if len(name) > ARGOCD_NAME_LIMIT]
    if not too_long:
        return []
    where = ("organization",) if config.org.organization else ("cluster", "repo_url")
    return [
        warning(
            config.org_doc.position(where),
            "ARGO-001",
            f"the Argo CD Application name '{too_long[0]}' is {len(too_long[0])} characters: with label "
            f"tracking, Argo CD cuts it to {ARGOCD_NAME_LIMIT} in the app.kubernetes.io/instance label",
            hint="shorten the organization or workspace name, use applications: single, or annotation tracking (Argo CD 3's default)",
        )
    ]
