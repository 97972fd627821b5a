"""The effective config -> Kubernetes manifests. Reads no files; writes nothing."""
