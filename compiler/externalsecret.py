"""ExternalSecret references (external-secrets.io/v1): the Secret is made in the cluster by the
external-secrets operator from a store (Vault, a cloud secret manager, ...); hks never holds
the value."""

from __future__ import annotations

from typing import Any

API_VERSION = "external-secrets.io/v1"
REFRESH_INTERVAL = "1h"


def external_secret(name: str, namespace: str, store: str, store_kind: str, keys: list[str]) -> dict[str, Any]:
    """Each data key of the Secret comes from the property of the same name of remote key `name`."""
    return {
        "apiVersion": API_VERSION,
        "kind": "ExternalSecret",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "refreshInterval": REFRESH_INTERVAL,
            "secretStoreRef": {"name": store, "kind": store_kind},
            "target": {"name": name, "creationPolicy": "Owner"},
            "data": [{"secretKey": key, "remoteRef": {"key": name, "property": key}} for key in sorted(keys)],
        },
    }
