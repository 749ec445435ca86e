#!/usr/bin/python3
"""Anneal against PyTorch, side by side, in one invocation (bench/run.sh runs it).

Every workload runs REPEATS (at least 5) times in each framework, interleaved, as separate
processes; the table shows medians, the ratio Anneal/PyTorch (>1: Anneal faster) as the median of
the per-pair ratios with their range, each process's peak resident memory, and each workload's
fraction of the sgemm ceiling measured in the same run for the same shapes. PyTorch runs the MLP
and the conv net twice per round: in float32, and with bfloat16 autocast (what a PyTorch user gets
from one line; by default only on CPUs with bfloat16 units, since elsewhere oneDNN emulates it
about a hundred times slower than float32). The CPU's model and ISA flags go with the results. When a side's runs of a workload
spread by more than 15 % (max - min over the median) the machine was busy: the run says so and
leaves the README alone. Otherwise the README's table (between its bench-table markers) is
regenerated from bench/results/results.json (`--table-from JSON --write-readme` does the same for an
earlier run). Results also go to results.csv.
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


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=os.path.join(ROOT, "build"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="fewer updates (a smoke run)")
    parser.add_argument("--no-readme", action="store_true", help="do not regenerate the README's table")
    parser.add_argument("--bf16", choices=["auto", "always", "never"], default="auto",
                        help="PyTorch's bfloat16 autocast rounds: auto runs them where the CPU has bfloat16 units "
                             "(avx512_bf16 or amx_bf16); elsewhere oneDNN emulates them about 100x slower than float32")
    parser.add_argument("--gemm", choices=["auto", "openblas", "onednn"], default="auto",
                        help="Anneal's GEMM library (auto, as the CLI: timed once per machine, kept in "
                             "bench/results/gemm-plans.tsv)")
    parser.add_argument("--table-from", help="print (and with --write-readme, write) the table of an earlier results.json")
    parser.add_argument("--write-readme", action="store_true", help="with --table-from: write it into README.md")
    args = parser.parse_args()
    if args.table_from:
        with open(args.table_from) as f:
            result = json.load(f)
        print(readme_table(result))
        if args.write_readme:
            write_readme(result)
        return 0
    if args.repeats < 5:
        parser.error("--repeats must be at least 5: the ratios are medians of pairs")

    anneal = os.path.join(args.build, "anneal")
    bench = os.path.join(args.build, "anneal_bench")
    threads = str(args.threads)
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    gemm_args = ["--gemm", args.gemm, "--gemm-cache", os.path.join(HERE, "results", "gemm-plans.tsv")]
    env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE", ANNEAL_BENCH_THREADS=threads, OMP_NUM_THREADS=threads)
    # Checked in a child, so this process stays small.
    have_torch = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True).returncode == 0
    if not have_torch:
        print("PyTorch (Debian's python3-torch) is not installed: showing Anneal's side only.")
    torch_script = [sys.executable, os.path.join(HERE, "torch_workloads.py")]
    lesson = os.path.join(ROOT, "models", "ionosphere.yaml")
    drop = os.path.join(ROOT, "schedules", "step_decay.yaml")
    mlp = os.path.join(ROOT, "models", "mlp_synthetic.yaml")
    scale = 0.25 if args.quick else 1.0

    def sgemm(m, n, k, ta="n", tb="n"):
        out, _ = run_measured([bench, "sgemm", str(m), str(n), str(k), ta, tb, "--threads", threads])
        return last_json(out)

    rows = []
    cpu = cpu_facts()
    with_bf16 = have_torch and (args.bf16 == "always" or
                                (args.bf16 == "auto" and ("avx512_bf16" in cpu["isa"] or "amx_bf16" in cpu["isa"])))
    if have_torch and not with_bf16:
        print("PyTorch's bfloat16 autocast: skipped (this CPU has no bfloat16 units; --bf16 always runs it emulated)")

    def spread(values):
        return (max(values) - min(values)) / statistics.median(values) if values else 0.0

    def record(workload, metric, unit, a_values, t_values, higher_is_better, a_rss, t_rss, ceiling=None, peer="PyTorch"):
        """The two sides ran interleaved (A, B, A, B ...), so run i of each is a pair: the ratio is
        the median of the per-pair ratios, with their range, which load that moves between the
        sides cannot bias the way a ratio of medians can."""
        a = statistics.median(a_values)
        t = statistics.median(t_values) if t_values else None
        pairs = [(x / y if higher_is_better else y / x) for x, y in zip(a_values, t_values)]
        ratio = statistics.median(pairs) if pairs else None
        rows.append({"workload": workload, "metric": metric, "unit": unit, "peer": peer, "anneal": a, "pytorch": t,
                     "anneal_spread": spread(a_values), "pytorch_spread": spread(t_values),
                     "ratio": ratio, "ratio_min": min(pairs) if pairs else None, "ratio_max": max(pairs) if pairs else None,
                     "anneal_rss_mib": a_rss, "pytorch_rss_mib": t_rss, "ceiling_fraction": ceiling})

    # a. The lesson's model. Single-threaded BLAS is fastest for 28x34 matrices; PyTorch gets the
    # configured threads, as it would by default.
    a_upd, a_epoch, a_proc, a_rss, t_upd, t_epoch, t_proc, t_rss = [], [], [], [], [], [], [], []
    for _ in range(args.repeats):
        out, _ = run_measured([bench, "train", lesson, "--updates", "3000", "--warmup", "200", "--threads", "1"])
        a_upd.append(last_json(out)["us_per_update"])
        out, _ = run_measured([bench, "epochs", lesson, "--threads", "1"])  # the whole 50-epoch run, in-process
        a_epoch.append(last_json(out)["us_per_epoch"])
        a_rss.append(last_json(out)["peak_rss_mib"])
        _, wall = run_measured([anneal, "train", lesson, "--schedule", drop, "--quiet", "--threads", "1"])
        a_proc.append(wall)
        if have_torch:
            out, _ = run_measured(torch_script + ["lesson-timing"], env)
            j = last_json(out)
            t_upd.append(j["us_per_update"])
            t_epoch.append(j["us_per_epoch"])
            out, wall = run_measured(torch_script + ["lesson-process"], env)
            t_proc.append(wall)
            t_rss.append(last_json(out)["peak_rss_mib"])
    lesson_ceiling = 0
    for m, n, k, ta, tb in [(28, 34, 34, "n", "n"), (28, 1, 34, "n", "n"), (34, 34, 28, "t", "n"), (34, 1, 28, "t", "n"),
                            (28, 34, 1, "n", "t")]:
        lesson_ceiling += sgemm(m, n, k, ta, tb)["seconds"] * 1e6
    ceiling = lesson_ceiling / statistics.median(a_upd)
    a_rss_m, t_rss_m = statistics.median(a_rss), (statistics.median(t_rss) if t_rss else None)
    record("lesson 34-34-1, batch 28", "time per update", "us", a_upd, t_upd, False, a_rss_m, t_rss_m, ceiling)
    record("lesson 34-34-1, batch 28", "time per epoch (9 updates + validation)", "us", a_epoch, t_epoch, False, a_rss_m, t_rss_m)
    record("lesson 34-34-1, batch 28", "whole process, 50 epochs", "s", a_proc, t_proc, False, a_rss_m, t_rss_m)

    # b. The MLP at three batch sizes.
    weights = 784 * 1024 + 1024 * 1024 + 1024 * 10
    real_flop = 6 * weights - 2 * 784 * 1024  # no input gradient for the first layer
    for batch, updates in [(32, 200), (256, 40), (1024, 12)]:
        updates = max(5, int(updates * scale))
        # The sgemm ceiling for one update's GEMMs, as Anneal issues them, measured in every round
        # next to the training it bounds (one measurement apart from the rounds moved by ±30 %).
        shapes = [(batch, 1024, 784, "n", "n"), (batch, 1024, 1024, "n", "n"), (batch, 10, 1024, "n", "n"),
                  (784, 1024, batch, "t", "n"), (1024, 1024, batch, "t", "n"), (1024, 10, batch, "t", "n"),
                  (batch, 1024, 1024, "n", "t"), (batch, 1024, 10, "n", "t")]
        a_sps, t_sps, b_sps, a_rss, t_rss, fractions = [], [], [], [], [], []
        for _ in range(args.repeats):
            out, _ = run_measured([bench, "train", mlp, "--batch", str(batch), "--updates", str(updates), "--warmup", "5",
                                     "--threads", threads] + gemm_args)
            a_sps.append(last_json(out)["samples_per_s"])
            a_rss.append(last_json(out)["peak_rss_mib"])
            fractions.append(sum(sgemm(*shape)["seconds"] for shape in shapes) / (batch / a_sps[-1]))
            if have_torch:
                out, _ = run_measured(torch_script + ["mlp", str(batch), str(updates)], env)
                t_sps.append(last_json(out)["samples_per_s"])
                t_rss.append(last_json(out)["peak_rss_mib"])
                if with_bf16:
                    out, _ = run_measured(torch_script + ["mlp", str(batch), str(updates), "bf16"], env)
                    b_sps.append(last_json(out)["samples_per_s"])
        a_rss_m, t_rss_m = statistics.median(a_rss), (statistics.median(t_rss) if t_rss else None)
        record("MLP 784-1024-1024-10, batch %d" % batch, "samples/s", "1/s", a_sps, t_sps, True, a_rss_m, t_rss_m,
               statistics.median(fractions))
        if with_bf16:
            record("MLP 784-1024-1024-10, batch %d" % batch, "samples/s", "1/s", a_sps, b_sps, True, a_rss_m, t_rss_m,
                   peer="PyTorch bfloat16 autocast")
        record("MLP 784-1024-1024-10, batch %d" % batch, "real GFLOP/s", "GFLOP/s",
               [s * real_flop / 1e9 for s in a_sps], [s * real_flop / 1e9 for s in t_sps], True, a_rss_m, t_rss_m)
    # c. The conv net (models/conv_synthetic.yaml), batch 64, with each conv layer's share of
    # Anneal's executor time.
    conv_model = os.path.join(ROOT, "models", "conv_synthetic.yaml")
    conv_updates = str(max(5, int(30 * scale)))
    a_sps, t_sps, b_sps, a_rss, t_rss, shares = [], [], [], [], [], []
    for _ in range(args.repeats):
        out, _ = run_measured([bench, "train", conv_model, "--updates", conv_updates, "--warmup", "3", "--threads", threads,
                               "--profile", "1"] + gemm_args)
        j = last_json(out)
        a_sps.append(j["samples_per_s"])
        a_rss.append(j["peak_rss_mib"])
        shares.append(j["shares"])
        if have_torch:
            out, _ = run_measured(torch_script + ["conv", "64", conv_updates], env)
            t_sps.append(last_json(out)["samples_per_s"])
            t_rss.append(last_json(out)["peak_rss_mib"])
            if with_bf16:
                out, _ = run_measured(torch_script + ["conv", "64", conv_updates, "bf16"], env)
                b_sps.append(last_json(out)["samples_per_s"])
    conv_flop = 25.46e6  # per training sample, from `anneal check models/conv_synthetic.yaml`
    a_rss_m, t_rss_m = statistics.median(a_rss), (statistics.median(t_rss) if t_rss else None)
    record("conv net [1,28,28], batch 64", "samples/s", "1/s", a_sps, t_sps, True, a_rss_m, t_rss_m)
    if with_bf16:
        record("conv net [1,28,28], batch 64", "samples/s", "1/s", a_sps, b_sps, True, a_rss_m, t_rss_m,
               peer="PyTorch bfloat16 autocast")
    record("conv net [1,28,28], batch 64", "real GFLOP/s", "GFLOP/s", [s * conv_flop / 1e9 for s in a_sps],
           [s * conv_flop / 1e9 for s in t_sps], True, a_rss_m, t_rss_m)
    conv_shares = {}
    for node in shares[0]:
        conv_shares[node] = [statistics.median(sh[node][k] for sh in shares) for k in (0, 1)]

    # d. Inference: the MLP's outputs for 100 000 rows at batch 1024, what `anneal predict` computes,
    # against PyTorch under torch.inference_mode().
    rows_n = str(25000 if args.quick else 100000)
    a_rps, t_rps, b_rps, a_rss, t_rss = [], [], [], [], []
    for _ in range(args.repeats):
        j = last_json(run_measured([bench, "predict", mlp, "--rows", rows_n, "--batch", "1024", "--threads", threads] + gemm_args)[0])
        a_rps.append(j["rows_per_s"])
        a_rss.append(j["peak_rss_mib"])
        if have_torch:
            j = last_json(run_measured(torch_script + ["predict", "1024", rows_n], env)[0])
            t_rps.append(j["rows_per_s"])
            t_rss.append(j["peak_rss_mib"])
            if with_bf16:
                b_rps.append(last_json(run_measured(torch_script + ["predict", "1024", rows_n, "bf16"], env)[0])["rows_per_s"])
    a_rss_m, t_rss_m = statistics.median(a_rss), (statistics.median(t_rss) if t_rss else None)
    record("MLP inference, %s rows, batch 1024" % rows_n, "rows/s", "1/s", a_rps, t_rps, True, a_rss_m, t_rss_m)
    if with_bf16:
        record("MLP inference, %s rows, batch 1024" % rows_n, "rows/s", "1/s", a_rps, b_rps, True, a_rss_m, t_rss_m,
               peer="PyTorch bfloat16 autocast")

    sq = sgemm(1024, 1024, 1024)["gflops"]
    mid = sgemm(256, 1024, 1024)["gflops"]

    print("\nAnneal vs PyTorch %s, %s thread(s), medians of %d runs (ratio > 1: Anneal ahead)\n" %
          ("(python3-torch)" if have_torch else "(not installed)", threads, args.repeats))
    print("CPU: %s; ISA: %s" % (cpu["model"], " ".join(cpu["isa"]) or "no AVX"))
    print("sgemm in this run: %.1f GFLOP/s at 1024^3, %.1f at 256x1024x1024\n" % (sq, mid))
    header = ("| workload | metric | Anneal | PyTorch | ratio (median of pairs) | pair range | sgemm-ceiling fraction | "
              "peak RSS Anneal / PyTorch (MiB) |")
    print(header)
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        def fmt(v):
            return "—" if v is None else ("%.4g" % v)
        rss = "%.0f / %s" % (r["anneal_rss_mib"], "—" if r["pytorch_rss_mib"] is None else "%.0f" % r["pytorch_rss_mib"])
        ceiling = "—" if r["ceiling_fraction"] is None else "%.0f %%" % (100 * r["ceiling_fraction"])
        spread = "—" if r["ratio"] is None else "%.2f–%.2f" % (r["ratio_min"], r["ratio_max"])
        print("| %s | %s (%s)%s | %s | %s | %s | %s | %s | %s |" % (r["workload"], r["metric"], r["unit"],
                                                                "" if r["peer"] == "PyTorch" else " vs " + r["peer"], fmt(r["anneal"]),
                                                                fmt(r["pytorch"]), "—" if r["ratio"] is None else "%.2fx" % r["ratio"],
                                                                spread, ceiling, rss))
    print("\nconv net, share of Anneal's executor time per node (forward + backward):")
    for node, (fwd, bwd) in conv_shares.items():
        print("  %-14s %5.1f %% + %5.1f %%" % (node, 100 * fwd, 100 * bwd))
    out_dir = os.path.join(HERE, "results")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        busy = [("%s, %s: %s runs spread %.0f %%" % (r["workload"], r["metric"], side, 100 * r[side + "_spread"]))
                for r in rows for side in ("anneal", "pytorch") if r[side + "_spread"] > 0.15]
        result = {"threads": args.threads, "repeats": args.repeats, "cpu": cpu, "bf16_autocast_run": with_bf16, "sgemm_gflops_1024": sq,
                  "sgemm_gflops_256x1024x1024": mid, "rows": rows, "conv_shares": conv_shares, "busy": busy}
        json.dump(result, f, indent=1)
    with open(os.path.join(out_dir, "results.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        writer.writeheader()
        writer.writerows(rows)
    print("results: bench/results/results.json, results.csv")
    if busy:
        print("\nThe machine was busy: within one side, runs of a workload spread by more than 15 %%:\n  %s\n"
              "Not reporting figures: the README says this run was refused, and why. Run again on a quiet machine."
              % "\n  ".join(busy))
        if not args.no_readme:
            write_readme(result)
        return 3
    if not args.no_readme:
        write_readme(result)
        print("README.md: the performance table is regenerated from bench/results/results.json")
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


def readme_table(result):
    """The README's performance table, from a results.json; for a refused run, why it was refused."""
    if result.get("busy"):
        worst = max(result["busy"], key=lambda b: float(b.rsplit(" ", 2)[-2]))
        return ("The last run of `bash bench/run.sh` (on %s, ISA: %s) was refused: within one side, the rounds of %d "
                "workload measures spread by more than 15 %% (the worst: %s), so the machine was too busy for its figures "
                "to mean anything, and none are shown. `bench/results/results.json` keeps them for diagnosis; run the "
                "bench again on a quiet machine." %
                (result["cpu"]["model"], " ".join(result["cpu"]["isa"]), len(result["busy"]), worst))
    def value(v, unit):
        return "—" if v is None else ("%.3g %s" % (v, unit) if unit in ("us", "s") else "{:,.0f}".format(v).replace(",", " "))

    lines = ["One run: `bash bench/run.sh` on %s (ISA: %s), %d thread(s), %d interleaved rounds; sgemm %.0f GFLOP/s at "
             "1024³ in the same run. Ratio: how many times Anneal is ahead, the median of the per-round ratios "
             "(their range in brackets). Regenerated from `bench/results/results.json`." %
             (result["cpu"]["model"], " ".join(result["cpu"]["isa"]), result["threads"], result["repeats"],
              result["sgemm_gflops_1024"]), "",
             "| workload | measure | Anneal | peer | peer's figure | ratio (range) | sgemm ceiling | peak RSS Anneal / peer |",
             "|---|---|---|---|---|---|---|---|"]
    if not result.get("bf16_autocast_run", any(r["peer"] != "PyTorch" for r in result["rows"])):
        lines[0] += (" PyTorch's bfloat16 autocast was not run: this CPU has no bfloat16 units (oneDNN would emulate it "
                     "about a hundred times slower than float32).")
    for r in result["rows"]:
        if r["metric"] == "real GFLOP/s" or r["metric"] == "time per epoch (9 updates + validation)":
            continue
        unit = {"us": "µs", "s": "s"}.get(r["unit"], "")
        ratio = "—" if r["ratio"] is None else "%.2f× (%.2f–%.2f)" % (r["ratio"], r["ratio_min"], r["ratio_max"])
        ceiling = "" if r["ceiling_fraction"] is None else "%.0f %%" % (100 * r["ceiling_fraction"])
        rss = "%.0f / %s MiB" % (r["anneal_rss_mib"], "—" if r["pytorch_rss_mib"] is None else "%.0f" % r["pytorch_rss_mib"])
        lines.append("| %s | %s | %s %s | %s | %s %s | %s | %s | %s |" % (
            r["workload"], r["metric"], value(r["anneal"], r["unit"]), unit, r["peer"], value(r["pytorch"], r["unit"]), unit,
            ratio, ceiling, rss))
    return "\n".join(lines)


def write_readme(result):
    path = os.path.join(ROOT, "README.md")
    with open(path) as f:
        text = f.read()
    begin, end = "<!-- bench-table:begin -->", "<!-- bench-table:end -->"
    if begin not in text or end not in text:
        raise SystemExit("README.md has no %s ... %s markers" % (begin, end))
    text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: begin + "\n" + readme_table(result) + "\n" + end, text,
                  flags=re.S)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(main())
