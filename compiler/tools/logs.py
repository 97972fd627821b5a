"""The `kubectl logs` commands for what hks rendered: selectors and container names are read from
the rendered workloads themselves, so the two cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# component named on the command line → the `app.kubernetes.io/component` label of its workloads
COMPONENTS: dict[str, str] = {"gateway": "gateway", "ollama": "llm-server", "pii": "pii"}
COMPONENT_LABEL = "app.kubernetes.io/component"
WORKLOAD_KINDS = ("DaemonSet", "Deployment", "StatefulSet")
MAX_FOLLOWED_PODS = 50  # kubectl follows at most 5 pods at once unless told; a DaemonSet has one per node

# What kubectl says when it has no cluster to talk to.
NO_CLUSTER_SIGNS = (
    "connection refused",
    "no configuration has been provided",
    "unable to connect to the server",
    "dial tcp",
    "no such host",
    "current-context is not set",
    "context was not found",
)


@dataclass(frozen=True)
class Target:
    component: str
    kind: str
    name: str
    namespace: str
    selector: dict[str, str]
    container: str


def targets(documents: list[dict[str, Any]], component: str) -> list[Target]:
    """The containers of the rendered workloads of one component, in document order."""
    found = []
    for body in documents:
        labels = body.get("metadata", {}).get("labels", {})
        if body.get("kind") not in WORKLOAD_KINDS or labels.get(COMPONENT_LABEL) != COMPONENTS[component]:
            continue
        selector = dict(body["spec"]["selector"]["matchLabels"])
        for container in body["spec"]["template"]["spec"]["containers"]:
            found.append(
                Target(component, body["kind"], body["metadata"]["name"], body["metadata"]["namespace"], selector, container["name"])
            )
    return found


def command(target: Target, namespace: str | None, follow: bool, since: str | None, tail: int | None) -> list[str]:
    selector = ",".join(f"{k}={v}" for k, v in sorted(target.selector.items()))
    args = ["kubectl", "logs", "-n", namespace or target.namespace, "-l", selector, "-c", target.container, "--prefix"]
    if follow:
        args += ["-f", f"--max-log-requests={MAX_FOLLOWED_PODS}"]
    if since:
        args.append(f"--since={since}")
    if tail is not None:
        args.append(f"--tail={tail}")
    return args


def no_cluster(stderr: str) -> bool:
    lowered = stderr.lower()
    return any(sign in lowered for sign in NO_CLUSTER_SIGNS)
