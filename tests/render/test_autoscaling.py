"""Autoscaling of the GPU pools with KEDA (render/components/autoscaling.py, docs/self-hosted.md
"Autoscaling"): a ScaledObject per pool whose max is above its min, valid for hks's schema and for
KEDA's upstream CRD schema; its queries, evaluated by promtool over synthetic gateway series, ask
for the expected pods at idle, on refused requests to a pool at zero, at load and at the maximum;
the Deployment leaves `replicas` to it. That each metric and label the queries use is one the real
LiteLLM exposes is tests/e2e/test_pools_e2e.py's."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from compiler.builtin.kubeschemas import problems
from compiler.model.model import Pool
from compiler.pipeline import compile_config
from compiler.providers import selfhosted
from tests.builtin.test_crd_schemas import UPSTREAM
from tests.conftest import ROOT
from tests.render.test_pools import LARGE, SMALL, config, findings, rendered

GPU_POOLS = ROOT / "examples" / "gpu-pools"


def scaled_objects(files: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {body["metadata"]["name"]: body for body in files.values() if body["kind"] == "ScaledObject"}


@pytest.fixture(scope="module")
def example() -> dict[str, Any]:
    yaml = YAML(typ="safe")
    folder = GPU_POOLS / "rendered"
    return {str(p.relative_to(folder)): yaml.load(p.read_text()) for p in sorted(folder.rglob("*.yaml")) if p.name != "kustomization.yaml"}


# --- what renders -------------------------------------------------------------------------------


def test_each_pool_that_can_grow_has_a_scaled_object_on_its_deployment(example: dict[str, Any]) -> None:
    found = scaled_objects(example)
    assert sorted(found) == ["ollama-large", "ollama-small"]
    small, large = found["ollama-small"]["spec"], found["ollama-large"]["spec"]
    assert small["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "ollama-small"}
    assert (small["minReplicaCount"], small["maxReplicaCount"]) == (0, 4)
    assert (large["minReplicaCount"], large["maxReplicaCount"]) == (1, 2)
    assert small["cooldownPeriod"] == selfhosted.COOLDOWN_SECONDS
    # A pool at zero answers nothing: it needs the trigger that counts refused requests too.
    assert [t["name"] for t in small["triggers"]] == ["load", "wake"]
    assert [t["name"] for t in large["triggers"]] == ["load"]
    for trigger in small["triggers"] + large["triggers"]:
        assert trigger["metadata"]["serverAddress"] == "http://prometheus-operated.monitoring.svc:9090"
        assert trigger["metricType"] == "AverageValue"
    assert small["triggers"][0]["metadata"]["threshold"] == "2"  # self_hosted.num_parallel
    # Prometheus out of reach: the pool keeps one pod rather than none.
    assert small["fallback"] == {"failureThreshold": 3, "replicas": 1}


def test_the_deployment_leaves_replicas_to_keda_and_argo_cd_is_not_told_to_ignore_them(example: dict[str, Any]) -> None:
    for name in ("ollama-small", "ollama-large"):
        assert "replicas" not in example[f"platform/ollama/deployment-{name}.yaml"]["spec"]
    [application] = [b for b in example.values() if b["kind"] == "Application"]
    assert "ignoreDifferences" not in application["spec"]
    # No sync wave: like the gateway's HPA, it goes with the Deployment (wave 0).
    for body in scaled_objects(example).values():
        assert "annotations" not in body["metadata"] or "argocd.argoproj.io/sync-wave" not in body["metadata"]["annotations"]


def test_a_pool_of_fixed_size_has_no_scaled_object_and_keeps_its_replicas(tmp_path: Path) -> None:
    fixed = SMALL.replace("{min: 1, max: 3}", "{min: 2, max: 2}")
    files = rendered(config(tmp_path, pools=fixed + LARGE))
    assert sorted(scaled_objects(files)) == ["ollama-large"]
    assert files["platform/ollama/deployment-ollama-small.yaml"]["spec"]["replicas"] == 2
    assert "replicas" not in files["platform/ollama/deployment-ollama-large.yaml"]["spec"]


def test_a_shared_model_is_counted_by_its_deployment_in_each_pool(tmp_path: Path) -> None:
    both = SMALL.replace("[llama3.1:8b]", "[llama3.1:8b, llama3:8b]") + LARGE.replace("[llama3.1:70b]", "[llama3.1:70b, llama3:8b]")
    spread = {"spread": 'llm_override: {model: "llama3:8b"}\n'}
    files = rendered(config(tmp_path, pools=both, extra="  shared_models: [llama3:8b]\n", workspaces=spread))
    small = scaled_objects(files)["ollama-small"]["spec"]["triggers"][0]["metadata"]["query"]
    assert 'model=~"llama3\\\\.1:8b"' in small
    assert 'model=~"llama3:8b", model_id=~".+\\\\.deployment\\\\.small"' in small
    gateway = YAML(typ="safe").load(files["platform/gateway/configmap-llm-gateway-config.yaml"]["data"]["config.yaml"])
    ids = {d["model_info"]["id"] for d in gateway["model_list"] if d["litellm_params"]["model"].endswith("llama3:8b")}
    assert any(re.fullmatch(r".+\.deployment\.small", i) for i in ids), ids


def test_the_prometheus_address_is_a_setting(tmp_path: Path) -> None:
    extra = "monitoring:\n  prometheus_url: http://kube-prometheus-stack-prometheus.observability.svc:9090\n"
    root = config(tmp_path)
    (root / "org.yaml").write_text((root / "org.yaml").read_text() + extra)
    for body in scaled_objects(rendered(root)).values():
        assert {t["metadata"]["serverAddress"] for t in body["spec"]["triggers"]} == {
            "http://kube-prometheus-stack-prometheus.observability.svc:9090"
        }


# --- the rules ----------------------------------------------------------------------------------


def test_a_pool_at_zero_is_a_note_with_its_cold_start(tmp_path: Path) -> None:
    root = config(tmp_path, pools=SMALL.replace("{min: 1, max: 3}", "{min: 0, max: 3}") + LARGE)
    [(severity, rule, where, message)] = findings(root, "POOL-006")
    assert (severity, rule, where) == ("info", "POOL-006", "org.yaml:11:23")
    assert "scales to zero after 15 minutes" in message and "answer about 7 min later" in message, message
    assert "a GPU node 5 min" in message and "retries the refused connection 56 times" in message, message


# --- scale to zero: the gateway's retries -------------------------------------------------------


def retry_policies(files: dict[str, Any]) -> dict[str, Any]:
    data = files["platform/gateway/configmap-llm-gateway-config.yaml"]["data"]
    return dict(YAML(typ="safe").load(data["config.yaml"]).get("router_settings", {}).get("model_group_retry_policy", {}))


# (pool at zero, its node_start_seconds, retries, last retry at the earliest, answered with an error
# at the latest, POOL-009): the window is 45 s to wake + the node + 30 s to start + the pull
# (download GB / 125 MB/s) + the load (GB / 1 GB/s); 4.9 GB for llama3.1:8b, 43 GB for llama3.1:70b.
COLD_STARTS = [
    ("small", 300, 419.1, 56, 423.5, 474.2, False),
    ("small", 0, 119.1, 18, 119.5, 141.8, False),
    ("large", 0, 462.0, 61, 463.5, 518.0, False),
    ("large", 300, 762.0, 99, 767.5, 850.5, True),
]


@pytest.mark.parametrize(("pool", "node", "window", "retries", "last", "gives_up", "warned"), COLD_STARTS)
def test_the_gateway_retries_a_pool_at_zero_until_its_cold_start_is_over(
    tmp_path: Path, pool: str, node: int, window: float, retries: int, last: float, gives_up: float, warned: bool
) -> None:
    replicas = {"small": "{min: 1, max: 3}", "large": "{min: 1, max: 2}"}[pool]
    zero = replicas.replace("min: 1", "min: 0").replace("}", f", node_start_seconds: {node}}}")
    pools = SMALL + LARGE
    pools = pools.replace(replicas, zero) if pool == "small" else SMALL + LARGE.replace(replicas, zero)
    workspaces = {"research": "llm_override: {model: llama3.1:70b}\n", "chat": ""}
    root = config(tmp_path, pools=pools, workspaces=workspaces)
    [served] = [p for p in selfhosted.served_pools(compile_config(str(root)).config) if p.name == pool]
    wait = selfhosted.cold_start_wait(served)
    assert (round(wait.window_seconds, 1), wait.retries, wait.last_retry_seconds, round(wait.gives_up_seconds, 1)) == (window, retries, last, gives_up)
    # The fewest retries that cover the window: one fewer does not.
    assert sum(selfhosted.retry_sleep(k) for k in range(retries - 1)) < window <= last
    policies = retry_policies(rendered(root))
    alias = {"small": "chat", "large": "research"}[pool]
    assert sorted(policies) == [alias]  # the other pool keeps a pod: its alias keeps LiteLLM's defaults
    assert policies[alias] == {
        "DefaultRetries": retries,  # a refused connection (APIConnectionError)
        "BadRequestErrorRetries": 0,
        "AuthenticationErrorRetries": 0,
        "NotFoundErrorRetries": 0,
        "ContentPolicyViolationErrorRetries": 0,
        "TimeoutErrorRetries": 2,
        "RateLimitErrorRetries": 2,
        "InternalServerErrorRetries": 2,
        "ServiceUnavailableErrorRetries": 2,
    }
    warnings = findings(root, "POOL-009")
    assert bool(warnings) == warned, warnings
    if warned:
        [(severity, _, where, message)] = warnings
        assert severity == "warning" and where == "org.yaml:16:23" and "up to 14 min" in message, (where, message)


@pytest.mark.parametrize(
    ("mesh", "unavailable", "retried"),
    [("none", 2, "the refused connection"), ("linkerd", 56, "the 503 of Linkerd's proxy"), ("istio", 56, "the connection ztunnel resets")],
)
def test_under_a_mesh_a_503_waits_as_long_as_a_refused_connection(tmp_path: Path, mesh: str, unavailable: int, retried: str) -> None:
    """Linkerd's proxy accepts the connection to a Service without endpoints and answers 503 after
    its failfast timeout (a ServiceUnavailableError to LiteLLM), so that count must wait out the cold
    start too; Istio ambient's ztunnel closes the connection (DefaultRetries), and a waypoint there
    would answer 503. Without a mesh a 503 is Ollama's own (its queue full) and keeps the router's 2."""
    root = config(tmp_path, pools=SMALL.replace("{min: 1, max: 3}", "{min: 0, max: 3}") + LARGE, workspaces={"chat": ""})
    (root / "org.yaml").write_text((root / "org.yaml").read_text() + f"cluster:\n  mesh: {mesh}\n")
    policies = retry_policies(rendered(root))
    assert sorted(policies) == ["chat"]  # the large pool keeps a pod: its alias is not held
    assert (policies["chat"]["DefaultRetries"], policies["chat"]["ServiceUnavailableErrorRetries"]) == (56, unavailable)
    assert policies["chat"]["InternalServerErrorRetries"] == 2
    [(_, _, _, message)] = findings(root, "POOL-006")
    assert f"the gateway retries {retried} 56 times" in message, message


def test_a_rate_limited_alias_at_zero_keeps_its_429_answered_at_once(tmp_path: Path) -> None:
    pools = SMALL.replace("{min: 1, max: 3}", "{min: 0, max: 3}") + LARGE
    root = config(tmp_path, pools=pools, workspaces={"chat": "llm_override: {rate_limit: {rpm: 10}}\n"})
    policy = retry_policies(rendered(root))["chat"]
    assert (policy["RateLimitErrorRetries"], policy["DefaultRetries"]) == (0, 56)


def test_a_model_a_warm_pool_also_serves_is_not_held(tmp_path: Path) -> None:
    shared = SMALL.replace("{min: 1, max: 3}", "{min: 0, max: 3}") + LARGE.replace("[llama3.1:70b]", "[llama3.1:70b, llama3.1:8b]")
    root = config(tmp_path, pools=shared, extra="  shared_models: [llama3.1:8b]\n")
    assert retry_policies(rendered(root)) == {}


def test_the_wake_figures_are_the_rendered_intervals() -> None:
    from compiler.render import monitoring
    from compiler.render.components import autoscaling

    assert f"{selfhosted.SCRAPE_SECONDS}s" == monitoring.SCRAPE_INTERVAL
    assert autoscaling.POLLING_SECONDS == selfhosted.POLLING_SECONDS


def test_autoscaling_without_the_gateways_metrics_is_an_error_at_max(tmp_path: Path) -> None:
    root = config(tmp_path)
    (root / "org.yaml").write_text((root / "org.yaml").read_text() + "monitoring:\n  enabled: false\n")
    found = findings(root, "POOL-008")
    assert [(s, r, w) for s, r, w, _ in found] == [("error", "POOL-008", "org.yaml:11:31"), ("error", "POOL-008", "org.yaml:16:31")]


# --- schemas ------------------------------------------------------------------------------------


def test_every_scaled_object_passes_hks_and_the_upstream_keda_schema(example: dict[str, Any], tmp_path: Path) -> None:
    both = SMALL.replace("[llama3.1:8b]", "[llama3.1:8b, llama3:8b]").replace("min: 1", "min: 0") + LARGE.replace(
        "[llama3.1:70b]", "[llama3.1:70b, llama3:8b]"
    )
    documents = [*scaled_objects(example).values(), *scaled_objects(rendered(config(tmp_path, pools=both, extra="  shared_models: [llama3:8b]\n"))).values()]
    path = UPSTREAM / "keda.sh" / "scaledobject_v1alpha1.json"
    upstream = jsonschema.Draft7Validator(json.loads(path.read_text("utf-8")))
    assert len(documents) == 4
    for document in documents:
        assert problems(document, "1.37") == []
        assert [e.message for e in upstream.iter_errors(document)] == []


# --- the replicas the queries ask for (promtool) ---------------------------------------------------


def desired_replicas(spec: dict[str, Any]) -> str:
    """What KEDA and its HPA make of a ScaledObject, as PromQL: each trigger (AverageValue) asks
    for ceil(value / threshold) pods, the HPA takes the largest, within [max(min, 1), max]; a pool
    with min 0 is at 0 while no trigger is active (value > activationThreshold, default 0)."""
    asks = [f"ceil(({t['metadata']['query']}) / {t['metadata']['threshold']})" for t in spec["triggers"]]
    largest = asks[0]
    for ask in asks[1:]:
        largest = f"(({largest}) >= ({ask}) or ({ask}))"
    low, high = max(spec["minReplicaCount"], 1), spec["maxReplicaCount"]
    expr = f"clamp({largest}, {low}, {high})"
    if spec["minReplicaCount"] == 0:
        active = " or ".join(f"(({t['metadata']['query']}) > {t['metadata'].get('activationThreshold', '0')})" for t in spec["triggers"])
        expr = f"({expr} and on() ({active})) or vector(0)"
    return expr


def _counter(per_minute: list[float]) -> str:
    total, values = 0.0, []
    for step in per_minute:
        values.append(total)
        total += step
    return " ".join(f"{v:g}" for v in values)


# Phases of 10 minutes: idle; requests refused by the small pool at zero (nothing answered);
# 5 requests in flight on the small pool and 1 on the large; 20 and 10 (beyond both maxima).
PHASES = [("idle", 0, 0, 0), ("refused", 0, 0, 30), ("load", 5, 1, 60), ("maximum", 20, 10, 240)]
EXPECTED = {"idle": (0, 1), "refused": (1, 1), "load": (3, 1), "maximum": (4, 2)}


def test_the_scaling_queries_ask_for_the_expected_pods(example: dict[str, Any], tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: run tests/install-tools.sh (CI does)"
    found = scaled_objects(example)
    rules = [{"record": "pool:desired_replicas", "expr": desired_replicas(found[name]["spec"]), "labels": {"pool": name}} for name in sorted(found)]
    yaml = YAML()
    with (tmp_path / "rules.yaml").open("w") as handle:
        yaml.dump({"groups": [{"name": "keda", "rules": rules}]}, handle)
    # In-flight requests are answering seconds per second (Little's law): n in flight for a minute
    # add 60·n seconds to the latency sum. Refused requests count in the deployment's requests only.
    small = [60.0 * s for _, s, _, _ in PHASES for _ in range(10)]
    large = [60.0 * n for _, _, n, _ in PHASES for _ in range(10)]
    sent = [float(r) for _, _, _, r in PHASES for _ in range(10)]
    base = "http://ollama-small.northwind-llm.svc.cluster.local:11434/api/chat"
    series = [
        ('litellm_llm_api_latency_metric_sum{model="llama3.1:8b", model_id="assistant.deployment", requested_model="assistant"}', small),
        ('litellm_llm_api_latency_metric_sum{model="llama3.1:70b", model_id="research.deployment", requested_model="research"}', large),
        (f'litellm_deployment_total_requests_total{{api_base="{base}", litellm_model_name="llama3.1:8b", model_id="assistant.deployment"}}', sent),
        # Another pool's and another provider's traffic count for neither.
        ('litellm_llm_api_latency_metric_sum{model="gpt-4o", model_id="chat.deployment"}', [600.0] * 40),
    ]
    tests = {
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": name, "values": _counter(values)} for name, values in series],
                "promql_expr_test": [
                    {
                        "expr": f'pool:desired_replicas{{pool="{pool}"}}',
                        "eval_time": f"{10 * index + 7}m",
                        "exp_samples": [{"labels": f'pool:desired_replicas{{pool="{pool}"}}', "value": EXPECTED[phase][column]}],
                    }
                    for index, (phase, *_) in enumerate(PHASES)
                    for column, pool in enumerate(("ollama-small", "ollama-large"))
                ],
            }
        ],
    }
    (tmp_path / "test.yaml").write_text(json.dumps(tests))
    result = subprocess.run([promtool, "test", "rules", str(tmp_path / "test.yaml")], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    # The expectation at load is the rendered threshold's arithmetic: 5 in flight, num_parallel per pod.
    [threshold] = [float(t["metadata"]["threshold"]) for t in found["ollama-small"]["spec"]["triggers"] if t["name"] == "load"]
    assert EXPECTED["load"][0] == math.ceil(PHASES[2][1] / threshold)


# --- the docs -----------------------------------------------------------------------------------


def test_the_cold_start_table_in_the_docs_is_computed_from_the_catalogue() -> None:
    from compiler.builtin import catalogue

    text = (ROOT / "docs" / "self-hosted.md").read_text()
    # | model | download | pull | load | first token after |
    rows = {name: (pull, load, total) for name, pull, load, total in re.findall(r"^\| `([^`]+)` \| [^|]+ \| ([^|]+) \| ([^|]+) \| ([^|]+) \|$", text, re.M)}
    sized = {name for name, info in catalogue.models(selfhosted.SELF_HOSTED).items() if "download_gb" in info.facts}
    assert set(rows) == sized
    for name in sized:
        start = selfhosted.model_cold_start(name)
        assert start is not None
        assert tuple(cell.strip() for cell in rows[name]) == tuple(map(cold_start_cell, (start.pull_seconds, start.load_seconds, start.total_seconds))), name


def test_the_wait_from_zero_table_in_the_docs_is_computed_from_the_catalogue() -> None:
    from compiler.builtin import catalogue

    text = (ROOT / "docs" / "self-hosted.md").read_text()
    # | model | from zero, a node up | retries | from zero, a node added (300 s) | retries | error at the latest |
    row = r"^\| `([^`]+)` \| ([^|]+) \| (\d+) \| ([^|]+) \| (\d+) \| ([^|]+) \|$"
    rows = {name: cells for name, *cells in re.findall(row, text, re.M)}
    sized = {name for name, info in catalogue.models(selfhosted.SELF_HOSTED).items() if "download_gb" in info.facts}
    assert set(rows) == sized
    for name in sized:
        start = selfhosted.model_cold_start(name)
        assert start is not None
        up, added = selfhosted.ColdStartWait(45.0, 0.0, start), selfhosted.ColdStartWait(45.0, 300.0, start)
        expected = [cold_start_cell(up.window_seconds), str(up.retries), cold_start_cell(added.window_seconds), str(added.retries), cold_start_cell(added.gives_up_seconds)]
        assert [cell.strip() for cell in rows[name]] == expected, name
    assert selfhosted.SCRAPE_SECONDS + selfhosted.POLLING_SECONDS == 45
    assert Pool.model_fields["replicas"].default_factory().node_start_seconds == 300  # type: ignore[misc,call-arg]


def cold_start_cell(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def test_compile_is_clean_for_the_example() -> None:
    compiled = compile_config(str(GPU_POOLS))
    assert compiled.ok
    assert [d.rule for d in compiled.diagnostics] == ["POOL-006"]


# --- a pool whose pods clone a VolumeSnapshot pulls nothing (docs/self-hosted.md, "Storage for pools")


@pytest.mark.parametrize(
    ("pool", "node", "window", "retries"),
    [
        # 45 s to wake + the node + 30 s to start + the load of the warmed model (4.9 GB, 43 GB at
        # 1 GB/s); no pull: the COLD_STARTS above less 39.2 s and 344 s.
        ("small", 300, 379.9, 51),
        ("large", 0, 118.0, 18),
    ],
)
def test_a_pool_that_clones_a_snapshot_has_no_pull_in_its_cold_start(tmp_path: Path, pool: str, node: int, window: float, retries: int) -> None:
    replicas = {"small": "{min: 1, max: 3}", "large": "{min: 1, max: 2}"}[pool]
    zero = replicas.replace("min: 1", "min: 0").replace("}", f", node_start_seconds: {node}}}") + "\n      snapshot: ollama-models"
    pools = SMALL.replace(replicas, zero) + LARGE if pool == "small" else SMALL + LARGE.replace(replicas, zero)
    root = config(tmp_path, pools=pools, workspaces={"research": "llm_override: {model: llama3.1:70b}\n", "chat": ""})
    pools_by_name = {p.name: p for p in selfhosted.served_pools(compile_config(str(root)).config)}
    start = selfhosted.pool_cold_start(pools_by_name[pool])
    load = {"small": 4.9, "large": 43.0}[pool]
    assert (start.pull_seconds, round(start.load_seconds, 1), start.snapshot) == (0.0, load, "ollama-models")
    other = "large" if pool == "small" else "small"
    assert selfhosted.pool_cold_start(pools_by_name[other]).pull_seconds > 0  # the other pool still pulls
    wait = selfhosted.cold_start_wait(pools_by_name[pool])
    assert (round(wait.window_seconds, 1), wait.retries) == (window, retries)
    [before] = [c for c in COLD_STARTS if c[:2] == (pool, node)]
    assert wait.retries < before[3] and window < before[2]
    alias = {"small": "chat", "large": "research"}[pool]
    assert retry_policies(rendered(root))[alias]["DefaultRetries"] == retries
    [(_, _, _, message)] = findings(root, "POOL-006")
    assert "no pulls, as its volume is cloned from the VolumeSnapshot 'ollama-models'" in message, message
    assert "its pulls" not in message


def test_a_snapshot_with_host_path_does_not_drop_the_pull(tmp_path: Path) -> None:
    """POOL-010 refuses the config; the figures still do not pretend the pull away."""
    pools = SMALL.replace("{min: 1, max: 3}", "{min: 0, max: 3}\n      snapshot: ollama-models") + LARGE
    root = config(tmp_path, pools=pools, extra="  storage: {type: host-path}\n")
    [small, _] = selfhosted.served_pools(compile_config(str(root)).config)
    start = selfhosted.pool_cold_start(small)
    assert start.snapshot is None and start.pull_seconds > 0


def test_the_storage_table_in_the_docs_is_computed_from_the_catalogue() -> None:
    from compiler.builtin import catalogue

    text = (ROOT / "docs" / "self-hosted.md").read_text()
    # | model | download | pull at 1 Gbit/s | `ephemeral`, or `host-path` on a new node | `host-path` on a node that ran the pool | `snapshot` |
    row = r"^\| `([^`]+)` \| ([^|]+) \| ([^|]+) \| ([^|]+) \| ([^|]+) \| ([^|]+) \+ the clone \|$"
    rows = {name: [cell.strip() for cell in cells] for name, *cells in re.findall(row, text, re.M)}
    sized = {name: info for name, info in catalogue.models(selfhosted.SELF_HOSTED).items() if "download_gb" in info.facts}
    assert set(rows) == set(sized)
    for name, info in sized.items():
        start = selfhosted.model_cold_start(name)
        assert start is not None
        kept = selfhosted.POD_START_SECONDS + start.load_seconds  # nothing to pull: start and load
        expected = [f"{info.facts['download_gb']} GB", cold_start_cell(start.pull_seconds), cold_start_cell(start.total_seconds), cold_start_cell(kept), cold_start_cell(kept)]
        assert rows[name] == expected, name
    assert selfhosted.PULL_BYTES_PER_SECOND == 1e9 / 8  # the table's 1 Gbit/s
