"""Our hand-written Numba kernel for :mod:`rnn_sine` with the minibatch's windows as lanes
and the recurrent products as BLAS gemm calls: the third bar for symbp's generated
recurrent trainer.

As :mod:`rnn_hand_lanes` (one ``@njit(cache=True)`` function for the whole run, every
per-window quantity a row of ``L`` lanes, :func:`rnn_vtanh.act_tanh` for ``tanh`` and the
sigmoid), but the three products with ``U`` go to BLAS through ``np.dot`` inside the
kernel (Numba calls SciPy's ``cython_blas`` gemm, float64 or float32):

- forward, each step: ``z_t = U h_{t-1}`` ((G n, n) times (n, L));
- backward, each step: ``U^T da_t`` ((n, G n) times (G n, L), ``U^T`` kept as a copy
  refreshed after each update) into ``dE/dh_{t-1}``;
- the recurrent weights' gradient once per minibatch: ``gU = DA HP^T`` with ``DA``
  (G n, T L) every step's ``da_t`` side by side and ``HP`` (n, T L) every step's
  ``h_{t-1}``: one product over all steps and lanes.

One cell kernel with a flag (Elman: ``G = 1``; LSTM: ``G = 4``, gates ``i, f, g, o``).
Sums run in BLAS's order, so the last bits differ from the NumPy row (within 1e-13).
Numba's BLAS calls make the first compile take longer; they cache like the others.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from rnn_peers import Run, _f64
from rnn_vtanh import act_sigmoid, act_tanh, quiet_inlining
from rnn_workload import Params, RnnWorkload

FASTMATH = {"reassoc"}


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def train_blas(
    X: np.ndarray, Y: np.ndarray, W: np.ndarray, U: np.ndarray, Ut: np.ndarray,
    b: np.ndarray, V: np.ndarray, c: np.ndarray, lr: float, epochs: int, batch: int,
    losses: np.ndarray, lstm: bool,
) -> None:  # fmt: skip
    """Minibatch SGD in place on the parameters: ``X``, ``Y`` (N, T); ``W`` (G n,),
    ``U`` (G n, n) and ``Ut`` its transpose (n, G n), ``b`` (G n,), ``V`` (n,), ``c``
    (1,); ``lstm`` selects the cell (see the module docstring)."""
    dt = X.dtype
    N, T = X.shape
    n = Ut.shape[0]
    G = b.shape[0]
    mm = np.empty(1, dt)
    mm[0] = 1
    one = mm[0]
    zero = one - one
    gW = np.empty(G, dt)
    gU = np.empty((G, n), dt)
    gb = np.empty(G, dt)
    gV = np.empty(n, dt)
    step = 0
    for _ in range(epochs):
        for s in range(0, N, batch):
            L = min(s + batch, N) - s
            mm[0] = L
            h = np.zeros((T + 1, n, L), dt)
            cs = np.zeros((T + 1, n, L), dt)
            tc = np.empty((T, n, L), dt)
            a = np.empty((T, G, L), dt)
            x = np.empty((T, L), dt)
            r = np.empty((T, L), dt)
            da = np.empty((G, L), dt)
            DA = np.empty((G, T, L), dt)
            HP = np.empty((n, T, L), dt)
            dh = np.zeros((n, L), dt)
            back = np.empty((n, L), dt)
            dc = np.zeros((n, L), dt)
            dy = np.empty(L, dt)
            dhv = np.empty(L, dt)
            dcv = np.empty(L, dt)
            gW[:] = 0
            gb[:] = 0
            gV[:] = 0
            gc = zero
            for t in range(T):
                for l in range(L):
                    x[t, l] = X[s + l, t]
            total = 0.0
            for t in range(T):  # forward
                z = a[t]
                np.dot(U, h[t], z)
                for j in range(G):
                    zj = z[j]
                    for l in range(L):
                        zj[l] = zj[l] + (W[j] * x[t, l] + b[j])
                if not lstm:
                    for j in range(n):
                        zj, hj = z[j], h[t + 1, j]
                        for l in range(L):
                            hj[l] = act_tanh(zj[l])
                else:
                    for j in range(G):
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
                    r[t, l] = c[0] - Y[s + l, t]
                for j in range(n):
                    v, hj = V[j], h[t + 1, j]
                    for l in range(L):
                        r[t, l] += v * hj[l]
                for l in range(L):
                    total += r[t, l] * r[t, l]
            for t in range(T - 1, -1, -1):  # backward
                for l in range(L):
                    dy[l] = r[t, l] / mm[0]
                    gc += dy[l]
                at = a[t]
                for j in range(n):
                    hj, dhj = h[t + 1, j], dh[j]
                    acc = zero
                    v = V[j]
                    for l in range(L):
                        acc += dy[l] * hj[l]
                        dhv[l] = dy[l] * v + dhj[l]
                    gV[j] += acc
                    if not lstm:
                        for l in range(L):
                            da[j, l] = dhv[l] * (one - hj[l] * hj[l])
                        continue
                    gi, gf, gg, go = at[j], at[n + j], at[2 * n + j], at[3 * n + j]
                    tj, cp, dcj = tc[t, j], cs[t, j], dc[j]
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
                for j in range(G):
                    sw = zero
                    sb = zero
                    for l in range(L):
                        sw += da[j, l] * x[t, l]
                        sb += da[j, l]
                        DA[j, t, l] = da[j, l]
                    gW[j] += sw
                    gb[j] += sb
                for k in range(n):
                    for l in range(L):
                        HP[k, t, l] = h[t, k, l]
                np.dot(Ut, da, back)  # U^T da_t: dE/dh_{t-1} from step t
                dh[:, :] = back
            np.dot(DA.reshape(G, T * L), HP.reshape(n, T * L).T, gU)
            losses[step] = total / (2 * L)
            step += 1
            for j in range(G):
                W[j] -= lr * gW[j]
                b[j] -= lr * gb[j]
                for k in range(n):
                    U[j, k] -= lr * gU[j, k]
            for j in range(n):
                V[j] -= lr * gV[j]
                for k in range(G):
                    Ut[j, k] = U[k, j]
            c[0] -= lr * gc


def blas_row(w: RnnWorkload, dtype: str, params0: Params) -> Run:
    """Our batch-lanes kernel of ``w.cell`` with BLAS products (one feature, one output),
    SciPy's OpenBLAS pinned to one thread while it runs (``threadpoolctl``; two threads
    on these (128, 32) x (32, 32) products ran it 5-7x slower on the shared 2-core
    machine)."""
    from threadpoolctl import ThreadpoolController

    controller = ThreadpoolController()
    paths = [  # numpy's OpenBLAS is libscipy_openblas64_ too, under numpy.libs
        lib.filepath
        for lib in controller.lib_controllers
        if "scipy" in lib.filepath and "numpy" not in lib.filepath
    ]
    scipy_blas = controller.select(filepath=paths)
    if w.X.shape[2] != 1 or w.Y.shape[2] != 1:
        raise ValueError("the hand kernels take one feature and one output")
    X = np.ascontiguousarray(w.X[:, :, 0], dtype)
    Y = np.ascontiguousarray(w.Y[:, :, 0], dtype)
    lr = np.dtype(dtype).type(w.lr)
    lstm = w.cell == "lstm"

    def run() -> tuple[np.ndarray, Params]:
        W0, U0, b0, V0, c0 = params0
        # copies (``np.array`` copies by default): the kernel updates them in place
        W, U, Ut, b, V, c = (
            np.array(p, dtype, order="C") for p in (W0[:, 0], U0, U0.T, b0, V0[0], c0)
        )
        losses = np.empty(w.steps, dtype)
        with scipy_blas.limit(limits=1), quiet_inlining():
            train_blas(X, Y, W, U, Ut, b, V, c, lr, w.epochs, w.batch, losses, lstm)
        return losses.astype(np.float64), _f64((W[:, None], U, b, V[None, :], c))

    return run
