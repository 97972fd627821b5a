"""AWS Bedrock (LiteLLM `bedrock/converse/`): models of several makers behind one AWS API, in
the region `region` names, which is where prompts are processed (catalogue/providers.yaml).

Credentials, `credentials:`
- `secret` (the default): an access key pair from one Secret (data keys AWS_ACCESS_KEY_ID and
  AWS_SECRET_ACCESS_KEY), rendered as LiteLLM's `aws_access_key_id`/`aws_secret_access_key`
  under variable names of hks's own, so no AWS SDK default chain picks them up by accident;
- `irsa`: IAM Roles for Service Accounts. The gateway's ServiceAccount carries
  `eks.amazonaws.com/role-arn: <role_arn>`; EKS's pod identity webhook then injects
  AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE and a projected token volume of its own (the gateway's
  `automountServiceAccountToken: false` governs only Kubernetes' API token volume, not the
  webhook's), and botocore's default chain exchanges the token at STS;
- `pod-identity`: EKS Pod Identity. An association made in the EKS API (cluster, namespace,
  ServiceAccount → role) makes EKS inject AWS_CONTAINER_CREDENTIALS_FULL_URI and a token; the
  credentials come from the node's agent on 169.254.170.23:80. Nothing in the config names it.

LiteLLM's Converse route is pinned (`bedrock/converse/<model id>`): one request shape for every
maker, the one AWS recommends. Embedding models go through `bedrock/<model id>` (InvokeModel).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field

from compiler.providers.base import HTTPS, Endpoint, Provider, SecretName, SecretRef, Settings, own

DEFAULT_SECRET = "bedrock-aws-credentials"
# The Secret's data keys, and the gateway's variables for them (not AWS_*: see the docstring).
KEYS = {"AWS_ACCESS_KEY_ID": "BEDROCK_AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY": "BEDROCK_AWS_SECRET_ACCESS_KEY"}
# EKS Pod Identity's agent on every node (IPv4; https://docs.aws.amazon.com/eks/latest/userguide/pod-id-agent-setup.html).
POD_IDENTITY_AGENT = Endpoint("169.254.170.23", 80)
ROLE_ARN = r"^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$"
# us-east-1, eu-central-2, us-gov-west-1, cn-north-1, ap-southeast-4, ...; LiteLLM itself only
# refuses what is not `^[a-z0-9-]+$`, and a wrong one would fail at the first request.
REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$")


class BedrockSettings(Settings):
    credentials: Literal["secret", "irsa", "pod-identity"] = Field(
        "secret",
        description="Bedrock: where the gateway's AWS credentials come from: `secret` (an access key pair in "
        "`credentials_secret`), `irsa` (the ServiceAccount is annotated with `role_arn`) or `pod-identity` "
        "(an EKS Pod Identity association made outside hks).",
    )
    credentials_secret: SecretName | None = Field(
        None,
        description=f"Bedrock, `credentials: secret`: the Secret with data keys AWS_ACCESS_KEY_ID and "
        f"AWS_SECRET_ACCESS_KEY; default `{DEFAULT_SECRET}`.",
    )
    role_arn: str | None = Field(
        None, pattern=ROLE_ARN, description="Bedrock, `credentials: irsa`: the IAM role the gateway's ServiceAccount assumes."
    )
    sts_region: str | None = Field(
        None,
        description="Bedrock, `credentials: irsa`: the region whose STS endpoint the gateway exchanges its token at, "
        "the EKS cluster's (the webhook sets AWS_REGION to it); default `region`.",
    )


class Bedrock(Provider):
    name = "bedrock"
    title = "AWS Bedrock"
    litellm_prefix = "bedrock/converse"
    suggest_last = True  # serves other makers' models (Anthropic, Meta, Mistral, ...)
    settings = BedrockSettings

    # --- secrets -------------------------------------------------------------------------------

    def default_secret(self) -> str:
        return DEFAULT_SECRET

    def secrets(self, settings: Settings | None) -> list[SecretRef]:
        # Without providers.bedrock there is no region: GW-005 stops the render. `hks init` and
        # `hks llm enable` ask with None; their text about "the API key" (data key `key`) does
        # not fit a key pair, so the starter and enable_steps say how to make this Secret.
        mine = own(settings, BedrockSettings)
        if settings is None or mine.credentials != "secret":
            return []
        secret = mine.credentials_secret or DEFAULT_SECRET
        return [SecretRef(secret, key, env, f"the AWS {key.lower()} for Bedrock") for key, env in KEYS.items()]

    def service_account_annotations(self, settings: Settings | None) -> dict[str, str]:
        mine = own(settings, BedrockSettings)
        if mine.credentials != "irsa" or not mine.role_arn:
            return {}
        # Regional STS (the webhook sets AWS_STS_REGIONAL_ENDPOINTS=regional): the host egress allows.
        return {"eks.amazonaws.com/role-arn": mine.role_arn, "eks.amazonaws.com/sts-regional-endpoints": "true"}

    # --- network -------------------------------------------------------------------------------

    def endpoints(self, settings: Settings | None) -> list[Endpoint]:
        mine = own(settings, BedrockSettings)
        found = super().endpoints(settings)  # `endpoint`: a VPC endpoint, or a test's stand-in
        if not found and mine.region:
            found = [Endpoint(f"bedrock-runtime.{mine.region}.{_dns_suffix(mine.region)}", HTTPS)]
        if mine.credentials == "irsa":
            sts = mine.sts_region or mine.region
            if sts:
                found.append(Endpoint(f"sts.{sts}.{_dns_suffix(sts)}", HTTPS))
            # Without a region in its environment botocore calls the global endpoint.
            found.append(Endpoint("sts.amazonaws.com", HTTPS))
        if mine.credentials == "pod-identity":
            found.append(POD_IDENTITY_AGENT)
        return found

    # --- LiteLLM -------------------------------------------------------------------------------

    def litellm_params(self, model: str, embedding: bool, settings: Settings | None, namespace: str) -> dict[str, Any]:
        mine = own(settings, BedrockSettings)
        # Converse has no embeddings: an embedding model is called through InvokeModel.
        params: dict[str, Any] = {"model": f"bedrock/{model}" if embedding else f"{self.litellm_prefix}/{model}"}
        params["aws_region_name"] = mine.region  # GW-005 guarantees it
        if mine.credentials == "secret":
            params["aws_access_key_id"] = f"os.environ/{KEYS['AWS_ACCESS_KEY_ID']}"
            params["aws_secret_access_key"] = f"os.environ/{KEYS['AWS_SECRET_ACCESS_KEY']}"
        # irsa, pod-identity: no credential parameter, so LiteLLM asks botocore's default chain.
        if mine.endpoint:
            params["api_base"] = mine.endpoint
        return params

    # --- catalogue, policy facts, checks -------------------------------------------------------

    def mode(self, settings: Settings | None) -> tuple[str, str | None]:
        return "bedrock", settings.region if settings else None

    def problems(self, settings: Settings | None) -> list[str]:
        mine = own(settings, BedrockSettings)
        found = []
        where = f"providers.{self.name}"
        if not mine.region:
            found.append(f"AWS Bedrock is used, and {where} has no region: the AWS region Bedrock runs in, which is also where prompts are processed")
        elif not REGION.match(mine.region):
            found.append(f"{where}.region '{mine.region}' is not an AWS region (like us-east-1 or eu-central-1)")
        if mine.sts_region and not REGION.match(mine.sts_region):
            found.append(f"{where}.sts_region '{mine.sts_region}' is not an AWS region (like us-east-1 or eu-central-1)")
        if mine.credentials == "irsa" and not mine.role_arn:
            found.append(f"{where}.credentials is irsa, and {where} has no role_arn: the IAM role the gateway's ServiceAccount assumes")
        if mine.credentials != "irsa" and mine.role_arn:
            found.append(f"{where}.role_arn is used with credentials: irsa only, and credentials is {mine.credentials}")
        if mine.credentials != "secret" and mine.credentials_secret:
            found.append(f"{where}.credentials_secret is used with credentials: secret only, and credentials is {mine.credentials}")
        return found

    # --- editing commands ----------------------------------------------------------------------

    def starter(self, model: str) -> str:
        return f"""
providers:
  {self.name}:
    # The AWS region Bedrock runs in: where prompts are processed (data residency).
    region: us-east-1
    # Where the gateway's AWS credentials come from: `secret` (an access key pair in the Secret
    # below), `irsa` (with role_arn: the gateway's ServiceAccount is annotated) or
    # `pod-identity` (an EKS Pod Identity association for the llm-gateway ServiceAccount).
    credentials: secret
    # The Kubernetes Secret in cluster.namespace with data keys AWS_ACCESS_KEY_ID and
    # AWS_SECRET_ACCESS_KEY; never the keys themselves. Create it in the cluster, e.g.:
    #   kubectl -n hexabase-aiops create secret generic {DEFAULT_SECRET} \\
    #     --from-literal=AWS_ACCESS_KEY_ID=... --from-literal=AWS_SECRET_ACCESS_KEY=...
    credentials_secret: {DEFAULT_SECRET}
"""

    def enable_settings(self) -> dict[str, Any]:
        return {"credentials": "secret", "credentials_secret": DEFAULT_SECRET}

    def enable_steps(self) -> list[str]:
        return [
            f"set providers.{self.name}.region, the AWS region Bedrock runs in (e.g. us-east-1)",
            f"store the access key pair: hks secret create {DEFAULT_SECRET} --from-literal=AWS_ACCESS_KEY_ID=... "
            "--from-literal=AWS_SECRET_ACCESS_KEY=...; or use the gateway's workload identity instead: "
            f"providers.{self.name}.credentials: irsa (with role_arn) or pod-identity",
        ]


def _dns_suffix(region: str) -> str:
    """AWS's China regions live under amazonaws.com.cn."""
    return "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"


PROVIDER = Bedrock()
