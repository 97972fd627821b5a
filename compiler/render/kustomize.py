"""The kustomizations that list what render made, and the one YAML stream an Argo CD plugin reads."""

from __future__ import annotations

from collections.abc import Iterable

from compiler.names import ARGOCD_FOLDER, KUSTOMIZATION_HEADER
from compiler.render.base import Manifest
from compiler.yamlout import dump


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
