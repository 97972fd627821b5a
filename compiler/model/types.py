"""The model's building blocks that the provider modules share with it: the strict base class
and the value patterns of a provider's settings (compiler/providers/base.py). Importing nothing
of hks, so a provider module can use them without importing the model it is part of."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# Kubernetes' own IsDNS1123Subdomain: dot-separated labels (at most 253 characters: max_length).
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
ENDPOINT = r"^https?://[A-Za-z0-9][A-Za-z0-9.-]*(:[0-9]{1,5})?(/[A-Za-z0-9._~%/:-]*)?$"
SecretName = Annotated[str, Field(pattern=DNS_SUBDOMAIN, max_length=253)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
