#!/usr/bin/env bash
# The whole test suite once more, built with AddressSanitizer and UndefinedBehaviorSanitizer
# (cmake -DANNEAL_SANITIZE=ON) in build-sanitize/. CI runs it after scripts/test.sh. Any report
# (a leak, an out-of-bounds access, undefined behaviour) aborts the process and fails its test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests
jobs=$(nproc)
# -O1 with line tables only: reports keep file:line, and the build is about twice as fast as -O2 -g.
cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="-O1 -g1" -DANNEAL_BUILD_TESTS=ON -DANNEAL_SANITIZE=ON >/dev/null
cmake --build build-sanitize -j "$jobs"
# Leaks are reported at exit; OpenBLAS's thread pool is process-lifetime and not a leak of ours.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$PWD/tests/sanitizer/lsan.supp:print_suppressions=0"
ctest --test-dir build-sanitize --output-on-failure --no-tests=error -j "$jobs" --timeout 900
