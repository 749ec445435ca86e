#!/usr/bin/env bash
# Set-up, build, and the main job (the README's first command): the lesson's model trained on
# the bundled Ionosphere data with the drop-based schedule. Extra arguments go to `anneal train`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DANNEAL_BUILD_TESTS=OFF >/dev/null
cmake --build build -j "$(nproc)" --target anneal_cli
./build/anneal train models/ionosphere.yaml --schedule schedules/step_decay.yaml "$@"
