#!/usr/bin/python3
"""Exports every bundled model (and tests/models/all_ops.yaml, which holds every built-in op) to
ONNX after a short training run, checks each file with onnx.checker (full check) and strict
shape inference (Debian's python3-onnx), and compares the graph's outputs, evaluated by the
independent NumPy evaluator in tests/onnx_eval.py, with `anneal predict` on the same raw rows:
at most 1e-5 apart (relative to the output's size when it exceeds 1). Also reads the .npz export.

    /usr/bin/python3 tests/onnx_export_check.py ANNEAL_BINARY SOURCE_DIR
"""
import csv
import gzip
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_eval  # noqa: E402

anneal, root = sys.argv[1], sys.argv[2]

# model spec, data file (None: synthetic features written here), lines to skip, ARFF
MODELS = [
    ("models/ionosphere.yaml", "data/ionosphere.csv", 0),
    ("models/ionosphere_residual.yaml", "data/ionosphere.csv", 0),
    ("models/pima_diabetes.yaml", "data/diabetes.arff", None),
    ("models/iris.yaml", "data/iris.csv", 1),
    ("models/wine.yaml", "data/wine.csv", 1),
    ("models/breast_cancer.yaml", "data/breast_cancer.csv", 1),
    ("models/digits_mlp.yaml", "data/digits.csv", 0),
    ("models/digits_cnn.yaml", "data/digits.csv", 0),
    ("models/diabetes_regression.yaml", "data/diabetes_regression.csv.gz", 0),
    ("tests/models/all_ops.yaml", None, 0),
]


def features(path, skip):
    """The feature columns of a data file (the label is the last column)."""
    full = os.path.join(root, path)
    if skip is None:  # ARFF: the rows after @data
        lines, started = [], False
        for line in open(full):
            line = line.strip()
            if started and line and not line.startswith("%"):
                lines.append(line)
            started = started or line.lower().startswith("@data")
    else:
        opener = gzip.open if full.endswith(".gz") else open
        with opener(full, "rt") as f:
            lines = [line.strip() for line in f.readlines()[skip:] if line.strip()]
    return np.array([[float(v) for v in line.split(",")[:-1]] for line in lines])


def cli(*args):
    result = subprocess.run([anneal, *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"anneal {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result.stdout


failures = 0
with tempfile.TemporaryDirectory() as work:
    for spec, data, skip in MODELS:
        name = os.path.splitext(os.path.basename(spec))[0]
        spec_path = os.path.join(root, spec)
        ckpt, onnx_path, npz_path = (os.path.join(work, name + ext) for ext in (".ckpt", ".onnx", ".npz"))
        cli("train", spec_path, "--epochs", "2", "--quiet", "--save", ckpt)
        cli("export", spec_path, "--weights", ckpt, "-o", onnx_path)
        cli("export", spec_path, "--weights", ckpt, "-o", npz_path)

        model = onnx.load(onnx_path)
        onnx.checker.check_model(model, full_check=True)
        onnx.shape_inference.infer_shapes(model, strict_mode=True)

        if data is None:
            x = np.random.default_rng(5).normal(size=(40, model.graph.input[0].type.tensor_type.shape.dim[1].dim_value))
            source = os.path.join(work, name + "_input.csv")
            np.savetxt(source, x, delimiter=",", fmt="%.9g")
            x = np.loadtxt(source, delimiter=",", ndmin=2)
        else:
            x = features(data, skip)
            source = os.path.join(root, data)
        predictions = os.path.join(work, name + "_predict.csv")
        cli("predict", spec_path, "--weights", ckpt, "--input", source, "-o", predictions)
        rows = list(csv.reader(open(predictions)))
        width = model.graph.output[0].type.tensor_type.shape.dim[1].dim_value
        ours = np.array([[float(v) for v in r[:width]] for r in rows[1:]])
        theirs = onnx_eval.run(model, {"input": x.astype(np.float32)})["output"].reshape(len(x), -1)
        error = np.max(np.abs(ours - theirs) / np.maximum(1.0, np.abs(theirs)))
        ops = sorted({n.op_type for n in model.graph.node})
        status = "ok" if error <= 1e-5 and ours.shape == theirs.shape else "FAILED"
        failures += status != "ok"
        print(f"{status}: {spec}: {len(x)} rows, largest difference {error:.2e}; ops {', '.join(ops)}")

        archive = np.load(npz_path)
        kernels = [k for k in archive.files if k.endswith(".kernel")]
        initializers = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
        first = kernels[0]
        if not np.array_equal(archive[first], initializers[first.replace(".", "/")]):
            print(f"FAILED: {spec}: {first} differs between the .npz and the ONNX file")
            failures += 1

sys.exit(1 if failures else 0)
