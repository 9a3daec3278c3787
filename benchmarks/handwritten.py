"""Our own hand-written references for :mod:`train_speed`: what a careful person writes
by hand in Numba, so that the generated trainer is measured against more than the
frameworks.

- ``loops_row`` ("njit loops (hand)"): one fused ``@njit`` training loop of plain
  loops: forward, output delta, backward, SGD update. Batch 1 with two sigmoid
  layers and BCE (W1) has a kernel of its own with no minibatch loop and every
  per-step value in small local arrays; any other network (W2, W3) runs the general
  kernel, which keeps each weight matrix transposed, (in, out), so that the forward
  product and the weight gradient run along contiguous rows (LLVM vectorises them
  without ``fastmath``), plus an (out, in) copy for the back-propagated delta.
- ``cblas_row`` ("njit + cblas gemm (hand)"): an ``@njit`` loop that calls BLAS
  ``dgemm``/``sgemm`` directly (SciPy's ``cython_blas``, Fortran convention, every
  argument by pointer; a row-major product is computed as the column-major product
  of the transposes, operands swapped) for the forward products, the back-propagated
  deltas and the weight gradients, with the SGD update folded into the gradient
  product: ``W = (-lr/m) * delta^T a + 1 * W`` (alpha = -lr/m, beta = 1). Small
  networks run it with SciPy's OpenBLAS pinned to one thread (:data:`BLAS_THREADS`).
  It calls BLAS through ctypes pointers, so Numba cannot cache it; it is compiled
  when the row is built, outside the timing.

Conventions as in :mod:`peers`: ``W[l]`` of shape (out, in), batch-mean loss,
consecutive minibatches (the last one may be smaller), plain SGD, the loss of each
step taken before its update. Activations: ``sigmoid``, ``tanh``, ``relu`` on hidden
layers; the output layer is sigmoid with BCE or softmax with cross-entropy.
"""

from __future__ import annotations

import ctypes
import itertools

import numpy as np
from llvmlite import ir
from numba import njit, typed, types
from numba.extending import get_cython_function_address, intrinsic
from peers import Run
from workloads import Workload

#: Activation codes of the kernels (the output layer: 0 sigmoid/BCE, 3 softmax/CE).
CODES = {"sigmoid": 0, "tanh": 1, "relu": 2, "softmax": 3}

_JIT = {"cache": True, "fastmath": False, "error_model": "numpy"}


def _codes(w: Workload) -> np.ndarray:
    acts = w.spec["activations"]
    acts = acts if isinstance(acts, list) else [acts] * (len(w.spec["layers"]) - 1)
    return np.array([CODES[a] for a in acts], dtype=np.int64)


# ---------------------------------------------------------------------------
# Per-element pieces shared by both kernels (Numba inlines them).


#: exp's range reduction ``x = k ln2 + r``: ln 2 split into a part exact in ``k * hi``
#: and the rest (fdlibm's float64 split, Cephes' float32 one), and the smallest ``x``
#: whose ``2^k`` is still a normal number.
_LN2 = {"float64": (6.93147180369123816490e-01, 1.90821492927058770002e-10, -708.0),
        "float32": (0.693359375, -2.12194440e-4, -87.0)}  # fmt: skip
_TAYLOR = 14  # exp(r) to r^13/13!: below 1e-17 relative for |r| <= ln2 / 2


def scratch(dtype: str, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Scratch of :func:`_exp_neg` for rows up to ``width``: a row of values, the
    exponent bits and the same bits as floats, and the constants ``(log2 e, ln2 hi,
    ln2 lo, lowest x, 1/2, 1/0!, ..., 1/13!)`` in ``dtype``."""
    hi, lo, lowest = _LN2[dtype]
    taylor = [1.0]
    for k in range(1, _TAYLOR):
        taylor.append(taylor[-1] / k)
    K = np.array([1 / np.log(2), hi, lo, lowest, 0.5, *taylor], dtype)
    bits = np.zeros(width, np.int64 if dtype == "float64" else np.int32)
    return np.zeros(width, dtype), bits, bits.view(dtype), K


@njit(**_JIT)
def _exp_neg(x: np.ndarray, n: int, S: tuple) -> None:
    """``x[:n] = exp(x[:n])`` for ``x <= 0`` (below the smallest normal: that value),
    in plain arithmetic LLVM vectorises (libm's ``exp`` is one call per element):
    ``exp(x) = 2^k exp(r)``, ``k = round(x / ln 2)``, ``exp(r)`` by its Taylor
    polynomial (Horner), ``2^k`` written as exponent bits. In place: with an output
    array of its own LLVM's run-time overlap check fails when it is ``x`` and the
    scalar loop runs."""
    _, kb, kf, K = S
    log2e, hi, lo, lowest, half = K[0], K[1], K[2], K[3], K[4]
    c0, c1, c2, c3, c4, c5, c6 = K[5], K[6], K[7], K[8], K[9], K[10], K[11]
    c7, c8, c9, c10, c11, c12, c13 = K[12], K[13], K[14], K[15], K[16], K[17], K[18]
    shift, bias = (52, 1023) if kb.itemsize == 8 else (23, 127)
    for j in range(n):
        xj = max(x[j], lowest)
        k = np.floor(xj * log2e + half)
        r = (xj - k * hi) - k * lo
        p = c13
        p = p * r + c12
        p = p * r + c11
        p = p * r + c10
        p = p * r + c9
        p = p * r + c8
        p = p * r + c7
        p = p * r + c6
        p = p * r + c5
        p = p * r + c4
        p = p * r + c3
        p = p * r + c2
        p = p * r + c1
        x[j] = p * r + c0
        kb[j] = (np.int64(k) + bias) << shift
    for j in range(n):
        x[j] *= kf[j]


@njit(**_JIT)
def _activate(a: np.ndarray, m: int, code: int, one: float, S: tuple) -> None:
    """``a[:m] = act(a[:m])`` in place for a hidden layer (``one``: 1 in the dtype); tanh
    as ``sign(z) (1 - t) / (1 + t)``, ``t = exp(-2|z|)`` by :func:`_exp_neg`."""
    n = a.shape[1]
    t = S[0]
    two = one + one
    for i in range(m):
        if code == 0:
            for j in range(n):
                a[i, j] = one / (one + np.exp(-a[i, j]))
        elif code == 1:
            for j in range(n):
                t[j] = -two * abs(a[i, j])
            _exp_neg(t, n, S)
            for j in range(n):
                v = (one - t[j]) / (one + t[j])
                a[i, j] = v if a[i, j] >= 0 else -v
        else:
            for j in range(n):
                a[i, j] = max(a[i, j], a[i, j] * 0)


@njit(**_JIT)
def _times_derivative(d: np.ndarray, a: np.ndarray, m: int, code: int, one: float) -> None:
    """``d[:m] *= act'`` written in the activation ``a`` (sigmoid, tanh, relu)."""
    n = d.shape[1]
    for i in range(m):
        if code == 0:
            for j in range(n):
                d[i, j] *= a[i, j] * (one - a[i, j])
        elif code == 1:
            for j in range(n):
                d[i, j] *= one - a[i, j] * a[i, j]
        else:
            for j in range(n):
                if a[i, j] <= 0:
                    d[i, j] = 0
    return


@njit(**_JIT)
def _output(
    z: np.ndarray, T: np.ndarray, r0: int, m: int, code: int, scale: float, one: float,
    S: tuple,
) -> float:  # fmt: skip
    """Batch-mean loss of ``z[:m]`` against ``T[r0:r0 + m]``; then, in place, the
    delta ``z[:m] = (a - t) * scale`` (``S``: :func:`scratch`).
    ``code`` 0: sigmoid with BCE, ``t·softplus(-z) + (1-t)·softplus(z)``; 3: softmax
    with cross-entropy, ``Σ t·(lse - z)``.
    """
    n = z.shape[1]
    total = 0.0
    for i in range(m):
        if code == 0:
            for j in range(n):
                zj, tj = z[i, j], T[r0 + i, j]
                tail = np.log1p(np.exp(-abs(zj)))
                total += tj * (max(-zj, 0) + tail) + (one - tj) * (max(zj, 0) + tail)
                z[i, j] = (one / (one + np.exp(-zj)) - tj) * scale
        else:
            zmax = z[i, 0]
            for j in range(1, n):
                zmax = max(zmax, z[i, j])
            e = S[0]
            for j in range(n):
                e[j] = z[i, j] - zmax
            _exp_neg(e, n, S)
            s = e[0]
            for j in range(1, n):
                s += e[j]
            lse = zmax + np.log(s)
            for j in range(n):
                tj = T[r0 + i, j]
                total += tj * (lse - z[i, j])
                z[i, j] = (e[j] / s - tj) * scale
    return total / m


# ---------------------------------------------------------------------------
# Plain loops.


@njit(**_JIT)
def _loops_batch1(
    X: np.ndarray, T: np.ndarray, W1: np.ndarray, b1: np.ndarray, W2: np.ndarray,
    b2: np.ndarray, lr: float, one: float, steps: int, losses: np.ndarray,
) -> None:  # fmt: skip
    """Batch-1 SGD of a sigmoid-sigmoid network with BCE, example ``s % n`` at step ``s``."""
    n, n_in = X.shape
    n_h, n_out = W1.shape[0], W2.shape[0]
    a1 = np.empty(n_h, W1.dtype)
    d1 = np.empty(n_h, W1.dtype)
    d2 = np.empty(n_out, W1.dtype)
    for step in range(steps):
        r = step % n
        for h in range(n_h):
            z = b1[h]
            for k in range(n_in):
                z += W1[h, k] * X[r, k]
            a1[h] = one / (one + np.exp(-z))
        loss = 0.0
        for o in range(n_out):
            z = b2[o]
            for h in range(n_h):
                z += W2[o, h] * a1[h]
            t = T[r, o]
            e = np.log1p(np.exp(-abs(z)))
            loss += t * (max(-z, 0) + e) + (one - t) * (max(z, 0) + e)
            d2[o] = one / (one + np.exp(-z)) - t
        losses[step] = loss
        for h in range(n_h):
            s = d2[0] * W2[0, h]
            for o in range(1, n_out):
                s += d2[o] * W2[o, h]
            d1[h] = s * (a1[h] * (one - a1[h]))
        for o in range(n_out):
            for h in range(n_h):
                W2[o, h] -= lr * (d2[o] * a1[h])
            b2[o] -= lr * d2[o]
        for h in range(n_h):
            for k in range(n_in):
                W1[h, k] -= lr * (d1[h] * X[r, k])
            b1[h] -= lr * d1[h]


@njit(**_JIT)
def _loops_train(
    X: np.ndarray, T: np.ndarray, Wt: typed.List, W: typed.List, b: typed.List,
    A: typed.List, D: typed.List, G: typed.List, codes: np.ndarray, lr: float, one: float,
    epochs: int, batch: int, losses: np.ndarray, S: tuple,
) -> None:  # fmt: skip
    """Minibatch SGD in plain loops.

    ``Wt[l]``: layer ``l``'s weights transposed, (in, out), the ones trained; ``W[l]``:
    an (out, in) copy kept for the back-propagated delta (``l >= 1``); ``A[l]``: the
    activation into layer ``l`` (``A[0]`` unused: rows of ``X`` are read in place),
    ``A[l + 1]`` also holds layer ``l``'s pre-activation until it is activated;
    ``D[l]``: layer ``l``'s delta; ``G[l]``: its weight gradient, (in, out).
    """
    L = len(Wt)
    n = X.shape[0]
    step = 0
    for _ in range(epochs):
        for s in range(0, n, batch):
            m = min(batch, n - s)
            for l in range(L):
                src, r0 = (X, s) if l == 0 else (A[l], 0)
                Wl, bl, z = Wt[l], b[l], (A[l + 1] if l < L - 1 else D[l])
                n_in, n_out = Wl.shape
                for i in range(m):
                    for o in range(n_out):
                        z[i, o] = bl[o]
                    for k in range(n_in):
                        x = src[r0 + i, k]
                        for o in range(n_out):
                            z[i, o] += x * Wl[k, o]
                if l < L - 1:
                    _activate(z, m, codes[l], one, S)
            dL = D[L - 1]
            losses[step] = _output(dL, T, s, m, codes[L - 1], one / m, one, S)
            step += 1
            for l in range(L - 1, -1, -1):
                src, r0 = (X, s) if l == 0 else (A[l], 0)
                d, Wl, Gl, bl = D[l], Wt[l], G[l], b[l]
                n_in, n_out = Wl.shape
                if l > 0:
                    dp, Wo = D[l - 1], W[l]
                    for i in range(m):
                        for k in range(n_in):
                            dp[i, k] = 0
                        for o in range(n_out):
                            dio = d[i, o]
                            for k in range(n_in):
                                dp[i, k] += dio * Wo[o, k]
                    _times_derivative(dp, A[l], m, codes[l - 1], one)
                Gl[:] = 0
                for i in range(m):
                    for k in range(n_in):
                        x = src[r0 + i, k]
                        for o in range(n_out):
                            Gl[k, o] += x * d[i, o]
                for k in range(n_in):
                    for o in range(n_out):
                        Wl[k, o] -= lr * Gl[k, o]
                for o in range(n_out):
                    gb = d[0, o]
                    for i in range(1, m):
                        gb += d[i, o]
                    bl[o] -= lr * gb
                if l > 0:
                    Wo = W[l]
                    for o in range(n_out):
                        for k in range(n_in):
                            Wo[o, k] = Wl[k, o]


def _is_w1_kind(w: Workload, codes: np.ndarray) -> bool:
    return w.batch == 1 and len(codes) == 2 and bool(np.all(codes == 0))


def loops_row(w: Workload, dtype: str, W0: list, b0: list) -> Run:
    """The fused plain-loop kernel (the batch-1 one on a W1-like network)."""
    X, T = np.ascontiguousarray(w.X, dtype), np.ascontiguousarray(w.T, dtype)
    codes = _codes(w)
    lr, one = np.dtype(dtype).type(w.lr), np.dtype(dtype).type(1)
    n = len(X)
    steps = w.epochs * -(-n // w.batch)
    if _is_w1_kind(w, codes):

        def run() -> np.ndarray:
            W1, W2 = (np.array(m, dtype) for m in W0)
            b1, b2 = (np.array(v, dtype) for v in b0)
            losses = np.empty(steps)
            _loops_batch1(X, T, W1, b1, W2, b2, lr, one, steps, losses)
            return losses

        run()  # compile outside the timing
        return run

    def make_list(arrays: list[np.ndarray]) -> typed.List:
        out = typed.List()
        for a in arrays:
            out.append(a)
        return out

    sizes = w.spec["layers"]
    L = len(W0)
    A = make_list([np.zeros((w.batch, k), dtype) for k in sizes[:-1]])
    D = make_list([np.zeros((w.batch, k), dtype) for k in sizes[1:]])
    G = make_list([np.zeros((W0[l].shape[1], W0[l].shape[0]), dtype) for l in range(L)])
    S = scratch(dtype, max(sizes))

    def run() -> np.ndarray:
        Wt = make_list([np.ascontiguousarray(m.T, dtype) for m in W0])
        W = make_list([np.array(m, dtype) for m in W0])
        b = make_list([np.array(v, dtype) for v in b0])
        losses = np.empty(steps)
        _loops_train(X, T, Wt, W, b, A, D, G, codes, lr, one, w.epochs, w.batch, losses, S)
        return losses

    run()  # compile outside the timing
    return run


# ---------------------------------------------------------------------------
# Direct BLAS calls.

_GEMM_TYPE = ctypes.CFUNCTYPE(None, *([ctypes.c_void_p] * 13))
_DGEMM = _GEMM_TYPE(get_cython_function_address("scipy.linalg.cython_blas", "dgemm"))
_SGEMM = _GEMM_TYPE(get_cython_function_address("scipy.linalg.cython_blas", "sgemm"))

#: Threads of SciPy's OpenBLAS for the cblas row: one below this many multiply-adds
#: in a step's largest product (a small GEMM is faster on one thread), else the default.
BLAS_THREADS_BELOW = 1 << 20


@intrinsic
def _ptr(typingctx, addr, offset):  # type: ignore[no-untyped-def]
    """``addr + offset`` bytes as a ``void *`` (``addr`` from ``.ctypes.data``)."""
    if not isinstance(addr, types.Integer) or not isinstance(offset, types.Integer):
        return None
    sig = types.voidptr(addr, offset)

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        i64 = ir.IntType(64)
        a, off = (builder.sext(v, i64) if v.type.width < 64 else v for v in args)
        return builder.inttoptr(builder.add(a, off), ir.IntType(8).as_pointer())

    return sig, codegen


@njit(error_model="numpy")
def _gemm(
    ta: bool, tb: bool, m: int, n: int, k: int, alpha: float, A: np.ndarray, a0: int,
    B: np.ndarray, b0: int, beta: float, C: np.ndarray, iv: np.ndarray, fv: np.ndarray,
    ch: np.ndarray,
) -> None:  # fmt: skip
    """Row-major ``C (m x n) = alpha op(A) op(B) + beta C``, ``A``/``B`` from row ``a0``/``b0``.

    ``op(X)`` is ``X`` or, with ``tx``, ``X^T``; the leading dimensions are the arrays'
    row lengths. Column-major BLAS sees each row-major matrix transposed, so it is asked
    for ``C^T = op(B)^T op(A)^T``: operands swapped, same transpose flags. ``iv``
    (int32), ``fv`` (the dtype) and ``ch`` (``b"NT"``) hold the by-pointer scalars.
    """
    iv[0] = n
    iv[1] = m
    iv[2] = k
    iv[3] = B.shape[1]
    iv[4] = A.shape[1]
    iv[5] = C.shape[1]
    fv[0] = alpha
    fv[1] = beta
    p, q, c = iv.ctypes.data, fv.ctypes.data, ch.ctypes.data
    size = fv.itemsize
    args = (
        _ptr(c, 1 if tb else 0), _ptr(c, 1 if ta else 0), _ptr(p, 0), _ptr(p, 4),
        _ptr(p, 8), _ptr(q, 0), _ptr(B.ctypes.data, b0 * B.shape[1] * size), _ptr(p, 12),
        _ptr(A.ctypes.data, a0 * A.shape[1] * size), _ptr(p, 16), _ptr(q, size),
        _ptr(C.ctypes.data, 0), _ptr(p, 20),
    )  # fmt: skip
    if size == 8:
        _DGEMM(*args)
    else:
        _SGEMM(*args)


@njit(error_model="numpy")
def _cblas_train(
    X: np.ndarray, T: np.ndarray, W: typed.List, b: typed.List, A: typed.List,
    D: typed.List, codes: np.ndarray, lr: float, one: float, epochs: int, batch: int,
    losses: np.ndarray, S: tuple, iv: np.ndarray, fv: np.ndarray, ch: np.ndarray,
) -> None:  # fmt: skip
    """Minibatch SGD with every product a BLAS gemm.

    ``W[l]`` (out, in) as in :mod:`peers`; ``A[l]`` the activation into layer ``l``
    (``A[0]`` unused: rows of ``X`` are read in place; ``A[l + 1]`` holds layer
    ``l``'s pre-activation until it is activated); ``D[l]`` layer ``l``'s delta, kept
    unscaled (``a - t``, no ``1/m``): the ``1/m`` goes into the update's alpha.
    """
    L = len(W)
    n = X.shape[0]
    step = 0
    for _ in range(epochs):
        for s in range(0, n, batch):
            m = min(batch, n - s)
            for l in range(L):
                src, r0 = (X, s) if l == 0 else (A[l], 0)
                Wl, bl, z = W[l], b[l], (A[l + 1] if l < L - 1 else D[l])
                n_out, n_in = Wl.shape
                for i in range(m):
                    for o in range(n_out):
                        z[i, o] = bl[o]
                # z = a @ W^T + 1 * z
                _gemm(False, True, m, n_out, n_in, 1.0, src, r0, Wl, 0, 1.0, z, iv, fv, ch)
                if l < L - 1:
                    _activate(z, m, codes[l], one, S)
            dL = D[L - 1]
            losses[step] = _output(dL, T, s, m, codes[L - 1], one, one, S)
            step += 1
            alpha = -lr / m
            for l in range(L - 1, -1, -1):
                src, r0 = (X, s) if l == 0 else (A[l], 0)
                d, Wl, bl = D[l], W[l], b[l]
                n_out, n_in = Wl.shape
                if l > 0:  # delta_{l-1} = delta_l @ W_l (before W_l's update)
                    dp = D[l - 1]
                    _gemm(False, False, m, n_in, n_out, 1.0, d, 0, Wl, 0, 0.0, dp, iv, fv, ch)
                    _times_derivative(dp, A[l], m, codes[l - 1], one)
                # W_l = (-lr/m) delta_l^T a_{l-1} + 1 * W_l: the update folded into the product
                _gemm(True, False, n_out, n_in, m, alpha, d, 0, src, r0, 1.0, Wl, iv, fv, ch)
                for o in range(n_out):
                    gb = d[0, o]
                    for i in range(1, m):
                        gb += d[i, o]
                    bl[o] += alpha * gb


def cblas_row(w: Workload, dtype: str, W0: list, b0: list) -> Run:
    """The direct-gemm kernel, SciPy's OpenBLAS pinned to one thread on small networks."""
    from threadpoolctl import ThreadpoolController

    X, T = np.ascontiguousarray(w.X, dtype), np.ascontiguousarray(w.T, dtype)
    codes = _codes(w)
    lr, one = np.dtype(dtype).type(w.lr), np.dtype(dtype).type(1)
    n = len(X)
    steps = w.epochs * -(-n // w.batch)
    sizes = w.spec["layers"]

    def make_list(arrays: list[np.ndarray]) -> typed.List:
        out = typed.List()
        for a in arrays:
            out.append(a)
        return out

    A = make_list([np.zeros((w.batch, k), dtype) for k in sizes[:-1]])
    D = make_list([np.zeros((w.batch, k), dtype) for k in sizes[1:]])
    iv, fv, S = np.zeros(6, np.int32), np.zeros(2, dtype), scratch(dtype, max(sizes))
    ch = np.frombuffer(b"NT", np.uint8).copy()
    controller = ThreadpoolController()
    paths = [  # numpy's OpenBLAS is libscipy_openblas64_ too, under numpy.libs
        lib.filepath
        for lib in controller.lib_controllers
        if "scipy" in lib.filepath and "numpy" not in lib.filepath
    ]
    scipy_blas = controller.select(filepath=paths)
    largest = max(w.batch * i * o for i, o in itertools.pairwise(sizes))
    threads = 1 if largest < BLAS_THREADS_BELOW else None

    def run() -> np.ndarray:
        W = make_list([np.array(m, dtype) for m in W0])
        b = make_list([np.array(v, dtype) for v in b0])
        losses = np.empty(steps)
        with scipy_blas.limit(limits=threads):
            _cblas_train(X, T, W, b, A, D, codes, lr, one, w.epochs, w.batch, losses, S, iv, fv, ch)
        return losses

    run()  # compile outside the timing
    return run
