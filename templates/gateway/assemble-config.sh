# Puts the gateway's files back together from the pieces hks split them into (compiler/render/objectsize.py):
# every NAME.part-NNN in $1, in order, becomes NAME in $2.
set -eu
cd "$1"
for first in *.part-001; do
  name="${first%.part-001}"
  cat "$name".part-[0-9][0-9][0-9] > "$2/$name"
done
