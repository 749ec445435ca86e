#!/usr/bin/python3
"""Writes schedule_tables.yaml: reference learning rates (and momenta) for Anneal's schedules,
computed by another tool. PyTorch-defined schedules are run through torch.optim.lr_scheduler
itself (Debian's python3-torch); Keras and Caffe schedules, which have no Debian package, are
computed here from their published formulas in plain Python floats. The C++ tests read the table.

Run with Debian's interpreter: /usr/bin/python3 tests/reference/make_schedule_tables.py
"""
import json
import math
import os

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schedule_tables.yaml")
cases = []


def case(name, spec, source, points, unit):
    cases.append({"name": name, "spec": spec, "source": source, "unit": unit,
                  "points": [[t] + list(v) for t, v in points]})


def torch_run(make, steps, lr=0.1, momentum=None):
    """(t, (lr[, momentum])) for t = 0..steps-1 from a real PyTorch scheduler."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=lr, momentum=momentum or 0.0)
    sched = make(opt)
    out = []
    for t in range(steps):
        g = opt.param_groups[0]
        values = [g["lr"]]
        if momentum is not None:
            values.append(g["momentum"])
        out.append((t, values))
        opt.step()
        sched.step()
    return out


S = torch.optim.lr_scheduler

# --- PyTorch schedules, through PyTorch itself -------------------------------------------------
case("step", {"type": "step", "lr": 0.1, "step_size": 3, "gamma": 0.5}, "torch StepLR",
     torch_run(lambda o: S.StepLR(o, step_size=3, gamma=0.5), 13), "epoch")
case("multistep", {"type": "multistep", "lr": 0.1, "milestones": [2, 5, 9], "gamma": 0.1}, "torch MultiStepLR",
     torch_run(lambda o: S.MultiStepLR(o, milestones=[2, 5, 9], gamma=0.1), 12), "epoch")
case("exponential_torch", {"type": "exponential", "lr": 0.1, "decay_rate": 0.9}, "torch ExponentialLR",
     torch_run(lambda o: S.ExponentialLR(o, gamma=0.9), 15), "step")
case("linear", {"type": "linear", "lr": 0.1}, "torch LinearLR (defaults 1/3, 1.0, 5)",
     torch_run(lambda o: S.LinearLR(o), 9), "epoch")
case("linear_down", {"type": "linear", "lr": 0.1, "start_factor": 1.0, "end_factor": 0.2, "total_iters": 4},
     "torch LinearLR", torch_run(lambda o: S.LinearLR(o, start_factor=1.0, end_factor=0.2, total_iters=4), 7), "epoch")
case("constant_factor", {"type": "constant_factor", "lr": 0.1}, "torch ConstantLR (defaults 1/3, 5)",
     torch_run(lambda o: S.ConstantLR(o), 8), "epoch")
case("cosine_annealing", {"type": "cosine_annealing", "lr": 0.1, "t_max": 10, "eta_min": 0.001},
     "torch CosineAnnealingLR (past t_max: rises again)",
     torch_run(lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.001), 26), "epoch")
case("cosine_warm_restarts", {"type": "cosine_warm_restarts", "lr": 0.1, "t_0": 3, "t_mult": 2, "eta_min": 0.01},
     "torch CosineAnnealingWarmRestarts",
     torch_run(lambda o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.01), 30), "epoch")
case("cosine_warm_restarts_1", {"type": "cosine_warm_restarts", "lr": 0.1, "t_0": 4},
     "torch CosineAnnealingWarmRestarts", torch_run(lambda o: S.CosineAnnealingWarmRestarts(o, T_0=4), 13), "epoch")
for mode, extra in [("triangular", {}), ("triangular2", {}), ("exp_range", {"gamma": 0.95})]:
    spec = {"type": "cyclic", "base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4, "step_size_down": 2, "mode": mode}
    spec.update(extra)
    case("cyclic_" + mode, spec, "torch CyclicLR with momentum",
         torch_run(lambda o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4, step_size_down=2, mode=mode,
                                        gamma=extra.get("gamma", 1.0)), 26, momentum=0.9), "step")
for name, kw in [("one_cycle", {}), ("one_cycle_linear", {"anneal_strategy": "linear"}),
                 ("one_cycle_three_phase", {"three_phase": True})]:
    spec = {"type": "one_cycle", "max_lr": 0.1, "total_steps": 20}
    spec.update(kw)
    case(name, spec, "torch OneCycleLR with momentum",
         torch_run(lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=20, **kw), 20, momentum=0.9), "step")
case("sequential", {"type": "sequential", "stages": [
        {"schedule": {"type": "linear", "lr": 0.1, "start_factor": 0.25, "total_iters": 3}, "until": 3},
        {"schedule": {"type": "exponential", "lr": 0.1, "decay_rate": 0.8, "unit": "epoch"}}]},
     "torch SequentialLR(LinearLR, ExponentialLR, milestones [3])",
     torch_run(lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.25, total_iters=3), S.ExponentialLR(o, gamma=0.8)],
                                        milestones=[3]), 10), "epoch")
case("chained", {"type": "chained", "lr": 0.1, "schedules": [
        {"type": "exponential", "decay_rate": 0.9, "unit": "epoch"}, {"type": "step", "step_size": 3, "gamma": 0.5}]},
     "torch ChainedScheduler(ExponentialLR, StepLR)",
     torch_run(lambda o: S.ChainedScheduler([S.ExponentialLR(o, gamma=0.9), S.StepLR(o, step_size=3, gamma=0.5)]), 10),
     "epoch")

# --- Keras and Caffe schedules, from their formulas ---------------------------------------------
def table(ts, f):
    return [(t, [f(t)]) for t in ts]


lr0 = 0.1
case("time_based", {"type": "time_based", "lr": 0.1, "decay": 0.002}, "Keras SGD decay: lr/(1+decay*t)",
     table([0, 1, 8, 9, 100, 449, 450], lambda t: lr0 / (1 + 0.002 * t)), "step")
case("inverse_time", {"type": "inverse_time", "lr": 0.1, "decay_rate": 0.5, "decay_steps": 4}, "Keras InverseTimeDecay",
     table([0, 1, 3, 4, 5, 8, 20], lambda t: lr0 / (1 + 0.5 * t / 4)), "step")
case("inverse_time_staircase", {"type": "inverse_time", "lr": 0.1, "decay_rate": 0.5, "decay_steps": 4, "staircase": True},
     "Keras InverseTimeDecay staircase", table([0, 3, 4, 7, 8, 20], lambda t: lr0 / (1 + 0.5 * math.floor(t / 4))), "step")
case("step_decay", {"type": "step_decay", "lr": 0.1, "drop": 0.5, "epochs_drop": 10}, "the lesson: 0.1*0.5^floor((1+e)/10)",
     table([0, 8, 9, 10, 18, 19, 49, 99], lambda e: 0.1 * 0.5 ** math.floor((1 + e) / 10)), "epoch")
case("piecewise_constant", {"type": "piecewise_constant", "boundaries": [10, 20], "values": [0.1, 0.05, 0.01]},
     "Keras PiecewiseConstantDecay (old value at the boundary)",
     [(t, [v]) for t, v in [(0, 0.1), (9, 0.1), (10, 0.1), (11, 0.05), (20, 0.05), (21, 0.01), (500, 0.01)]], "step")
case("exponential", {"type": "exponential", "lr": 0.1, "decay_rate": 0.5, "decay_steps": 5}, "Keras ExponentialDecay",
     table([0, 1, 4, 5, 6, 10, 50], lambda t: lr0 * 0.5 ** (t / 5)), "step")
case("exponential_staircase", {"type": "exponential", "lr": 0.1, "decay_rate": 0.5, "decay_steps": 5, "staircase": True},
     "Keras ExponentialDecay staircase", table([0, 4, 5, 9, 10, 50], lambda t: lr0 * 0.5 ** math.floor(t / 5)), "step")


def keras_poly(t, D, end, power, cycle):
    if cycle:
        D = D if t == 0 else D * math.ceil(t / D)
    else:
        t = min(t, D)
    return (lr0 - end) * (1 - t / D) ** power + end


case("polynomial", {"type": "polynomial", "lr": 0.1, "decay_steps": 10}, "Keras PolynomialDecay (end 1e-4, clamped)",
     table([0, 1, 5, 9, 10, 11, 100], lambda t: keras_poly(t, 10, 1e-4, 1.0, False)), "step")
case("polynomial_cycle", {"type": "polynomial", "lr": 0.1, "decay_steps": 10, "end_lr": 0.01, "power": 2, "cycle": True},
     "Keras PolynomialDecay cycle", table([0, 5, 10, 11, 19, 20, 21, 35], lambda t: keras_poly(t, 10, 0.01, 2.0, True)), "step")


def keras_cosine(t, D, alpha, W=0, target=None):
    def decay(step, start):
        return start * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * step / D)) + alpha)
    if target is None:
        return decay(min(t, D), lr0)
    t = min(t, D + W)
    if t < W:
        return lr0 + (target - lr0) * t / W
    return decay(t - W, target)


case("cosine", {"type": "cosine", "lr": 0.1, "decay_steps": 20, "alpha": 0.1}, "Keras CosineDecay (clamped)",
     table([0, 1, 10, 19, 20, 21, 100], lambda t: keras_cosine(t, 20, 0.1)), "step")
case("cosine_warmup", {"type": "cosine", "lr": 0.0, "decay_steps": 20, "warmup_steps": 5, "warmup_target": 0.1},
     "Keras CosineDecay with warmup",
     [(t, [(lambda t: (0.1 * t / 5) if t < 5 else 0.1 * 0.5 * (1 + math.cos(math.pi * (min(t, 25) - 5) / 20)))(t)])
      for t in [0, 1, 4, 5, 6, 15, 24, 25, 40]], "step")


def keras_restarts(t, first, t_mul, m_mul, alpha):
    f = t / first
    if t_mul == 1.0:
        i = math.floor(f)
        frac = f - i
    else:
        i = math.floor(math.log(1 - f * (1 - t_mul)) / math.log(t_mul))
        frac = (f - (1 - t_mul ** i) / (1 - t_mul)) / t_mul ** i
    return lr0 * ((1 - alpha) * m_mul ** i * 0.5 * (1 + math.cos(math.pi * frac)) + alpha)


case("cosine_restarts", {"type": "cosine_restarts", "lr": 0.1, "first_decay_steps": 4, "m_mul": 0.5, "alpha": 0.1},
     "Keras CosineDecayRestarts (t_mul 2)",
     table([0, 1, 3, 4, 5, 11, 12, 13, 27, 28, 60], lambda t: keras_restarts(t, 4, 2.0, 0.5, 0.1)), "step")
case("cosine_restarts_tmul1", {"type": "cosine_restarts", "lr": 0.1, "first_decay_steps": 5, "t_mul": 1.0},
     "Keras CosineDecayRestarts (t_mul 1)", table([0, 2, 4, 5, 7, 10, 23], lambda t: keras_restarts(t, 5, 1.0, 1.0, 0.0)), "step")
case("inv", {"type": "inv", "lr": 0.01, "gamma": 0.0001, "power": 0.75}, "Caffe inv (lenet_solver)",
     table([0, 1, 100, 5000, 10000], lambda t: 0.01 * (1 + 0.0001 * t) ** -0.75), "step")
case("sigmoid", {"type": "sigmoid", "lr": 0.1, "gamma": 0.5, "step_size": 10}, "Caffe sigmoid (rises)",
     table([0, 5, 9, 10, 11, 20, 40], lambda t: 0.1 / (1 + math.exp(-0.5 * (t - 10)))), "step")
case("caffe_step", {"type": "step", "lr": 0.01, "step_size": 100, "gamma": 0.1, "unit": "step"}, "Caffe step",
     table([0, 99, 100, 199, 200, 250], lambda t: 0.01 * 0.1 ** math.floor(t / 100)), "step")
case("caffe_exp", {"type": "exponential", "lr": 0.01, "decay_rate": 0.99}, "Caffe exp (gamma^iter)",
     table([0, 1, 10, 100], lambda t: 0.01 * 0.99 ** t), "step")
case("constant", {"type": "constant", "lr": 0.1}, "fixed", table([0, 1, 49, 1000], lambda t: 0.1), "epoch")
case("warmup_linear", {"type": "warmup", "steps": 4, "start_lr": 0.0, "then": {"type": "exponential", "lr": 0.1, "decay_rate": 0.5}},
     "hand: start + (then(0) - start) t/steps, then then(t - steps)",
     table([0, 1, 3, 4, 5, 8], lambda t: 0.1 * t / 4 if t < 4 else 0.1 * 0.5 ** (t - 4)), "step")
case("warmup_exponential", {"type": "warmup", "steps": 3, "start_lr": 0.001, "shape": "exponential",
                            "then": {"type": "constant", "lr": 0.1, "unit": "step"}},
     "hand: start (then(0)/start)^(t/steps)", table([0, 1, 2, 3, 10], lambda t: 0.001 * 100 ** (t / 3) if t < 3 else 0.1), "step")
case("warmup_constant", {"type": "warmup", "steps": 2, "start_lr": 0.01, "shape": "constant",
                         "then": {"type": "step_decay", "lr": 0.1, "epochs_drop": 3}},
     "hand: start_lr for steps, then the lesson's drop from its own epoch 0",
     table([0, 1, 2, 3, 4, 5, 12], lambda e: 0.01 if e < 2 else 0.1 * 0.5 ** math.floor((1 + e - 2) / 3)), "epoch")


# --- reduce on plateau: a metric sequence, and the rate used in each epoch ------------------------
def wsd(t, lr, T, W, D, shape, start=0.0, final=0.0):
    """Warmup-stable-decay written out from its definition (Hagele et al. 2024): linear warm-up
    over W updates, constant until D, then the cooldown shape down to `final` at T."""
    if t < W:
        return start + (lr - start) * t / W
    if t < D:
        return lr
    if t >= T:
        return final
    u = (t - D) / (T - D)
    f = {"linear": 1 - u, "cosine": 0.5 * (1 + math.cos(math.pi * u)), "sqrt": 1 - math.sqrt(u)}[shape]
    return final + (lr - final) * f


wsd_points = [0, 1, 4, 5, 6, 50, 79, 80, 81, 90, 99, 100, 150]
for shape in ["linear", "cosine", "sqrt"]:
    case("wsd_" + shape, {"type": "wsd", "lr": 0.1, "warmup_steps": 5, "total_steps": 100, "decay_fraction": 0.2, "shape": shape},
         "hand: WSD from its definition (" + shape + " cooldown)", table(wsd_points, lambda t: wsd(t, 0.1, 100, 5, 80, shape)), "step")
case("wsd_start_final", {"type": "wsd", "lr": 0.1, "start_lr": 0.01, "final_lr": 0.001, "warmup_steps": 10, "total_steps": 40,
                         "decay_fraction": 0.5, "shape": "cosine"},
     "hand: WSD with start and final rates", table([0, 3, 10, 19, 20, 25, 39, 40], lambda t: wsd(t, 0.1, 40, 10, 20, "cosine", 0.01, 0.001)),
     "step")


def plateau_torch(metrics, **kw):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1)
    sched = S.ReduceLROnPlateau(opt, **kw)
    rates = []
    for m in metrics:
        rates.append(opt.param_groups[0]["lr"])
        sched.step(m)
    return rates


def plateau_keras(metrics, factor=0.1, patience=10, min_delta=1e-4, cooldown=0, min_lr=0.0):
    lr, best, wait, cool, rates = 0.1, math.inf, 0, 0, []
    for m in metrics:
        rates.append(lr)
        if cool > 0:
            cool -= 1
            wait = 0
        if m < best - min_delta:
            best, wait = m, 0
        elif cool == 0:
            wait += 1
            if wait >= patience and lr > min_lr:
                lr = max(lr * factor, min_lr)
                cool, wait = cooldown, 0
    return rates


metrics = [1.0, 0.9, 0.85, 0.86, 0.87, 0.85, 0.84, 0.849, 0.9, 0.95, 0.96, 0.97, 0.8, 0.81, 0.82, 0.83, 0.84, 0.85, 0.86, 0.87]
plateau = []
for name, spec, rates, source in [
    ("plateau_keras", {"type": "reduce_on_plateau", "lr_base": 0.1, "factor": 0.5, "patience": 2, "cooldown": 1},
     plateau_keras(metrics, factor=0.5, patience=2, cooldown=1), "Keras ReduceLROnPlateau algorithm"),
    ("plateau_keras_minlr", {"type": "reduce_on_plateau", "lr_base": 0.1, "factor": 0.2, "patience": 1, "min_lr": 0.01},
     plateau_keras(metrics, factor=0.2, patience=1, min_lr=0.01), "Keras ReduceLROnPlateau algorithm"),
    ("plateau_torch", {"type": "reduce_on_plateau", "lr_base": 0.1, "factor": 0.5, "patience": 2, "cooldown": 1,
                       "convention": "pytorch", "threshold_mode": "rel"},
     plateau_torch(metrics, factor=0.5, patience=2, cooldown=1), "torch ReduceLROnPlateau"),
    ("plateau_torch_abs", {"type": "reduce_on_plateau", "lr_base": 0.1, "factor": 0.1, "patience": 0, "min_lr": 0.0005,
                           "convention": "pytorch", "min_delta": 0.01},
     plateau_torch(metrics, factor=0.1, patience=0, threshold=0.01, threshold_mode="abs", min_lr=0.0005), "torch ReduceLROnPlateau abs"),
]:
    base_lr = spec.pop("lr_base")
    spec["base"] = {"type": "constant", "lr": base_lr}
    plateau.append({"name": name, "spec": spec, "source": source, "metrics": metrics, "rates": rates})

with open(OUT, "w") as f:
    f.write("# Generated by tests/reference/make_schedule_tables.py (PyTorch %s); do not edit.\n" % torch.__version__)
    f.write("# points: [t, lr] or [t, lr, momentum]; t is the schedule's counter in `unit`.\n")
    f.write("cases:\n")
    for c in cases:
        f.write("  - " + json.dumps(c) + "\n")
    f.write("plateau:\n")
    for c in plateau:
        f.write("  - " + json.dumps(c) + "\n")
print("wrote %d cases, %d plateau sequences to %s" % (len(cases), len(plateau), OUT))
