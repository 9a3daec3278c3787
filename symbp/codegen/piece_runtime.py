"""The passes of the piecewise kernel (:mod:`.piecewise`) that no formula enters: the
rows of a chunk, the products on every core, the transposed copies, the bias sums.

Each is the generated trainer's own code (``templates/trainer.py.j2``,
``templates/kernels/dense.py.j2``) written once, with the sizes as arguments and the
same operations in the same order, compiled once per dtype and cached with symbp's
runtime helpers.
"""

from __future__ import annotations

from typing import Any

from numba import njit, prange

from .runtime import acc_tiles, gemm_acc_tile, minimum, transpose_rows

#: The generated trainer's Numba options (:data:`.emit` renders them into every module).
JIT: dict[str, Any] = {
    "cache": True,
    "error_model": "numpy",
    "nogil": True,
    "no_cfunc_wrapper": True,
    "no_rewrites": True,
}


@njit(**JIT)
def gather_rows(X, order, start, m, a_0):  # type: ignore[no-untyped-def]
    """a_0[s] = X[order[start + s]] for s < m: the rows of this chunk (on one core also
    where the generated module copies them on every core: a copy is a copy, and beside a
    layer on every core it takes a small part of the step)."""
    for s in range(m):
        r = order[start + s]
        for k in range(X.shape[1]):
            a_0[s, k] = X[r, k]


@njit(parallel=True, **JIT)
def gemm_acc_par(X, Y, C, I, N, P, alpha, beta):  # type: ignore[no-untyped-def]
    """gemm_acc on every core, tile by tile (the generated trainer's ``gemm_acc_par``)."""
    for t in prange(acc_tiles(C, I, N)):
        gemm_acc_tile(X, Y, C, I, N, P, alpha, beta, t)


@njit(parallel=True, **JIT)
def transpose_par(A, out):  # type: ignore[no-untyped-def]
    """out = A^T on every core, 32 rows of A at a time."""
    for t in prange((A.shape[0] + 31) // 32):
        lo = 32 * t
        hi = minimum(A.shape[0], lo + 32)
        transpose_rows(A[lo:hi], hi - lo, out[:, lo:hi])


@njit(**JIT)
def bias_sum(delta, grad_b, beta, m, n):  # type: ignore[no-untyped-def]
    """grad_b (set when beta is 0, else added to) += the sum of delta's m rows: the bias
    gradient of a layer whose derivative loop runs on every core."""
    if beta == 0:
        for j in range(n):
            grad_b[j] = 0
    for s in range(m):
        for j in range(n):
            grad_b[j] += delta[s, j]
