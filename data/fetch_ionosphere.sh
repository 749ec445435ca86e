#!/usr/bin/env bash
# Rebuilds data/ionosphere.csv from Debian's weka package (the committed copy came from this script).
# The ARFF's @data section already holds the UCI rows in their original order: 34 numbers, then g/b.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download weka >/dev/null && dpkg -x weka_*.deb root)
awk 'started && NF && $0 !~ /^%/ { print } /^@data/ { started = 1 }' \
  "$work/root/usr/share/doc/weka/examples/ionosphere.arff" > "$here/ionosphere.csv"
rows=$(wc -l < "$here/ionosphere.csv")
[ "$rows" -eq 351 ] || { echo "expected 351 rows, got $rows" >&2; exit 1; }
echo "wrote $here/ionosphere.csv ($rows rows)"
