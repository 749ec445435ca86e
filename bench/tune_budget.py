#!/usr/bin/env python3
"""Random search against Hyperband at the same budget of epochs, with anneal tune.

For each model and search seed: a Hyperband study of --trials configurations, then a random
search given as many configurations as Hyperband's search epochs buy at the full budget. The
three best of each study are rerun with --confirm new seeds from scratch; the table gives the
winner's confirmed mean with its 95 % bootstrap interval, the search epochs, the configurations
tried and the wall time. Standard library only.

  bench/tune_budget.py build/anneal [--trials 200] [--search-seeds 1 2 3] [--jobs 2] [-o bench/tune_budget.json]
  bench/tune_budget.py build/anneal --table-from bench/tune_budget.json
"""
import argparse
import json
import os
import re
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MODELS = [
    ("ionosphere (lesson)", "models/ionosphere.yaml", "examples/tune/lesson_schedules.yaml"),
    ("digits_mlp", "models/digits_mlp.yaml", "examples/tune/adam_schedules.yaml"),
]


def tune(anneal, model, space, folder, method, trials, seed, confirm, jobs):
    args = [anneal, "tune", os.path.join(ROOT, model), "--space", os.path.join(ROOT, space), "--method", method,
            "--trials", str(trials), "--seed", str(seed), "--confirm", str(confirm), "--jobs", str(jobs), "-o", folder]
    start = time.perf_counter()
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - start
    epochs = int(re.search(r"(\d+) epochs in the search", out).group(1))
    with open(os.path.join(folder, "study.json")) as f:
        study = json.load(f)
    rows = [line for line in out.splitlines() if re.match(r"\| 1 \| ", line)]
    cells = [c.strip() for c in rows[0].strip("|").split("|")]
    return {"method": method, "seed": seed, "trials": len(study["trials"]), "epochs": epochs, "wall_s": round(wall, 1),
            "winner": int(cells[1]), "search_value": float(cells[2]),
            "confirmed_mean": float(cells[3]) if cells[3] else float("nan"),
            "ci": cells[4], "configuration": cells[6], "max_epochs": study["max_epochs"]}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("anneal")
    p.add_argument("--trials", type=int, default=200)
    p.add_argument("--search-seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--confirm", type=int, default=10)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("-o", "--output", default=os.path.join(HERE, "tune_budget.json"))
    p.add_argument("--table-from", metavar="JSON", help="print the table of an earlier run's results, run nothing")
    a = p.parse_args()
    if a.table_from:
        with open(a.table_from) as f:
            print_table(json.load(f)["results"])
        return
    anneal = os.path.abspath(a.anneal)
    results = []
    with tempfile.TemporaryDirectory() as work:
        for name, model, space in MODELS:
            for seed in a.search_seeds:
                hb = tune(anneal, model, space, os.path.join(work, f"{model}-hb-{seed}".replace("/", "_")), "hyperband",
                          a.trials, seed, a.confirm, a.jobs)
                # As many full-budget configurations as Hyperband's search epochs buy.
                random_trials = max(1, round(hb["epochs"] / hb["max_epochs"]))
                rs = tune(anneal, model, space, os.path.join(work, f"{model}-rs-{seed}".replace("/", "_")), "random",
                          random_trials, seed, a.confirm, a.jobs)
                for r in (hb, rs):
                    r["model"] = name
                    results.append(r)
                    print(f"{name:20} {r['method']:10} seed {seed}: {r['trials']:4} configurations, {r['epochs']:5} epochs, "
                          f"{r['wall_s']:6.1f} s; best confirmed {r['confirmed_mean']:.4f} {r['ci']}: {r['configuration']}",
                          flush=True)
    with open(a.output, "w") as f:
        json.dump({"trials": a.trials, "confirm": a.confirm, "jobs": a.jobs, "results": results}, f, indent=1)
    print_table(results)


def print_table(results):
    """The README's table."""
    print("\n| model | method | search seed | configurations | search epochs | wall s | winner: confirmed mean [95 % CI] | winner's schedule |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        kind = [p.split("=", 1)[1] for p in r["configuration"].split(", ") if p.startswith("schedule.type=")]
        print(f"| {r['model']} | {r['method']} | {r['seed']} | {r['trials']} | {r['epochs']} | {r['wall_s']} | "
              f"{r['confirmed_mean']:.4f} {r['ci']} | {kind[0] if kind else ''} |")


if __name__ == "__main__":
    main()
