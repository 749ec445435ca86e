#!/usr/bin/env bash
# Makes data/digits.csv from the copy of the UCI optical digits (8x8) that Debian 12's
# python3-sklearn ships: pixels 0..16 scaled to [0, 1] (x / 16, exact in 4 decimals), the class
# 0..9 kept as the last column, rows in their original order.
set -euo pipefail
src=${1:-/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz}
out=$(dirname "$0")/digits.csv
zcat "$src" | awk -F, 'BEGIN { OFS = "," } { for (i = 1; i < NF; ++i) $i = sprintf("%.4g", $i / 16); print }' > "$out"
sha256sum "$out"
