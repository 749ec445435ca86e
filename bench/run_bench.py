#!/usr/bin/python3
"""Anneal against PyTorch, side by side, in one invocation (bench/run.sh runs it).

Every workload runs REPEATS (at least 5) times in each framework, interleaved, as separate
processes; the table shows medians, the ratio Anneal/PyTorch (>1: Anneal faster) as the median of
the per-pair ratios with their range, each process's peak resident memory, and each workload's
fraction of the sgemm ceiling measured in the same run for the same shapes. PyTorch runs the MLP,
the conv net and inference twice per round: in float32, and with bfloat16 autocast (what a PyTorch
user gets from one line; by default only on CPUs with bfloat16 units, since elsewhere oneDNN
emulates it about a hundred times slower than float32), against which Anneal runs in
mixed_bfloat16 (emulated, and labelled so, where the CPU has no bfloat16 products). The CPU's
model and ISA flags go with the results, and the kernel set OpenBLAS ran (both sides load the same
libopenblas: Anneal for its OpenBLAS products, PyTorch for every float32 product). An
OPENBLAS_CORETYPE in the environment forces a kernel set instead of the one OpenBLAS picks for the
CPU (Haswell's AVX2 kernels on an AVX-512 CPU run sgemm at about half the rate); it is cleared for
both sides, and the table says so, unless --keep-blas-env keeps it. OPENBLAS_THREAD_TIMEOUT=4 lets
OpenBLAS's threads sleep as soon as a call returns, for both sides (see OPENBLAS_THREAD_TIMEOUT).
Both sides also run with glibc's malloc told to keep freed memory (KEEP_FREED_MALLOC): PyTorch
allocates its activations and gradients afresh every step, and with glibc's defaults the larger
blocks go back to the kernel when freed and fault in again page by page on the next step, which on
a virtual machine cost PyTorch up to two thirds of its speed and made its rounds spread by up to
269 %; PyTorch's CPU tuning advice (a caching allocator such as tcmalloc) has the same effect.
Anneal plans its buffers once and allocates nothing per step, so the setting does not move it.
--malloc default measures with glibc's defaults. When a side's runs of a measure spread by more
than 15 % (max - min over the median) the machine was busy: that workload's rounds
are measured again (--attempts, default 3), and a measure still spread after the last attempt is
refused. Every full run is also kept in bench/history/ (its date, commit and settings with it), and
the README's table (between its bench-table markers) is regenerated from that history: each row
from the newest run, on the same CPU with the same settings, in which the measure was not refused,
with that run's date and commit (so a busy spell refuses a row in one run without taking the
table back to stale figures, and a row is never the best of several runs). `--table-from JSON...
--write-readme` does the same from given runs. The last run also goes to bench/results/results.json
and results.csv.
"""
import argparse
import csv
import json
import os
import statistics
import subprocess
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run_measured(argv, env=None):
    """(stdout, wall seconds) of one process. Peak memory is reported by the workloads themselves
    (VmHWM): a parent's rusage would count this Python process too, since the child is forked
    from it."""
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        out_fd = os.open("/tmp/anneal-bench-%d.out" % os.getpid(), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(out_fd, 1)
        err_fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(err_fd, 2)
        os.chdir(ROOT)
        os.execve(argv[0], argv, env or os.environ)
    _, status = os.waitpid(pid, 0)
    wall = time.perf_counter() - start
    path = "/tmp/anneal-bench-%d.out" % pid
    out = open(path).read()
    os.unlink(path)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError("%s failed" % " ".join(argv))
    return out, wall


def last_json(text):
    return json.loads(text.strip().splitlines()[-1])


SPREAD_LIMIT = 0.15  # max - min over the median, within one side: above it the machine was busy


def spread(values):
    return (max(values) - min(values)) / statistics.median(values) if values else 0.0


def pair_row(workload, metric, unit, a_values, t_values, higher_is_better, a_rss, t_rss, ceiling=None, peer="PyTorch"):
    """One measure of one workload. The two sides ran interleaved (A, B, A, B ...), so run i of each
    is a pair: the ratio is the median of the per-pair ratios, with their range, which load that
    moves between the sides cannot bias the way a ratio of medians can."""
    a = statistics.median(a_values)
    t = statistics.median(t_values) if t_values else None
    pairs = [(x / y if higher_is_better else y / x) for x, y in zip(a_values, t_values)]
    ratio = statistics.median(pairs) if pairs else None
    return {"workload": workload, "metric": metric, "unit": unit, "peer": peer, "anneal": a, "pytorch": t,
            "anneal_values": list(a_values), "pytorch_values": list(t_values),
            "anneal_spread": spread(a_values), "pytorch_spread": spread(t_values),
            "ratio": ratio, "ratio_min": min(pairs) if pairs else None, "ratio_max": max(pairs) if pairs else None,
            "anneal_rss_mib": a_rss, "pytorch_rss_mib": t_rss, "ceiling_fraction": ceiling}


# glibc's malloc keeping what is freed: blocks up to 32 MiB come from the heap rather than from
# their own mappings, and the heap is not trimmed below 1 GiB.
KEEP_FREED_MALLOC = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824"


# OpenBLAS's worker threads (Debian's pthreads build) spin for about 2^28 cycles after each call
# before they sleep. PyTorch's conv net and MLP call OpenBLAS for their linear layers and OpenMP
# for everything else, so on two cores a spinning OpenBLAS thread took one of the cores PyTorch's
# OpenMP threads then needed: its updates ran at half speed in stretches of 100-200 ms, its conv
# net at about 70 % of its speed overall, and its rounds spread by up to 54 %. 2^4 cycles,
# OpenBLAS's minimum, lets them sleep as soon as a call returns (bench/README.md has the
# measurements).
OPENBLAS_THREAD_TIMEOUT = "4"


def measuring_env(environ, keep_blas_env, malloc="keep-freed"):
    """The environment both sides run in, and the OPENBLAS_CORETYPE it cleared (None if none).
    With malloc "keep-freed", GLIBC_TUNABLES gets KEEP_FREED_MALLOC (after any tunables already set).
    OPENBLAS_THREAD_TIMEOUT is set where the environment has none."""
    env = dict(environ)
    env.setdefault("OPENBLAS_THREAD_TIMEOUT", OPENBLAS_THREAD_TIMEOUT)
    if malloc == "keep-freed":
        env["GLIBC_TUNABLES"] = ":".join(t for t in (environ.get("GLIBC_TUNABLES"), KEEP_FREED_MALLOC) if t)
    forced = environ.get("OPENBLAS_CORETYPE") or None
    if forced is None or keep_blas_env:
        return env, None
    del env["OPENBLAS_CORETYPE"]
    return env, forced


def busy_sides(row):
    return [side for side in ("anneal", "pytorch") if row[side + "_spread"] > SPREAD_LIMIT]


def until_quiet(measure, attempts):
    """Runs `measure` (all the interleaved rounds of one workload) again while a side of one of its
    measures spreads by more than the limit, at most `attempts` times in all: the machine's load
    comes and goes over seconds, and a workload's rounds take seconds. The attempt that was quiet,
    or else the last, is kept; each row says how many were made and whether it is refused."""
    for attempt in range(1, attempts + 1):
        rows = measure()
        busy = [r for r in rows if busy_sides(r)]
        if not busy:
            break
        if attempt < attempts:
            print("  %s: a side spread by more than %.0f %%; measuring its rounds again (attempt %d of %d)" %
                  (rows[0]["workload"], 100 * SPREAD_LIMIT, attempt + 1, attempts))
    for r in rows:
        r["attempts"] = attempt
        r["refused"] = bool(busy_sides(r))
    return rows


class Bench:
    """The workloads, each measured as interleaved rounds of Anneal and PyTorch processes."""

    def __init__(self, args):
        self.args = args
        self.anneal = os.path.join(args.build, "anneal")
        self.bench = os.path.join(args.build, "anneal_bench")
        self.threads = str(args.threads)
        os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
        self.gemm_args = ["--gemm", args.gemm, "--gemm-cache", os.path.join(HERE, "results", "gemm-plans.tsv")]
        self.base_env, self.cleared_coretype = measuring_env(os.environ, args.keep_blas_env, args.malloc)
        self.env = dict(self.base_env, OMP_WAIT_POLICY="PASSIVE", ANNEAL_BENCH_THREADS=self.threads,
                        OMP_NUM_THREADS=self.threads)
        # Checked in a child, so this process stays small.
        self.have_torch = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True).returncode == 0
        self.torch_script = [sys.executable, os.path.join(HERE, "torch_workloads.py")]
        self.mlp_model = os.path.join(ROOT, "models", "mlp_synthetic.yaml")
        self.scale = 0.25 if args.quick else 1.0
        self.cpu = cpu_facts()
        self.with_bf16 = self.have_torch and (args.bf16 == "always" or (args.bf16 == "auto" and (
            "avx512_bf16" in self.cpu["isa"] or "amx_bf16" in self.cpu["isa"])))
        self.conv_shares = {}
        # Anneal's side of the bfloat16 rounds: mixed_bfloat16, natively where oneDNN has bfloat16
        # products (AVX-512 and up), emulated (and labelled so) where --bf16 always asks for them
        # on a CPU without.
        native = "avx512f" in self.cpu["isa"]
        self.anneal_bf16 = ["--precision", "mixed_bfloat16"] + ([] if native else ["--emulate-bf16", "1"])
        self.bf16_metric = " in mixed_bfloat16" + ("" if native else " (emulated)")

    def anneal_json(self, argv):
        return last_json(run_measured([self.bench] + argv, self.base_env)[0])

    def torch_json(self, argv):
        return last_json(run_measured(self.torch_script + argv, self.env)[0])

    def sgemm(self, m, n, k, ta="n", tb="n"):
        return self.anneal_json(["sgemm", str(m), str(n), str(k), ta, tb, "--threads", self.threads])

    def lesson(self):
        """The lesson's model. Single-threaded BLAS is fastest for 28x34 matrices; PyTorch gets the
        configured threads, as it would by default."""
        model = os.path.join(ROOT, "models", "ionosphere.yaml")
        drop = os.path.join(ROOT, "schedules", "step_decay.yaml")
        a_upd, a_epoch, a_proc, a_rss, t_upd, t_epoch, t_proc, t_rss = [], [], [], [], [], [], [], []
        for _ in range(self.args.repeats):
            a_upd.append(self.anneal_json(["train", model, "--updates", "2100", "--blocks", "7", "--warmup", "200",
                                           "--threads", "1"])["us_per_update"])
            j = self.anneal_json(["epochs", model, "--threads", "1"])  # the whole 50-epoch run, in-process
            a_epoch.append(j["us_per_epoch"])
            a_rss.append(j["peak_rss_mib"])
            a_proc.append(run_measured([self.anneal, "train", model, "--schedule", drop, "--quiet", "--threads", "1"],
                                       self.base_env)[1])
            if self.have_torch:
                j = self.torch_json(["lesson-timing"])
                t_upd.append(j["us_per_update"])
                t_epoch.append(j["us_per_epoch"])
                out, wall = run_measured(self.torch_script + ["lesson-process"], self.env)
                t_proc.append(wall)
                t_rss.append(last_json(out)["peak_rss_mib"])
        ceiling = 0
        for m, n, k, ta, tb in [(28, 34, 34, "n", "n"), (28, 1, 34, "n", "n"), (34, 34, 28, "t", "n"),
                                (34, 1, 28, "t", "n"), (28, 34, 1, "n", "t")]:
            ceiling += self.sgemm(m, n, k, ta, tb)["seconds"] * 1e6
        rss = statistics.median(a_rss), (statistics.median(t_rss) if t_rss else None)
        name = "lesson 34-34-1, batch 28"
        return [pair_row(name, "time per update", "us", a_upd, t_upd, False, *rss, ceiling / statistics.median(a_upd)),
                pair_row(name, "time per epoch (9 updates + validation)", "us", a_epoch, t_epoch, False, *rss),
                pair_row(name, "whole process, 50 epochs", "s", a_proc, t_proc, False, *rss)]

    def rounds(self, anneal_argv, torch_argv, key, profile=(), each_round=None):
        """REPEATS interleaved rounds of separate processes: Anneal, PyTorch and, with the bfloat16
        rounds, Anneal in mixed_bfloat16 and PyTorch under autocast. `key` is the figure both sides
        print; `profile` goes to Anneal's float32 run only, whose JSON `each_round` then sees (the
        sgemm ceiling measured next to it, the conv net's shares)."""
        r = {"anneal": [], "anneal_bf16": [], "pytorch": [], "pytorch_bf16": [], "anneal_rss": [], "pytorch_rss": []}
        for _ in range(self.args.repeats):
            j = self.anneal_json(anneal_argv + list(profile))
            r["anneal"].append(j[key])
            r["anneal_rss"].append(j["peak_rss_mib"])
            if each_round:
                each_round(j)
            if self.have_torch:
                j = self.torch_json(torch_argv)
                r["pytorch"].append(j[key])
                r["pytorch_rss"].append(j["peak_rss_mib"])
                if self.with_bf16:
                    r["anneal_bf16"].append(self.anneal_json(anneal_argv + self.anneal_bf16)[key])
                    r["pytorch_bf16"].append(self.torch_json(torch_argv + ["bf16"])[key])
        return r

    def compared(self, name, metric, r, ceiling=None, flop=None):
        """The rows of one workload's rounds: float32 against float32, Anneal's mixed_bfloat16 against
        PyTorch's autocast where those ran, and with `flop` (per sample) the float32 GFLOP/s."""
        rss = statistics.median(r["anneal_rss"]), (statistics.median(r["pytorch_rss"]) if r["pytorch_rss"] else None)
        rows = [pair_row(name, metric, "1/s", r["anneal"], r["pytorch"], True, *rss, ceiling)]
        if self.with_bf16:
            rows.append(pair_row(name, metric + self.bf16_metric, "1/s", r["anneal_bf16"], r["pytorch_bf16"], True, *rss,
                                 peer="PyTorch bfloat16 autocast"))
        if flop:
            rows.append(pair_row(name, "real GFLOP/s", "GFLOP/s", [v * flop / 1e9 for v in r["anneal"]],
                                 [v * flop / 1e9 for v in r["pytorch"]], True, *rss))
        return rows

    def mlp(self, batch, updates):
        """The MLP 784-1024-1024-10 at one batch size, with the sgemm ceiling for one update's
        GEMMs, as Anneal issues them, measured in every round next to the training it bounds."""
        weights = 784 * 1024 + 1024 * 1024 + 1024 * 10
        real_flop = 6 * weights - 2 * 784 * 1024  # no input gradient for the first layer
        updates = str(max(5, int(updates * self.scale)))
        shapes = [(batch, 1024, 784, "n", "n"), (batch, 1024, 1024, "n", "n"), (batch, 10, 1024, "n", "n"),
                  (784, 1024, batch, "t", "n"), (1024, 1024, batch, "t", "n"), (1024, 10, batch, "t", "n"),
                  (batch, 1024, 1024, "n", "t"), (batch, 1024, 10, "n", "t")]
        fractions = []

        def ceiling(j):
            fractions.append(sum(self.sgemm(*shape)["seconds"] for shape in shapes) / (batch / j["samples_per_s"]))
        r = self.rounds(["train", self.mlp_model, "--batch", str(batch), "--updates", updates, "--blocks", "7", "--warmup",
                         "5", "--threads", self.threads] + self.gemm_args, ["mlp", str(batch), updates], "samples_per_s",
                        each_round=ceiling)
        return self.compared("MLP 784-1024-1024-10, batch %d" % batch, "samples/s", r, statistics.median(fractions),
                             flop=real_flop)

    def conv(self):
        """The conv net (models/conv_synthetic.yaml), batch 64, with each conv layer's share of
        Anneal's executor time."""
        model = os.path.join(ROOT, "models", "conv_synthetic.yaml")
        updates = str(max(5, int(30 * self.scale)))
        shares = []
        r = self.rounds(["train", model, "--updates", updates, "--blocks", "7", "--warmup", "3", "--threads", self.threads] +
                        self.gemm_args, ["conv", "64", updates], "samples_per_s", profile=["--profile", "1"],
                        each_round=lambda j: shares.append(j["shares"]))
        self.conv_shares = {node: [statistics.median(sh[node][k] for sh in shares) for k in (0, 1)] for node in shares[0]}
        conv_flop = 25.46e6  # per training sample, from `anneal check models/conv_synthetic.yaml`
        return self.compared("conv net [1,28,28], batch 64", "samples/s", r, flop=conv_flop)

    def inference(self):
        """The MLP's outputs for 100 000 rows at batch 1024, what `anneal predict` computes, against
        PyTorch under torch.inference_mode()."""
        rows_n = str(25000 if self.args.quick else 100000)
        r = self.rounds(["predict", self.mlp_model, "--rows", rows_n, "--batch", "1024", "--threads", self.threads] +
                        self.gemm_args, ["predict", "1024", rows_n], "rows_per_s")
        return self.compared("MLP inference, %s rows, batch 1024" % rows_n, "rows/s", r)

    def measure_all(self):
        rows = []
        for measure in [self.lesson] + [lambda b=b, u=u: self.mlp(b, u) for b, u in [(32, 200), (256, 40), (1024, 12)]] + \
                [self.conv, self.inference]:
            rows += until_quiet(measure, self.args.attempts)
        return rows


def print_table(rows, bench, sq, mid, core):
    args = bench.args
    print("\nAnneal vs PyTorch %s, %s thread(s), medians of %d runs (ratio > 1: Anneal ahead)\n" %
          ("(python3-torch)" if bench.have_torch else "(not installed)", bench.threads, args.repeats))
    print("CPU: %s; ISA: %s; OpenBLAS kernels: %s" % (bench.cpu["model"], " ".join(bench.cpu["isa"]) or "no AVX", core))
    print("sgemm in this run: %.1f GFLOP/s at 1024^3, %.1f at 256x1024x1024\n" % (sq, mid))
    print("| workload | metric | Anneal | PyTorch | ratio (median of pairs) | pair range | sgemm-ceiling fraction | "
          "peak RSS Anneal / PyTorch (MiB) | spread Anneal / PyTorch | attempts |")
    print("|---|---|---|---|---|---|---|---|---|---|")

    def fmt(v):
        return "—" if v is None else ("%.4g" % v)
    for r in rows:
        rss = "%.0f / %s" % (r["anneal_rss_mib"], "—" if r["pytorch_rss_mib"] is None else "%.0f" % r["pytorch_rss_mib"])
        ceiling = "—" if r["ceiling_fraction"] is None else "%.0f %%" % (100 * r["ceiling_fraction"])
        pair_range = "—" if r["ratio"] is None else "%.2f–%.2f" % (r["ratio_min"], r["ratio_max"])
        print("| %s | %s (%s)%s | %s | %s | %s | %s | %s | %s | %.0f / %.0f %%%s | %d |" % (
            r["workload"], r["metric"], r["unit"], "" if r["peer"] == "PyTorch" else " vs " + r["peer"], fmt(r["anneal"]),
            fmt(r["pytorch"]), "—" if r["ratio"] is None else "%.2fx" % r["ratio"], pair_range, ceiling, rss,
            100 * r["anneal_spread"], 100 * r["pytorch_spread"], " BUSY" if r["refused"] else "", r["attempts"]))
    print("\nconv net, share of Anneal's executor time per node (forward + backward):")
    for node, (fwd, bwd) in bench.conv_shares.items():
        print("  %-14s %5.1f %% + %5.1f %%" % (node, 100 * fwd, 100 * bwd))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--attempts", type=int, default=3,
                        help="how many times a workload's rounds are measured while a side spreads by more than 15 %%")
    parser.add_argument("--quick", action="store_true", help="fewer updates (a smoke run)")
    parser.add_argument("--no-readme", action="store_true",
                        help="keep the run out of bench/history/ and leave the README's table as it is")
    parser.add_argument("--bf16", choices=["auto", "always", "never"], default="auto",
                        help="PyTorch's bfloat16 autocast rounds: auto runs them where the CPU has bfloat16 units "
                             "(avx512_bf16 or amx_bf16); elsewhere oneDNN emulates them about 100x slower than float32")
    parser.add_argument("--gemm", choices=["auto", "openblas", "onednn"], default="auto",
                        help="Anneal's GEMM library (auto, as the CLI: timed once per machine, kept in "
                             "bench/results/gemm-plans.tsv)")
    parser.add_argument("--keep-blas-env", action="store_true",
                        help="keep OPENBLAS_CORETYPE from the environment (by default it is cleared for both sides, "
                             "so OpenBLAS runs the kernels it picks for this CPU)")
    parser.add_argument("--malloc", choices=["keep-freed", "default"], default="keep-freed",
                        help="glibc malloc for both sides: keep-freed (default) keeps freed memory, so PyTorch's "
                             "per-step allocations do not fault in afresh; default measures with glibc's defaults")
    parser.add_argument("--table-from", nargs="+", metavar="JSON",
                        help="print (and with --write-readme, write) the table of earlier runs (results.json files or "
                             "bench/history/ records; each row from the newest comparable run that did not refuse it)")
    parser.add_argument("--write-readme", action="store_true", help="with --table-from: write it into README.md")
    args = parser.parse_args()
    if args.table_from:
        runs = [load_run(path) for path in args.table_from]
        runs = comparable_runs(runs, max(runs, key=lambda run: run["started"]))  # load_run dates every run
        print(readme_table(runs))
        if args.write_readme:
            write_readme(runs)
        return 0
    if args.repeats < 5:
        parser.error("--repeats must be at least 5: the ratios are medians of pairs")
    if args.attempts < 1:
        parser.error("--attempts must be at least 1")

    bench = Bench(args)
    if not bench.have_torch:
        print("PyTorch (Debian's python3-torch) is not installed: showing Anneal's side only.")
    if bench.have_torch and not bench.with_bf16:
        print("PyTorch's bfloat16 autocast: skipped (this CPU has no bfloat16 units; --bf16 always runs it emulated)")
    if bench.cleared_coretype:
        print("OPENBLAS_CORETYPE=%s in the environment: cleared for both sides (--keep-blas-env keeps it)" %
              bench.cleared_coretype)
    # What was built and measured: taken before the rounds, so that editing files during a run
    # (the README, say) does not mark the run as measuring changes it did not build.
    started, commit = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), measured_commit()
    rows = bench.measure_all()
    ceiling = bench.sgemm(1024, 1024, 1024)
    sq = ceiling["gflops"]
    mid = bench.sgemm(256, 1024, 1024)["gflops"]
    print_table(rows, bench, sq, mid, ceiling.get("openblas_core", "?"))

    busy = [("%s, %s: %s runs spread %.0f %%" % (r["workload"], r["metric"], side, 100 * r[side + "_spread"]))
            for r in rows for side in busy_sides(r)]
    result = {"started": started, "commit": commit, "quick": args.quick, "gemm": args.gemm,
              "threads": args.threads, "repeats": args.repeats, "attempts": args.attempts, "cpu": bench.cpu,
              "bf16_autocast_run": bench.with_bf16, "openblas_core": ceiling.get("openblas_core"),
              "openblas_coretype_cleared": bench.cleared_coretype, "malloc": args.malloc,
              "openblas_coretype_kept": None if bench.cleared_coretype else bench.base_env.get("OPENBLAS_CORETYPE"),
              "openblas_thread_timeout": bench.base_env["OPENBLAS_THREAD_TIMEOUT"],
              "sgemm_gflops_1024": sq, "sgemm_gflops_256x1024x1024": mid,
              "rows": rows, "conv_shares": bench.conv_shares, "busy": busy}
    out_dir = os.path.join(HERE, "results")
    write_atomically(os.path.join(out_dir, "results.json"), lambda f: json.dump(result, f, indent=1))

    def write_csv(f):
        writer = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        writer.writeheader()
        writer.writerows(rows)
    write_atomically(os.path.join(out_dir, "results.csv"), write_csv)
    print("results: bench/results/results.json, results.csv")
    if args.quick or args.no_readme:
        print("not recorded in bench/history/ and the README's table left as it is (%s)" %
              ("--quick: a smoke run" if args.quick else "--no-readme"))
    else:
        print("recorded as %s" % os.path.relpath(record_run(result, HISTORY), ROOT))
        runs = comparable_runs(load_runs(HISTORY), result)
        write_readme(runs)
        print("README.md: the performance table is regenerated from %d run(s) in bench/history/" % len(runs))
    if busy:
        print("\nThe machine was busy: after %d attempts, within one side, runs of a measure still spread by more "
              "than 15 %%:\n  %s\nThose measures are refused: the README shows why instead of their figures. Run "
              "again on a quiet machine." % (args.attempts, "\n  ".join(busy)))
        return 3
    return 0


def cpu_facts():
    """The CPU's model name and the ISA flags that matter for these kernels."""
    model, flags = "unknown", set()
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
    wanted = ["avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16"]
    return {"model": model, "isa": [w for w in wanted if w in flags]}


HISTORY = os.path.join(HERE, "history")


def measured_commit():
    """The commit a run measured: git's short hash, with "+changes" where tracked files other than
    the README and the history differ from it; None outside a git checkout."""
    def git(*argv):
        return subprocess.run(["git", "-C", ROOT] + list(argv), capture_output=True, text=True, check=True).stdout.strip()
    try:
        head = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!README.md", ":!bench/history")
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("+changes" if changed else "")


def record_run(result, directory):
    """Keeps a run in `directory` as <started>.json, written atomically; returns the path."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, result["started"].replace(":", "") + ".json")
    write_atomically(path, lambda f: json.dump(result, f, indent=1))
    return path


RUN_KEYS = ("cpu", "threads", "repeats", "sgemm_gflops_1024", "rows")


class NotARun(Exception):
    """A file given as a run (--table-from, or in bench/history/) that is not one; main exits 2."""


def load_run(path):
    """A run as results.json or bench/history/ keeps it; NotARun, naming the file and what is wrong,
    for anything else."""
    try:
        with open(path) as f:
            run = json.load(f)
    except OSError as e:
        raise NotARun("%s: cannot read it (%s)" % (path, e.strerror))
    except ValueError as e:
        raise NotARun("%s: not JSON (%s)" % (path, e))
    missing = [k for k in RUN_KEYS if not isinstance(run, dict) or k not in run]
    if missing:
        raise NotARun("%s: not a run of bench/run.sh (expected the keys %s; missing %s)" %
                      (path, ", ".join(RUN_KEYS), ", ".join(missing)))
    run.setdefault("started", "")  # a results.json from before runs were dated sorts first
    return run


def load_runs(directory):
    """The runs kept in `directory`, oldest first."""
    if not os.path.isdir(directory):
        return []
    return sorted((load_run(os.path.join(directory, name)) for name in os.listdir(directory) if name.endswith(".json")),
                  key=lambda run: run["started"])


def settings(run):
    """What two runs must share for their rows to stand in one table: the CPU and how it was measured."""
    with_pytorch = any(r["pytorch"] is not None for r in run["rows"])  # a run without python3-torch: Anneal alone
    return (run["cpu"]["model"], tuple(run["cpu"]["isa"]), run["threads"], with_pytorch, run.get("quick", False),
            run.get("gemm", "auto"), run.get("malloc"), run.get("openblas_core"), run.get("openblas_coretype_kept"),
            run.get("openblas_thread_timeout"), run.get("bf16_autocast_run"))


def comparable_runs(runs, newest):
    """The runs measured as `newest` was and before it, oldest first, ending with `newest`."""
    return [run for run in runs if settings(run) == settings(newest) and run["started"] < newest["started"]] + [newest]


def is_refused(row):
    return row.get("refused", bool(busy_sides(row)))


def shown_rows(run):
    return [r for r in run["rows"] if r["metric"] not in ("real GFLOP/s", "time per epoch (9 updates + validation)")]


def table_rows(runs):
    """For each measure of the newest run, (row, index into `runs`): the row of the newest run that did
    not refuse it, or the newest run's own where every run refused it. Newest, not best: a row is
    never picked for its figure."""
    key = lambda r: (r["workload"], r["metric"], r["peer"])  # noqa: E731
    chosen = []
    for row in shown_rows(runs[-1]):
        pick = (row, len(runs) - 1)
        for i in range(len(runs) - 1, -1, -1):
            kept = [r for r in runs[i]["rows"] if key(r) == key(row) and not is_refused(r)]
            if kept:
                pick = (kept[0], i)
                break
        chosen.append(pick)
    return chosen


def run_label(run):
    """"2026-12-03 12:30 UTC, commit fade457" (or what of it the run recorded)."""
    when = run["started"][:16].replace("T", " ") + " UTC" if run["started"] else "undated"
    return when + (", commit %s" % run["commit"] if run.get("commit") else "")


def readme_table(runs):
    """The README's performance table from comparable runs, oldest first (see table_rows). A measure
    refused in every run (a side's rounds spread by more than 15 % in each attempt) shows its
    spread instead of its figures."""
    def value(v, unit):
        """A figure with its unit: times to three digits ("5.36 µs"), rates as whole numbers ("18 748")."""
        if v is None:
            return "—"
        if unit in ("us", "s"):
            return "%.3g %s" % (v, "µs" if unit == "us" else "s")
        return "{:,.0f}".format(v).replace(",", " ")

    newest = runs[-1]
    rows = table_rows(runs)
    used = sorted({i for _, i in rows})
    number = {i: n + 1 for n, i in enumerate(used)}
    lines = ["`bash bench/run.sh` on %s (ISA: %s), %d thread(s), interleaved rounds; each row comes from the newest "
             "of the runs below in which neither side's rounds spread by more than 15 %% (column run). Ratio: how many "
             "times Anneal is ahead, the median of the per-round ratios (their range in brackets). Regenerated from "
             "`bench/history/`." % (newest["cpu"]["model"], " ".join(newest["cpu"]["isa"]), newest["threads"])]
    lines[0] += environment_note(newest)
    refused = [r for r, _ in rows if is_refused(r)]
    if refused:
        lines[0] += (" %d of the %d measures below were **refused** in each of the %d run(s) (up to %d attempts in each), "
                     "so their figures are not shown." % (len(refused), len(rows), len(runs), newest.get("attempts", 1)))
    if not newest.get("bf16_autocast_run", any(r["peer"] != "PyTorch" for r in newest["rows"])):
        lines[0] += (" PyTorch's bfloat16 autocast was not run: this CPU has no bfloat16 units (oneDNN would emulate it "
                     "about a hundred times slower than float32).")
    lines += [""] + ["%d. %s: %d rounds, sgemm %.0f GFLOP/s at 1024³." %
                     (number[i], run_label(runs[i]), runs[i]["repeats"], runs[i]["sgemm_gflops_1024"]) for i in used]
    lines += ["", "| workload | measure | Anneal | peer | peer's figure | ratio (range) | sgemm ceiling | "
              "peak RSS Anneal / peer | run |", "|---|---|---|---|---|---|---|---|---|"]
    for r, i in rows:
        rss = "%.0f / %s MiB" % (r["anneal_rss_mib"], "—" if r["pytorch_rss_mib"] is None else "%.0f" % r["pytorch_rss_mib"])
        if is_refused(r):
            why = "refused: rounds spread %.0f %% (Anneal) / %.0f %% (peer)" % (100 * r["anneal_spread"],
                                                                                 100 * r["pytorch_spread"])
            lines.append("| %s | %s | — | %s | — | %s | — | %s | %d |" % (r["workload"], r["metric"], r["peer"], why, rss,
                                                                           number[i]))
            continue
        ratio = "—" if r["ratio"] is None else "%.2f× (%.2f–%.2f)" % (r["ratio"], r["ratio_min"], r["ratio_max"])
        ceiling = "" if r["ceiling_fraction"] is None else "%.0f %%" % (100 * r["ceiling_fraction"])
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %d |" % (
            r["workload"], r["metric"], value(r["anneal"], r["unit"]), r["peer"], value(r["pytorch"], r["unit"]),
            ratio, ceiling, rss, number[i]))
    shares = newest.get("conv_shares")
    if shares:
        lines += ["", "The conv net's float32 executor time by node in the newest run (forward + backward): " +
                  ", ".join("`%s` %.1f + %.1f %%" % (node, 100 * f, 100 * b) for node, (f, b) in shares.items()) + "."]
    return "\n".join(lines)


def environment_note(result):
    """Which kernels OpenBLAS ran (and whether the environment's OPENBLAS_CORETYPE was cleared or
    kept), and how glibc's malloc was set."""
    note = ""
    core = result.get("openblas_core")
    if core:
        note += " OpenBLAS ran its %s kernels" % core
        if result.get("openblas_coretype_cleared"):
            note += (", the ones it picks for this CPU (OPENBLAS_CORETYPE=%s in the environment was cleared for both "
                     "sides)" % result["openblas_coretype_cleared"])
        elif result.get("openblas_coretype_kept"):
            note += ", forced by OPENBLAS_CORETYPE=%s for both sides (--keep-blas-env)" % result["openblas_coretype_kept"]
        if result.get("openblas_thread_timeout"):
            timeout = result["openblas_thread_timeout"]
            note += (", and its threads slept %s (OPENBLAS_THREAD_TIMEOUT=%s; left spinning, they took a core from "
                     "PyTorch's OpenMP threads)" % ("as soon as a call returned" if timeout == OPENBLAS_THREAD_TIMEOUT
                                                     else "after spinning 2^%s cycles" % timeout, timeout))
        note += "."
    if result.get("malloc") == "keep-freed":
        note += (" Both sides ran with glibc's malloc keeping freed memory (PyTorch's per-step allocations "
                 "otherwise fault in afresh: see bench/README.md).")
    elif result.get("malloc") == "default":
        note += " Both sides ran with glibc's default malloc (--malloc default)."
    return note


def write_atomically(path, write):
    """`write(file)` into a temporary file beside `path`, then renamed over it: a reader never sees
    half a table."""
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        write(f)
    os.replace(tmp, path)


def write_readme(runs):
    """Rewrites the table between the README's bench-table markers (readme_table of `runs`)."""
    path = os.path.join(ROOT, "README.md")
    with open(path) as f:
        text = f.read()
    begin, end = "<!-- bench-table:begin -->", "<!-- bench-table:end -->"
    if begin not in text or end not in text:
        raise SystemExit("README.md has no %s ... %s markers" % (begin, end))
    text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: begin + "\n" + readme_table(runs) + "\n" + end, text,
                  flags=re.S)
    write_atomically(path, lambda f: f.write(text))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except NotARun as e:
        print("bench: %s" % e, file=sys.stderr)
        sys.exit(2)
