"""The effective config -> Kubernetes manifests: the components, in the order they render.

Each component is a module of render/components/ with one function, `render`, from the compiled
config to its manifests (the workspace component: one workspace at a time). Returns documents and
writes nothing (write.py does).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from compiler.merge import Workspace
from compiler.model.config import Config
from compiler.render import scanners
from compiler.render.base import Manifest
from compiler.render.components import (
    argocd,
    autoscaling,
    gateway,
    mesh,
    model_egress,
    monitoring,
    ollama,
    platform,
    presidio,
    secrets,
    tls,
    workspace,
)
from compiler.render.sync import with_sync_wave


@dataclass(frozen=True)
class Component:
    name: str
    render: Callable[[Config, tuple[Workspace, ...]], list[Manifest]]
    # Applications are not scanned or given sync waves: they deploy the folder, not run in it.
    annotated: bool = True


# The order they render in. The workspace component renders once per workspace, after these,
# and the Argo CD Applications come last (see manifests()).
COMPONENTS = (
    Component("platform", platform.render),
    Component("tls", tls.render),
    Component("ollama", ollama.render),
    Component("model-egress", model_egress.render),
    Component("autoscaling", autoscaling.render),
    Component("gateway", gateway.render),
    Component("presidio", presidio.render),
    Component("secrets", secrets.render),
    Component("monitoring", monitoring.render),
    Component("mesh", mesh.render),
)
# Rendered once per workspace, in this order.
WORKSPACE = (workspace.render, mesh.render_workspace)
APPLICATIONS = Component("argocd", argocd.render, annotated=False)


def render(config: Config, workspaces: tuple[Workspace, ...]) -> list[Manifest]:
    return sorted(manifests(config, workspaces), key=lambda m: m.path)


def manifests(config: Config, workspaces: tuple[Workspace, ...]) -> Iterator[Manifest]:
    """Every manifest, in no particular order, one component (and one workspace) at a time, so
    the caller can let each go before the next is built: at 10,000 workspaces holding them all
    took most of a gigabyte."""
    for component in COMPONENTS:
        yield from _annotated(component.render(config, workspaces))
    for one in workspaces:
        for part in WORKSPACE:
            yield from _annotated(part(config, one))
    yield from APPLICATIONS.render(config, workspaces)


def _annotated(manifests: list[Manifest]) -> Iterator[Manifest]:
    for manifest in manifests:
        yield with_sync_wave(Manifest(manifest.folder, scanners.annotate(manifest.body)))
