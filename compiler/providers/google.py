"""Google: the Gemini API (LiteLLM `gemini/`, a key from AI Studio), or Gemini on Vertex AI
(LiteLLM `vertex_ai/`) when `project` is set, with a service account's JSON key."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from compiler.providers.base import HTTPS, Endpoint, Provider, Settings, own

GEMINI_HOST = "generativelanguage.googleapis.com"
TOKEN_HOST = "oauth2.googleapis.com"  # Vertex AI: a service account key is exchanged here
# No location: Google's SDKs and LiteLLM call this one (catalogue/providers.yaml's default_area).
DEFAULT_LOCATION = "us-central1"
VERTEX_KEY_ENV = "VERTEX_CREDENTIALS"  # a service account's JSON key, which LiteLLM parses from the variable


class GoogleSettings(Settings):
    location: str | None = Field(None, description="Vertex AI location, e.g. `europe-west4`.")
    project: str | None = Field(None, description="Google Cloud project (selects Vertex AI).")


class Google(Provider):
    name = "google"
    title = "Google"
    litellm_prefix = "gemini"
    key_env = "GEMINI_API_KEY"
    host = GEMINI_HOST
    settings = GoogleSettings

    def api_key_env(self, settings: Settings | None) -> str:
        return VERTEX_KEY_ENV if own(settings, GoogleSettings).project else self.key_env

    def endpoints(self, settings: Settings | None) -> list[Endpoint]:
        mine = own(settings, GoogleSettings)
        if mine.endpoint or not mine.project:
            return super().endpoints(settings)
        location = mine.location or DEFAULT_LOCATION
        host = "aiplatform.googleapis.com" if location == "global" else f"{location}-aiplatform.googleapis.com"
        return [Endpoint(host, HTTPS), Endpoint(TOKEN_HOST, HTTPS)]

    def litellm_params(self, model: str, embedding: bool, settings: Settings | None, namespace: str) -> dict[str, Any]:
        mine = own(settings, GoogleSettings)
        if not mine.project:
            return super().litellm_params(model, embedding, settings, namespace)
        params = {
            "model": f"vertex_ai/{model}",
            "vertex_project": mine.project,
            "vertex_location": mine.location or DEFAULT_LOCATION,
            "vertex_credentials": f"os.environ/{self.api_key_env(settings)}",
        }
        return {**params, "api_base": mine.endpoint} if mine.endpoint else params

    def mode(self, settings: Settings | None) -> tuple[str, str | None]:
        mine = own(settings, GoogleSettings)
        return ("vertex-ai", mine.location) if mine.project else ("gemini-api", None)

    def uses_vertex_dates(self, settings: Settings | None) -> bool:
        return bool(own(settings, GoogleSettings).project)


PROVIDER = Google()
