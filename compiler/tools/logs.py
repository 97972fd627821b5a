"""The `kubectl logs` commands for what hks rendered: selectors and container names are read from
the rendered workloads themselves, so the two cannot drift apart."""

from __future__ import annotations

import re
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

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


@dataclass(frozen=True)
class Outcome:
    code: int  # the first failing command's status, 0 when all succeeded, 130 when interrupted
    unreachable: str | None  # kubectl's last sentence, when it failed because no cluster answered


def run(commands: list[list[str]], verbose: bool, write: Callable[[str], None]) -> Outcome:
    """Runs the kubectl commands at once, their output going where hks's goes; `write` takes
    their stderr: as it comes when `verbose`, else once each ends, unless it only says there is
    no cluster (its client logs every retry)."""
    processes = [subprocess.Popen(args, stderr=subprocess.PIPE, text=True) for args in commands]
    errors: list[list[str]] = [[] for _ in processes]
    readers = [threading.Thread(target=_forward, args=(p.stderr, errors[i], verbose, write)) for i, p in enumerate(processes)]
    for reader in readers:
        reader.start()
    try:
        codes = [p.wait() for p in processes]
    except KeyboardInterrupt:
        for p in processes:
            p.terminate()
        return Outcome(130, None)
    for reader in readers:
        reader.join()
    failing = [code for code in codes if code != 0]
    if not failing:
        return Outcome(0, None)
    unreachable = [lines for lines in errors if no_cluster("".join(lines))]
    return Outcome(failing[0], _last_said(unreachable[0]) if unreachable else None)


def _forward(stream: IO[str] | Any, into: list[str], verbose: bool, write: Callable[[str], None]) -> None:
    for line in stream:
        into.append(line)
        if verbose:
            write(line)
    if not verbose and not no_cluster("".join(into)):
        write("".join(into))


def _last_said(lines: list[str]) -> str:
    """kubectl's own last sentence, not one of its client's log lines (`E1125 23:58:30.43 ...`)."""
    said = [line.strip() for line in lines if line.strip() and not re.match(r"[EWIF]\d{4} ", line)]
    return (said or [line.strip() for line in lines if line.strip()] or ["(nothing)"])[-1]
