#!/usr/bin/env bash
# Installs the real programs the tests run, beside the project: the pinned LiteLLM proxy in its
# own venv (its dependencies must not mix with hks's). Safe to run again; does nothing when done.
set -euo pipefail
cd "$(dirname "$0")/.."

LITELLM_VERSION=1.80.0
if ! .venv-litellm/bin/litellm --version 2>/dev/null | grep -q "$LITELLM_VERSION"; then
  python3 -m venv .venv-litellm
  .venv-litellm/bin/python -m pip install --quiet --upgrade pip
  .venv-litellm/bin/python -m pip install --quiet "litellm[proxy]==${LITELLM_VERSION}"
fi
echo "tools: litellm $(.venv-litellm/bin/python -c 'import importlib.metadata as m; print(m.version("litellm"))')"
