"""The peers of :mod:`train_speed`: the same training run by hand in NumPy, in PyTorch
eager and in JAX (the whole run jitted, and a Python loop of a jitted step).

Each ``*_row(w, dtype, W0, b0)`` returns a function that trains ``w``'s network from
the initial weights ``W0, b0`` (``W[l]`` of shape (out, in)) and returns the loss of
every step, taken before its update: batch-mean loss, consecutive minibatches, plain
SGD, as the generated trainer does. A peer that is not installed raises ImportError.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from workloads import Workload

Run = Callable[[], np.ndarray]


def numpy_row(w: Workload, dtype: str, W0: list, b0: list) -> Run:
    X, T = w.X.astype(dtype), w.T.astype(dtype)
    acts = w.spec["activations"]
    acts = acts if isinstance(acts, list) else [acts] * (len(w.spec["layers"]) - 1)
    lr = np.asarray(w.lr, dtype)
    n = len(X)

    def run() -> np.ndarray:
        W = [m.astype(dtype) for m in W0]
        b = [v.astype(dtype) for v in b0]
        losses = []
        for _ in range(w.epochs):
            for s in range(0, n, w.batch):
                x, t = X[s : s + w.batch], T[s : s + w.batch]
                a, zs, As = x, [], [x]
                for l, act in enumerate(acts):
                    z = a @ W[l].T + b[l]
                    if act == "sigmoid":
                        a = 1 / (1 + np.exp(-z))
                    elif act == "tanh":
                        a = np.tanh(z)
                    elif act == "relu":
                        a = np.maximum(z, 0)
                    else:
                        e = np.exp(z - z.max(axis=1, keepdims=True))
                        a = e / e.sum(axis=1, keepdims=True)
                    zs.append(z)
                    As.append(a)
                m = len(x)
                z = zs[-1]
                if acts[-1] == "sigmoid":
                    losses.append(
                        float(
                            np.mean(
                                np.sum(
                                    np.logaddexp(0, -z) * t + np.logaddexp(0, z) * (1 - t), axis=1
                                )
                            )
                        )
                    )
                else:
                    lse = z.max(axis=1) + np.log(
                        np.exp(z - z.max(axis=1, keepdims=True)).sum(axis=1)
                    )
                    losses.append(float(np.mean(lse * t.sum(axis=1) - (t * z).sum(axis=1))))
                d = (As[-1] - t) / m
                for l in range(len(W) - 1, -1, -1):
                    gW, gb = d.T @ As[l], d.sum(axis=0)
                    if l > 0:
                        d = d @ W[l]
                        a = As[l]
                        d = d * (
                            a * (1 - a)
                            if acts[l - 1] == "sigmoid"
                            else 1 - a * a
                            if acts[l - 1] == "tanh"
                            else (a > 0)
                        )
                    W[l] -= lr * gW
                    b[l] -= lr * gb
        return np.array(losses)

    return run


def torch_row(w: Workload, dtype: str, W0: list, b0: list) -> Run:
    import torch

    torch.set_num_threads(2)
    tdt = getattr(torch, dtype)
    acts = w.spec["activations"]
    acts = acts if isinstance(acts, list) else [acts] * (len(w.spec["layers"]) - 1)
    layers: list[Any] = []
    for l, act in enumerate(acts):
        layers.append(torch.nn.Linear(W0[l].shape[1], W0[l].shape[0]).to(tdt))
        if l < len(acts) - 1:
            layers.append(
                {"sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[act]()
            )
    model = torch.nn.Sequential(*layers)
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    if acts[-1] == "sigmoid":
        criterion = torch.nn.BCEWithLogitsLoss()
        target = torch.tensor(w.T, dtype=tdt)
    else:
        criterion = torch.nn.CrossEntropyLoss()
        target = torch.tensor(w.labels, dtype=torch.long)
    X = torch.tensor(w.X, dtype=tdt)
    n = len(X)
    batches = [(X[s : s + w.batch], target[s : s + w.batch]) for s in range(0, n, w.batch)]

    def run() -> np.ndarray:
        with torch.no_grad():
            for lin, Wl, bl in zip(linears, W0, b0, strict=True):
                lin.weight.copy_(torch.tensor(Wl))
                lin.bias.copy_(torch.tensor(bl))
        optimizer = torch.optim.SGD(model.parameters(), lr=w.lr)
        losses = []
        for _ in range(w.epochs):
            for x, t in batches:
                optimizer.zero_grad()
                loss = criterion(model(x), t)
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
        return np.array(losses)

    return run


def _jax_parts(w: Workload, dtype: str, W0: list, b0: list):  # type: ignore[no-untyped-def]
    import jax
    import jax.numpy as jnp

    acts = w.spec["activations"]
    acts = acts if isinstance(acts, list) else [acts] * (len(w.spec["layers"]) - 1)
    fns = {"sigmoid": jax.nn.sigmoid, "tanh": jnp.tanh, "relu": jax.nn.relu}
    lr = w.lr

    def loss_fn(params, x, t):  # type: ignore[no-untyped-def]
        a = x
        for l, (Wl, bl) in enumerate(params):
            z = a @ Wl.T + bl
            a = fns[acts[l]](z) if l < len(params) - 1 else z
        if acts[-1] == "sigmoid":
            return jnp.mean(jnp.sum(t * jax.nn.softplus(-a) + (1 - t) * jax.nn.softplus(a), axis=1))
        return -jnp.mean(jnp.sum(t * jax.nn.log_softmax(a, axis=1), axis=1))

    value_and_grad = jax.value_and_grad(loss_fn)

    def step(params, batch):  # type: ignore[no-untyped-def]
        loss, grads = value_and_grad(params, *batch)
        return jax.tree_util.tree_map(lambda p, g: p - lr * g, params, grads), loss

    params = tuple(
        (jnp.asarray(Wl, dtype), jnp.asarray(bl, dtype)) for Wl, bl in zip(W0, b0, strict=True)
    )
    X, T = w.X.astype(dtype), w.T.astype(dtype)
    return jax, jnp, step, params, X, T


def jax_scan_row(w: Workload, dtype: str, W0: list, b0: list) -> Run:
    jax, jnp, step, params0, X, T = _jax_parts(w, dtype, W0, b0)
    full = len(X) // w.batch
    Xb = jnp.asarray(X[: full * w.batch].reshape(full, w.batch, -1))
    Tb = jnp.asarray(T[: full * w.batch].reshape(full, w.batch, -1))
    rest = (jnp.asarray(X[full * w.batch :]), jnp.asarray(T[full * w.batch :]))
    has_rest = len(X) > full * w.batch

    def epoch(params, _):  # type: ignore[no-untyped-def]
        params, losses = jax.lax.scan(step, params, (Xb, Tb))
        if has_rest:
            params, last = step(params, rest)
            losses = jnp.concatenate([losses, last[None]])
        return params, losses

    run_all = jax.jit(lambda p: jax.lax.scan(epoch, p, None, length=w.epochs))
    jax.block_until_ready(run_all(params0))  # compile

    def run() -> np.ndarray:
        _, losses = jax.block_until_ready(run_all(params0))
        return np.asarray(losses).ravel()

    return run


def jax_loop_row(w: Workload, dtype: str, W0: list, b0: list) -> Run:
    jax, jnp, step, params0, X, T = _jax_parts(w, dtype, W0, b0)
    step_jit = jax.jit(step)
    batches = [
        (jnp.asarray(X[s : s + w.batch]), jnp.asarray(T[s : s + w.batch]))
        for s in range(0, len(X), w.batch)
    ]
    for batch in {b[0].shape: b for b in batches}.values():
        jax.block_until_ready(step_jit(params0, batch))  # compile every batch shape
    # and the stack of this many losses (compiled on first use, ~0.4 s on W2)
    jax.block_until_ready(jnp.stack([jnp.zeros((), dtype)] * (w.epochs * len(batches))))

    def run() -> np.ndarray:
        params, losses = params0, []
        for _ in range(w.epochs):
            for batch in batches:
                params, loss = step_jit(params, batch)
                losses.append(loss)
        return np.asarray(jax.block_until_ready(jnp.stack(losses)))

    return run
