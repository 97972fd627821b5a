"""The workspace hooks of the rendered identity module, run by the LiteLLM releases' own Python
against their own classes: the gateway, not the client, decides a request's priority."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

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
# Runs one pre-call hook as the proxy does, and prints what reaches the router.
SCRIPT = """\
import asyncio, importlib.util, json, sys
spec = importlib.util.spec_from_file_location("hks_workspace_auth", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from litellm.proxy._types import UserAPIKeyAuth
identity = UserAPIKeyAuth(metadata={"hks_workspace": sys.argv[2]})
data = json.loads(sys.argv[3])
try:
    out = asyncio.run(module.workspace_hooks.async_pre_call_hook(identity, None, data, "acompletion"))
    print(json.dumps({"priority": out.get("priority")}))
except Exception as exc:
    print(json.dumps({"refused": getattr(exc, "status_code", None)}))
"""


@pytest.fixture(scope="module")
def module(standin: StandIn, tmp_path_factory: pytest.TempPathFactory) -> Path:
    rendered = render(ORG.format(port=standin.port), tmp_path_factory)
    configmap = YAML(typ="safe", pure=True).load((rendered / "platform/gateway/configmap-llm-gateway-config.yaml").read_text())
    folder = tmp_path_factory.mktemp("module")
    for name, text in configmap["data"].items():
        (folder / name).write_text(text)
    return folder / "hks_workspace_auth.py"


def hook(litellm: Path, module: Path, workspace: str, body: dict[str, object]) -> dict[str, object]:
    python = litellm.parent / "python"
    result = subprocess.run([str(python), "-c", SCRIPT, str(module), workspace, json.dumps(body)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    answer: dict[str, object] = json.loads(result.stdout.splitlines()[-1])
    return answer


def test_the_gateway_sets_each_workspaces_priority_over_the_clients(litellm: Path, module: Path) -> None:
    assert hook(litellm, module, "urgent", {"model": "urgent"}) == {"priority": 1}
    assert hook(litellm, module, "nightly", {"model": "nightly", "priority": 1}) == {"priority": 255}


def test_the_hook_refuses_another_workspaces_alias(litellm: Path, module: Path) -> None:
    assert hook(litellm, module, "nightly", {"model": "urgent"}) == {"refused": 403}
