"""The Argo CD Application(s) that deploy the rendered folder from `cluster.repo_url`."""

from __future__ import annotations

from compiler.merge import Workspace
from compiler.model.config import Config
from compiler.names import ARGOCD_FOLDER, ARGOCD_NAMESPACE, ARGOCD_PROJECT, application_name
from compiler.render.base import Manifest, render_template, standard_labels
from compiler.render.sync import SYNC_WAVE

SYNC_POLICY = {
    "automated": {"prune": True, "selfHeal": True},
    "syncOptions": ["CreateNamespace=true"],
}


def render(config: Config, workspaces: tuple[Workspace, ...]) -> list[Manifest]:
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
            "argocd/application.yaml.j2",
            **common,
            name=name,
            source={**source, "path": path},
            destination={**destination, "namespace": cluster.namespace},
        )
        return [Manifest(ARGOCD_FOLDER, app)]
    platform = render_template(
        "argocd/application.yaml.j2",
        **common,
        name=application_name(config.organization, "platform"),
        source={**source, "path": _join(path, "platform"), "directory": {"recurse": True}},
        destination={**destination, "namespace": cluster.namespace},
    )
    # Orders it first under an app-of-apps; Argo CD waits for its health only if the
    # Application health check is restored (docs/config.md).
    platform["metadata"]["annotations"] = {SYNC_WAVE: "-1"}
    application_set = render_template(
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
    return [Manifest(ARGOCD_FOLDER, platform), Manifest(ARGOCD_FOLDER, application_set)]


def _join(path: str, tail: str) -> str:
    return tail if path == "." else f"{path}/{tail}"
