"""The order Argo CD applies what hks renders: sync waves by kind."""

from __future__ import annotations

from compiler.render.base import Manifest

SYNC_WAVE = "argocd.argoproj.io/sync-wave"
# Argo CD applies lower waves first and waits for them to be healthy: namespaces, then the
# secrets the workloads read, then everything else (wave 0, no annotation).
# A ServiceAccount goes with the secrets: Kubernetes deletes a token Secret whose account is missing.
# The mesh's policies go with them too: a pod that starts before its authorization policy exists
# would accept any meshed client (Istio allows all where no ALLOW policy selects a workload).
# So do a Certificate (it makes the Secret a TLS server mounts) and the Bundle (the CA bundle
# ConfigMap the gateway mounts).
SYNC_WAVES = {
    "Namespace": "-2",
    "Bundle": "-1",
    "Certificate": "-1",
    "ExternalSecret": "-1",
    "SealedSecret": "-1",
    "Secret": "-1",
    "ServiceAccount": "-1",
    "PeerAuthentication": "-1",
    "AuthorizationPolicy": "-1",
    "Server": "-1",
    "MeshTLSAuthentication": "-1",
}


def with_sync_wave(manifest: Manifest) -> Manifest:
    wave = SYNC_WAVES.get(manifest.body["kind"])
    if wave is None:
        return manifest
    metadata = dict(manifest.body["metadata"])
    metadata["annotations"] = {**metadata.get("annotations", {}), SYNC_WAVE: wave}
    return Manifest(manifest.folder, {**manifest.body, "metadata": metadata})
