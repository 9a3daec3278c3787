"""Our hand-written Numba kernels for :mod:`rnn_sine` with the minibatch's windows as
vector lanes: the second bar for symbp's generated recurrent trainer.

As :mod:`rnn_hand` (one ``@njit(cache=True)`` function per cell for the whole run, the
same math in the same order per window), but every per-window quantity is a row of
``L`` lanes, one per window of the minibatch (``h[t, j, :]``, ``z[j, :]``), so each
weight is loaded once per step for the whole batch and the inner loop runs along the
lanes, contiguous: ``z[j, :] += U[j, k] h[t, k, :]`` (the sums over ``k`` in the same
order as the per-window kernel). The gradient sums over the lanes (``gU[j, k] += sum_l
da[j, l] h[t, k, l]``) are reductions; ``fastmath={"reassoc"}`` lets LLVM vectorise them
(reassociation only: no FMA contraction, no finite-math assumptions), which changes the
order of those sums and so the last bits (within 1e-13 of the NumPy row here).
``tanh`` and the sigmoid are :func:`rnn_vtanh.act_tanh` and :func:`rnn_vtanh.act_sigmoid`,
branch-free arithmetic that the loops over the lanes vectorise (NumPy's ``tanh`` is a
scalar C call per value: about half of this kernel's time before), within 2 ulp.

Conversions between PyTorch's layout (:mod:`rnn_workload`) and these happen outside the
timed kernel call, once per run.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from rnn_peers import Run, _f64
from rnn_vtanh import act_sigmoid, act_tanh, quiet_inlining
from rnn_workload import Params, RnnWorkload

FASTMATH = {"reassoc"}


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def lanes_elman(
    X: np.ndarray, Y: np.ndarray, W: np.ndarray, U: np.ndarray, b: np.ndarray,
    V: np.ndarray, c: np.ndarray, lr: float, epochs: int, batch: int, losses: np.ndarray,
) -> None:  # fmt: skip
    """Minibatch SGD of the Elman tanh net, in place on the parameters; ``X``, ``Y``
    (N, T), ``W`` (n,), ``U`` (n, n), ``b`` (n,), ``V`` (n,), ``c`` (1,) as
    :func:`rnn_hand.train_elman`."""
    dt = X.dtype
    N, T = X.shape
    n = b.shape[0]
    h = np.zeros((T + 1, n, batch), dt)
    x = np.empty((T, batch), dt)
    r = np.empty((T, batch), dt)
    da = np.empty((n, batch), dt)
    dh = np.empty((n, batch), dt)
    dy = np.empty(batch, dt)
    gW = np.empty(n, dt)
    gU = np.empty((n, n), dt)
    gb = np.empty(n, dt)
    gV = np.empty(n, dt)
    mm = np.empty(1, dt)
    mm[0] = 1
    one = mm[0]  # 1 in the dtype: a bare 1 would promote float32 to float64
    step = 0
    for _ in range(epochs):
        for s in range(0, N, batch):
            L = min(s + batch, N) - s
            mm[0] = L
            gW[:] = 0
            gU[:] = 0
            gb[:] = 0
            gV[:] = 0
            gc = mm[0] - mm[0]
            for t in range(T):
                for l in range(L):
                    x[t, l] = X[s + l, t]
            total = 0.0
            for t in range(T):  # forward, every lane at once
                z = h[t + 1]
                for j in range(n):
                    for l in range(L):
                        z[j, l] = W[j] * x[t, l] + b[j]
                    for k in range(n):
                        u = U[j, k]
                        for l in range(L):
                            z[j, l] += u * h[t, k, l]
                    for l in range(L):
                        z[j, l] = act_tanh(z[j, l])
                for l in range(L):
                    y = c[0]
                    for j in range(n):
                        y += V[j] * z[j, l]
                    r[t, l] = y - Y[s + l, t]
                    total += r[t, l] * r[t, l]
            dh[:, :L] = 0
            for t in range(T - 1, -1, -1):  # backward
                for l in range(L):
                    dy[l] = r[t, l] / mm[0]
                    gc += dy[l]
                ht = h[t + 1]
                for j in range(n):
                    v, acc = V[j], mm[0] - mm[0]
                    for l in range(L):
                        acc += dy[l] * ht[j, l]
                        da[j, l] = (dy[l] * v + dh[j, l]) * (one - ht[j, l] * ht[j, l])
                    gV[j] += acc
                hp = h[t]
                dh[:, :L] = 0
                for j in range(n):
                    sw = mm[0] - mm[0]
                    sb = mm[0] - mm[0]
                    for l in range(L):
                        sw += da[j, l] * x[t, l]
                        sb += da[j, l]
                    gW[j] += sw
                    gb[j] += sb
                    for k in range(n):
                        u = U[j, k]
                        su = mm[0] - mm[0]
                        for l in range(L):
                            su += da[j, l] * hp[k, l]
                            dh[k, l] += da[j, l] * u
                        gU[j, k] += su
            losses[step] = total / (2 * L)
            step += 1
            for j in range(n):
                W[j] -= lr * gW[j]
                b[j] -= lr * gb[j]
                V[j] -= lr * gV[j]
                for k in range(n):
                    U[j, k] -= lr * gU[j, k]
            c[0] -= lr * gc


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def lanes_lstm(
    X: np.ndarray, Y: np.ndarray, W: np.ndarray, U: np.ndarray, b: np.ndarray,
    V: np.ndarray, c: np.ndarray, lr: float, epochs: int, batch: int, losses: np.ndarray,
) -> None:  # fmt: skip
    """Minibatch SGD of the LSTM net (gates ``i, f, g, o``), in place; ``W`` (4n,),
    ``U`` (4n, n), ``b`` (4n,) as :func:`rnn_hand.train_lstm`; each step keeps its
    activated gates ``a[t]`` (4n, L), its cell state and ``tanh`` of it."""
    dt = X.dtype
    N, T = X.shape
    G = b.shape[0]
    n = G // 4
    h = np.zeros((T + 1, n, batch), dt)
    cs = np.zeros((T + 1, n, batch), dt)
    tc = np.empty((T, n, batch), dt)
    a = np.empty((T, G, batch), dt)
    x = np.empty((T, batch), dt)
    r = np.empty((T, batch), dt)
    da = np.empty((G, batch), dt)
    dh = np.empty((n, batch), dt)
    dc = np.empty((n, batch), dt)
    dy = np.empty(batch, dt)
    dhv = np.empty(batch, dt)  # dE/dh_t of unit j, every lane
    dcv = np.empty(batch, dt)  # dE/dc_t of unit j, every lane
    gW = np.empty(G, dt)
    gU = np.empty((G, n), dt)
    gb = np.empty(G, dt)
    gV = np.empty(n, dt)
    mm = np.empty(1, dt)
    mm[0] = 1
    one = mm[0]  # 1 in the dtype: a bare 1 would promote float32 to float64
    step = 0
    for _ in range(epochs):
        for s in range(0, N, batch):
            L = min(s + batch, N) - s
            mm[0] = L
            zero = mm[0] - mm[0]
            gW[:] = 0
            gU[:] = 0
            gb[:] = 0
            gV[:] = 0
            gc = zero
            for t in range(T):
                for l in range(L):
                    x[t, l] = X[s + l, t]
            total = 0.0
            for t in range(T):  # forward
                z = a[t]
                for j in range(G):
                    for l in range(L):
                        z[j, l] = W[j] * x[t, l] + b[j]
                    for k in range(n):
                        u = U[j, k]
                        for l in range(L):
                            z[j, l] += u * h[t, k, l]
                for j in range(G):  # the gates, row by row in place: g tanh, i f o sigmoid
                    zj = z[j]
                    if 2 * n <= j < 3 * n:
                        for l in range(L):
                            zj[l] = act_tanh(zj[l])
                    else:
                        for l in range(L):
                            zj[l] = act_sigmoid(zj[l])
                for j in range(n):
                    gi, gf, gg, go = z[j], z[n + j], z[2 * n + j], z[3 * n + j]
                    cp, cn, tj, hj = cs[t, j], cs[t + 1, j], tc[t, j], h[t + 1, j]
                    for l in range(L):
                        cv = gf[l] * cp[l] + gi[l] * gg[l]
                        cn[l] = cv
                        tv = act_tanh(cv)
                        tj[l] = tv
                        hj[l] = go[l] * tv
                for l in range(L):
                    y = c[0]
                    for j in range(n):
                        y += V[j] * h[t + 1, j, l]
                    r[t, l] = y - Y[s + l, t]
                    total += r[t, l] * r[t, l]
            dh[:, :L] = 0
            dc[:, :L] = 0
            for t in range(T - 1, -1, -1):  # backward
                for l in range(L):
                    dy[l] = r[t, l] / mm[0]
                    gc += dy[l]
                at = a[t]
                for j in range(n):  # into the gates' pre-activations, one loop per quantity
                    gi, gf, gg, go = at[j], at[n + j], at[2 * n + j], at[3 * n + j]
                    tj, cp, hj, dhj, dcj = tc[t, j], cs[t, j], h[t + 1, j], dh[j], dc[j]
                    acc = zero
                    v = V[j]
                    for l in range(L):
                        acc += dy[l] * hj[l]
                        dhv[l] = dy[l] * v + dhj[l]
                    gV[j] += acc
                    for l in range(L):
                        dcv[l] = dhv[l] * go[l] * (one - tj[l] * tj[l]) + dcj[l]
                    di, df, dg, do = da[j], da[n + j], da[2 * n + j], da[3 * n + j]
                    for l in range(L):
                        di[l] = dcv[l] * gg[l] * gi[l] * (one - gi[l])
                    for l in range(L):
                        df[l] = dcv[l] * cp[l] * gf[l] * (one - gf[l])
                    for l in range(L):
                        dg[l] = dcv[l] * gi[l] * (one - gg[l] * gg[l])
                    for l in range(L):
                        do[l] = dhv[l] * tj[l] * go[l] * (one - go[l])
                    for l in range(L):
                        dcj[l] = dcv[l] * gf[l]
                hp = h[t]
                dh[:, :L] = 0
                for j in range(G):
                    sw = zero
                    sb = zero
                    for l in range(L):
                        sw += da[j, l] * x[t, l]
                        sb += da[j, l]
                    gW[j] += sw
                    gb[j] += sb
                    for k in range(n):
                        u = U[j, k]
                        su = zero
                        for l in range(L):
                            su += da[j, l] * hp[k, l]
                            dh[k, l] += da[j, l] * u
                        gU[j, k] += su
            losses[step] = total / (2 * L)
            step += 1
            for j in range(G):
                W[j] -= lr * gW[j]
                b[j] -= lr * gb[j]
                for k in range(n):
                    U[j, k] -= lr * gU[j, k]
            for j in range(n):
                V[j] -= lr * gV[j]
            c[0] -= lr * gc


KERNELS = {"elman": lanes_elman, "lstm": lanes_lstm}


def lanes_row(w: RnnWorkload, dtype: str, params0: Params) -> Run:
    """Our batch-lanes Numba kernel of ``w.cell`` (one feature, one output)."""
    if w.X.shape[2] != 1 or w.Y.shape[2] != 1:
        raise ValueError("the hand kernels take one feature and one output")
    X = np.ascontiguousarray(w.X[:, :, 0], dtype)
    Y = np.ascontiguousarray(w.Y[:, :, 0], dtype)
    kernel = KERNELS[w.cell]
    lr = np.dtype(dtype).type(w.lr)

    def run() -> tuple[np.ndarray, Params]:
        W0, U0, b0, V0, c0 = params0
        # copies (``np.array`` copies by default): the kernel updates them in place
        W, U, b, V, c = (np.array(p, dtype, order="C") for p in (W0[:, 0], U0, b0, V0[0], c0))
        losses = np.empty(w.steps, dtype)
        with quiet_inlining():  # compiles on the first call
            kernel(X, Y, W, U, b, V, c, lr, w.epochs, w.batch, losses)
        return losses.astype(np.float64), _f64((W[:, None], U, b, V[None, :], c))

    return run
