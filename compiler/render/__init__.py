"""The effective config -> Kubernetes manifests. Reads no config files (only hks's own templates
and data); writes nothing.

manifests.py is the ordered table of components (components/*.py); base.py what they share;
litellm_config.py the gateway's own config; monitoring.py the rules and dashboards' content;
kustomize.py the kustomizations; sync.py Argo CD's sync waves; objectsize.py the splitting under
Kubernetes' object size limits. builtin/kubeschemas.py checks what render made."""
