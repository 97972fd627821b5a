"""End to end: the real LiteLLM proxy accepts the settings hks renders for every model the
examples and the `hks init` starters use. LiteLLM checks a request's settings against the model
(temperature, top_p, max_tokens or max_completion_tokens) and answers HTTP 400 when the model
refuses one; validate's CAT-006 is meant to catch that first, and this test is the proof that
nothing it lets through is refused.

One proxy serves every model: one config is rendered whose workspaces carry, explicitly, the
effective settings of each (example, workspace) pair, and the test first checks that the
rendered settings are the examples' own. Two things cannot be copied as they are, and are said
here rather than hidden: one Azure deployment name serves every Azure workspace (the org has one
`deployments` map; LiteLLM picks Azure's parameter rules from the deployment's `base_model`,
which hks renders, so the name does not decide them), and Vertex AI workspaces run on the Gemini
API (the pinned proxy's venv has no google-auth, so Vertex cannot be called here; their
settings go through the release's own parameter check in-process instead). A request that reaches the stand-in
must carry the rendered settings: dropping one silently would also pass a 200 check."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
from ruamel.yaml import YAML

from compiler.render import litellm_config as gateway
from compiler.pipeline import compile_config
from compiler.providers import registry
from tests.conftest import EXAMPLES, hks_process
from tests.e2e import launch
from tests.e2e.gateway import chat, render, running
from tests.e2e.kubeapi import KubeAPI
from tests.e2e.standin import StandIn

SAMPLING = ("temperature", "top_p", "max_tokens")
STARTERS = registry.NAMES  # `hks init --provider` offers each
SEED_WAIVER = """\
waivers:
  - rule: CAT-004
    workspace: {workspace}
    reason: the seed document's gpt-4, kept as the seed example keeps it
    expires: 2027-06-30
    approver: platform-team@example.com
"""


def rendered_models(folder: Path) -> dict[str, dict[str, Any]]:
    """A rendered folder's gateway deployments: alias → litellm_params."""
    yaml = YAML(typ="safe", pure=True)
    configmap = yaml.load((folder / "platform/gateway/configmap-llm-gateway-config.yaml").read_text())
    return {m["model_name"]: m["litellm_params"] for m in yaml.load(configmap["data"]["config.yaml"])["model_list"]}


def sources(tmp: Path) -> dict[str, Path]:
    """The examples and a fresh starter of each provider, made by `hks init` as a user would."""
    found = {"acme": EXAMPLES / "acme", "seed": EXAMPLES / "seed"}
    for provider in STARTERS:
        folder = tmp / f"init-{provider}"
        result = hks_process("init", str(folder), "--provider", provider)
        assert result.returncode == 0, result.stderr
        found[f"init --provider {provider}"] = folder
    return found


def used_models(tmp: Path) -> list[dict[str, Any]]:
    """Each distinct (provider, model, rendered settings) of the sources, with where it is used."""
    found: dict[tuple[Any, ...], dict[str, Any]] = {}
    for label, folder in sources(tmp).items():
        compiled = compile_config(str(folder))
        assert compiled.config is not None, label
        params = rendered_models(folder / "rendered")
        for workspace in compiled.workspaces:
            for target in gateway.targets(workspace):
                if target.embedding:
                    continue  # no sampling settings: tests/e2e/test_embeddings_e2e.py calls them
                rendered = params[target.alias]
                settings = {k: rendered[k] for k in SAMPLING if k in rendered}
                key = (target.provider, target.model, tuple(sorted(settings.items())))
                entry = found.setdefault(
                    key,
                    {"provider": target.provider, "model": target.model, "settings": settings, "litellm": rendered["model"], "used": []},
                )
                entry["used"].append(f"{label}: {target.alias}")
    return list(found.values())


def org(port: int, models: list[dict[str, Any]]) -> str:
    azure = next((m for m in models if m["provider"] == "azure-openai"), None)
    deployments = f"{{{azure['model']}: {azure['litellm'].split('/', 1)[1]}}}" if azure else "{}"
    ollama = sorted({m["model"] for m in models if m["provider"] == "ollama"})
    lines = [
        "organization: e2e-models",
        "llm_config: {provider: openai, model: gpt-5.4-mini}",
        "providers:",
        f"  openai: {{endpoint: 'http://127.0.0.1:{port}/v1'}}",
        f"  anthropic: {{endpoint: 'http://127.0.0.1:{port}'}}",
        f"  google: {{endpoint: 'http://127.0.0.1:{port}'}}",
        f"  ollama: {{endpoint: 'http://127.0.0.1:{port}'}}",
        f"  mistral: {{endpoint: 'http://127.0.0.1:{port}/v1'}}",
        f"  openai-compatible: {{endpoint: 'http://127.0.0.1:{port}'}}",
        f"  bedrock: {{endpoint: 'http://127.0.0.1:{port}', region: us-east-1}}",
        f"  azure-openai: {{endpoint: 'http://127.0.0.1:{port}', api_version: '2024-10-21', deployments: {deployments}}}",
        f"self_hosted: {{models: [{', '.join(ollama)}]}}",
        "gateway: {replicas: {min: 1, max: 1}}",
        "workspaces:",
    ]
    for index, model in enumerate(models):
        override = {"provider": model["provider"], "model": model["model"], **model["settings"]}
        lines.append(f"  m{index}: {{llm_override: {{{', '.join(f'{k}: {v!r}' for k, v in override.items())}}}}}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    return used_models(tmp_path_factory.mktemp("sources"))


@pytest.fixture(scope="module")
def rendered(models: list[dict[str, Any]], standin: StandIn, tmp_path_factory: pytest.TempPathFactory) -> Path:
    retired = [f"m{i}" for i, m in enumerate(models) if m["model"] == "gpt-4"]  # the seed's, waived as the seed waives it
    files = {"policies/waivers.yaml": SEED_WAIVER.format(workspace=retired[0])} if retired else {}
    return render(org(standin.port, models), tmp_path_factory, files)


SECRETS = {
    "GEMINI_API_KEY": "e2e-gemini-key-3b7d",
    "MISTRAL_API_KEY": "e2e-mistral-key-5c2e",
    "BEDROCK_AWS_ACCESS_KEY_ID": "AKIAE2EDEFAULTS",
    "BEDROCK_AWS_SECRET_ACCESS_KEY": "e2e-bedrock-secret-8d2f",
}


@pytest.fixture(scope="module")
def proxy(
    rendered: Path, standin: StandIn, kubeapi: KubeAPI, litellm: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with running(rendered, standin, kubeapi, litellm, tmp_path_factory, secrets=SECRETS) as url:
        yield url


def test_every_example_and_starter_model_is_covered(models: list[dict[str, Any]]) -> None:
    used = {(m["provider"], m["model"]) for m in models}
    assert {("openai", "gpt-4"), ("anthropic", "claude-sonnet-4-6"), ("google", "gemini-3.5-flash")} <= used
    assert {p for p, _ in used} == set(STARTERS)


def test_the_rendered_settings_are_the_examples_own(models: list[dict[str, Any]], rendered: Path) -> None:
    params = rendered_models(rendered)
    for index, model in enumerate(models):
        mine = params[f"m{index}"]
        assert {k: mine[k] for k in SAMPLING if k in mine} == model["settings"], model["used"]
        assert mine["model"].split("/", 1)[1] == model["litellm"].split("/", 1)[1] or model["provider"] == "azure-openai", model["used"]


def test_the_proxy_accepts_every_models_rendered_settings(models: list[dict[str, Any]], proxy: str, standin: StandIn) -> None:
    refused = []
    standin.take()
    for index, model in enumerate(models):
        status, body = chat(proxy, f"m{index}")
        calls = [r for r in standin.take() if not r.path.endswith(("/analyze", "/anonymize"))]
        if status != 200:
            refused.append(f"{model['model']} {model['settings']} ({'; '.join(model['used'])}): HTTP {status} {str(body)[:300]}")
            continue
        assert len(calls) == 1, model["used"]
        assert sent(calls[0].path, calls[0].body) == model["settings"], (model["used"], calls[0].body)
    assert not refused, "\n".join(refused)


VERTEX_CHECK = """
import json, sys
from litellm.utils import get_optional_params
for model, settings in json.loads(sys.argv[1]):
    params = get_optional_params(model=model, custom_llm_provider="vertex_ai", drop_params=False, **settings)
    print(json.dumps(params))
"""


def test_vertex_ai_takes_the_rendered_settings_by_litellms_own_check(models: list[dict[str, Any]], litellm: Path, tmp_path: Path) -> None:
    """What the proxy cannot be asked here (no google-auth), its release's own parameter check
    can: the call the proxy makes for every request, with drop_params off, raises for a refused
    setting and otherwise returns the settings it will send."""
    vertex = [(m["litellm"].removeprefix("vertex_ai/"), m["settings"]) for m in models if m["litellm"].startswith("vertex_ai/")]
    assert vertex, "the examples use Vertex AI (acme's support-eu)"
    import json

    code, stdout, stderr = launch.run(litellm, VERTEX_CHECK, [json.dumps(vertex)], tmp_path)
    assert code == 0, stderr[-2000:]
    answers = [json.loads(line) for line in stdout.splitlines()]
    assert len(answers) == len(vertex)
    for (model, settings), params in zip(vertex, answers):
        names = {"temperature": "temperature", "top_p": "top_p", "max_tokens": "max_output_tokens"}
        assert {ours: params[theirs] for ours, theirs in names.items() if theirs in params} == settings, (model, params)


def sent(path: str, body: dict[str, Any]) -> dict[str, Any]:
    """The sampling settings as the upstream received them, in hks's names."""
    if path.endswith(":generateContent"):
        names, values = {"temperature": "temperature", "top_p": "top_p", "max_tokens": "max_output_tokens"}, body.get("generationConfig", {})
    elif path.endswith("/converse"):  # Bedrock's Converse
        names, values = {"temperature": "temperature", "top_p": "topP", "max_tokens": "maxTokens"}, body.get("inferenceConfig", {})
    elif path.endswith("/api/chat"):
        names, values = {"temperature": "temperature", "top_p": "top_p", "max_tokens": "num_predict"}, body.get("options", {})
    else:  # OpenAI, Azure, Anthropic, Mistral and OpenAI-compatible servers; reasoning models take max_completion_tokens
        names, values = {k: k for k in SAMPLING}, {**body, "max_tokens": body.get("max_tokens", body.get("max_completion_tokens"))}
    return {ours: values[theirs] for ours, theirs in names.items() if values.get(theirs) is not None}
