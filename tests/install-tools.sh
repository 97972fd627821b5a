#!/usr/bin/env bash
# Installs the real programs the tests run, beside the project, each Python tool in its own venv
# (their dependencies must not mix with hks's): the pinned LiteLLM proxy, with prometheus_client
# as LiteLLM's Docker image has it (its requirements.txt pins 0.20.0 "for /metrics endpoint on
# proxy"; the PyPI extra `litellm[proxy]` leaves it out); the checkov scanner that
# tests/render/test_security.py runs on the rendered output; Prometheus's `promtool` from Debian's
# `prometheus` package; Debian's `redis-server`, which tests/e2e starts on loopback for the
# gateway's shared state; Debian's `nginx-light`, for the TLS proxy's tests; and Debian's `squid`,
# for the model egress proxy's. Safe to run again; does nothing when done.
set -euo pipefail
cd "$(dirname "$0")/.."

# The gateway's LiteLLM: the version hks pins (catalogue/images.yaml says the same) and the oldest
# one hks still supports: the newest patch of LiteLLM's LTS line (1.108.x; catalogue/images.yaml
# says why). tests/e2e runs against both, each in its own venv.
LITELLM_VERSION=1.110.2
LITELLM_OLDEST_VERSION=1.108.14
PROMETHEUS_CLIENT_VERSION=0.20.0
# The Redis client the gateway talks to Redis with. LiteLLM's wheel does not name it (it arrives
# through the proxy extra's `rq`, which allows `redis>=3.5,!=6`), and the stored sources did not
# show which version the 1.110.2 image carries: pin the newest the wheel's requirements allow
# today, so both venvs and every machine run the same client.
REDIS_CLIENT_VERSION=8.1.0

# From 1.84 `litellm[proxy]` names a `litellm-proxy` package that was never published: install
# litellm itself, then the proxy extra's own requirements as its wheel lists them.
install_litellm() {  # VENV VERSION
  local venv=$1 version=$2
  if [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("litellm"), m.version("redis"))' 2>/dev/null)" = "$version $REDIS_CLIENT_VERSION" ] &&
     "$venv/bin/python" -c "import prometheus_client, fastapi, litellm_enterprise" 2>/dev/null; then
    return
  fi
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet "litellm==${version}"
  "$venv/bin/python" tests/litellm_proxy_requirements.py > "$venv/proxy-requirements.txt"
  "$venv/bin/python" -m pip install --quiet -r "$venv/proxy-requirements.txt" "prometheus_client==${PROMETHEUS_CLIENT_VERSION}" \
    "redis==${REDIS_CLIENT_VERSION}"
}
install_litellm .venv-litellm "$LITELLM_VERSION"
install_litellm .venv-litellm-oldest "$LITELLM_OLDEST_VERSION"

# Debian's packages, in one apt-get run: each program the tests run that is not on the machine yet.
# PROGRAM PACKAGE WHO-NEEDS-IT; nginx and squid live in /usr/sbin, which a non-root PATH may lack.
missing=()
debian_tool() {
  local program=$1 package=$2 needed_by=$3
  command -v "$program" >/dev/null || [ -x "/usr/sbin/$program" ] && return
  missing+=("$package")
  echo "note: $program is missing: Debian's '$package' package ($needed_by fail without it)" >&2
}
debian_tool promtool prometheus "the promtool tests"
debian_tool redis-server redis-server "the shared-state e2e tests"
# nginx: tests/render/test_tls.py and tests/e2e/test_tls_e2e.py run the TLS proxy's rendered config with it
# (the image is nginx-unprivileged; Debian's nginx-light has the same http and ssl modules).
debian_tool nginx nginx-light "the TLS proxy tests"
# squid: tests/render/test_model_egress.py runs the model egress proxy's rendered config with it (the image
# is Canonical's ubuntu/squid; bookworm's squid is 5.7, and the config uses nothing newer).
debian_tool squid squid "the model egress proxy tests"
if [ "${#missing[@]}" -gt 0 ] && [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
CHECKOV_VERSION=3.3.30
if ! .venv-checkov/bin/checkov --version 2>/dev/null | grep -qx "$CHECKOV_VERSION"; then
  python3 -m venv .venv-checkov
  .venv-checkov/bin/python -m pip install --quiet --upgrade pip
  .venv-checkov/bin/python -m pip install --quiet "checkov==${CHECKOV_VERSION}"
fi
echo "tools: checkov $(.venv-checkov/bin/checkov --version), litellm $(.venv-litellm/bin/python -c 'import importlib.metadata as m; print(m.version("litellm"))')" \
  "and $(.venv-litellm-oldest/bin/python -c 'import importlib.metadata as m; print(m.version("litellm"))')," \
  "prometheus_client $(.venv-litellm/bin/python -c 'import importlib.metadata as m; print(m.version("prometheus_client"))')," \
  "$(promtool --version 2>/dev/null | head -1 || echo 'no promtool')," \
  "$(redis-server --version 2>/dev/null || echo 'no redis-server')"
