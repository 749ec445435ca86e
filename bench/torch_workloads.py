#!/usr/bin/python3
"""The PyTorch side of bench/run_bench.py: the same workloads as Anneal's, printed as JSON.

  torch_workloads.py lesson-process            the lesson's 50-epoch run, as a user's script would
  torch_workloads.py lesson-timing             time per update and per epoch of the lesson's model
  torch_workloads.py mlp BATCH UPDATES [bf16]  samples/s of the 784-1024-1024-10 MLP
  torch_workloads.py conv BATCH UPDATES [bf16] samples/s of the conv net (models/conv_synthetic.yaml)
  torch_workloads.py predict BATCH ROWS [bf16]  rows/s of the MLP's softmax outputs under torch.inference_mode()
With bf16 the forward pass and loss run under torch.autocast('cpu', dtype=torch.bfloat16), the
one line a PyTorch user adds for mixed precision (oneDNN then runs the products in bfloat16 on
CPUs with AVX512-BF16 or AMX units, and emulates them elsewhere).
Threads: ANNEAL_BENCH_THREADS (default 2). Run with OMP_WAIT_POLICY=PASSIVE (the driver sets it):
without it PyTorch's OpenMP threads spin against BLAS's on two cores.
"""
import json
import os
import statistics
import sys
import time

import torch

torch.set_num_threads(int(os.environ.get("ANNEAL_BENCH_THREADS", "2")))
HERE = os.path.dirname(os.path.abspath(__file__))
BLOCKS = 7  # a time per update is the median of this many equal blocks of updates, on both sides


def peak_rss_mib():
    """VmHWM of this process, read by itself (a parent's rusage also counts the forking parent)."""
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return 0.0


def ionosphere():
    rows = [line.strip().split(",") for line in open(os.path.join(HERE, "..", "data", "ionosphere.csv"))]
    x = torch.tensor([[float(v) for v in r[:34]] for r in rows])
    y = torch.tensor([[1.0 if r[34] == "g" else 0.0] for r in rows])
    return x[:235], y[:235], x[235:], y[235:]


def lesson_model():
    torch.manual_seed(7)
    model = torch.nn.Sequential(torch.nn.Linear(34, 34), torch.nn.ReLU(), torch.nn.Linear(34, 1), torch.nn.Sigmoid())
    for layer in (model[0], model[2]):
        torch.nn.init.normal_(layer.weight, 0.0, 0.05)
        torch.nn.init.zeros_(layer.bias)
    return model


def lesson_epoch(model, opt, loss_fn, x, y, xv, yv, batch=28):
    perm = torch.randperm(x.shape[0])
    for i in range(0, x.shape[0], batch):
        idx = perm[i:i + batch]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
    with torch.no_grad():
        return loss_fn(model(xv), yv).item(), ((model(xv) > 0.5).float() == yv).float().mean().item()


def lesson_process():
    x, y, xv, yv = ionosphere()
    model = lesson_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 0.5 ** ((1 + e) // 10))
    loss_fn = torch.nn.BCELoss()
    for _ in range(50):
        val_loss, val_acc = lesson_epoch(model, opt, loss_fn, x, y, xv, yv)
        sched.step()
    print(json.dumps({"val_accuracy": val_acc, "peak_rss_mib": peak_rss_mib()}))


def lesson_timing():
    x, y, xv, yv = ionosphere()
    model = lesson_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = torch.nn.BCELoss()
    for _ in range(5):
        lesson_epoch(model, opt, loss_fn, x, y, xv, yv)
    epochs = []
    for _ in range(30):
        t0 = time.perf_counter()
        lesson_epoch(model, opt, loss_fn, x, y, xv, yv)
        epochs.append(time.perf_counter() - t0)
    # Updates alone: 9 per epoch, the same batches.
    xb, yb = x[:28], y[:28]
    updates = []
    for _ in range(BLOCKS):
        t0 = time.perf_counter()
        for _ in range(300):
            opt.zero_grad(set_to_none=True)
            loss_fn(model(xb), yb).backward()
            opt.step()
        updates.append((time.perf_counter() - t0) / 300)
    epochs.sort()
    updates.sort()
    print(json.dumps({"us_per_update": updates[len(updates) // 2] * 1e6, "us_per_epoch": epochs[len(epochs) // 2] * 1e6}))


def time_sgd_updates(model, x, y, batch, updates, warmup, bf16=False):
    """SGD with momentum and softmax cross-entropy on shuffled batches of (x, y); prints the time
    per update after `warmup` untimed ones, as JSON: the median of seven equal blocks of the
    updates, as `anneal_bench train --blocks 7` measures Anneal's side."""
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    rows = x.shape[0]
    perm = torch.randperm(rows, generator=torch.Generator().manual_seed(2))

    def step(i):
        start = (i * batch) % (rows - batch)
        idx = perm[start:start + batch]
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        opt.step()

    for i in range(warmup):
        step(i)
    block = max(1, updates // BLOCKS)
    blocks = []
    for b in range(updates // block):
        t0 = time.perf_counter()
        for i in range(b * block, (b + 1) * block):
            step(i)
        blocks.append((time.perf_counter() - t0) / block)
    per_update = statistics.median(blocks)
    print(json.dumps({"us_per_update": per_update * 1e6, "samples_per_s": batch / per_update, "batch": batch,
                      "peak_rss_mib": peak_rss_mib()}))


def mlp(batch, updates, bf16=False):
    g = torch.Generator().manual_seed(1)
    rows = 65536
    x = torch.randn(rows, 784, generator=g)
    y = torch.randint(0, 10, (rows,), generator=g)
    model = torch.nn.Sequential(torch.nn.Linear(784, 1024), torch.nn.ReLU(), torch.nn.Linear(1024, 1024), torch.nn.ReLU(),
                                torch.nn.Linear(1024, 10))
    for layer in (model[0], model[2], model[4]):  # glorot_uniform, as Anneal's dense default
        torch.nn.init.xavier_uniform_(layer.weight)
        torch.nn.init.zeros_(layer.bias)
    time_sgd_updates(model, x, y, batch, updates, warmup=10, bf16=bf16)


def predict(batch, rows, bf16=False):
    """The MLP's class probabilities for `rows` rows, `batch` at a time, as `anneal predict` computes
    them (softmax included); best of three passes."""
    g = torch.Generator().manual_seed(1)
    x = torch.randn(rows, 784, generator=g)
    model = torch.nn.Sequential(torch.nn.Linear(784, 1024), torch.nn.ReLU(), torch.nn.Linear(1024, 1024), torch.nn.ReLU(),
                                torch.nn.Linear(1024, 10), torch.nn.Softmax(dim=1)).eval()
    out = torch.empty(rows, 10)
    best = float("inf")
    with torch.inference_mode():
        for _ in range(3):
            start = time.perf_counter()
            for i in range(0, rows, batch):
                if bf16:
                    with torch.autocast("cpu", dtype=torch.bfloat16):
                        out[i:i + batch] = model(x[i:i + batch]).float()
                else:
                    out[i:i + batch] = model(x[i:i + batch])
            best = min(best, time.perf_counter() - start)
    print(json.dumps({"rows_per_s": rows / best, "seconds": best, "peak_rss_mib": peak_rss_mib()}))


def conv(batch, updates, bf16=False):
    g = torch.Generator().manual_seed(1)
    rows = 8192
    x = torch.randn(rows, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (rows,), generator=g)
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
    time_sgd_updates(model, x, y, batch, updates, warmup=5, bf16=bf16)


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "lesson-process":
        lesson_process()
    elif what == "lesson-timing":
        lesson_timing()
    elif what == "mlp":
        mlp(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:] == ["bf16"])
    elif what == "conv":
        conv(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:] == ["bf16"])
    elif what == "predict":
        predict(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:] == ["bf16"])
    else:
        sys.exit("unknown workload " + what)
