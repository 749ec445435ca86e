#!/usr/bin/env bash
# Nothing lost: kills a training run with SIGKILL at random moments, 50 times, while it writes a
# checkpoint every epoch (model_checkpoint to one file, rewritten atomically). After every kill the
# checkpoint on disk must load, resuming from it must end with exactly the weights of an
# uninterrupted run (compared byte for byte through `anneal export --format npz`) and the same
# history (every column but the times), and no temporary file or stale history sidecar
# generation of the killed writer may remain once the resumed run has written.
#   tests/kill_during_checkpoint.sh ANNEAL_BINARY SOURCE_DIR [TRIALS]
set -euo pipefail
anneal=$1
source_dir=$2
trials=${3:-50}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
cat > wide.yaml <<SPEC
version: 1
name: wide
data: {path: $source_dir/data/ionosphere.csv, label: -1}
input: [34]
layers:
  - {type: dense, units: 2000, activation: relu}
  - {type: dropout, rate: 0.2}
  - {type: dense, units: 1, activation: sigmoid}
loss: binary_crossentropy
metrics: [accuracy, auc]
optimizer: {type: adam, lr: 0.001}
train: {epochs: 8, batch_size: 28, validation_split: 0.33, seed: 3}
SPEC
callback='{type: model_checkpoint, filepath: ck.ckpt, monitor: loss}'
"$anneal" train wide.yaml --quiet --callback "$callback" --save ref.ckpt --history ref.csv
"$anneal" export wide.yaml --weights ref.ckpt -o ref.npz >/dev/null
# The run's length: the shortest of three runs, since one timed while the suite's other tests load
# the machine can take several times as long, and kills spread over it would then mostly land
# after the end.
run_ms=
for _ in 1 2 3; do
  start=$(date +%s%N)
  "$anneal" train wide.yaml --quiet --callback "$callback" --save timing.ckpt
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  if [ -z "$run_ms" ] || ((ms < run_ms)); then run_ms=$ms; fi
done
rm -f ck.ckpt timing.ckpt
measured_ms=$run_ms

killed_mid_run=0 resumed=0 completed=0 stale_seen=0 trial=0
# Until `trials` kills have landed before the run's end (a kill after it proves nothing).
while ((killed_mid_run < trials && trial < 4 * trials)); do
  trial=$((trial + 1))
  rm -f ck.ckpt final.ckpt
  "$anneal" train wide.yaml --quiet --callback "$callback" --save final.ckpt &
  pid=$!
  # Half the kills land anywhere in the run; the other half after the first checkpoint exists,
  # so most kills interrupt a run that has one and is writing the next.
  if ((trial % 2 == 0)); then
    for ((waited = 0; waited < 6000; ++waited)); do
      [ -f ck.ckpt ] && break
      sleep 0.005
    done
  fi
  delay_ms=$(( RANDOM % (run_ms * 4 / 5 + 1) ))
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ -f final.ckpt ]; then
    completed=$((completed + 1))
    # The run ended before the kill: later kills come sooner.
    run_ms=$((run_ms * 3 / 4 + 1))
  else
    killed_mid_run=$((killed_mid_run + 1))
    ls -a | grep -q '^\.ck\.ckpt\.tmp' && stale_seen=$((stale_seen + 1))
    if [ -f ck.ckpt ]; then
      "$anneal" evaluate wide.yaml --weights ck.ckpt >/dev/null   # the checkpoint on disk is whole
      # A checkpoint of the last epoch leaves nothing to train: then it is the final one.
      if "$anneal" train wide.yaml --quiet --callback "$callback" --resume ck.ckpt --save final.ckpt --history final.csv 2>resume.err; then
        resumed=$((resumed + 1))
        if ! diff <(sed "s/,[^,]*$//" ref.csv) <(sed "s/,[^,]*$//" final.csv) >/dev/null; then
          echo "trial $trial: the resumed run's history differs from the uninterrupted run's" >&2
          exit 1
        fi
        if (($(ls ck.ckpt.history-* | wc -l) != 1)); then
          echo "trial $trial: stale history sidecars remain: $(ls ck.ckpt.history-*)" >&2
          exit 1
        fi
      elif grep -q "has already trained" resume.err; then
        cp ck.ckpt final.ckpt
      else
        cat resume.err >&2
        exit 1
      fi
    else
      "$anneal" train wide.yaml --quiet --callback "$callback" --save final.ckpt
    fi
    if ls -a | grep -q '^\.ck\.ckpt\.tmp'; then
      echo "trial $trial: a temporary checkpoint file of the killed run remains" >&2
      exit 1
    fi
  fi
  "$anneal" export wide.yaml --weights final.ckpt -o final.npz >/dev/null
  if ! cmp -s ref.npz final.npz; then
    echo "trial $trial (killed after ${delay_ms} ms): the weights differ from the uninterrupted run" >&2
    exit 1
  fi
done
((killed_mid_run >= trials)) || { echo "only $killed_mid_run of $trial kills landed before the run's end" >&2; exit 1; }
echo "$trial kills over a ${measured_ms} ms run: $killed_mid_run mid-run ($resumed resumed from a checkpoint," \
     "$stale_seen left a temporary file that the resumed run removed), $completed after the end; every result equals the uninterrupted run"
