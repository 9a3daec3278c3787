"""Our own hand-written fused Numba kernel for the digits conv net of :mod:`conv_digits`:
the bar the generated conv kernel must reach.

One ``@njit(cache=True, fastmath=False)`` function runs every epoch; per minibatch it
runs, sample by sample, the forward pass, the loss, the backward pass and the gradient
sums, then the SGD update; plain loops throughout, the sizes of this net module
constants (Numba freezes them, so every inner loop has a known trip count).

Choices a careful person makes by hand, each with its reason:

- The conv one channel at a time with its nine weights in registers, each output a
  scalar sum over the 3x3 patch in (u, v) order after the bias (no array traffic
  between the terms; about 15% faster here than channels as an 8-wide vector, which
  loads and stores each partial sum). The result is kept as ``z[p, o]`` (position
  ``p = i * 6 + j``, channel ``o``), so the pool compares the eight channels of a
  window position as one contiguous row.
- Pool before relu. ``max(relu(z)) = relu(max(z))`` (relu is monotone), so the pool
  reads ``z`` and relu runs on 72 values, not 288; the delta reaches the arg-max
  position only where the maximum is positive. Ties go to the first maximum in the
  window's row-major order (strict ``>``), as in NumPy's ``argmax`` and PyTorch's
  ``max_pool2d``; where the tied values are not positive the delta is zero either way.
- The pooled features in (cell, channel) order ``f[cell * 8 + o]`` rather than
  PyTorch's (channel, cell): the dense weights are stored permuted to match
  (``Wt[cell * 8 + o, k] = W[k, o * 9 + cell]``), (in, out) for the forward product and
  the weight gradient (vectorised along the 10 outputs) plus an (out, in) copy for the
  delta into the features (vectorised along the 72 inputs), refreshed after each update.
- The kernel gradient sums only over the arg-max positions (72 of the 288: a max-pool
  delta is zero elsewhere), 9 multiply-adds each.

Conversions between PyTorch's layout (:mod:`conv_workload`) and these happen outside the
timed kernel call, once per run.
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
from numba import njit

C, KS, S, CS, PS, NF = CHANNELS, KERNEL, SIDE, CONV_SIDE, POOL_SIDE, FEATURES
NC = 10  # classes
KK, NP, NCELL = KERNEL * KERNEL, CONV_SIDE * CONV_SIDE, POOL_SIDE * POOL_SIDE


@njit(cache=True, fastmath=False, error_model="numpy")
def train(
    X: np.ndarray, y: np.ndarray, Kt: np.ndarray, cb: np.ndarray, Wt: np.ndarray,
    Wn: np.ndarray, b: np.ndarray, lr: float, one: float, epochs: int, batch: int,
    losses: np.ndarray,
) -> None:  # fmt: skip
    """Minibatch SGD of the conv net, in place on the parameters.

    ``X`` (n, 64): the images row-major; ``y`` (n,) the labels; ``Kt`` (9, 8) the conv
    kernel ``Kt[u * 3 + v, o]``; ``cb`` (8) its bias; ``Wt`` (72, 10) the dense weights
    by pooled feature ``cell * 8 + o`` and class; ``Wn`` (10, 72) the same transposed;
    ``b`` (10); ``lr`` and ``one`` in the dtype; ``losses`` (steps,) receives each
    step's batch-mean loss before its update.
    """
    dt = X.dtype
    zero = one - one
    n = X.shape[0]
    z = np.empty((NP, C), dt)  # conv pre-activation of one sample
    f = np.empty(NF, dt)  # pooled, relu'd features, (cell, channel) order
    arg = np.empty(NF, np.int64)  # the arg-max position of each feature
    z2 = np.empty(NC, dt)
    e = np.empty(NC, dt)
    df = np.empty(NF, dt)
    gK = np.empty((KK, C), dt)
    gc = np.empty(C, dt)
    gW = np.empty((NF, NC), dt)
    gb = np.empty(NC, dt)
    mf = np.empty(1, dt)
    step = 0
    for _ in range(epochs):
        for s in range(0, n, batch):
            m = min(batch, n - s)
            mf[0] = m
            scale = mf[0]
            gK[:] = zero
            gc[:] = zero
            gW[:] = zero
            gb[:] = zero
            total = 0.0
            for r in range(s, s + m):
                # conv: z[p, o] = cb[o] + sum_q x[patch(p, q)] * Kt[q, o], the kernel's
                # nine weights of channel o in registers
                for o in range(C):
                    k0, k1, k2 = Kt[0, o], Kt[1, o], Kt[2, o]
                    k3, k4, k5 = Kt[3, o], Kt[4, o], Kt[5, o]
                    k6, k7, k8 = Kt[6, o], Kt[7, o], Kt[8, o]
                    c0 = cb[o]
                    for i in range(CS):
                        for j in range(CS):
                            t = i * S + j
                            acc = c0 + X[r, t] * k0
                            acc += X[r, t + 1] * k1
                            acc += X[r, t + 2] * k2
                            acc += X[r, t + S] * k3
                            acc += X[r, t + S + 1] * k4
                            acc += X[r, t + S + 2] * k5
                            acc += X[r, t + 2 * S] * k6
                            acc += X[r, t + 2 * S + 1] * k7
                            acc += X[r, t + 2 * S + 2] * k8
                            z[i * CS + j, o] = acc
                # max-pool 2 (first maximum), then relu
                for pi in range(PS):
                    for pj in range(PS):
                        cell = pi * PS + pj
                        p0 = 2 * pi * CS + 2 * pj
                        for o in range(C):
                            best, at = z[p0, o], p0
                            if z[p0 + 1, o] > best:
                                best, at = z[p0 + 1, o], p0 + 1
                            if z[p0 + CS, o] > best:
                                best, at = z[p0 + CS, o], p0 + CS
                            if z[p0 + CS + 1, o] > best:
                                best, at = z[p0 + CS + 1, o], p0 + CS + 1
                            f[cell * C + o] = best if best > zero else zero
                            arg[cell * C + o] = at
                # dense + softmax + cross-entropy
                for k in range(NC):
                    z2[k] = b[k]
                for jf in range(NF):
                    fj = f[jf]
                    for k in range(NC):
                        z2[k] += fj * Wt[jf, k]
                zmax = z2[0]
                for k in range(1, NC):
                    zmax = max(zmax, z2[k])
                se = zero
                for k in range(NC):
                    e[k] = np.exp(z2[k] - zmax)
                    se += e[k]
                label = y[r]
                total += zmax + np.log(se) - z2[label]
                # delta of the logits (batch mean), stored in e
                for k in range(NC):
                    e[k] = e[k] / se
                e[label] -= one
                for k in range(NC):
                    e[k] = e[k] / scale
                    gb[k] += e[k]
                for jf in range(NF):
                    fj = f[jf]
                    for k in range(NC):
                        gW[jf, k] += fj * e[k]
                # delta into the features, before the update
                for jf in range(NF):
                    df[jf] = zero
                for k in range(NC):
                    ek = e[k]
                    for jf in range(NF):
                        df[jf] += ek * Wn[k, jf]
                # routed to the arg-max (relu: only where the maximum is positive)
                for cell in range(NCELL):
                    for o in range(C):
                        jf = cell * C + o
                        d = df[jf] if f[jf] > zero else zero
                        gc[o] += d
                        p = arg[jf]
                        base = (p // CS) * S + p % CS
                        for u in range(KS):
                            for v in range(KS):
                                gK[u * KS + v, o] += d * X[r, base + u * S + v]
            losses[step] = total / m
            step += 1
            for q in range(KK):
                for o in range(C):
                    Kt[q, o] -= lr * gK[q, o]
            for o in range(C):
                cb[o] -= lr * gc[o]
            for jf in range(NF):
                for k in range(NC):
                    Wt[jf, k] -= lr * gW[jf, k]
            for k in range(NC):
                b[k] -= lr * gb[k]
                for jf in range(NF):
                    Wn[k, jf] = Wt[jf, k]


def _perm() -> np.ndarray:
    """``perm[cell * 8 + o] = o * 9 + cell``: PyTorch's flatten index of each of ours."""
    cells, chans = np.meshgrid(np.arange(NCELL), np.arange(C), indexing="ij")
    return (chans * NCELL + cells).ravel()


def to_kernel(params: Params, dtype: str) -> tuple[np.ndarray, ...]:
    """PyTorch's layout -> the kernel's ``(Kt, cb, Wt, Wn, b)`` in ``dtype``."""
    K, c, W, b = params
    Wt = np.ascontiguousarray(np.asarray(W)[:, _perm()].T, dtype)
    return (
        np.ascontiguousarray(np.asarray(K).reshape(C, KK).T, dtype),
        np.array(c, dtype),
        Wt,
        np.ascontiguousarray(Wt.T),
        np.array(b, dtype),
    )


def from_kernel(Kt: np.ndarray, cb: np.ndarray, Wt: np.ndarray, b: np.ndarray) -> Params:
    """The kernel's layout -> PyTorch's, in float64."""
    W = np.empty((NC, NF))
    W[:, _perm()] = Wt.T
    K = Kt.T.reshape(C, 1, KS, KS).astype(np.float64)
    return K, cb.astype(np.float64), W, b.astype(np.float64)


def hand_row(w: ConvWorkload, dtype: str, params0: Params) -> Run:
    """The fused loop kernel as a row of :mod:`conv_digits` (see :mod:`conv_peers`)."""
    X = np.ascontiguousarray(w.X.reshape(len(w.X), -1), dtype)
    y = np.ascontiguousarray(w.labels, np.int64)
    lr, one = np.dtype(dtype).type(w.lr), np.dtype(dtype).type(1)

    def run() -> tuple[np.ndarray, Params]:
        Kt, cb, Wt, Wn, b = to_kernel(params0, dtype)
        losses = np.empty(w.steps)
        train(X, y, Kt, cb, Wt, Wn, b, lr, one, w.epochs, w.batch, losses)
        return losses, from_kernel(Kt, cb, Wt, b)

    return run
