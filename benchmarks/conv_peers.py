"""The peers of :mod:`conv_digits`: the digits conv net trained in NumPy (im2col), in
PyTorch eager and in JAX (the whole run one ``jax.jit``: ``lax.scan`` over the epochs
and, inside, over the minibatches; ``lax.conv_general_dilated`` and
``lax.reduce_window``).

Each ``*_row(w, dtype, params0)`` returns a function that trains from the initial
parameters ``params0`` (:mod:`conv_workload`'s layout, float64) and returns the loss of
every step (taken before its update) and the trained parameters in that layout (as
float64 arrays). The function does not run when the row is made: its first call
includes any compilation. A peer that is not installed raises ImportError.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from conv_workload import (
    CHANNELS,
    CONV_SIDE,
    FEATURES,
    KERNEL,
    POOL,
    POOL_SIDE,
    ConvWorkload,
    Params,
    im2col,
)

Run = Callable[[], tuple[np.ndarray, Params]]

#: PyTorch's intra-op threads. One: this net's operations are tiny (a 32x8x6x6 conv),
#: and on the 2-core machine, shared and loaded, two OpenMP threads ran the row 3-5x
#: slower than one (a thread that is descheduled stalls every parallel region).
TORCH_THREADS = 1


def _f64(params: Any) -> Params:
    K, c, W, b = (np.asarray(p, np.float64) for p in params)
    return K, c, W, b


def numpy_row(w: ConvWorkload, dtype: str, params0: Params) -> Run:
    """By hand in NumPy: the conv as one matmul over im2col patches, relu, the pool as a
    reshape to windows and ``argmax`` (the first maximum), the backward written out."""
    X, T = w.X.astype(dtype), w.T.astype(dtype)
    lr = np.asarray(w.lr, dtype)
    n = len(X)
    shape6 = (CONV_SIDE * CONV_SIDE, CHANNELS)

    def run() -> tuple[np.ndarray, Params]:
        K, c, W, b = (p.astype(dtype) for p in params0)
        Kf = K.reshape(CHANNELS, KERNEL * KERNEL)  # a view: updated with K
        cols_all = im2col(X)  # (n, 36, 9), once per run
        losses = []
        for _ in range(w.epochs):
            for s in range(0, n, w.batch):
                cols, t = cols_all[s : s + w.batch], T[s : s + w.batch]
                m = len(cols)
                z = cols @ Kf.T + c  # (m, 36, 8): position i*6+j, channel o
                a = np.maximum(z, 0)
                # windows (m, o, pi, pj, di*2+dj)
                win = (
                    a.reshape(m, POOL_SIDE, POOL, POOL_SIDE, POOL, CHANNELS)
                    .transpose(0, 5, 1, 3, 2, 4)
                    .reshape(m, CHANNELS, POOL_SIDE, POOL_SIDE, POOL * POOL)
                )
                arg = np.argmax(win, axis=-1)[..., None]
                f = np.take_along_axis(win, arg, axis=-1).reshape(m, FEATURES)
                z2 = f @ W.T + b
                zmax = z2.max(axis=1, keepdims=True)
                e = np.exp(z2 - zmax)
                total = e.sum(axis=1, keepdims=True)
                lse = zmax + np.log(total)
                losses.append(float(np.mean(np.sum(t * (lse - z2), axis=1))))
                d2 = (e / total - t) / np.asarray(m, dtype)
                df = (d2 @ W).reshape(m, CHANNELS, POOL_SIDE, POOL_SIDE, 1)
                dwin = np.zeros_like(win)
                np.put_along_axis(dwin, arg, df, axis=-1)
                dwin *= win > 0
                dz = (
                    dwin.reshape(m, CHANNELS, POOL_SIDE, POOL_SIDE, POOL, POOL)
                    .transpose(0, 2, 4, 3, 5, 1)
                    .reshape(m, *shape6)
                )
                gK = dz.reshape(-1, CHANNELS).T @ cols.reshape(-1, KERNEL * KERNEL)
                gc = dz.sum(axis=(0, 1))
                W -= lr * (d2.T @ f)
                b -= lr * d2.sum(axis=0)
                Kf -= lr * gK
                c -= lr * gc
        return np.array(losses), _f64((K, c, W, b))

    return run


def torch_row(w: ConvWorkload, dtype: str, params0: Params) -> Run:
    """PyTorch eager: ``Conv2d``, ``ReLU``, ``MaxPool2d``, ``Flatten``, ``Linear``,
    ``CrossEntropyLoss``, ``optim.SGD``; :data:`TORCH_THREADS` intra-op threads (set
    when the function runs)."""
    import torch

    tdt = getattr(torch, dtype)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(1, CHANNELS, KERNEL),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(POOL),
        torch.nn.Flatten(),
        torch.nn.Linear(FEATURES, len(params0[3])),
    ).to(tdt)
    conv, dense = model[0], model[4]
    criterion = torch.nn.CrossEntropyLoss()
    X = torch.tensor(w.X, dtype=tdt)
    y = torch.tensor(w.labels, dtype=torch.long)
    batches = [(X[s : s + w.batch], y[s : s + w.batch]) for s in range(0, len(X), w.batch)]

    def run() -> tuple[np.ndarray, Params]:
        torch.set_num_threads(TORCH_THREADS)
        with torch.no_grad():
            for p, v in zip(
                (conv.weight, conv.bias, dense.weight, dense.bias), params0, strict=True
            ):
                p.copy_(torch.tensor(v))
        optimizer = torch.optim.SGD(model.parameters(), lr=w.lr)
        losses = []
        for _ in range(w.epochs):
            for x, t in batches:
                optimizer.zero_grad()
                loss = criterion(model(x), t)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
        params = (conv.weight, conv.bias, dense.weight, dense.bias)
        return np.array(losses), _f64(p.detach().numpy() for p in params)

    return run


def jax_scan_row(w: ConvWorkload, dtype: str, params0: Params) -> Run:
    """JAX, the whole run one ``jit``: ``lax.scan`` over the epochs, inside it a
    ``lax.scan`` over the full minibatches and one step on the smaller last one;
    ``value_and_grad`` of the batch-mean loss, ``lax.conv_general_dilated`` (NCHW,
    OIHW), max-pool as ``lax.reduce_window`` (its gradient goes to the first maximum),
    float64 with ``jax_enable_x64``."""
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    lax = jax.lax
    lr = w.lr

    def loss_fn(params, x, t):  # type: ignore[no-untyped-def]
        K, c, W, b = params
        z = lax.conv_general_dilated(
            x, K, (1, 1), "VALID", dimension_numbers=("NCHW", "OIHW", "NCHW")
        )
        a = jax.nn.relu(z + c[None, :, None, None])
        pooled = lax.reduce_window(
            a, -jnp.inf, lax.max, (1, 1, POOL, POOL), (1, 1, POOL, POOL), "VALID"
        )
        z2 = pooled.reshape(x.shape[0], FEATURES) @ W.T + b
        return -jnp.mean(jnp.sum(t * jax.nn.log_softmax(z2, axis=1), axis=1))

    value_and_grad = jax.value_and_grad(loss_fn)

    def step(params, batch):  # type: ignore[no-untyped-def]
        loss, grads = value_and_grad(params, *batch)
        return jax.tree_util.tree_map(lambda p, g: p - lr * g, params, grads), loss

    X, T = w.X.astype(dtype), w.T.astype(dtype)
    full = len(X) // w.batch
    Xb = jnp.asarray(X[: full * w.batch].reshape(full, w.batch, *X.shape[1:]))
    Tb = jnp.asarray(T[: full * w.batch].reshape(full, w.batch, -1))
    rest = (jnp.asarray(X[full * w.batch :]), jnp.asarray(T[full * w.batch :]))
    has_rest = len(X) > full * w.batch

    def epoch(params, _):  # type: ignore[no-untyped-def]
        params, losses = lax.scan(step, params, (Xb, Tb))
        if has_rest:
            params, last = step(params, rest)
            losses = jnp.concatenate([losses, last[None]])
        return params, losses

    run_all = jax.jit(lambda p: lax.scan(epoch, p, None, length=w.epochs))
    start = tuple(jnp.asarray(p, dtype) for p in params0)

    def run() -> tuple[np.ndarray, Params]:
        params, losses = jax.block_until_ready(run_all(start))
        return np.asarray(losses, np.float64).ravel(), _f64(params)

    return run
