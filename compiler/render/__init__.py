"""The effective config -> Kubernetes manifests. Reads no config files; writes nothing.

manifests.py is the ordered table of components (components/*.py); base.py what they share;
litellm_config.py the gateway's own config; kustomize.py the kustomizations; verify.py the strict
schema check of what render made."""
