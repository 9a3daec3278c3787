"""Our own hand-written Numba kernels for the recurrent workload of :mod:`rnn_sine`: the
bar for symbp's generated recurrent trainer.

One ``@njit(cache=True, fastmath=False)`` function per cell runs every epoch; per
minibatch it runs, window by window, the forward pass over the steps (keeping each
step's state and, for the LSTM, its activated gates), the loss, the backward recursion
of full BPTT and the gradient sums, then the SGD update. Plain loops; the sizes come
from the arrays (so the tests run the same kernels on small nets).

Choices a careful person makes by hand, each with its reason:

- Every inner loop runs along a contiguous row with no reduction, so that LLVM
  vectorises it without ``fastmath`` (which would reorder sums and lose the 1e-10
  agreement with the NumPy row): the forward ``z += U^T[k, :] h[k]`` reads the
  recurrent weights transposed (``Ut``, ``(n, G n)``, refreshed after each update); the
  backward ``dh += da[j] U[j, :]`` and the gradient ``gU[j, :] += da[j] h_{t-1}`` read
  ``U`` and ``gU`` by rows.
- The head ``y_t = V h_t + c`` (one output) is one dot product per step; its gradients
  are summed in the same backward pass.
- One feature: ``W x_t`` is a column times a scalar.

Conversions between PyTorch's layout (:mod:`rnn_workload`) and these happen outside the
timed kernel call, once per run.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from rnn_peers import Run, _f64
from rnn_workload import Params, RnnWorkload


@njit(cache=True, fastmath=False, error_model="numpy")
def train_elman(
    X: np.ndarray, Y: np.ndarray, W: np.ndarray, U: np.ndarray, Ut: np.ndarray,
    b: np.ndarray, V: np.ndarray, c: np.ndarray, lr: float, epochs: int, batch: int,
    losses: np.ndarray,
) -> None:  # fmt: skip
    """Minibatch SGD of the Elman tanh net, in place on the parameters.

    ``X``, ``Y`` (N, T) the windows' inputs and targets; ``W`` (n,) the input weights of
    the one feature; ``U`` (n, n) and ``Ut`` its transpose; ``b`` (n); ``V`` (n,) the
    head's weights, ``c`` (1,) its bias; ``losses`` (steps,) receives each step's batch
    loss before its update.
    """
    dt = X.dtype
    N, T = X.shape
    n = b.shape[0]
    h = np.zeros((T + 1, n), dt)  # h[0] = h_0 = 0
    r = np.empty(T, dt)
    da = np.empty(n, dt)
    dh = np.empty(n, dt)
    gW = np.empty(n, dt)
    gU = np.empty((n, n), dt)
    gb = np.empty(n, dt)
    gV = np.empty(n, dt)
    gc = np.empty(1, dt)
    mm = np.empty(1, dt)
    mm[0] = 1
    one = mm[0]  # 1 in the dtype: a bare 1 would promote float32 to float64
    step = 0
    for _ in range(epochs):
        for s in range(0, N, batch):
            e_end = min(s + batch, N)
            m = e_end - s
            gW[:] = 0
            gU[:] = 0
            gb[:] = 0
            gV[:] = 0
            gc[0] = 0
            total = 0.0
            mm[0] = m  # the batch size in the dtype
            for e in range(s, e_end):
                for t in range(T):  # forward
                    z = h[t + 1]
                    for j in range(n):
                        z[j] = W[j] * X[e, t] + b[j]
                    for k in range(n):
                        hk = h[t, k]
                        for j in range(n):
                            z[j] += Ut[k, j] * hk
                    y = c[0]
                    for j in range(n):
                        z[j] = np.tanh(z[j])
                        y += V[j] * z[j]
                    r[t] = y - Y[e, t]
                    total += r[t] * r[t]
                dh[:] = 0  # dz_{T+1} U = 0
                for t in range(T - 1, -1, -1):  # backward
                    dy = r[t] / mm[0]
                    gc[0] += dy
                    ht = h[t + 1]
                    for j in range(n):
                        gV[j] += dy * ht[j]
                        da[j] = (dy * V[j] + dh[j]) * (one - ht[j] * ht[j])
                    dh[:] = 0
                    hp = h[t]
                    for j in range(n):
                        d = da[j]
                        gW[j] += d * X[e, t]
                        gb[j] += d
                        for k in range(n):
                            gU[j, k] += d * hp[k]
                            dh[k] += d * U[j, k]
            losses[step] = total / (2 * m)
            step += 1
            for j in range(n):
                W[j] -= lr * gW[j]
                b[j] -= lr * gb[j]
                V[j] -= lr * gV[j]
                for k in range(n):
                    U[j, k] -= lr * gU[j, k]
            c[0] -= lr * gc[0]
            for j in range(n):
                for k in range(n):
                    Ut[k, j] = U[j, k]


@njit(cache=True, fastmath=False, error_model="numpy")
def train_lstm(
    X: np.ndarray, Y: np.ndarray, W: np.ndarray, U: np.ndarray, Ut: np.ndarray,
    b: np.ndarray, V: np.ndarray, c: np.ndarray, lr: float, epochs: int, batch: int,
    losses: np.ndarray,
) -> None:  # fmt: skip
    """Minibatch SGD of the LSTM net (PyTorch's gates ``i, f, g, o``), in place.

    As :func:`train_elman` with ``W`` (4n,), ``U`` (4n, n), ``Ut`` (n, 4n), ``b`` (4n);
    each step keeps its activated gates ``a[t]`` (4n) and its cell state ``cs[t + 1]``.
    """
    dt = X.dtype
    N, T = X.shape
    G = b.shape[0]
    n = G // 4
    h = np.zeros((T + 1, n), dt)
    cs = np.zeros((T + 1, n), dt)
    tc = np.empty((T, n), dt)  # tanh(c_t)
    a = np.empty((T, G), dt)
    r = np.empty(T, dt)
    da = np.empty(G, dt)
    dh = np.empty(n, dt)
    dc = np.zeros(n, dt)
    gW = np.empty(G, dt)
    gU = np.empty((G, n), dt)
    gb = np.empty(G, dt)
    gV = np.empty(n, dt)
    gc = np.empty(1, dt)
    mm = np.empty(1, dt)
    mm[0] = 1
    one = mm[0]  # 1 in the dtype: a bare 1 would promote float32 to float64
    step = 0
    for _ in range(epochs):
        for s in range(0, N, batch):
            e_end = min(s + batch, N)
            m = e_end - s
            gW[:] = 0
            gU[:] = 0
            gb[:] = 0
            gV[:] = 0
            gc[0] = 0
            total = 0.0
            mm[0] = m  # the batch size in the dtype
            for e in range(s, e_end):
                for t in range(T):  # forward
                    z = a[t]
                    for j in range(G):
                        z[j] = W[j] * X[e, t] + b[j]
                    for k in range(n):
                        hk = h[t, k]
                        for j in range(G):
                            z[j] += Ut[k, j] * hk
                    y = c[0]
                    for j in range(n):
                        i = one / (one + np.exp(-z[j]))
                        f = one / (one + np.exp(-z[n + j]))
                        g = np.tanh(z[2 * n + j])
                        o = one / (one + np.exp(-z[3 * n + j]))
                        z[j], z[n + j], z[2 * n + j], z[3 * n + j] = i, f, g, o
                        cs[t + 1, j] = f * cs[t, j] + i * g
                        tc[t, j] = np.tanh(cs[t + 1, j])
                        h[t + 1, j] = o * tc[t, j]
                        y += V[j] * h[t + 1, j]
                    r[t] = y - Y[e, t]
                    total += r[t] * r[t]
                dh[:] = 0
                dc[:] = 0
                for t in range(T - 1, -1, -1):  # backward
                    dy = r[t] / mm[0]
                    gc[0] += dy
                    at = a[t]
                    for j in range(n):
                        gV[j] += dy * h[t + 1, j]
                        i, f, g, o = at[j], at[n + j], at[2 * n + j], at[3 * n + j]
                        dhj = dy * V[j] + dh[j]
                        dcj = dhj * o * (one - tc[t, j] * tc[t, j]) + dc[j]
                        da[j] = dcj * g * i * (one - i)
                        da[n + j] = dcj * cs[t, j] * f * (one - f)
                        da[2 * n + j] = dcj * i * (one - g * g)
                        da[3 * n + j] = dhj * tc[t, j] * o * (one - o)
                        dc[j] = dcj * f
                    dh[:] = 0
                    hp = h[t]
                    for j in range(G):
                        d = da[j]
                        gW[j] += d * X[e, t]
                        gb[j] += d
                        for k in range(n):
                            gU[j, k] += d * hp[k]
                            dh[k] += d * U[j, k]
            losses[step] = total / (2 * m)
            step += 1
            for j in range(G):
                W[j] -= lr * gW[j]
                b[j] -= lr * gb[j]
                for k in range(n):
                    U[j, k] -= lr * gU[j, k]
            for j in range(n):
                V[j] -= lr * gV[j]
            c[0] -= lr * gc[0]
            for j in range(G):
                for k in range(n):
                    Ut[k, j] = U[j, k]


KERNELS = {"elman": train_elman, "lstm": train_lstm}


def hand_row(w: RnnWorkload, dtype: str, params0: Params) -> Run:
    """Our Numba kernel of ``w.cell``, per window (one feature, one output)."""
    if w.X.shape[2] != 1 or w.Y.shape[2] != 1:
        raise ValueError("the hand kernels take one feature and one output")
    X = np.ascontiguousarray(w.X[:, :, 0], dtype)
    Y = np.ascontiguousarray(w.Y[:, :, 0], dtype)
    kernel = KERNELS[w.cell]
    lr = np.dtype(dtype).type(w.lr)

    def run() -> tuple[np.ndarray, Params]:
        W0, U0, b0, V0, c0 = params0
        # copies (``np.array`` copies by default): the kernel updates them in place
        W, U, Ut, b, V, c = (
            np.array(p, dtype, order="C") for p in (W0[:, 0], U0, U0.T, b0, V0[0], c0)
        )
        losses = np.empty(w.steps, dtype)
        kernel(X, Y, W, U, Ut, b, V, c, lr, w.epochs, w.batch, losses)
        return losses.astype(np.float64), _f64((W[:, None], U, b, V[None, :], c))

    return run
