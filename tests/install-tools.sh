#!/usr/bin/env bash
# Installs the real programs the tests run, beside the project, each in its own venv (their
# dependencies must not mix with hks's): the pinned LiteLLM proxy, and the checkov scanner that
# tests/test_security.py runs on the rendered output. Safe to run again; does nothing when done.
set -euo pipefail
cd "$(dirname "$0")/.."

LITELLM_VERSION=1.80.0
if ! .venv-litellm/bin/litellm --version 2>/dev/null | grep -q "$LITELLM_VERSION"; then
  python3 -m venv .venv-litellm
  .venv-litellm/bin/python -m pip install --quiet --upgrade pip
  .venv-litellm/bin/python -m pip install --quiet "litellm[proxy]==${LITELLM_VERSION}"
fi
CHECKOV_VERSION=3.3.30
if ! .venv-checkov/bin/checkov --version 2>/dev/null | grep -qx "$CHECKOV_VERSION"; then
  python3 -m venv .venv-checkov
  .venv-checkov/bin/python -m pip install --quiet --upgrade pip
  .venv-checkov/bin/python -m pip install --quiet "checkov==${CHECKOV_VERSION}"
fi
echo "tools: checkov $(.venv-checkov/bin/checkov --version)"
echo "tools: litellm $(.venv-litellm/bin/python -c 'import importlib.metadata as m; print(m.version("litellm"))')"
