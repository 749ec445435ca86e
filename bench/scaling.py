#!/usr/bin/env python3
"""Measures what data parallelism over MPI costs on this machine and projects it to clusters.

  /usr/bin/python3 bench/scaling.py [--build build] [--repeats 5] [--json bench/scaling.json]
  /usr/bin/python3 bench/scaling.py --table-from bench/scaling.json   (reprints the tables)

1. Allreduce time against message size, 2 ranks over shared memory (build/mpi_allreduce_bench):
   MPI's blocking allreduce (what anneal calls) and the non-blocking one polled with MPI_Test.
2. Compute per update of the bench MLP (models/mlp_synthetic.yaml, 784-1024-1024-10, batch 256)
   and the conv net (models/conv_synthetic.yaml, batch 64), one process with one BLAS thread (a
   rank per core), and each model's gradient allreduce at its exact size: the compute to
   communication ratio.
3. Samples/s of the bench MLP (global batch 256) in one process with 2 BLAS threads against 2
   ranks with one thread each, and against 2 ranks keeping batch 256 each (global 512),
   interleaved, `--repeats` rounds.
4. A projection with the ring allreduce cost model, 2(p-1)/p * bytes / bandwidth + 2(p-1) *
   latency, to 8, 64 and 512 ranks on 10 and 100 Gbit/s links, each rank keeping its batch (weak
   scaling) and without overlap of communication and backward (as anneal runs today).
"""
import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1")
MODELS = {
    # name: spec, per-rank batch, rows used, trainable floats
    "mlp": ("models/mlp_synthetic.yaml", 256, 16384, 784 * 1024 + 1024 + 1024 * 1024 + 1024 + 1024 * 10 + 10),
    "conv": ("models/conv_synthetic.yaml", 64, 4096, 32 * 9 + 32 + 64 * 32 * 9 + 64 + 3136 * 128 + 128 + 128 * 10 + 10),
}
# Links for the projection: bandwidth in bytes/s and the per-message latency assumed for each
# (TCP over 10 Gbit/s Ethernet; RDMA over 100 Gbit/s InfiniBand or RoCE).
LINKS = {"10 Gbit/s": (10e9 / 8, 25e-6), "100 Gbit/s": (100e9 / 8, 2e-6)}
RANKS = [8, 64, 512]


def allreduce(build, sizes):
    out = subprocess.run(["mpirun", "-np", "2", os.path.join(build, "mpi_allreduce_bench")] + [str(s) for s in sizes],
                         env=ENV, check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def epoch_seconds(build, spec, threads, rows, ranks=1, batch=None):
    with tempfile.TemporaryDirectory() as tmp:
        history = os.path.join(tmp, "h.csv")
        cmd = [os.path.join(build, "anneal"), "train", os.path.join(ROOT, spec), "--threads", str(threads), "-q",
               "--history", history, "--set", f"data.synthetic.rows={rows}"]
        if batch:
            cmd += ["--set", f"train.batch_size={batch}"]
        if ranks > 1:
            cmd = ["mpirun", "-np", str(ranks), "--bind-to", "core"] + cmd
        subprocess.run(cmd, env=ENV, check=True, capture_output=True)
        with open(history) as f:
            return float(list(csv.DictReader(f))[-1]["time_s"])


def ring_seconds(p, nbytes, bandwidth, latency):
    return 2 * (p - 1) / p * nbytes / bandwidth + 2 * (p - 1) * latency


def measure(args):
    build = os.path.join(ROOT, args.build)
    result = {"cpu": cpu_model(), "allreduce": allreduce(build, []), "models": {}, "samples_per_s": {}}
    for name, (spec, batch, rows, floats) in MODELS.items():
        times = [epoch_seconds(build, spec, 1, rows) for _ in range(args.repeats)]
        update_s = statistics.median(times) / (rows // batch)
        comm = allreduce(build, [floats * 4])[0]
        result["models"][name] = {"spec": spec, "batch_per_rank": batch, "gradient_bytes": floats * 4,
                                  "compute_s_per_update": update_s, "allreduce_s": comm["allreduce_s"],
                                  "iallreduce_test_s": comm["iallreduce_test_s"]}
    # Interleaved pairs: one process with 2 threads, then 2 ranks with one thread each.
    spec, batch, rows, _ = MODELS["mlp"]
    # Then 2 ranks each keeping batch 256 (global 512, as --scale-lr runs).
    one, two, weak = [], [], []
    for _ in range(args.repeats):
        one.append(rows / epoch_seconds(build, spec, 2, rows))
        two.append(rows / epoch_seconds(build, spec, 1, rows, ranks=2))
        weak.append(rows / epoch_seconds(build, spec, 1, rows, ranks=2, batch=2 * batch))
    result["samples_per_s"] = {"one_process_2_threads": one, "two_ranks_1_thread": two,
                               "ratios": [b / a for a, b in zip(one, two)],
                               "two_ranks_batch_256_each": weak, "weak_ratios": [b / a for a, b in zip(one, weak)]}
    return result


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def tables(r):
    lines = [f"Measured on: {r['cpu']}, 2 cores, OpenMPI (Debian), 2 ranks over shared memory.", "",
             "| message | MPI_Allreduce | bus bandwidth | MPI_Iallreduce + MPI_Test |", "|---|---|---|---|"]
    for row in r["allreduce"]:
        b = row["bytes"]
        size = f"{b} B" if b < 1024 else f"{b // 1024} KiB" if b < 1 << 20 else f"{b >> 20} MiB"
        bw = b / row["allreduce_s"] / 1e9  # 2(p-1)/p = 1 for p = 2
        lines.append(f"| {size} | {row['allreduce_s'] * 1e6:.1f} µs | {bw:.2f} GB/s | {row['iallreduce_test_s'] * 1e6:.1f} µs |")
    lines += ["", "| model | per-rank batch | gradient | compute per update (1 thread) | allreduce (2 ranks) | compute / communication |",
              "|---|---|---|---|---|---|"]
    for name, m in r["models"].items():
        lines.append(f"| {m['spec']} | {m['batch_per_rank']} | {m['gradient_bytes'] / 1e6:.2f} MB | "
                     f"{m['compute_s_per_update'] * 1e3:.2f} ms | {m['allreduce_s'] * 1e3:.2f} ms | "
                     f"{m['compute_s_per_update'] / m['allreduce_s']:.1f} |")
    s = r["samples_per_s"]
    med = statistics.median
    lines += ["", "| bench MLP, global batch 256 | samples/s median | min – max |", "|---|---|---|",
              f"| 1 process, 2 BLAS threads | {med(s['one_process_2_threads']):,.0f} | "
              f"{min(s['one_process_2_threads']):,.0f} – {max(s['one_process_2_threads']):,.0f} |",
              f"| 2 ranks, 1 BLAS thread each | {med(s['two_ranks_1_thread']):,.0f} | "
              f"{min(s['two_ranks_1_thread']):,.0f} – {max(s['two_ranks_1_thread']):,.0f} |",
              f"| ratio (2 ranks / 1 process), per pair | {med(s['ratios']):.2f} | {min(s['ratios']):.2f} – {max(s['ratios']):.2f} |",
              f"| 2 ranks keeping batch 256 each (global 512, as with --scale-lr) | {med(s['two_ranks_batch_256_each']):,.0f} | "
              f"{min(s['two_ranks_batch_256_each']):,.0f} – {max(s['two_ranks_batch_256_each']):,.0f} |",
              f"| ratio (2 ranks at 256 each / 1 process at 256), per pair | {med(s['weak_ratios']):.2f} | "
              f"{min(s['weak_ratios']):.2f} – {max(s['weak_ratios']):.2f} |"]
    lines += ["", "Projected scaling efficiency (compute / (compute + ring allreduce), each rank keeping its batch, "
              "no overlap):", "", "| model | link (latency assumed) | " + " | ".join(f"{p} ranks" for p in RANKS) + " |",
              "|---|---|" + "---|" * len(RANKS)]
    for name, m in r["models"].items():
        for link, (bandwidth, latency) in LINKS.items():
            cells = []
            for p in RANKS:
                comm = ring_seconds(p, m["gradient_bytes"], bandwidth, latency)
                cells.append(f"{m['compute_s_per_update'] / (m['compute_s_per_update'] + comm) * 100:.0f} % "
                             f"({comm * 1e3:.1f} ms)")
            lines.append(f"| {name} | {link} ({latency * 1e6:.0f} µs) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", default=os.path.join(ROOT, "bench", "scaling.json"))
    parser.add_argument("--table-from", help="reprint the tables of an earlier run's JSON")
    args = parser.parse_args()
    if args.table_from:
        with open(args.table_from) as f:
            print(tables(json.load(f)))
        return 0
    result = measure(args)
    with open(args.json, "w") as f:
        json.dump(result, f, indent=1)
    print(tables(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
