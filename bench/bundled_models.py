#!/usr/bin/python3
"""Accuracy of the bundled models (models/*.yaml) over seeds, beside a scikit-learn MLP of the same
shape run in the same invocation. Writes bench/results/bundled_models.json and prints the README's
"Bundled models" table (markdown).

    /usr/bin/python3 bench/bundled_models.py [--anneal build/anneal] [--seeds 10]

Anneal: `anneal train MODEL --seed S --history H.csv` for S = 1..seeds; the figure is the last
epoch's held-out metric (val_accuracy, or val_r2 for the regression model). The validation rows are
the spec's (split_seed 0), the same for every seed; the seed changes weights and shuffling.

scikit-learn (Debian's python3-sklearn): MLPClassifier / MLPRegressor with the spec's hidden
layers, relu, adam (or sgd for the Ionosphere models), its learning rate, batch size and epochs
(max_iter, no early stopping, no L2 penalty), the same standardisation fitted on the training
rows, and exactly Anneal's training and validation rows (`anneal check --split-out`). The CNN has
no scikit-learn counterpart; the residual model's counterpart is a plain two-hidden-layer MLP.
"""
import argparse
import csv
import gzip
import json
import os
import statistics
import subprocess
import tempfile
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# Rows keyed by their 1-based line number in the file, so Anneal's split (anneal check
# --split-out) selects the same rows here.
def read_rows(path, skip=0):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(os.path.join(ROOT, path), "rt") as f:
        return {i + 1: line.strip().split(",") for i, line in enumerate(f) if i >= skip and line.strip()}


def arff_rows(path):
    rows, started = {}, False
    for i, line in enumerate(open(os.path.join(ROOT, path))):
        line = line.strip()
        if not line or line.startswith("%"):
            continue
        if started:
            rows[i + 1] = line.split(",")
        elif line.lower().startswith("@data"):
            started = True
    return rows


def xy(rows, lines):
    x = np.array([[float(v) for v in rows[n][:-1]] for n in lines])
    labels = [rows[n][-1] for n in lines]
    try:
        y = np.array([float(v) for v in labels])
    except ValueError:
        names = sorted(set(labels))
        y = np.array([names.index(v) for v in labels], dtype=float)
    return x, y


def anneal_split(binary, spec, work):
    """The source lines of Anneal's training and validation rows."""
    out = os.path.join(work, "split.csv")
    subprocess.run([binary, "check", os.path.join(ROOT, spec), "--split-out", out], check=True, stdout=subprocess.DEVNULL)
    sides = {"train": [], "validation": []}
    for row in csv.DictReader(open(out)):
        sides[row["side"]].append(int(row["line"]))
    return sides


# name, spec, data loader, metric key, split (kind, fraction), sklearn shape and optimizer
MODELS = [
    ("ionosphere", "models/ionosphere.yaml", lambda: read_rows("data/ionosphere.csv"), "accuracy",
     ("last", 0.33), dict(hidden=(34,), solver="sgd", lr=0.1, batch=28, epochs=50, scale=False)),
    ("ionosphere_residual", "models/ionosphere_residual.yaml", lambda: read_rows("data/ionosphere.csv"), "accuracy",
     ("last", 0.33), dict(hidden=(34, 34), solver="sgd", lr=0.1, batch=28, epochs=50, scale=False)),
    ("pima_diabetes", "models/pima_diabetes.yaml", lambda: arff_rows("data/diabetes.arff"), "accuracy",
     ("stratified", 0.25), dict(hidden=(16, 8), solver="adam", lr=0.003, batch=32, epochs=60, scale=True)),
    ("iris", "models/iris.yaml", lambda: read_rows("data/iris.csv", 1), "accuracy",
     ("stratified", 0.2), dict(hidden=(16,), solver="adam", lr=0.01, batch=16, epochs=100, scale=True)),
    ("wine", "models/wine.yaml", lambda: read_rows("data/wine.csv", 1), "accuracy",
     ("stratified", 0.2), dict(hidden=(16,), solver="adam", lr=0.01, batch=16, epochs=60, scale=True)),
    ("breast_cancer", "models/breast_cancer.yaml", lambda: read_rows("data/breast_cancer.csv", 1), "accuracy",
     ("stratified", 0.2), dict(hidden=(32,), solver="adam", lr=0.001, batch=32, epochs=60, scale=True)),
    ("digits_mlp", "models/digits_mlp.yaml", lambda: read_rows("data/digits.csv"), "accuracy",
     ("stratified", 0.2), dict(hidden=(64,), solver="adam", lr=0.003, batch=32, epochs=40, scale=False)),
    ("digits_cnn", "models/digits_cnn.yaml", lambda: read_rows("data/digits.csv"), "accuracy",
     ("stratified", 0.2), None),
    ("diabetes_regression", "models/diabetes_regression.yaml", lambda: read_rows("data/diabetes_regression.csv.gz"), "r2",
     ("shuffled", 0.2), dict(hidden=(8,), solver="adam", lr=0.01, batch=32, epochs=150, scale=True, regression=True)),
]


def anneal_run(binary, spec, seed, metric, work):
    history = os.path.join(work, "h.csv")
    subprocess.run([binary, "train", os.path.join(ROOT, spec), "--seed", str(seed), "--quiet", "--history", history],
                   check=True, stdout=subprocess.DEVNULL)
    rows = list(csv.DictReader(open(history)))
    return float(rows[-1]["val_" + metric])


def sklearn_run(rows, sides, cfg, seed):
    xt, yt = xy(rows, sides["train"])
    xv, yv = xy(rows, sides["validation"])
    if cfg["scale"]:
        scaler = StandardScaler().fit(xt)
        xt, xv = scaler.transform(xt), scaler.transform(xv)
    args = dict(hidden_layer_sizes=cfg["hidden"], activation="relu", solver=cfg["solver"], learning_rate_init=cfg["lr"],
                batch_size=cfg["batch"], max_iter=cfg["epochs"], random_state=seed, alpha=0.0)
    if cfg["solver"] == "sgd":
        args["momentum"] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if cfg.get("regression"):
            return MLPRegressor(**args).fit(xt, yt).score(xv, yv)
        return MLPClassifier(**args).fit(xt, yt).score(xv, yv)


def summary(values):
    return {"mean": statistics.mean(values), "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "min": min(values), "max": max(values), "values": values}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--anneal", default=os.path.join(ROOT, "build", "anneal"))
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--only", nargs="*", help="model names")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as work:
        for name, spec, loader, metric, split, cfg in MODELS:
            if args.only and name not in args.only:
                continue
            rows = loader()
            sides = anneal_split(args.anneal, spec, work)
            ours, theirs = [], []
            for seed in range(1, args.seeds + 1):  # interleaved, seed by seed
                ours.append(anneal_run(args.anneal, spec, seed, metric, work))
                if cfg:
                    theirs.append(sklearn_run(rows, sides, cfg, seed))
            results.append({"model": name, "spec": spec, "rows": len(rows), "metric": "val_" + metric,
                            "split": f"{split[0]} {int(round(split[1] * 100))} %",
                            "anneal": summary(ours), "sklearn": summary(theirs) if theirs else None})
            print(f"{name}: anneal {results[-1]['anneal']['mean']:.4f}", flush=True)
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "bundled_models.json"), "w") as f:
        json.dump({"seeds": args.seeds, "results": results}, f, indent=1)
    print()
    print("| model | data | rows | held-out | metric | Anneal (mean ± std, min) | scikit-learn MLP (mean ± std) |")
    print("|---|---|---:|---|---|---|---|")
    for r in results:
        a = r["anneal"]
        s = r["sklearn"]
        theirs = f"{s['mean']:.4f} ± {s['std']:.4f}" if s else "—"
        print(f"| `{r['spec']}` | {r['model']} | {r['rows']} | {r['split']} | {r['metric']} | "
              f"{a['mean']:.4f} ± {a['std']:.4f} (min {a['min']:.4f}) | {theirs} |")


if __name__ == "__main__":
    main()
