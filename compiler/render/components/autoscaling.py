"""Autoscaling of the GPU pools on request load: a KEDA `ScaledObject` per pool whose
`replicas.max` is above its `min`, on the gateway's own Prometheus metrics for that pool's models
(docs/self-hosted.md, "Autoscaling").

LiteLLM (1.108.14 and 1.110.2) has no per-model in-flight or queue metric: its one in-flight
gauge, `litellm_in_flight_requests` (litellm/proxy/middleware/in_flight_requests_middleware.py),
has no labels and counts every HTTP request of the proxy process. So the load is the pool's
requests in flight by Little's law: the seconds its models spent answering, per second
(`rate(litellm_llm_api_latency_metric_sum[2m])`, successful calls only), against
`self_hosted.num_parallel` requests per pod. A pool that scales to zero answers nothing, so it
has a second trigger that wakes it: any request the gateway sent to the pool's Service (refused
ones too, in `litellm_deployment_total_requests_total` with the Service in `api_base`).
"""

from __future__ import annotations

from typing import Any

from compiler.merge import Workspace
from compiler.model.config import Config
from compiler.providers import selfhosted
from compiler.render.base import Manifest, render_template, standard_labels

COOLDOWN_SECONDS = selfhosted.COOLDOWN_SECONDS
POLLING_SECONDS = selfhosted.POLLING_SECONDS
WINDOW = "2m"
LOAD_METRIC = "litellm_llm_api_latency_metric_sum"
REQUESTS_METRIC = "litellm_deployment_total_requests_total"


def render(config: Config, workspaces: tuple[Workspace, ...]) -> list[Manifest]:
    """A ScaledObject per autoscaled pool, beside the pool's Deployment."""
    from compiler.render.components.ollama import POOL_LABEL

    if not selfhosted.served_models(config, workspaces):
        return []
    namespace = config.org.cluster.namespace
    found = []
    for pool in selfhosted.served_pools(config):
        if not pool.autoscaled:
            continue
        labels = {**standard_labels(config, "llm-server", "ollama"), POOL_LABEL: pool.name}
        body = render_template(
            "ollama/scaledobject.yaml.j2",
            name=pool.service,
            namespace=namespace,
            labels=labels,
            min_replicas=pool.replicas.min,
            max_replicas=pool.replicas.max,
            polling_interval=POLLING_SECONDS,
            cooldown_period=COOLDOWN_SECONDS,
            fallback_replicas=max(pool.replicas.min, 1),
            triggers=triggers(config, pool),
        )
        found.append(Manifest("platform/ollama", body))
    return found


def triggers(config: Config, pool: selfhosted.ServedPool) -> list[dict[str, Any]]:
    server = config.org.monitoring.prometheus_url
    found = [_trigger("load", server, load_query(config, pool), pool.hosted.num_parallel)]
    if pool.replicas.min == 0:
        found.append(_trigger("wake", server, wake_query(config, pool), 1))
    return found


def _trigger(name: str, server: str, query: str, threshold: int) -> dict[str, Any]:
    # AverageValue: KEDA's HPA asks for ceil(value / threshold) pods. The activation threshold
    # (scale from zero, and back to zero after the cooldown) is KEDA's default: value > 0.
    metadata = {"serverAddress": server, "query": query, "threshold": str(threshold)}
    return {"type": "prometheus", "name": name, "metricType": "AverageValue", "metadata": metadata}


def load_query(config: Config, pool: selfhosted.ServedPool) -> str:
    """The pool's requests in flight, averaged over WINDOW: its models' answering seconds per
    second. A model in `self_hosted.shared_models` is counted by its deployment in this pool
    (id `ALIAS.deployment.POOL`), the others by their tag."""
    from compiler.render.monitoring import regex_literal

    # As the gateway's model list has them (render/litellm_config.py, _deployments).
    shared = [m.name for m in pool.models if len(selfhosted.pools_serving(config, m.name)) > 1]
    own = [m.name for m in pool.models if m.name not in shared]
    terms = []
    if own:
        terms.append(f'{LOAD_METRIC}{{model=~"{"|".join(regex_literal(m) for m in own)}"}}')
    if shared:
        models = "|".join(regex_literal(m) for m in shared)
        terms.append(f'{LOAD_METRIC}{{model=~"{models}", model_id=~".+\\\\.deployment\\\\.{regex_literal(pool.name)}"}}')
    return "\n+ ".join(f"(sum(rate({term}[{WINDOW}])) or vector(0))" for term in terms)


def wake_query(config: Config, pool: selfhosted.ServedPool) -> str:
    """1 when the gateway sent the pool's Service any request in WINDOW (answered or refused),
    else 0: one pod for a pool at zero."""
    from compiler.providers.ollama import service_url
    from compiler.render.monitoring import regex_literal

    base = regex_literal(service_url(config.org.cluster.namespace, "https", pool.service).removeprefix("https://"))
    selector = f'{REQUESTS_METRIC}{{api_base=~"https?://{base}/.*"}}'
    return f"(sum(increase({selector}[{WINDOW}])) > bool 0) or vector(0)"
