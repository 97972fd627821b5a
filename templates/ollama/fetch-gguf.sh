#!/bin/sh
# Downloads each custom GGUF model once per node and checks it against its declared sha256.
# Outside the cluster through the model egress proxy (https_proxy, http_proxy): --proxytunnel makes
# an http:// source a CONNECT tunnel too, the only kind of request the proxy admits.
set -eu
mkdir -p /models/gguf
while read -r sha256 url; do
  [ -n "$sha256" ] || continue
  target="/models/gguf/$sha256.gguf"
  if [ -f "$target" ] && echo "$sha256  $target" | sha256sum -c - >/dev/null 2>&1; then
    echo "have $target"
    continue
  fi
  echo "fetching $url"
  curl -fsSL --proxytunnel --retry 3 -o /models/gguf/download.part "$url"
  echo "$sha256  /models/gguf/download.part" | sha256sum -c -
  mv /models/gguf/download.part "$target"
done < /etc/hks/gguf-sources.txt
