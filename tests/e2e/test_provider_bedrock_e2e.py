"""End to end: AWS Bedrock, added through the registry (compiler/providers/bedrock.py), is routed
by the real LiteLLM proxy as hks renders it: a model id reaches the stand-in on Bedrock's
Converse route, signed with SigV4 for the configured region, with the access key pair from the
Secret (`credentials: secret`) or, with no Secret at all, with the workload identity EKS gives
the gateway's pod: IRSA (`credentials: irsa`; the stand-in plays STS, which trades the pod's
projected token for a session) or Pod Identity (`credentials: pod-identity`; the stand-in plays
the node agent, on loopback as botocore allows). The variables the EKS webhook would add are
given to the proxy as the webhook adds them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from ruamel.yaml import YAML

from tests.e2e.gateway import chat, render, running
from tests.e2e.kubeapi import KubeAPI
from tests.e2e.standin import CONTAINER_CREDENTIALS, CREDENTIALS_PATH, USAGE_IN, USAGE_OUT, WEB_IDENTITY_CREDENTIALS, StandIn

MODEL = "amazon.nova-pro-v1:0"
ACCESS_KEY = "AKIAE2EBEDROCK7Q2M"
SECRET_KEY = "e2e-bedrock-secret-4b1d9a"
POD_TOKEN = "e2e-eks-pod-identity-token-61c0"
IRSA_TOKEN = "e2e-irsa-projected-token-0b7e"
ROLE = "arn:aws:iam::111122223333:role/llm-gateway"
ORG = """\
organization: e2e-bedrock
llm_config:
  provider: bedrock
  model: '{model}'
  max_tokens: 512
providers:
  bedrock:
    region: eu-central-1
    credentials: {credentials}{role}
    endpoint: http://127.0.0.1:{port}
gateway:
  replicas: {{min: 1, max: 1}}
workspaces:
  chat: {{}}
"""


def converse_path(model: str) -> str:
    return f"/model/{quote(model, safe='')}/converse"  # LiteLLM quotes the id's ':'


@pytest.fixture(scope="module")
def keyed(standin: StandIn, kubeapi: KubeAPI, litellm: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    rendered = render(ORG.format(model=MODEL, credentials="secret", role="", port=standin.port), tmp_path_factory)
    keys = {"BEDROCK_AWS_ACCESS_KEY_ID": ACCESS_KEY, "BEDROCK_AWS_SECRET_ACCESS_KEY": SECRET_KEY}
    # No AWS_* variable and no instance metadata: the keys can only come from the Secret.
    with running(rendered, standin, kubeapi, litellm, tmp_path_factory, secrets=keys, injected={"AWS_EC2_METADATA_DISABLED": "true"}) as url:
        yield url


@pytest.fixture(scope="module")
def pod_identity(standin: StandIn, kubeapi: KubeAPI, litellm: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    rendered = render(ORG.format(model=MODEL, credentials="pod-identity", role="", port=standin.port), tmp_path_factory)
    deployment = YAML(typ="safe", pure=True).load((rendered / "platform/gateway/deployment-llm-gateway.yaml").read_text())
    names = [e["name"] for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]]
    assert not [n for n in names if n.startswith(("AWS_", "BEDROCK_"))]  # EKS injects them, not hks
    token = tmp_path_factory.mktemp("eks-pod-identity") / "eks-pod-identity-token"
    token.write_text(POD_TOKEN)
    injected = {  # what EKS sets in a pod whose ServiceAccount has a Pod Identity association
        "AWS_CONTAINER_CREDENTIALS_FULL_URI": f"http://127.0.0.1:{standin.port}{CREDENTIALS_PATH}",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    with running(rendered, standin, kubeapi, litellm, tmp_path_factory, injected=injected) as url:
        yield url


@pytest.fixture(scope="module")
def irsa(standin: StandIn, kubeapi: KubeAPI, litellm: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    rendered = render(ORG.format(model=MODEL, credentials="irsa", role=f"\n    role_arn: {ROLE}", port=standin.port), tmp_path_factory)
    account = YAML(typ="safe", pure=True).load((rendered / "platform/gateway/serviceaccount-llm-gateway.yaml").read_text())
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == ROLE  # what the webhook acts on
    token = tmp_path_factory.mktemp("eks.amazonaws.com") / "token"
    token.write_text(IRSA_TOKEN)
    injected = {  # what the webhook adds for that annotation (amazon-eks-pod-identity-webhook, pkg/handler)
        "AWS_ROLE_ARN": ROLE,
        "AWS_WEB_IDENTITY_TOKEN_FILE": str(token),
        "AWS_REGION": "eu-central-1",
        "AWS_DEFAULT_REGION": "eu-central-1",
        "AWS_STS_REGIONAL_ENDPOINTS": "regional",
        "AWS_ENDPOINT_URL_STS": f"http://127.0.0.1:{standin.port}",  # the test's STS, not AWS's
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    with running(rendered, standin, kubeapi, litellm, tmp_path_factory, injected=injected) as url:
        yield url


@pytest.fixture(autouse=True)
def fresh_record(standin: StandIn) -> None:
    standin.take()


def test_a_model_id_is_called_on_converse_with_the_secrets_keys(keyed: str, standin: StandIn) -> None:
    status, body = chat(keyed, "chat")
    assert status == 200, body
    assert body["choices"][0]["message"]["content"] == "ok"
    assert (body["usage"]["prompt_tokens"], body["usage"]["completion_tokens"]) == (USAGE_IN, USAGE_OUT)
    [call] = standin.take()
    assert call.path == converse_path(MODEL)
    assert call.body["messages"] == [{"role": "user", "content": [{"text": "hello"}]}]
    assert call.body["inferenceConfig"]["maxTokens"] == 512
    signature = call.headers["authorization"]
    assert signature.startswith(f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/")
    assert "/eu-central-1/bedrock/aws4_request" in signature  # signed for the configured region
    assert "x-amz-security-token" not in call.headers  # long-term keys: no session


def test_pod_identity_signs_with_the_agents_credentials(pod_identity: str, standin: StandIn) -> None:
    status, body = chat(pod_identity, "chat")
    assert status == 200, body
    calls = standin.take()
    fetched = [c for c in calls if c.path == CREDENTIALS_PATH]
    assert fetched and all(c.headers["authorization"] == POD_TOKEN for c in fetched)  # the pod's own token
    [call] = [c for c in calls if c.path.endswith("/converse")]
    assert call.path == converse_path(MODEL)
    assert call.headers["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={CONTAINER_CREDENTIALS['AccessKeyId']}/")
    assert call.headers["x-amz-security-token"] == CONTAINER_CREDENTIALS["Token"]


def test_irsa_signs_with_the_session_sts_gave_for_the_pods_token(irsa: str, standin: StandIn) -> None:
    status, body = chat(irsa, "chat")
    assert status == 200, body
    calls = standin.take()
    exchanged = [c for c in calls if isinstance(c.body, dict) and c.body.get("Action") == "AssumeRoleWithWebIdentity"]
    assert exchanged and all((c.body["RoleArn"], c.body["WebIdentityToken"]) == (ROLE, IRSA_TOKEN) for c in exchanged)
    [call] = [c for c in calls if c.path.endswith("/converse")]
    assert call.path == converse_path(MODEL)
    assert call.headers["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={WEB_IDENTITY_CREDENTIALS['AccessKeyId']}/")
    assert "/eu-central-1/bedrock/aws4_request" in call.headers["authorization"]
    assert call.headers["x-amz-security-token"] == WEB_IDENTITY_CREDENTIALS["Token"]
