#!/usr/bin/env python3
"""Do schedule-free and learning-rate-free optimizers beat a tuned schedule? One table per bundled
model, everything trained by Anneal.

For each bundled model:
  tuned      the best of a random search (anneal tune, --trials configurations, seed 1) over the
             classic schedules -- step_decay, cosine_annealing, one_cycle -- with the model's own
             optimizer, its rate ranges scaled to that optimizer (SGD or Adam);
  wsd        the model's optimizer with `schedule: {type: wsd}` at its defaults;
  adamw_schedulefree, sgd_schedulefree, prodigy
             that optimizer at its defaults, no schedule.
Each is trained with seeds 101..100+N (apart from the seeds the search used). Reported per method:
the final and the best validation metric (mean with a 95 % percentile-bootstrap interval, 10 000
resamples, seeded), the epochs needed to reach the tuned schedule's median final value (median
over the runs that reach it, and how many do), and against the tuned schedule -- runs paired by
seed -- the mean difference of the final metric with its paired bootstrap interval and a two-sided
Wilcoxon signed-rank p-value (scipy's, so run it with Debian's /usr/bin/python3), Holm-corrected
over the four comparisons of each model.

  bench/optimizer_comparison.py build/anneal [--seeds 20] [--trials 16] [--jobs 2] [--models ...]
  bench/optimizer_comparison.py build/anneal --table-from bench/optimizer_comparison.json
"""
import argparse
import concurrent.futures
import csv
import json
import os
import random
import statistics
import subprocess
import tempfile
import time

from scipy import stats

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# model, metric, mode, tune trials factor (the CNN trains 50x slower than the rest)
MODELS = [
    ("ionosphere", "val_accuracy", "max", 1.0),
    ("ionosphere_residual", "val_accuracy", "max", 1.0),
    ("digits_mlp", "val_accuracy", "max", 1.0),
    ("digits_cnn", "val_accuracy", "max", 0.5),
    ("breast_cancer", "val_accuracy", "max", 1.0),
    ("iris", "val_accuracy", "max", 1.0),
    ("wine", "val_accuracy", "max", 1.0),
    ("pima_diabetes", "val_accuracy", "max", 1.0),
    ("diabetes_regression", "val_r2", "max", 1.0),
]
METHODS = ["tuned", "wsd", "adamw_schedulefree", "sgd_schedulefree", "prodigy"]


def model_facts(anneal, model):
    """(optimizer type, epochs) of a bundled model, from its spec text."""
    text = open(os.path.join(ROOT, "models", model + ".yaml")).read()
    optimizer = "sgd" if "optimizer: {type: sgd" in text else "adam"
    epochs = int(text.split("epochs: ")[1].split(",")[0])
    return optimizer, epochs


def classic_space(optimizer, epochs):
    lo, hi = (0.01, 0.5) if optimizer == "sgd" else (0.0003, 0.03)
    return f"""version: 1
space:
  schedule.type:
    choice:
      - step_decay: {{lr: {{log_uniform: [{lo}, {hi}]}}, drop: {{uniform: [0.2, 0.8]}}, epochs_drop: {{int_uniform: [{max(1, epochs // 10)}, {max(2, epochs // 2)}]}}}}
      - cosine_annealing: {{lr: {{log_uniform: [{lo}, {hi}]}}, t_max: {{int_uniform: [{max(1, epochs // 2)}, {epochs}]}}}}
      - one_cycle: {{max_lr: {{log_uniform: [{lo * 3}, {hi * 3}]}}}}
"""


def train(anneal, spec, sets, seed, history):
    args = [anneal, "train", spec, "--quiet", "--threads", "1", "--seed", str(seed), "--history", history]
    for s in sets:
        args += ["--set", s]
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        return None
    with open(history) as f:
        return list(csv.DictReader(f))


def bootstrap(values, seed=0, resamples=10000):
    rng = random.Random(seed)
    n = len(values)
    means = sorted(sum(rng.choice(values) for _ in range(n)) / n for _ in range(resamples))
    def q(p):
        at = p * (resamples - 1)
        i = int(at)
        return means[i] + (means[min(i + 1, resamples - 1)] - means[i]) * (at - i)
    return q(0.025), q(0.975)


def paired(a, b, seed=2, resamples=10000):
    """Mean of a - b with its paired percentile-bootstrap interval and the Wilcoxon p-value."""
    diffs = [x - y for x, y in zip(a, b)]
    rng = random.Random(seed)
    n = len(diffs)
    means = sorted(sum(diffs[rng.randrange(n)] for _ in range(n)) / n for _ in range(resamples))
    low, high = means[int(0.025 * (resamples - 1))], means[int(0.975 * (resamples - 1))]
    p = 1.0 if all(d == 0 for d in diffs) else float(stats.wilcoxon(a, b).pvalue)
    return statistics.mean(diffs), (low, high), p


def holm(ps):
    order = sorted(range(len(ps)), key=lambda i: ps[i])
    out, running = [0.0] * len(ps), 0.0
    for k, i in enumerate(order):
        running = max(running, min(1.0, (len(ps) - k) * ps[i]))
        out[i] = running
    return out


def summarize(rows_per_run, metric, mode, target):
    finals = [float(r[-1][metric]) for r in rows_per_run]
    pick = max if mode == "max" else min
    bests = [pick(float(x[metric]) for x in r) for r in rows_per_run]
    reach = []
    for r in rows_per_run:
        for e, x in enumerate(r):
            v = float(x[metric])
            if (v >= target) if mode == "max" else (v <= target):
                reach.append(e + 1)
                break
    return {"runs": len(finals), "final_mean": statistics.mean(finals), "final_ci": bootstrap(finals),
            "best_mean": statistics.mean(bests), "best_ci": bootstrap(bests, 1),
            "reached": len(reach), "epochs_to_target": statistics.median(reach) if reach else None}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("anneal")
    p.add_argument("--seeds", type=int, default=20)
    p.add_argument("--trials", type=int, default=16)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--models", nargs="+", default=[m[0] for m in MODELS])
    p.add_argument("-o", "--output", default=os.path.join(HERE, "optimizer_comparison.json"))
    p.add_argument("--table-from", metavar="JSON", help="print the table of an earlier run's results, train nothing")
    a = p.parse_args()
    if a.table_from:
        with open(a.table_from) as f:
            print_table(json.load(f)["results"])
        return
    anneal = os.path.abspath(a.anneal)
    results = []
    with tempfile.TemporaryDirectory() as work, concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
        for model, metric, mode, factor in MODELS:
            if model not in a.models:
                continue
            start = time.perf_counter()
            spec = os.path.join(ROOT, "models", model + ".yaml")
            optimizer, epochs = model_facts(anneal, model)
            space = os.path.join(work, model + "-space.yaml")
            with open(space, "w") as f:
                f.write(classic_space(optimizer, epochs))
            study = os.path.join(work, model + "-study")
            subprocess.run([anneal, "tune", spec, "--space", space, "--method", "random", "--trials",
                            str(max(2, round(a.trials * factor))), "--seed", "1", "--objective", metric, "--mode", mode,
                            "--jobs", str(a.jobs), "-o", study], check=True, capture_output=True)
            best = os.path.join(study, "best.yaml")
            tuned_config = open(best).readline().split("): ", 1)[1].strip()
            sets = {"tuned": [], "wsd": ["schedule={type: wsd}"]}
            for opt in ["adamw_schedulefree", "sgd_schedulefree", "prodigy"]:
                sets[opt] = ["optimizer={type: %s}" % opt, "schedule={type: constant}"]
            runs = {}
            for method in METHODS:
                jobs = [pool.submit(train, anneal, best if method == "tuned" else spec, sets[method], 100 + s,
                                    os.path.join(work, f"{model}-{method}-{s}.csv")) for s in range(1, a.seeds + 1)]
                runs[method] = [j.result() for j in jobs]
            ok = {m: [r for r in rs if r] for m, rs in runs.items()}
            target = statistics.median(float(r[-1][metric]) for r in ok["tuned"])
            row = {"model": model, "metric": metric, "epochs": epochs, "optimizer": optimizer, "tuned": tuned_config,
                   "target": target, "methods": {}}
            for method in METHODS:
                s = summarize(ok[method], metric, mode, target) if ok[method] else {"runs": 0}
                s["failed"] = len(runs[method]) - len(ok[method])
                row["methods"][method] = s
            # Against the tuned schedule, paired by seed (both runs finished).
            finals = {m: {s: float(r[-1][metric]) for s, r in enumerate(runs[m]) if r} for m in METHODS}
            ps = []
            for method in METHODS[1:]:
                common = sorted(set(finals[method]) & set(finals["tuned"]))
                if len(common) < 2:
                    continue
                mean, ci, pv = paired([finals[method][s] for s in common], [finals["tuned"][s] for s in common])
                row["methods"][method].update({"diff": mean, "diff_ci": ci, "p": pv})
                ps.append((method, pv))
            for (method, _), adjusted in zip(ps, holm([pv for _, pv in ps])):
                row["methods"][method]["p_holm"] = adjusted
            row["wall_s"] = round(time.perf_counter() - start, 1)
            results.append(row)
            print(f"{model}: tuned = {tuned_config}; target {metric} {target:.4f} ({row['wall_s']} s)", flush=True)
            for method in METHODS:
                s = row["methods"][method]
                if s["runs"] == 0:
                    print(f"  {method:20} all {s['failed']} runs failed")
                    continue
                print(f"  {method:20} final {s['final_mean']:.4f} [{s['final_ci'][0]:.4f}, {s['final_ci'][1]:.4f}]  best "
                      f"{s['best_mean']:.4f} [{s['best_ci'][0]:.4f}, {s['best_ci'][1]:.4f}]  reach {s['reached']}/{s['runs']}"
                      f" in {s['epochs_to_target']} epochs" + (f"  ({s['failed']} failed)" if s["failed"] else "") +
                      (f"  diff {s['diff']:+.4f} [{s['diff_ci'][0]:+.4f}, {s['diff_ci'][1]:+.4f}] p {s['p']:.3g} Holm {s['p_holm']:.3g}"
                       if "p_holm" in s else ""), flush=True)
    with open(a.output, "w") as f:
        json.dump({"seeds": a.seeds, "trials": a.trials, "results": results}, f, indent=1)
    print_table(results)


def print_table(results):
    """The README's table."""
    print("\n| model | method | final (mean [95 % CI]) | best epoch (mean [95 % CI]) | Δ final vs tuned [95 % CI] | Holm p | "
          "reach tuned median, epochs |")
    print("|---|---|---|---|---|---|---|")
    for row in results:
        for method in METHODS:
            s = row["methods"][method]
            if s["runs"] == 0:
                print(f"| {row['model']} | {method} | all {s['failed']} runs failed | | | | |")
                continue
            diff = f"{s['diff']:+.4f} [{s['diff_ci'][0]:+.4f}, {s['diff_ci'][1]:+.4f}]" if "diff" in s else ("(reference)" if method == "tuned" else "")
            holm_p = (f"{s['p_holm']:.2g}" + (" *" if s["p_holm"] < 0.05 else "")) if "p_holm" in s else ""
            epochs = "–" if s["epochs_to_target"] is None else f"{s['epochs_to_target']:g}"
            print(f"| {row['model']} | {method} | {s['final_mean']:.4f} [{s['final_ci'][0]:.4f}, {s['final_ci'][1]:.4f}] | "
                  f"{s['best_mean']:.4f} [{s['best_ci'][0]:.4f}, {s['best_ci'][1]:.4f}] | {diff} | {holm_p} | "
                  f"{s['reached']}/{s['runs']} in {epochs} |")


if __name__ == "__main__":
    main()
