"""The platform namespace, under Pod Security, and its default-deny network policy."""

from __future__ import annotations

from compiler.merge import Workspace
from compiler.model.config import Config
from compiler.render.base import Manifest, platform_level, pod_security, render_template, standard_labels
from compiler.render.components import mesh


def render(config: Config, workspaces: tuple[Workspace, ...]) -> list[Manifest]:
    namespace = config.org.cluster.namespace
    labels = standard_labels(config, "platform")
    return [
        Manifest(
            "platform",
            render_template(
                "platform/namespace.yaml.j2",
                namespace=namespace,
                labels={**labels, **pod_security(platform_level(config), config), **mesh.namespace_labels(config)},
                annotations=mesh.namespace_annotations(config),
            ),
        ),
        Manifest("platform", render_template("platform/networkpolicy-default-deny.yaml.j2", namespace=namespace, labels=labels)),
    ]
