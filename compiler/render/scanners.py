"""The scanner exceptions hks renders: checkov checks that cannot apply to one resource.

Each is a `checkov.io/skip<N>: CKV_K8S_<id>=<reason>` annotation on exactly that resource, and
docs/security.md lists the same reasons (a test compares the two). The table is the registry:
a skip is added here, with its reason, or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WORKLOADS = ("Deployment", "DaemonSet", "StatefulSet")


@dataclass(frozen=True)
class Skip:
    check: str
    kind: str
    names: tuple[str, ...]  # empty: every resource of the kind
    reason: str
    when: str = "always"  # or "tag-pinned": some image lacks a digest; "host-path": a hostPath volume
    pools: bool = False  # names are also matched by a GPU pool's `app.kubernetes.io/name` (ollama-POOL)

    def applies(self, body: dict[str, Any]) -> bool:
        if body.get("kind") != self.kind:
            return False
        labels = body["metadata"].get("labels", {})
        pooled = self.pools and "hks.dev/pool" in labels and labels.get("app.kubernetes.io/name") in self.names
        if self.names and body["metadata"]["name"] not in self.names and not pooled:
            return False
        if self.when == "tag-pinned":
            return not all("@sha256:" in image for image in images(body))
        if self.when == "host-path":
            volumes = body.get("spec", {}).get("template", {}).get("spec", {}).get("volumes", [])
            return any("hostPath" in volume for volume in volumes)
        return True


TAG_PINNED = (
    "pinned to a release tag in catalogue/images.yaml; hks works offline and cannot resolve digests, "
    "so give the image as name:tag@sha256:... (gateway.image, self_hosted.image) to drop this skip"
)
OLLAMA_CPU = (
    "the Ollama server has the LLM nodes to itself (node_selector); a CPU limit would throttle "
    "token generation on CPU nodes, so it has a CPU request and a memory limit only"
)
OLLAMA_CHOWN = (
    "only with self_hosted.storage.type host-path: the prepare-storage init container adds CHOWN "
    "(nothing else) to hand the root-owned node folder to the Ollama user"
)
SKIPS: tuple[Skip, ...] = tuple(
    [
        Skip("CKV_K8S_11", kind, ("ollama",), OLLAMA_CPU, pools=kind == "Deployment") for kind in ("DaemonSet", "Deployment")
    ]
    + [Skip("CKV_K8S_15", kind, (), "IfNotPresent on an image " + TAG_PINNED, "tag-pinned") for kind in WORKLOADS]
    + [
        Skip("CKV_K8S_25", kind, ("ollama",), OLLAMA_CHOWN, "host-path", pools=kind == "Deployment")
        for kind in ("DaemonSet", "Deployment")
    ]
    + [
        Skip(
            "CKV_K8S_35",
            "Deployment",
            ("llm-gateway",),
            "LiteLLM reads provider keys only as os.environ/VAR in its config.yaml; the variables come "
            "from secretKeyRefs, never from a value in the manifest",
        ),
        Skip(
            "CKV_K8S_40",
            "Deployment",
            ("presidio-analyzer", "presidio-anonymizer"),
            "Presidio's images are built for their own user, UID 1001; it runs as that non-root user",
        ),
    ]
    + [Skip("CKV_K8S_43", kind, (), "image " + TAG_PINNED, "tag-pinned") for kind in WORKLOADS]
)


def images(body: dict[str, Any]) -> list[str]:
    spec = body.get("spec", {}).get("template", {}).get("spec", {})
    return [c["image"] for part in ("initContainers", "containers") for c in spec.get(part, [])]


def annotate(body: dict[str, Any]) -> dict[str, Any]:
    """The document with its checkov skips as annotations (a new dict; the input is untouched)."""
    skips = [s for s in SKIPS if s.applies(body)]
    if not skips:
        return body
    metadata = dict(body["metadata"])
    annotations = dict(metadata.get("annotations", {}))
    for index, skip in enumerate(skips, start=1):
        annotations[f"checkov.io/skip{index}"] = f"{skip.check}={skip.reason}"
    metadata["annotations"] = annotations
    return {**body, "metadata": metadata}
