#!/usr/bin/env bash
# Installs Anneal into a temporary prefix, builds the example op plugin (ops/examples/mish) and
# its test against the installed package (find_package(anneal), anneal_add_plugin,
# anneal::testing), runs that test, then trains with the plugin: Mish as a layer and as dense's
# activation.
set -euo pipefail
build_dir=$1
source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir/ops/examples/mish" -B "$work/mish" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/mish" >/dev/null
plugin="$work/mish/mish.so"
"$work/mish/test_mish" "$plugin"
anneal="$work/prefix/bin/anneal"
"$anneal" list ops --plugin "$plugin" | grep -q "^mish  (plugin: "
for spec in mish_layer mish_activation; do
  "$anneal" train "$source_dir/ops/examples/mish/$spec.yaml" --plugin "$plugin" > "$work/$spec.log"
  grep -q "Epoch 50/50" "$work/$spec.log"
  accuracy=$(sed -n 's/^final val_accuracy: \([0-9.]*\).*/\1/p' "$work/$spec.log")
  echo "$spec: final val_accuracy $accuracy"
  # The lesson's band: a working activation trains the model well past the majority class (0.64).
  awk -v a="$accuracy" 'BEGIN { exit !(a >= 0.9) }'
done
# Without the plugin the name is unknown, and the message says where.
if "$anneal" check "$source_dir/ops/examples/mish/mish_activation.yaml" 2> "$work/err.txt"; then exit 1; fi
grep -q "mish_activation.yaml:7:.*'activation' is 'mish', expected an activation" "$work/err.txt"
echo "1 passed, 0 failed"
