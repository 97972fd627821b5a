"""The workspace hooks of the rendered identity module, run by the LiteLLM releases' own Python
against their own classes: the gateway, not the client, decides a request's priority."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.e2e import launch
from tests.e2e.gateway import render
from tests.e2e.standin import StandIn

ORG = """\
organization: e2e-hooks
llm_config: {{provider: openai, model: gpt-4o}}
providers:
  openai: {{endpoint: "http://127.0.0.1:{port}/v1"}}
workspaces:
  urgent: {{llm_override: {{priority: critical}}}}
  nightly: {{llm_override: {{priority: batch}}}}
"""
# Runs the pre-call hook as the proxy does, once per case (workspace, request body), and prints
# what reaches the router, one JSON line per case: one process per release, forked from the
# release's zygote when there is one (tests/e2e/launch.py), as importing LiteLLM takes seconds.
SCRIPT = """\
import asyncio, importlib.util, json, sys
spec = importlib.util.spec_from_file_location("hks_workspace_auth", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from litellm.proxy._types import UserAPIKeyAuth
for workspace, data in json.loads(sys.argv[2]):
    identity = UserAPIKeyAuth(metadata={"hks_workspace": workspace})
    try:
        out = asyncio.run(module.workspace_hooks.async_pre_call_hook(identity, None, data, "acompletion"))
        print(json.dumps({"priority": out.get("priority")}))
    except Exception as exc:
        print(json.dumps({"refused": getattr(exc, "status_code", None)}))
"""
CASES: dict[str, tuple[str, dict[str, object]]] = {
    "urgent's own alias": ("urgent", {"model": "urgent"}),
    "nightly's own alias, the client asking for priority 1": ("nightly", {"model": "nightly", "priority": 1}),
    "urgent's alias from nightly": ("nightly", {"model": "urgent"}),
}


@pytest.fixture(scope="module")
def module(standin: StandIn, tmp_path_factory: pytest.TempPathFactory) -> Path:
    rendered = render(ORG.format(port=standin.port), tmp_path_factory)
    configmap = YAML(typ="safe", pure=True).load((rendered / "platform/gateway/configmap-llm-gateway-config.yaml").read_text())
    folder = tmp_path_factory.mktemp("module")
    for name, text in configmap["data"].items():
        (folder / name).write_text(text)
    return folder / "hks_workspace_auth.py"


@pytest.fixture(scope="module")
def hook(litellm: Path, module: Path) -> dict[str, dict[str, object]]:
    """What the hook of `module` answers in each of CASES, run by the release's own Python."""
    cases = json.dumps(list(CASES.values()))
    code, stdout, stderr = launch.run(litellm, SCRIPT, [str(module), cases], module.parent)
    assert code == 0, stderr[-3000:]
    answers = [json.loads(line) for line in stdout.splitlines()[-len(CASES):]]
    return dict(zip(CASES, answers, strict=True))


def test_the_gateway_sets_each_workspaces_priority_over_the_clients(hook: dict[str, dict[str, object]]) -> None:
    assert hook["urgent's own alias"] == {"priority": 1}
    assert hook["nightly's own alias, the client asking for priority 1"] == {"priority": 255}


def test_the_hook_refuses_another_workspaces_alias(hook: dict[str, dict[str, object]]) -> None:
    assert hook["urgent's alias from nightly"] == {"refused": 403}
