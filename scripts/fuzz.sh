#!/usr/bin/env bash
# Fuzzes Anneal's input parsers with libFuzzer (clang-14, ASan + UBSan), each target for SECONDS
# (default 30), seeded from the repository's specs, data and a checkpoint. Findings (a crash, a
# sanitizer report, an exception other than anneal::Error, a hang past 10 s, memory past 2 GiB)
# stop the target and leave the input in build-fuzz/findings/; keep it under tests/fuzz/regressions/
# once fixed: every file there is replayed at the start of the next run.
#   bash scripts/fuzz.sh [SECONDS] [TARGET ...]    targets: model_spec set schedule expression csv arff checkpoint search_space
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(model_spec set schedule expression csv arff checkpoint search_space)

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
missing=()
for p in clang-14 libfuzzer-14-dev libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
bash scripts/setup.sh --tests
if ((${#missing[@]})); then
  echo "fuzz: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="-O1 -g1" -DANNEAL_BUILD_TESTS=OFF -DANNEAL_FUZZ=ON >/dev/null
cmake --build build-fuzz -j "$(nproc)"

# Seed corpora: what a user really passes in.
seeds=build-fuzz/seeds
rm -rf "$seeds"
mkdir -p "$seeds"/{model_spec,set,schedule,expression,csv,arff,checkpoint,search_space} build-fuzz/findings
cp models/*.yaml tests/models/*.yaml "$seeds/model_spec/"
cp schedules/*.yaml "$seeds/schedule/"
cp examples/tune/*.yaml "$seeds/search_space/"
printf '%s' "layers.0.units=7" > "$seeds/set/units"
printf '%s' "optimizer={type: adam, lr: 0.001}" > "$seeds/set/optimizer"
printf '%s' "train.validation_split=0.5" > "$seeds/set/split"
printf '%s' "0.1 * 0.5^floor((1 + epoch) / 10)" > "$seeds/expression/step"
printf '%s' "0.1 / (1 + 0.002 * step)" > "$seeds/expression/time"
for f in data/ionosphere.csv data/iris.csv data/wine.csv; do head -c 4000 "$f" | sed '$d' | { printf '\x01'; cat; } > "$seeds/csv/$(basename "$f")"; done
head -c 3000 data/diabetes.arff | sed '$d' > "$seeds/arff/diabetes.arff"
printf '@relation w\n@attribute o {sunny, rain}\n@attribute t numeric\n@attribute play {yes, no}\n@data\nsunny,85,no\nrain,?,yes\n' > "$seeds/arff/weather.arff"
./build-fuzz/anneal train models/iris.yaml --quiet --epochs 2 --save "$seeds/checkpoint/iris.ckpt" >/dev/null

status=0
for t in "${targets[@]}"; do
  bin=build-fuzz/fuzz_$t
  [ -x "$bin" ] || { echo "fuzz: no target '$t'" >&2; exit 2; }
  corpus=build-fuzz/corpus/$t
  mkdir -p "$corpus"
  regressions=()
  [ -d "tests/fuzz/regressions/$t" ] && regressions=("tests/fuzz/regressions/$t")
  echo "== fuzz_$t for ${seconds}s"
  if ! ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=0" UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
       LSAN_OPTIONS="suppressions=$PWD/tests/sanitizer/lsan.supp" \
       "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
       -artifact_prefix="build-fuzz/findings/${t}-" "$corpus" "$seeds/$t" "${regressions[@]}" 2>build-fuzz/fuzz_$t.log; then
    status=1
    echo "fuzz_$t: FOUND something; see build-fuzz/fuzz_$t.log and build-fuzz/findings/" >&2
    grep -E "ERROR|runtime error|fuzz:|SUMMARY" build-fuzz/fuzz_$t.log | head -5 >&2
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" build-fuzz/fuzz_$t.log | tr '\n' ' '
  echo
done
exit $status
