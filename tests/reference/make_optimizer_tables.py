#!/usr/bin/python3
"""Writes optimizer_tables.yaml: trajectories of the newer optimizers on a small closed-loop
problem, each transcribed here in NumPy (float64) from its paper's pseudo-code -- not from any
package. The C++ test runs the same problem (the gradient taken at the optimizer's training
point every step) and compares every step's training point and model point.

Problem: three parameters, f(w) = sum_i a_i (w_i - b_i)^2 / 2 + 0.1 w_i^4 / 4, so
g_i = a_i (w_i - b_i) + 0.1 w_i^3.

Run with Debian's interpreter: /usr/bin/python3 tests/reference/make_optimizer_tables.py
"""
import json
import math
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optimizer_tables.yaml")
A = np.array([0.5, 1.0, 2.0])
B = np.array([1.0, -1.0, 0.5])
W0 = [0.3, 0.8, -1.2]
STEPS = 25


def grad(w):
    return A * (w - B) + 0.1 * w ** 3


def schedule_free(spec, rates):
    """Defazio et al. 2024, Algorithm 1 (Schedule-Free AdamW; SGD without the second moment),
    with the weighting c_{t+1} = t^r max(gamma)^p / sum_i i^r max(gamma)^p of its Section 5."""
    adam = spec["type"] == "adamw_schedulefree"
    beta = spec.get("beta_1" if adam else "momentum", 0.9)
    beta2, eps = spec.get("beta_2", 0.999), spec.get("epsilon", 1e-8)
    wd, r, p, warmup = spec.get("weight_decay", 0.0), spec.get("r", 0.0), spec.get("weight_lr_power", 2.0), spec.get("warmup_steps", 0)
    x = np.array(W0, dtype=np.float64)
    z = x.copy()
    v = np.zeros_like(x)
    weight_sum, lr_max = 0.0, 0.0
    y = x.copy()
    out = []
    for t in range(1, STEPS + 1):
        g = grad(y)
        gamma = rates[t - 1] * (min(1.0, t / warmup) if warmup > 0 else 1.0)
        if adam:
            v = beta2 * v + (1 - beta2) * g * g
            gamma *= math.sqrt(1 - beta2 ** t)
            d = g / (np.sqrt(v) + eps)
        else:
            d = g
        z = z - gamma * (d + wd * y)
        lr_max = max(lr_max, gamma)
        weight = t ** r * lr_max ** p
        weight_sum += weight
        c = weight / weight_sum
        x = (1 - c) * x + c * z
        y = (1 - beta) * z + beta * x
        out.append([t, list(y), list(x)])
    return out


def dadapt_sgd(spec, rates):
    """Defazio & Mishchenko 2023, SGD with D-Adaptation, in the paper's form of the estimate:
    d^ = (||s||^2 - sum lambda_i^2 ||g_i||^2) / (2 ||s||)."""
    d, growth = spec.get("d0", 1e-6), spec.get("growth_rate", math.inf)
    x = np.array(W0, dtype=np.float64)
    s = np.zeros_like(x)
    sum_sq = 0.0
    g0 = None
    out = []
    for k in range(STEPS):
        g = grad(x)
        if g0 is None:
            g0 = np.linalg.norm(g)
        lam = rates[k] * d / g0
        s = s + lam * g
        sum_sq += lam ** 2 * np.dot(g, g)
        x = x - lam * g
        norm = np.linalg.norm(s)
        d_hat = (norm ** 2 - sum_sq) / (2 * norm) if norm > 0 else d
        d = max(d, min(d_hat, d * growth))
        out.append([k + 1, list(x), list(x), rates[k] * d / g0])
    return out


def dadapt_adam(spec, rates):
    """Defazio & Mishchenko 2023, Adam with D-Adaptation (no bias correction; decoupled decay)."""
    b1, b2, eps = spec.get("beta_1", 0.9), spec.get("beta_2", 0.999), spec.get("epsilon", 1e-8)
    wd, d, growth = spec.get("weight_decay", 0.0), spec.get("d0", 1e-6), spec.get("growth_rate", math.inf)
    x = np.array(W0, dtype=np.float64)
    m, v, s = np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
    r = 0.0
    out = []
    for k in range(STEPS):
        g = grad(x)
        dlr = d * rates[k]
        inner = np.dot(g, s / (np.sqrt(v) + eps))
        m = b1 * m + (1 - b1) * dlr * g
        v = b2 * v + (1 - b2) * g * g
        r = math.sqrt(b2) * r + (1 - math.sqrt(b2)) * dlr * inner
        s = math.sqrt(b2) * s + (1 - math.sqrt(b2)) * dlr * g
        x = x - dlr * wd * x - m / (np.sqrt(v) + eps)
        l1 = np.sum(np.abs(s))
        d_hat = r / ((1 - math.sqrt(b2)) * l1) if l1 > 0 else d
        d = max(d, min(d_hat, d * growth))
        out.append([k + 1, list(x), list(x), d * rates[k]])
    return out


def prodigy(spec, rates):
    """Mishchenko & Defazio 2023, Prodigy, Algorithm 3 (Adam form; decoupled decay)."""
    b1, b2, eps = spec.get("beta_1", 0.9), spec.get("beta_2", 0.999), spec.get("epsilon", 1e-8)
    wd, d, growth = spec.get("weight_decay", 0.0), spec.get("d0", 1e-6), spec.get("growth_rate", math.inf)
    x0 = np.array(W0, dtype=np.float64)
    x = x0.copy()
    m, v, s = np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
    r = 0.0
    out = []
    for k in range(STEPS):
        g = grad(x)
        lr = rates[k]
        m = b1 * m + (1 - b1) * d * g
        v = b2 * v + (1 - b2) * d * d * g * g
        r = math.sqrt(b2) * r + (1 - math.sqrt(b2)) * lr * d * d * np.dot(g, x0 - x)
        s = math.sqrt(b2) * s + (1 - math.sqrt(b2)) * lr * d * d * g
        x = x - lr * d * wd * x - lr * d * m / (np.sqrt(v) + d * eps)
        l1 = np.sum(np.abs(s))
        d_hat = r / l1 if l1 > 0 else d
        d = max(d, min(d_hat, d * growth))
        out.append([k + 1, list(x), list(x), rates[k] * d])
    return out


cases = []
constant = lambda lr: [lr] * STEPS
falling = [0.2] * 10 + [0.1] * 8 + [0.05] * 7
for spec, rates in [
    ({"type": "sgd_schedulefree", "lr": 0.2, "warmup_steps": 5}, constant(0.2)),
    ({"type": "sgd_schedulefree", "lr": 0.2, "momentum": 0.8, "r": 1.0, "weight_decay": 0.05}, falling),
    ({"type": "adamw_schedulefree", "lr": 0.05, "warmup_steps": 8, "weight_decay": 0.01}, constant(0.05)),
    ({"type": "adamw_schedulefree", "lr": 0.05, "beta_1": 0.95, "beta_2": 0.99, "r": 0.5, "weight_lr_power": 1.0}, [0.05] * 12 + [0.02] * 13),
]:
    cases.append({"spec": spec, "rates": rates, "w0": W0, "a": list(A), "b": list(B), "steps": schedule_free(spec, rates)})
for spec, rates, run in [
    ({"type": "dadapt_sgd", "lr": 1.0, "d0": 0.01}, constant(1.0), dadapt_sgd),
    ({"type": "dadapt_sgd", "lr": 0.5, "d0": 0.001, "growth_rate": 2.0}, [0.5] * 12 + [0.25] * 13, dadapt_sgd),
    ({"type": "dadapt_adam", "lr": 0.2, "d0": 0.01}, constant(0.2), dadapt_adam),
    ({"type": "dadapt_adam", "lr": 1.0, "d0": 0.001, "beta_2": 0.99, "weight_decay": 0.01, "growth_rate": 1.5}, constant(1.0), dadapt_adam),
    ({"type": "prodigy", "lr": 0.3, "d0": 0.01}, constant(0.3), prodigy),
    ({"type": "prodigy", "lr": 1.0, "d0": 0.001, "beta_1": 0.8, "beta_2": 0.99, "weight_decay": 0.01}, [1.0] * 15 + [0.5] * 10, prodigy),
]:
    cases.append({"spec": spec, "rates": rates, "w0": W0, "a": list(A), "b": list(B), "steps": run(spec, rates)})

with open(OUT, "w") as f:
    f.write("# Generated by tests/reference/make_optimizer_tables.py (NumPy %s); do not edit.\n" % np.__version__)
    f.write("# steps: [t, training point after update t, model point after update t(, the step size the next update uses)].\n")
    f.write("cases:\n")
    for c in cases:
        f.write("  - " + json.dumps(c) + "\n")
print("wrote %d cases to %s" % (len(cases), OUT))
