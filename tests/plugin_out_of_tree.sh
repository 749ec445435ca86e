#!/usr/bin/env bash
# Installs Anneal into a temporary prefix, builds the example schedule plugin against the
# installed package (find_package(anneal) + anneal_add_plugin), loads it into the installed CLI
# and trains a few epochs with it.
set -euo pipefail
build_dir=$1
source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir/schedules/examples/inverse_sqrt" -B "$work/plugin" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/plugin" >/dev/null
plugin="$work/plugin/inverse_sqrt.so"
test -f "$plugin"
"$work/prefix/bin/anneal" list schedules --plugin "$plugin" | grep -q "^inverse_sqrt  (plugin: "
"$work/prefix/bin/anneal" schedule show "$source_dir/schedules/examples/inverse_sqrt/inverse_sqrt.yaml" \
  --plugin "$plugin" --epochs 6 --steps-per-epoch 9 --format csv > "$work/rates.csv"
# Warm-up to 0.1 at t + 1 = 27: the fourth epoch starts at t = 27 (shown as update 28): 0.1 * sqrt(27/28).
grep -q "^4,28,0.0981980506" "$work/rates.csv"
"$work/prefix/bin/anneal" train "$source_dir/models/ionosphere.yaml" --plugin "$plugin" \
  --schedule "$source_dir/schedules/examples/inverse_sqrt/inverse_sqrt.yaml" --epochs 5 > "$work/train.log"
grep -q "Epoch 5/5" "$work/train.log"
grep "final val_accuracy" "$work/train.log"
echo "1 passed, 0 failed"
