#!/usr/bin/env bash
# One command for the benchmark suite: set-up, a Release build, Debian's python3-torch for the
# PyTorch side (skipped with a message where it cannot be installed), then bench/run_bench.py.
# Extra arguments go to run_bench.py (--threads N, --repeats N, --quick). Each full run is kept in
# bench/history/ and the README's performance table is regenerated from that history.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends python3 python3-torch \
    || echo "bench: python3-torch could not be installed; the PyTorch side will be skipped"
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target anneal_cli anneal_bench
/usr/bin/python3 bench/run_bench.py "$@"
