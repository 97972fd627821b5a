#!/bin/sh
# Pulls the models this node serves, using a private Ollama server on loopback, then exits.
# Models already on the node are only checked, not downloaded again.
set -eu
ollama serve >/tmp/ollama-serve.log 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
tries=0
until ollama list >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -gt 60 ]; then
    echo "ollama did not start:" >&2
    cat /tmp/ollama-serve.log >&2
    exit 1
  fi
  sleep 1
done
while IFS= read -r model; do
  [ -n "$model" ] || continue
  echo "pulling $model"
  ollama pull "$model"
done < /etc/hks/models.txt
while read -r name modelfile; do
  [ -n "$name" ] || continue
  echo "creating $name"
  ollama create "$name" -f "/etc/hks/$modelfile"
done < /etc/hks/custom-models.txt
echo "all models present"
