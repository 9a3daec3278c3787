"""The peers of :mod:`rnn_sine`: the noisy-sine recurrent net trained in NumPy (BPTT by
hand), in PyTorch eager (``nn.RNN``/``nn.LSTM`` + ``Linear``) and in JAX (the whole run
one ``jax.jit``: ``lax.scan`` over the epochs, over the minibatches and, inside the loss,
over the time steps).

Each ``*_row(w, dtype, params0)`` returns a function that trains from the initial
parameters ``params0`` (:mod:`rnn_workload`'s layout, float64) and returns the loss of
every step (taken before its update) and the trained parameters in that layout (as
float64 arrays). The function does not run when the row is made: its first call
includes any compilation. A peer that is not installed raises ImportError.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from rnn_workload import Params, RnnWorkload

Run = Callable[[], tuple[np.ndarray, Params]]

#: PyTorch's intra-op threads: one, as in :mod:`conv_peers` (tiny operations on a
#: shared 2-core machine).
TORCH_THREADS = 1


def _f64(params: Any) -> Params:
    W, U, b, V, c = (np.asarray(p, np.float64) for p in params)
    return W, U, b, V, c


def _batches(w: RnnWorkload) -> list[slice]:
    return [slice(s, s + w.batch) for s in range(0, len(w.X), w.batch)]


# ---------------------------------------------------------------------------
# NumPy: the reference.


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def loss_and_grads(cell: str, params: Params, X: np.ndarray, Y: np.ndarray) -> tuple[float, Params]:
    """The minibatch loss ``(1/m) sum_e sum_t 1/2 (y_t - t_t)^2`` of windows ``X``, ``Y``
    (m, T, 1) and its gradients in the layout of ``params``, by full BPTT written out:

    - Elman: ``dh_t = dy_t V + dz_{t+1} U``, ``dz_t = dh_t (1 - h_t^2)``;
    - LSTM: ``dh_t`` as above (``da_{t+1} U``), ``dc_t = dh_t o_t (1 - tanh^2 c_t) +
      dc_{t+1} f_{t+1}``, the gates' pre-activations ``di = dc g i(1-i)``, ``df = dc
      c_{t-1} f(1-f)``, ``dg = dc i (1-g^2)``, ``do = dh tanh(c_t) o(1-o)``;

    ``W``'s, ``U``'s and ``b``'s gradients summed over the steps. Computed in the dtype
    of the arrays given."""
    W, U, b, V, c = params
    m, T, _ = X.shape
    n = U.shape[1]
    dt = X.dtype
    h = np.zeros((T + 1, m, n), dt)  # h[0] = h_0 = 0
    cs = np.zeros((T + 1, m, n), dt)
    gates = []
    y = np.empty((T, m, V.shape[0]), dt)
    for t in range(T):
        z = X[:, t] @ W.T + h[t] @ U.T + b
        if cell == "elman":
            h[t + 1] = np.tanh(z)
        else:
            i, f, g, o = (
                _sigmoid(z[:, :n]),
                _sigmoid(z[:, n : 2 * n]),
                np.tanh(z[:, 2 * n : 3 * n]),
                _sigmoid(z[:, 3 * n :]),
            )
            cs[t + 1] = f * cs[t] + i * g
            h[t + 1] = o * np.tanh(cs[t + 1])
            gates.append((i, f, g, o))
        y[t] = h[t + 1] @ V.T + c
    r = y - Y.transpose(1, 0, 2)  # (T, m, 1)
    loss = float(np.sum(r * r) / (2 * m))
    dy = r / np.asarray(m, dt)
    gW, gU, gb = np.zeros_like(W), np.zeros_like(U), np.zeros_like(b)
    gV, gc = np.zeros_like(V), np.zeros_like(c)
    dh_next = np.zeros((m, n), dt)
    dc_next = np.zeros((m, n), dt)
    for t in range(T - 1, -1, -1):
        gV += dy[t].T @ h[t + 1]
        gc += dy[t].sum(axis=0)
        dh = dy[t] @ V + dh_next
        if cell == "elman":
            da = dh * (1 - h[t + 1] ** 2)
        else:
            i, f, g, o = gates[t]
            tc = np.tanh(cs[t + 1])
            dc = dh * o * (1 - tc * tc) + dc_next
            da = np.concatenate(
                [
                    dc * g * i * (1 - i),
                    dc * cs[t] * f * (1 - f),
                    dc * i * (1 - g * g),
                    dh * tc * o * (1 - o),
                ],
                axis=1,
            )
            dc_next = dc * f
        gW += da.T @ X[:, t]
        gU += da.T @ h[t]
        gb += da.sum(axis=0)
        dh_next = da @ U
    return loss, (gW, gU, gb, gV, gc)


def numpy_row(w: RnnWorkload, dtype: str, params0: Params) -> Run:
    """By hand in NumPy: :func:`loss_and_grads` per minibatch, then the SGD update."""
    X, Y = w.X.astype(dtype), w.Y.astype(dtype)
    lr = np.asarray(w.lr, dtype)

    def run() -> tuple[np.ndarray, Params]:
        params = tuple(p.astype(dtype) for p in params0)
        losses = []
        for _ in range(w.epochs):
            for s in _batches(w):
                loss, grads = loss_and_grads(w.cell, params, X[s], Y[s])  # type: ignore[arg-type]
                losses.append(loss)
                for p, g in zip(params, grads, strict=True):
                    p -= lr * g
        return np.array(losses), _f64(params)

    return run


# ---------------------------------------------------------------------------
# PyTorch eager.


def torch_row(w: RnnWorkload, dtype: str, params0: Params) -> Run:
    """PyTorch eager: ``nn.RNN(nonlinearity='tanh')`` or ``nn.LSTM`` (``batch_first``)
    and ``nn.Linear``; the loss ``((y - t)^2).sum() / (2 m)``; ``optim.SGD`` over every
    parameter but ``bias_hh_l0``, held at zero (symbp's one bias is ``bias_ih_l0``);
    :data:`TORCH_THREADS` intra-op threads (set when the function runs)."""
    import torch

    tdt = getattr(torch, dtype)
    n = w.hidden
    layer = torch.nn.RNN if w.cell == "elman" else torch.nn.LSTM
    rnn = layer(w.X.shape[2], n, batch_first=True).to(tdt)
    head = torch.nn.Linear(n, w.Y.shape[2]).to(tdt)
    rnn.bias_hh_l0.requires_grad_(False)
    X = torch.tensor(w.X, dtype=tdt)
    Y = torch.tensor(w.Y, dtype=tdt)
    batches = [(X[s], Y[s]) for s in _batches(w)]
    ours = (rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, head.weight, head.bias)

    def run() -> tuple[np.ndarray, Params]:
        torch.set_num_threads(TORCH_THREADS)
        with torch.no_grad():
            for p, v in zip(ours, params0, strict=True):
                p.copy_(torch.tensor(v))
            rnn.bias_hh_l0.zero_()
        optimizer = torch.optim.SGD(ours, lr=w.lr)
        losses = []
        for _ in range(w.epochs):
            for x, t in batches:
                optimizer.zero_grad()
                out, _ = rnn(x)
                loss = ((head(out) - t) ** 2).sum() / (2 * len(x))
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
        return np.array(losses), _f64(p.detach().numpy() for p in ours)

    return run


# ---------------------------------------------------------------------------
# JAX, the whole run one jit.


def jax_scan_row(w: RnnWorkload, dtype: str, params0: Params) -> Run:
    """JAX, the whole run one ``jit``: ``lax.scan`` over the epochs, inside it over the
    full minibatches (then one step on the smaller last one), inside the loss over
    the time steps; ``value_and_grad`` of the batch loss, float64 with ``jax_enable_x64``."""
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    lax = jax.lax
    lr, cell = w.lr, w.cell

    def loss_fn(params, x, t):  # type: ignore[no-untyped-def]
        W, U, b, V, c = params
        m, n = x.shape[0], U.shape[1]

        def elman(h, xt):  # type: ignore[no-untyped-def]
            h = jnp.tanh(xt @ W.T + h @ U.T + b)
            return h, h

        def lstm(carry, xt):  # type: ignore[no-untyped-def]
            h, cs = carry
            z = xt @ W.T + h @ U.T + b
            i, f, g, o = jnp.split(z, 4, axis=1)
            cs = jax.nn.sigmoid(f) * cs + jax.nn.sigmoid(i) * jnp.tanh(g)
            h = jax.nn.sigmoid(o) * jnp.tanh(cs)
            return (h, cs), h

        h0 = jnp.zeros((m, n), x.dtype)
        xs = jnp.swapaxes(x, 0, 1)  # (T, m, F)
        if cell == "elman":
            _, hs = lax.scan(elman, h0, xs)
        else:
            _, hs = lax.scan(lstm, (h0, h0), xs)
        y = hs @ V.T + c  # (T, m, 1)
        return jnp.sum((y - jnp.swapaxes(t, 0, 1)) ** 2) / (2 * m)

    value_and_grad = jax.value_and_grad(loss_fn)

    def step(params, batch):  # type: ignore[no-untyped-def]
        loss, grads = value_and_grad(params, *batch)
        return jax.tree_util.tree_map(lambda p, g: p - lr * g, params, grads), loss

    X, Y = w.X.astype(dtype), w.Y.astype(dtype)
    full = len(X) // w.batch
    Xb = jnp.asarray(X[: full * w.batch].reshape(full, w.batch, *X.shape[1:]))
    Yb = jnp.asarray(Y[: full * w.batch].reshape(full, w.batch, *Y.shape[1:]))
    rest = (jnp.asarray(X[full * w.batch :]), jnp.asarray(Y[full * w.batch :]))
    has_rest = len(X) > full * w.batch

    def epoch(params, _):  # type: ignore[no-untyped-def]
        params, losses = lax.scan(step, params, (Xb, Yb))
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
