"""End to end at scale: a config whose gateway files are too large for one ConfigMap is split
over several (compiler/render/objectsize.py) and put back together by the Deployment's init container
command; the real proxy then serves every workspace from the assembled config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from tests.e2e.gateway import chat, render, running
from tests.e2e.kubeapi import KubeAPI
from tests.e2e.standin import StandIn

COUNT = 160
ORG = """\
organization: e2e-scale
llm_config:
  provider: openai
  model: gpt-5.4-mini
providers:
  openai:
    endpoint: http://127.0.0.1:{port}/v1
gateway:
  replicas: {{min: 1, max: 1}}
"""
WORKSPACE = """\
members:
  groups: [team-{index}]
llm_override:
  rate_limit: {{rpm: {rpm}}}
  budget: {{monthly_usd: {budget}}}
  fallbacks: [{{provider: openai, model: gpt-5.4}}]
"""
LIMIT = 262_144  # what client-side apply's annotation copy of an object may hold


@pytest.fixture(scope="module")
def rendered(standin: StandIn, tmp_path_factory: pytest.TempPathFactory) -> Path:
    files = {f"workspaces/team-{i:03d}.yaml": WORKSPACE.format(index=i, rpm=100 + i, budget=500 + i) for i in range(COUNT)}
    return render(ORG.format(port=standin.port), tmp_path_factory, files)


def test_the_gateway_config_is_split_and_every_object_fits(rendered: Path) -> None:
    yaml = YAML(typ="safe", pure=True)
    configmaps = sorted((rendered / "platform/gateway").glob("configmap-llm-gateway-config-*.yaml"))
    assert len(configmaps) > 1
    for path in rendered.rglob("*.yaml"):
        if path.name != "kustomization.yaml":
            assert len(json.dumps(yaml.load(path.read_text())).encode()) < LIMIT, path


def test_the_proxy_serves_the_first_and_the_last_workspace_from_the_assembled_config(
    rendered: Path, standin: StandIn, kubeapi: KubeAPI, litellm: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with running(rendered, standin, kubeapi, litellm, tmp_path_factory) as url:
        for workspace in ("team-000", f"team-{COUNT - 1:03d}"):
            status, body = chat(url, workspace)
            assert status == 200, body
            assert body["choices"][0]["message"]["content"]
        status, _ = chat(url, f"team-{COUNT:03d}")  # no such workspace: its namespace's token is refused
        assert status in (401, 403)
