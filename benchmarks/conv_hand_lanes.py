"""A second hand-written fused Numba kernel for the digits conv net of
:mod:`conv_digits`: the minibatch's samples as vector lanes.

Where :mod:`conv_hand` runs sample by sample, this kernel keeps every per-sample
quantity as a row over the minibatch's samples (``f[j, s]``: feature ``j`` of sample
``s``), so that the conv, the pool, the dense product and the delta into the features
are multiply-adds of a broadcast weight with a contiguous run of samples: LLVM
vectorises them without ``fastmath`` (no sum is reassociated: each lane is one sample's
own sum, in the same order as the scalar code). Each minibatch's images are stored
pixel-major with the samples innermost (``Xb[batch][pixel * B + s]``, B the batch size,
the last batch padded with zero images; built once per run, inside the timing), so one
row of six conv positions of all the batch's samples is a single run of 6 B lanes: the
conv's inner loop is 192 long (a short loop pays LLVM's run-time overlap checks on
every entry). The parameters stay in PyTorch's layout (``K[o, u * 3 + v]``,
``W[k, o * 9 + cell]``).

Per minibatch: for each channel, its conv rows, then the pool of its nine cells (relu
after the pool: ``max(relu(z)) = relu(max(z))``; ties to the first maximum in row-major
order, strict ``>``), the features and their arg-max; the logits, softmax (every lane's
exp in one vectorised pass, :func:`handwritten._exp_neg`, as the dense hand kernel
does), loss and the logits' delta per sample; the dense weight gradient from a
sample-major copy of the features (vectorised along the 72 features); the delta into the
features; the conv kernel gradient, sample by sample, over the arg-max positions only (a
max-pool delta is zero elsewhere; relu's derivative as a select, not a branch), its ten
sums (nine weights and the bias) in registers: kept in ``gK``, each sum waits on its own
store; then the SGD update.
One ``@njit(cache=True, fastmath=False)`` function runs every epoch.
"""

from __future__ import annotations

import numpy as np
from conv_peers import Run
from conv_workload import (
    CHANNELS,
    CONV_SIDE,
    FEATURES,
    KERNEL,
    POOL_SIDE,
    SIDE,
    ConvWorkload,
    Params,
)
from handwritten import _exp_neg, scratch
from numba import njit

C, KS, S, CS, PS, NF = CHANNELS, KERNEL, SIDE, CONV_SIDE, POOL_SIDE, FEATURES
NC = 10  # classes
KK, NCELL = KERNEL * KERNEL, POOL_SIDE * POOL_SIDE


@njit(cache=True, fastmath=False, error_model="numpy")
def train_lanes(
    Xb: np.ndarray, yb: np.ndarray, n: int, K: np.ndarray, cb: np.ndarray, W: np.ndarray,
    b: np.ndarray, lr: float, one: float, epochs: int, losses: np.ndarray, E: tuple,
) -> None:  # fmt: skip
    """Minibatch SGD of the conv net, in place on the parameters.

    ``Xb`` (batches, 64 * B): minibatch ``bi``'s images pixel-major, pixel ``r * 8 + c``
    of sample ``s`` at ``(r * 8 + c) * B + s`` (B: the batch size; the last batch's
    lanes past the ``n`` images are zeros); ``yb`` (batches, B) the labels; ``K`` (8, 9)
    the conv kernel ``K[o, u * 3 + v]``; ``cb`` (8); ``W`` (10, 72) by class and
    PyTorch's flatten index ``o * 9 + cell``; ``b`` (10); ``lr`` and ``one`` in the
    dtype; ``losses`` (steps,) receives each step's batch-mean loss before its update;
    ``E``: :func:`handwritten.scratch` for ``10 * B`` values (the softmax's exp).
    """
    dt = Xb.dtype
    zero = one - one
    nb, B = yb.shape
    z = np.empty((CS, CS * B), dt)  # one channel's conv rows: z[i, j * B + s]
    f = np.empty((NF, B), dt)  # pooled relu'd features by sample
    arg = np.empty((NF, B), np.int64)  # the arg-max's top-left pixel
    fS = np.empty((B, NF), dt)  # the same features, sample-major
    z2 = np.empty((NC, B), dt)
    e = np.empty((NC, B), dt)
    ef = e.reshape(NC * B)  # the same memory, flat for _exp_neg
    zmax = np.empty(B, dt)
    se = np.empty(B, dt)
    df = np.empty((NF, B), dt)
    gK = np.empty((C, KK), dt)
    gc = np.empty(C, dt)
    gW = np.empty((NC, NF), dt)
    gb = np.empty(NC, dt)
    mf = np.empty(1, dt)
    step = 0
    for _ in range(epochs):
        for bi in range(nb):
            m = min(B, n - bi * B)
            mf[0] = m
            scale = mf[0]
            for o in range(C):
                # conv: each row i of positions is one run of 6 * B lanes (j, s)
                c0 = cb[o]
                for i in range(CS):
                    for l in range(CS * B):
                        z[i, l] = c0
                    for u in range(KS):
                        for v in range(KS):
                            k = K[o, u * KS + v]
                            base = ((i + u) * S + v) * B
                            for l in range(CS * B):
                                z[i, l] += k * Xb[bi, base + l]
                # max-pool 2 (first maximum), then relu
                for cell in range(NCELL):
                    pi, pj = cell // PS, cell % PS
                    jf, i0, a = o * NCELL + cell, 2 * pi, 2 * pj * B
                    t = 2 * pi * S + 2 * pj
                    for s in range(B):
                        best, at = z[i0, a + s], t
                        if z[i0, a + B + s] > best:
                            best, at = z[i0, a + B + s], t + 1
                        if z[i0 + 1, a + s] > best:
                            best, at = z[i0 + 1, a + s], t + S
                        if z[i0 + 1, a + B + s] > best:
                            best, at = z[i0 + 1, a + B + s], t + S + 1
                        f[jf, s] = best if best > zero else zero
                        arg[jf, s] = at
            # logits
            for k in range(NC):
                bk = b[k]
                for s in range(B):
                    z2[k, s] = bk
                for jf in range(NF):
                    wk = W[k, jf]
                    for s in range(B):
                        z2[k, s] += wk * f[jf, s]
            # softmax, cross-entropy, the logits' delta (batch mean) in e
            for s in range(B):
                zmax[s] = z2[0, s]
                se[s] = zero
            for k in range(1, NC):
                for s in range(B):
                    zmax[s] = max(zmax[s], z2[k, s])
            for k in range(NC):
                for s in range(B):
                    e[k, s] = z2[k, s] - zmax[s]
            _exp_neg(ef, NC * B, E)  # every lane's exp in one vectorised pass
            for k in range(NC):
                for s in range(m):
                    se[s] += e[k, s]
            total = 0.0
            for s in range(m):
                total += zmax[s] + np.log(se[s]) - z2[yb[bi, s], s]
            losses[step] = total / m
            step += 1
            for k in range(NC):
                gbk = zero
                for s in range(m):
                    v = e[k, s] / se[s]
                    if yb[bi, s] == k:
                        v -= one
                    e[k, s] = v / scale
                    gbk += e[k, s]
                gb[k] = gbk
                for s in range(m, B):
                    e[k, s] = zero
            # dense weight gradient, along the features
            for jf in range(NF):
                for s in range(m):
                    fS[s, jf] = f[jf, s]
            gW[:] = zero
            for k in range(NC):
                for s in range(m):
                    d = e[k, s]
                    for jf in range(NF):
                        gW[k, jf] += d * fS[s, jf]
            # delta into the features (before the update)
            for jf in range(NF):
                for s in range(B):
                    df[jf, s] = zero
                for k in range(NC):
                    wk = W[k, jf]
                    for s in range(B):
                        df[jf, s] += wk * e[k, s]
            # conv kernel and bias gradients over the arg-max positions, each of the
            # ten sums in a register (a sum kept in gK would wait on its own store)
            for o in range(C):
                a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = a8 = ac = zero
                for cell in range(NCELL):
                    jf = o * NCELL + cell
                    for s in range(m):
                        d = df[jf, s] if f[jf, s] > zero else zero  # relu'; no branch
                        t = arg[jf, s] * B + s
                        ac += d
                        a0 += d * Xb[bi, t]
                        a1 += d * Xb[bi, t + B]
                        a2 += d * Xb[bi, t + 2 * B]
                        a3 += d * Xb[bi, t + S * B]
                        a4 += d * Xb[bi, t + (S + 1) * B]
                        a5 += d * Xb[bi, t + (S + 2) * B]
                        a6 += d * Xb[bi, t + 2 * S * B]
                        a7 += d * Xb[bi, t + (2 * S + 1) * B]
                        a8 += d * Xb[bi, t + (2 * S + 2) * B]
                gc[o] = ac
                gK[o, 0], gK[o, 1], gK[o, 2] = a0, a1, a2
                gK[o, 3], gK[o, 4], gK[o, 5] = a3, a4, a5
                gK[o, 6], gK[o, 7], gK[o, 8] = a6, a7, a8
            # SGD
            for o in range(C):
                cb[o] -= lr * gc[o]
                for q in range(KK):
                    K[o, q] -= lr * gK[o, q]
            for k in range(NC):
                b[k] -= lr * gb[k]
                for jf in range(NF):
                    W[k, jf] -= lr * gW[k, jf]


def batches(
    X: np.ndarray, labels: np.ndarray, batch: int, dtype: str
) -> tuple[np.ndarray, np.ndarray]:
    """``X`` (n, 1, 8, 8) -> ``Xb`` (batches, 64 * batch), each minibatch pixel-major
    with the samples innermost, the last one padded with zero images; ``labels`` ->
    ``yb`` (batches, batch), padded with 0."""
    n = len(X)
    nb = -(-n // batch)
    flat = np.zeros((nb * batch, SIDE * SIDE), dtype)
    flat[:n] = X.reshape(n, -1)
    Xb = np.ascontiguousarray(flat.reshape(nb, batch, -1).transpose(0, 2, 1)).reshape(nb, -1)
    yb = np.zeros(nb * batch, np.int64)
    yb[:n] = labels
    return Xb, yb.reshape(nb, batch)


def lanes_row(w: ConvWorkload, dtype: str, params0: Params) -> Run:
    """The samples-as-lanes kernel as a row of :mod:`conv_digits` (see :mod:`conv_peers`)."""
    lr, one = np.dtype(dtype).type(w.lr), np.dtype(dtype).type(1)
    E = scratch(dtype, NC * w.batch)

    def run() -> tuple[np.ndarray, Params]:
        Xb, yb = batches(w.X, w.labels, w.batch, dtype)  # in the timing: once per run
        K0, c0, W0, b0 = params0
        K = np.array(K0.reshape(C, KK), dtype)
        cb, W, b = np.array(c0, dtype), np.array(W0, dtype), np.array(b0, dtype)
        losses = np.empty(w.steps)
        train_lanes(Xb, yb, len(w.X), K, cb, W, b, lr, one, w.epochs, losses, E)
        K4 = K.reshape(C, 1, KS, KS)
        return losses, (K4.astype(np.float64), cb.astype(np.float64), W.astype(np.float64),
                        b.astype(np.float64))  # fmt: skip

    return run
