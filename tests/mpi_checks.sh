#!/usr/bin/env bash
# Data parallelism over MPI ranks gives one process's results, and a broken rank ends the job
# cleanly. Run by CTest when anneal is built with MPI:
#   tests/mpi_checks.sh ANNEAL_BINARY SOURCE_DIR CHECK
# CHECK: one_epoch (also: a repeated run is the same bit for bit) | fifty_epochs | resume | sweep | cv | kill | hang | usage
set -euo pipefail
anneal=$1
source_dir=$2
check=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
# As root, OpenMPI wants both confirmations; on two cores three ranks oversubscribe.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
# Containers often forbid the cross-process reads (CMA) OpenMPI's shared-memory transport uses for
# large messages; plain copies work everywhere.
export OMPI_MCA_btl_vader_single_copy_mechanism=none
# Under scripts/test_sanitized.sh: OpenMPI unloads its components (mca_*.so) when it finalizes, so
# LeakSanitizer sees their allocations as leaks of an unknown module, which no suppression can
# name. Leaks stay checked for this code by the thread-rank tests (tests/test_distributed.cpp).
if [ -n "${ASAN_OPTIONS:-}" ]; then export ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"; fi
model=$source_dir/models/ionosphere.yaml
schedule=$source_dir/schedules/step_decay.yaml
py=/usr/bin/python3

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# Largest relative difference between two checkpoints' weights (exported as .npz).
weights_differ_by() {
  "$anneal" export "$model" --weights "$1" -o a.npz >/dev/null
  "$anneal" export "$model" --weights "$2" -o b.npz >/dev/null
  $py - <<'PY'
import numpy as np
a, b = np.load("a.npz"), np.load("b.npz")
assert sorted(a.files) == sorted(b.files), (a.files, b.files)
worst = 0.0
for k in a.files:
    x, y = a[k].astype(np.float64), b[k].astype(np.float64)
    worst = max(worst, float(np.max(np.abs(x - y) / np.maximum(np.abs(y), 1e-3))))
print(f"{worst:.3e}")
PY
}

# The last line's column of a history CSV.
last_value() {
  $py -c "import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); print(r[-1][sys.argv[2]])" "$1" "$2"
}

compare_histories() {  # single.csv other.csv: val_accuracy equal, val_loss within 1e-3 relative
  local acc1 acc2 loss1 loss2
  acc1=$(last_value "$1" val_accuracy); acc2=$(last_value "$2" val_accuracy)
  loss1=$(last_value "$1" val_loss); loss2=$(last_value "$2" val_loss)
  [ "$acc1" = "$acc2" ] || fail "$2: final val_accuracy $acc2, one process $acc1"
  $py -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); sys.exit(0 if abs(a-b)<=1e-3*abs(a) else 1)" "$loss1" "$loss2" ||
    fail "$2: final val_loss $loss2, one process $loss1 (more than 1e-3 relative apart)"
  echo "$2: val_accuracy $acc2 (one process $acc1), val_loss $loss2 (one process $loss1)"
}

# Sends SIGNAL to a rank and waits for the job (mpirun, PID launcher) to end: it must end within
# 30 s and non-zero. Sets rc and elapsed; prints the job's output.
signal_and_wait() {  # SIGNAL RANK_PID LAUNCHER_PID
  local start
  start=$(date +%s)
  kill "$1" "$2"
  set +e
  timeout 60 tail --pid="$3" -f /dev/null
  wait "$3"
  rc=$?
  set -e
  elapsed=$(($(date +%s) - start))
  cat out.txt
  [ "$rc" -ne 0 ] || fail "the job exited 0 after $1 to rank process $2"
  [ "$elapsed" -le 30 ] || fail "the job took $elapsed s to end"
}

case "$check" in
one_epoch)
  # After one epoch (9 updates of the global batch 28) the weights equal one process's.
  "$anneal" train "$model" --schedule "$schedule" --epochs 1 --save single.ckpt -q
  for ranks in 2 3; do
    mpirun -np $ranks "$anneal" train "$model" --schedule "$schedule" --epochs 1 --save ranks$ranks.ckpt -q
    worst=$(weights_differ_by ranks$ranks.ckpt single.ckpt)
    echo "$ranks ranks: largest relative weight difference after one epoch $worst"
    $py -c "import sys; sys.exit(0 if float(sys.argv[1]) <= 1e-5 else 1)" "$worst" || fail "$ranks ranks: weights differ by $worst"
  done
  # Same seed, same ranks: the same run bit for bit, with dropout and batch norm (digits_cnn).
  cnn=$source_dir/models/digits_cnn.yaml
  for run in a b; do
    mpirun -np 2 "$anneal" train "$cnn" --epochs 1 --save cnn_$run.ckpt --history cnn_$run.csv -q
    "$anneal" export "$cnn" --weights cnn_$run.ckpt -o cnn_$run.npz >/dev/null
  done
  cmp cnn_a.npz cnn_b.npz || fail "two 2-rank runs of digits_cnn with the same seed differ"
  diff <(cut -d, -f1-6 cnn_a.csv) <(cut -d, -f1-6 cnn_b.csv) || fail "two 2-rank histories differ"
  echo "2 ranks twice, digits_cnn: the same weights byte for byte"
  ;;
fifty_epochs)
  "$anneal" train "$model" --schedule "$schedule" --history single.csv -q
  for ranks in 2 3; do
    mpirun -np $ranks "$anneal" train "$model" --schedule "$schedule" --history ranks$ranks.csv -q
    compare_histories single.csv ranks$ranks.csv
  done
  ;;
resume)
  # 20 epochs on 2 ranks, the other 30 on 3: the run a single process makes.
  "$anneal" train "$model" --schedule "$schedule" --history single.csv -q
  mpirun -np 2 "$anneal" train "$model" --schedule "$schedule" --epochs 20 --save part.ckpt -q
  mpirun -np 3 "$anneal" train "$model" --schedule "$schedule" --resume part.ckpt --history resumed.csv -q
  [ "$(grep -c . resumed.csv)" = 51 ] || fail "the resumed history has $(grep -c . resumed.csv) lines, not 51"
  compare_histories single.csv resumed.csv
  ;;
sweep)
  # The table over 3 ranks is the local one (every column but the wall time).
  args=("$model" --schedule "$schedule" --schedule "$source_dir/schedules/constant.yaml" --seeds 3 --epochs 10)
  "$anneal" sweep "${args[@]}" -o local -j 2 >local.txt
  mpirun -np 3 "$anneal" sweep "${args[@]}" -o ranks >ranks.txt
  cut -d, -f1-21 local/summary.csv >local.cut
  cut -d, -f1-21 ranks/summary.csv >ranks.cut
  diff local.cut ranks.cut || fail "the sweep over ranks differs from the local one"
  [ "$(grep -c '^| ' ranks.txt)" = 3 ] || fail "rank 0 did not print the table once: $(cat ranks.txt)"
  for f in local/runs/*.csv; do cmp <(cut -d, -f1-6 "$f") <(cut -d, -f1-6 "ranks/runs/$(basename "$f")") || fail "$f differs"; done
  echo "sweep over 3 ranks: the same table and histories as the local sweep"
  ;;
cv)
  "$anneal" cv "$source_dir/models/iris.yaml" --folds 5 --seeds 2 --epochs 20 >local.txt
  mpirun -np 3 "$anneal" cv "$source_dir/models/iris.yaml" --folds 5 --seeds 2 --epochs 20 >ranks.txt
  diff local.txt ranks.txt || fail "cross-validation over ranks differs from the local one"
  echo "cv over 3 ranks: the same table as the local run"
  ;;
kill)
  # SIGKILL one rank mid-run: the job ends within 30 s, non-zero, naming rank 1; the last
  # checkpoint loads and resumes.
  mpirun -np 2 "$anneal" train "$source_dir/models/digits_mlp.yaml" --epochs 100000 \
    --callback '{type: model_checkpoint, filepath: run.ckpt}' -q >out.txt 2>&1 &
  launcher=$!
  for _ in $(seq 100); do [ -f run.ckpt ] && break; sleep 0.1; done
  [ -f run.ckpt ] || fail "no checkpoint appeared"
  sleep 1
  victim=$(pgrep -P "$launcher" -f "anneal train" | sort -n | tail -1)
  [ -n "$victim" ] || fail "no rank process found"
  signal_and_wait -KILL "$victim" "$launcher"
  grep -q "rank 1" out.txt || fail "no message names rank 1"
  grep -q "a rank has died or hung" out.txt || fail "rank 0 did not say why it stopped"
  "$anneal" evaluate "$source_dir/models/digits_mlp.yaml" --weights run.ckpt >/dev/null || fail "the checkpoint does not load"
  done_epochs=$(grep -c . run.ckpt.history-* | head -1 | cut -d: -f2)
  mpirun -np 2 "$anneal" train "$source_dir/models/digits_mlp.yaml" --resume run.ckpt --epochs $((done_epochs + 2)) -q ||
    fail "the checkpoint does not resume"
  echo "killed rank 1: the job ended in $elapsed s with exit $rc; the checkpoint loads and resumes"
  ;;
hang)
  # SIGSTOP one rank: with --timeout 3 rank 0 names it and ends the job.
  mpirun -np 2 "$anneal" train "$source_dir/models/digits_mlp.yaml" --epochs 100000 --timeout 3 -q >out.txt 2>&1 &
  launcher=$!
  sleep 2
  victim=$(pgrep -P "$launcher" -f "anneal train" | sort -n | tail -1)
  signal_and_wait -STOP "$victim" "$launcher"
  kill -9 "$victim" 2>/dev/null || true
  grep -q "rank 1 does not answer: stopped or dead" out.txt || fail "rank 0 did not name the hung rank"
  grep -q "within --timeout 3 s" out.txt || fail "the message does not give the timeout"
  echo "hung rank 1: rank 0 named it and the job ended in $elapsed s with exit $rc"
  ;;
usage)
  # A global batch smaller than the ranks: exit 2, said once.
  set +e
  mpirun -np 3 "$anneal" train "$source_dir/models/iris.yaml" --set train.batch_size=2 -q >out.txt 2>&1
  rc=$?
  set -e
  cat out.txt
  [ "$rc" -ne 0 ] || fail "a batch of 2 over 3 ranks was accepted"
  [ "$(grep -c 'must be at least the number of ranks' out.txt)" = 1 ] || fail "the error was not printed exactly once"
  set +e
  mpirun -np 2 "$anneal" train "$model" --scale-lr cubic -q >out.txt 2>&1
  rc=$?
  set -e
  [ "$rc" -ne 0 ] && grep -q "expected linear or sqrt" out.txt || fail "--scale-lr cubic: $(cat out.txt)"
  # A checkpoint that is not there: found before training, said once.
  set +e
  mpirun -np 2 "$anneal" train "$model" --resume missing.ckpt -q >out.txt 2>&1
  rc=$?
  set -e
  [ "$rc" -ne 0 ] || fail "a missing checkpoint was accepted"
  [ "$(grep -c "missing.ckpt" out.txt)" = 1 ] || fail "the missing checkpoint was not reported exactly once: $(cat out.txt)"
  echo "usage errors over ranks: reported once, non-zero exit"
  ;;
*)
  fail "unknown check $check"
  ;;
esac
