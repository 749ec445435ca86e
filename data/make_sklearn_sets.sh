#!/usr/bin/env bash
# Rebuilds the data sets that come from Debian 12's python3-sklearn (1.2.1) package
# (/usr/lib/python3/dist-packages/sklearn/datasets/data). iris, wine and breast cancer are copied
# unchanged: their first line (rows, features, class names) is not data, so the model specs read
# them with skip_rows: 1. The diabetes regression set ships as two space-separated files (10
# features; the target); they are joined into one gzip'd CSV, target last.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=/usr/lib/python3/dist-packages/sklearn/datasets/data
[ -d "$src" ] || { echo "needs Debian's python3-sklearn (apt-get install python3-sklearn)" >&2; exit 1; }
cp "$src/iris.csv" "$here/iris.csv"
cp "$src/wine_data.csv" "$here/wine.csv"
cp "$src/breast_cancer.csv" "$here/breast_cancer.csv"
paste -d, <(zcat "$src/diabetes_data_raw.csv.gz" | tr ' ' ',') <(zcat "$src/diabetes_target.csv.gz" | awk '{ printf "%g\n", $1 }') |
  gzip -n -9 > "$here/diabetes_regression.csv.gz"
for f in iris.csv wine.csv breast_cancer.csv diabetes_regression.csv.gz; do sha256sum "$here/$f"; done
