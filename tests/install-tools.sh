#!/usr/bin/env bash
# Installs the real programs the tests run, beside the project, each Python tool in its own venv
# (their dependencies must not mix with hks's): the pinned LiteLLM proxy, with prometheus_client
# as LiteLLM's Docker image has it (its requirements.txt pins 0.20.0 "for /metrics endpoint on
# proxy"; the PyPI extra `litellm[proxy]` leaves it out); the checkov scanner that
# tests/test_security.py runs on the rendered output; and Prometheus's `promtool` from Debian's
# `prometheus` package. Safe to run again; does nothing when done.
set -euo pipefail
cd "$(dirname "$0")/.."

LITELLM_VERSION=1.80.0
PROMETHEUS_CLIENT_VERSION=0.20.0
if ! .venv-litellm/bin/litellm --version 2>/dev/null | grep -q "$LITELLM_VERSION"; then
  python3 -m venv .venv-litellm
  .venv-litellm/bin/python -m pip install --quiet --upgrade pip
  .venv-litellm/bin/python -m pip install --quiet "litellm[proxy]==${LITELLM_VERSION}"
fi
if ! .venv-litellm/bin/python -c "import prometheus_client" 2>/dev/null; then
  .venv-litellm/bin/python -m pip install --quiet "prometheus_client==${PROMETHEUS_CLIENT_VERSION}"
fi
if ! command -v promtool >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  else
    echo "note: promtool is missing; install Debian's 'prometheus' package (the promtool tests fail without it)" >&2
  fi
fi
CHECKOV_VERSION=3.3.30
if ! .venv-checkov/bin/checkov --version 2>/dev/null | grep -qx "$CHECKOV_VERSION"; then
  python3 -m venv .venv-checkov
  .venv-checkov/bin/python -m pip install --quiet --upgrade pip
  .venv-checkov/bin/python -m pip install --quiet "checkov==${CHECKOV_VERSION}"
fi
echo "tools: checkov $(.venv-checkov/bin/checkov --version), litellm $(.venv-litellm/bin/python -c 'import importlib.metadata as m; print(m.version("litellm"))')," \
  "prometheus_client $(.venv-litellm/bin/python -c 'import importlib.metadata as m; print(m.version("prometheus_client"))')," \
  "$(promtool --version 2>/dev/null | head -1 || echo 'no promtool')"
