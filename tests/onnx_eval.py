"""A small NumPy evaluator for the ONNX operators Anneal exports, written from the ONNX operator
specification (opset 17) and independent of Anneal's kernels: the export test runs exported
graphs with it, since Debian ships no ONNX runtime.

    outputs = run(onnx.load("model.onnx"), {"input": x})
"""
import math

import numpy as np
from onnx import numpy_helper

_erf = np.vectorize(math.erf, otypes=[np.float64])


def _attrs(node):
    out = {}
    for a in node.attribute:
        if a.type == a.INT:
            out[a.name] = a.i
        elif a.type == a.FLOAT:
            out[a.name] = a.f
        elif a.type == a.INTS:
            out[a.name] = list(a.ints)
        elif a.type == a.STRING:
            out[a.name] = a.s.decode()
    return out


def _windows(x, kernel, strides, pads, dilations, fill):
    """[N, C, H, W] -> [N, C, OH, OW, kh*kw] windows after padding with `fill`."""
    n, c, h, w = x.shape
    top, left, bottom, right = pads
    padded = np.full((n, c, h + top + bottom, w + left + right), fill, dtype=np.float64)
    padded[:, :, top:top + h, left:left + w] = x
    kh, kw = kernel
    dh, dw = dilations
    sh, sw = strides
    oh = (padded.shape[2] - ((kh - 1) * dh + 1)) // sh + 1
    ow = (padded.shape[3] - ((kw - 1) * dw + 1)) // sw + 1
    out = np.empty((n, c, oh, ow, kh * kw))
    for i in range(kh):
        for j in range(kw):
            out[..., i * kw + j] = padded[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw]
    return out


def _conv(x, w, b, a):
    kh, kw = w.shape[2], w.shape[3]
    win = _windows(x, (kh, kw), a.get("strides", [1, 1]), a.get("pads", [0, 0, 0, 0]), a.get("dilations", [1, 1]), 0.0)
    # win [N, C, OH, OW, K]; w [M, C, kh, kw] -> y [N, M, OH, OW]
    y = np.einsum("ncxyk,mck->nmxy", win, w.reshape(w.shape[0], w.shape[1], kh * kw))
    return y if b is None else y + b.reshape(1, -1, 1, 1)


def _pool(x, a, kind):
    strides = a.get("strides", [1, 1])
    pads = a.get("pads", [0, 0, 0, 0])
    if kind == "max":
        return _windows(x, a["kernel_shape"], strides, pads, [1, 1], -np.inf).max(axis=-1)
    # count_include_pad = 0: average over the cells inside the image only.
    total = _windows(x, a["kernel_shape"], strides, pads, [1, 1], 0.0).sum(axis=-1)
    count = _windows(np.ones_like(x), a["kernel_shape"], strides, pads, [1, 1], 0.0).sum(axis=-1)
    return total / count


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _layer_norm(x, scale, bias, a):
    axis = a.get("axis", -1)
    axes = tuple(range(axis % x.ndim, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + a.get("epsilon", 1e-5)) * scale + bias


def _reshape(x, shape):
    shape = [x.shape[i] if d == 0 else d for i, d in enumerate(shape)]
    return x.reshape(shape)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


OPS = {
    "Identity": lambda i, a: i[0],
    "Add": lambda i, a: i[0] + i[1],
    "Sum": lambda i, a: sum(i),
    "Sub": lambda i, a: i[0] - i[1],
    "Mul": lambda i, a: i[0] * i[1],
    "Div": lambda i, a: i[0] / i[1],
    "MatMul": lambda i, a: np.matmul(i[0], i[1]),
    "Relu": lambda i, a: np.maximum(i[0], 0),
    "Sigmoid": lambda i, a: _sigmoid(i[0]),
    "Tanh": lambda i, a: np.tanh(i[0]),
    "Erf": lambda i, a: _erf(i[0]),
    "Softplus": lambda i, a: np.log1p(np.exp(i[0])),
    "Softsign": lambda i, a: i[0] / (1 + np.abs(i[0])),
    "Elu": lambda i, a: np.where(i[0] > 0, i[0], a.get("alpha", 1.0) * (np.exp(i[0]) - 1)),
    "Selu": lambda i, a: a.get("gamma", 1.0507) * np.where(i[0] > 0, i[0], a.get("alpha", 1.6733) * (np.exp(i[0]) - 1)),
    "LeakyRelu": lambda i, a: np.where(i[0] >= 0, i[0], a.get("alpha", 0.01) * i[0]),
    "HardSigmoid": lambda i, a: np.clip(a.get("alpha", 0.2) * i[0] + a.get("beta", 0.5), 0, 1),
    "Softmax": lambda i, a: _softmax(i[0], a.get("axis", -1)),
    "Conv": lambda i, a: _conv(i[0], i[1], i[2] if len(i) > 2 else None, a),
    "MaxPool": lambda i, a: _pool(i[0], a, "max"),
    "AveragePool": lambda i, a: _pool(i[0], a, "avg"),
    "GlobalAveragePool": lambda i, a: i[0].mean(axis=(2, 3), keepdims=True),
    "GlobalMaxPool": lambda i, a: i[0].max(axis=(2, 3), keepdims=True),
    "Flatten": lambda i, a: i[0].reshape(int(np.prod(i[0].shape[:a.get("axis", 1)])), -1),
    "Reshape": lambda i, a: _reshape(i[0], [int(v) for v in i[1]]),
    "Concat": lambda i, a: np.concatenate(i, axis=a["axis"]),
    "LayerNormalization": lambda i, a: _layer_norm(i[0], i[1], i[2], a),
}


def run(model, feeds):
    """Evaluates the graph in float64; returns {output name: array}."""
    values = {t.name: numpy_helper.to_array(t).astype(np.float64) if t.data_type == 1 else numpy_helper.to_array(t)
              for t in model.graph.initializer}
    values.update({k: np.asarray(v, dtype=np.float64) for k, v in feeds.items()})
    for node in model.graph.node:
        if node.op_type not in OPS:
            raise NotImplementedError("no evaluator for " + node.op_type)
        values[node.output[0]] = OPS[node.op_type]([values[n] for n in node.input], _attrs(node))
    return {o.name: values[o.name] for o in model.graph.output}
