"""The net of ``conv_5x5.yaml`` (issue 28's "Done when") and an independent NumPy loop of it,
for the tests of derive, eval and verify of conv specs."""

from __future__ import annotations

from typing import Any

import numpy as np

CONV_YAML = """\
name: conv-5x5
input: [1, 5, 5]
layers:
  - {conv: 2, kernel: 2, stride: 1, padding: 0, activation: relu}
  - {pool: max, size: 2}
  - flatten
  - {dense: 1, activation: sigmoid}
loss: bce
optimizer: {name: sgd, learning_rate: 0.1}
params:
  W: [[[[[1, -1], [0, 2]]], [[[0.5, 0], [-1, 1]]]], null, null,
      [[0.1, -0.2, 0.3, 0.1, -0.1, 0.2, 0.05, -0.3]]]
  b: [[0, 0.5], null, null, [0.1]]
example:
  x: [[[1, 2, 0, 1, 3], [0, 1, 2, 3, 1], [2, 1, 0, 1, 2], [1, 0, 1, 2, 0], [3, 1, 2, 0, 1]]]
  t: [1]
"""


def numpy_net(
    W: list[Any], b: list[Any], x: Any, t: float, pool: str = "max", spread: bool = False
) -> dict[str, Any]:
    """Forward and backward of conv 2x2 (stride 1) + relu, max-pool 2, flatten, dense 1 +
    sigmoid, BCE in plain loops: everything the test compares.

    ``pool``: ``max`` (the first maximum), ``avg`` or ``sum`` (the slip: no 1/4);
    ``spread=True``: the slip of max-pooling's gradient sent to every position of the
    window."""
    K, bk = np.array(W[0], dtype=float), np.array(b[0], dtype=float)
    Wd, bd = np.array(W[3], dtype=float), np.array(b[3], dtype=float)
    x = np.array(x, dtype=float)
    z1 = np.zeros((2, 4, 4))
    for o in range(2):
        for i in range(4):
            for j in range(4):
                z1[o, i, j] = bk[o] + sum(
                    x[c, i + u, j + v] * K[o, c, u, v]
                    for c in range(1)
                    for u in range(2)
                    for v in range(2)
                )
    a1 = np.maximum(z1, 0)
    a2, arg = np.zeros((2, 2, 2)), {}
    for c in range(2):
        for i in range(2):
            for j in range(2):
                window = [(a1[c, 2 * i + u, 2 * j + v], u, v) for u in range(2) for v in range(2)]
                best = window[0]
                for item in window[1:]:
                    if item[0] > best[0]:
                        best = item
                a2[c, i, j], arg[c, i, j] = best[0], (2 * i + best[1], 2 * j + best[2])
                if pool != "max":
                    total = sum(item[0] for item in window)
                    a2[c, i, j] = total / 4 if pool == "avg" else total
    flat = a2.reshape(-1)
    z4 = Wd @ flat + bd
    y = 1 / (1 + np.exp(-z4))
    loss = float(-(t * np.log(y[0]) + (1 - t) * np.log(1 - y[0])))
    d4 = y - t
    d_flat = Wd.T @ d4
    d2 = d_flat.reshape(2, 2, 2)
    da1 = np.zeros((2, 4, 4))
    for (c, i, j), (p, q) in arg.items():
        if pool == "max" and not spread:
            da1[c, p, q] += d2[c, i, j]
            continue
        share = d2[c, i, j] / 4 if pool == "avg" else d2[c, i, j]
        for u in range(2):
            for v in range(2):
                da1[c, 2 * i + u, 2 * j + v] += share
    d1 = da1 * (z1 > 0)
    gK = np.zeros((2, 1, 2, 2))
    for o in range(2):
        for u in range(2):
            for v in range(2):
                gK[o, 0, u, v] = sum(
                    d1[o, i, j] * x[0, i + u, j + v] for i in range(4) for j in range(4)
                )
    gx = np.zeros((1, 5, 5))
    for o in range(2):
        for i in range(4):
            for j in range(4):
                for u in range(2):
                    for v in range(2):
                        gx[0, i + u, j + v] += d1[o, i, j] * K[o, 0, u, v]
    return {
        "z1": z1,
        "a1": a1,
        "a2": a2,
        "loss": loss,
        "grad_K": gK,
        "grad_bk": d1.sum(axis=(1, 2)),
        "grad_Wd": np.outer(d4, flat),
        "grad_bd": d4,
        "grad_x": gx,
        "delta1": d1,
    }


def unrotated_input_gradient(delta1: Any, K: Any) -> Any:
    """The slip: the full convolution of δ with the kernel NOT rotated (a correlation)."""
    K = np.array(K, dtype=float)
    gx = np.zeros((1, 5, 5))
    for o in range(2):
        for y in range(5):
            for x in range(5):
                for u in range(2):
                    for v in range(2):
                        if 0 <= y - u < 4 and 0 <= x - v < 4:
                            gx[0, y, x] += delta1[o, y - u, x - v] * K[o, 0, 1 - u, 1 - v]
    return gx
