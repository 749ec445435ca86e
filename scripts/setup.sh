#!/usr/bin/env bash
# Installs the Debian packages Anneal builds with, and nothing else. Idempotent: packages that are
# already installed are skipped, so a second run is a no-op apart from the dpkg query.
#   scripts/setup.sh           what building and training need
#   scripts/setup.sh --tests   that and what the test suite needs
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  libboost-graph-dev libboost-program-options-dev
  libyaml-cpp-dev libopenblas-dev libmuparser-dev zlib1g-dev
  libonnx-dev libprotobuf-dev   # anneal export --format onnx
  libdnnl-dev ocl-icd-opencl-dev  # oneDNN, the second GEMM library (--gemm); its CMake file wants OpenCL
  libopenmpi-dev openmpi-bin    # anneal train|sweep|cv --distributed (mpirun)
)
if [ "${1:-}" = "--tests" ]; then
  # Catch2; plots rasterised (rsvg-convert); ONNX exports checked; HTML reports rendered in a
  # real browser (headless Chromium).
  packages+=(catch2 librsvg2-bin python3-onnx chromium)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
