"""Azure OpenAI (LiteLLM `azure/`): OpenAI's models under the deployment names of one resource."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from compiler.providers.base import Provider, Settings, api_key_block, own


class AzureSettings(Settings):
    api_version: str | None = Field(None, description="Azure OpenAI API version.")
    deployments: dict[str, str] = Field(default_factory=dict, description="Azure OpenAI: model name → deployment name.")


class AzureOpenAI(Provider):
    name = "azure-openai"
    title = "Azure OpenAI"
    litellm_prefix = "azure"
    key_env = "AZURE_API_KEY"
    suggest_last = True  # serves OpenAI's models only through deployments
    settings = AzureSettings

    def litellm_params(self, model: str, embedding: bool, settings: Settings | None, namespace: str) -> dict[str, Any]:
        mine = own(settings, AzureSettings)  # GW-005 guarantees endpoint and api_version
        return {
            "model": f"{self.litellm_prefix}/{mine.deployments.get(model, model)}",
            "api_base": mine.endpoint,
            "api_version": mine.api_version,
            "api_key": f"os.environ/{self.api_key_env(settings)}",
        }

    def base_model(self, model: str, settings: Settings | None) -> str | None:
        return f"{self.litellm_prefix}/{model}"  # the deployment name hides the model: cost needs it

    def mode(self, settings: Settings | None) -> tuple[str, str | None]:
        return "azure-openai", settings.region if settings else None

    def problems(self, settings: Settings | None) -> list[str]:
        mine = own(settings, AzureSettings)
        missing = [key for key in ("endpoint", "api_version") if settings is None or getattr(mine, key) is None]
        if not missing:
            return []
        return [
            f"Azure OpenAI is used, and providers.{self.name} has no {' or '.join(missing)}: "
            "LiteLLM cannot call an Azure deployment without them"
        ]

    def starter(self, model: str) -> str:
        extra = f"""    endpoint: https://example-resource.openai.azure.com   # your Azure OpenAI resource
    api_version: "2024-10-21"
    deployments:
      {model}: {model.replace(".", "-")}  # model → your deployment's name
"""
        return api_key_block(self.name, self.default_secret(), extra)

    def enable_steps(self) -> list[str]:
        return [f"set providers.{self.name}.endpoint, api_version and deployments"]


PROVIDER = AzureOpenAI()
