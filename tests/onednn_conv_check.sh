#!/usr/bin/env bash
# anneal_onednn_conv (bench/onednn_conv.cpp): one round in float32, which any CPU oneDNN runs on,
# reports every kind and pass for both layers; bad arguments are usage errors (exit 2).
set -u
probe="$1"
fail() { echo "FAIL: $*" >&2; exit 1; }
out="$("$probe" float32 1)" || fail "float32 1 exited $?"
[ "$(grep -c '"total_ms"' <<< "$out")" -eq 6 ] || fail "expected 6 totals (2 layers x 3 kinds): $out"
[ "$(grep -c '"pass"' <<< "$out")" -eq 18 ] || fail "expected 18 passes (2 layers x 3 kinds x 3 passes): $out"
grep -q '"layer": "conv2d_2", "kind": "matmul", "pass": "input gradient", "ms": [0-9.]*, "gflops": [0-9]*, "counted": true' <<< "$out" ||
  fail "the second layer's input gradient is not counted: $out"
grep -q '"layer": "conv2d_1", "kind": "matmul", "pass": "input gradient".*"counted": false' <<< "$out" ||
  fail "the first layer's input gradient is counted: $out"
for args in "half" "float32 0" "float32 2x" "float32 1 extra"; do
  # shellcheck disable=SC2086
  "$probe" $args > /dev/null 2> err.txt
  rc=$?
  [ "$rc" -eq 2 ] || fail "'$args' exited $rc, expected 2"
  grep -q "usage: anneal_onednn_conv" err.txt || fail "'$args' printed no usage"
done
rm -f err.txt
echo ok
