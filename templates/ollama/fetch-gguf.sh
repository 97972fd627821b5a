#!/bin/sh
# Downloads each custom GGUF model once per node and checks it against its declared sha256.
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
  curl -fsSL --retry 3 -o /models/gguf/download.part "$url"
  echo "$sha256  /models/gguf/download.part" | sha256sum -c -
  mv /models/gguf/download.part "$target"
done < /etc/hks/gguf-sources.txt
