"""gemm_lanes, the recurrent trainer's product (symbp.codegen.simd): gemm_acc's contract
with a 6-row x 2-vector register block on 256-bit vectors."""

from __future__ import annotations

import numpy as np
import pytest

from symbp.codegen import runtime as rt

#: (I, N, P): rows of C, columns of C, reduction. Row counts below, at and past
#: multiples of the 6-row block (the last block repeats its last row: with beta != 0
#: a row stored twice would be scaled twice), columns below, at and past multiples of
#: 2 vectors (the rest goes to gemm_acc), and the recurrent trainer's shapes.
SHAPES = [
    (0, 5, 3),
    (1, 1, 1),
    (1, 32, 32),  # the dense head's weight gradient: one output
    (3, 32, 12),  # 3 hidden units: N_h's product
    (5, 17, 3),
    (6, 16, 4),
    (7, 33, 9),
    (12, 8, 2),
    (13, 45, 5),
    (32, 32, 128),  # an LSTM's N_h += U^T DX
    (128, 32, 32),  # an LSTM's gate sums U h
    (128, 1, 32),  # grad_W_0 with one feature
    (4, 33, 0),
]


@pytest.mark.parametrize("scale", [(1.0, 0.0), (1.0, 1.0), (-0.25, 0.5)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lanes_product_matches_numpy(scale: tuple, dtype) -> None:
    """alpha X Y + beta C, exactly the region asked for, nothing else; X row-major or
    a transposed view."""
    rng = np.random.default_rng(7)
    tol = 1e-13 if dtype == np.float64 else 2e-5
    alpha, beta = (dtype(v) for v in scale)
    for I, N, P in SHAPES:
        Y = rng.normal(size=(P + 1, N + 5)).astype(dtype)
        C0 = rng.normal(size=(I + 2, N + 4)).astype(dtype)
        D = rng.normal(size=(P + 4, I + 1)).astype(dtype)
        X = rng.normal(size=(I + 3, P + 2)).astype(dtype)
        for x, xv in ((X, X[:I, :P]), (D[:P].T, D[:P, :I].T)):
            expected = alpha * (xv.astype(float) @ Y[:P, :N].astype(float))
            expected += beta * C0[:I, :N] if beta else 0
            C = C0.copy()
            if beta == 0:
                C[:I, :N] = np.nan  # not read when beta is 0
            rt.gemm_lanes(x, Y, C, I, N, P, alpha, beta)
            np.testing.assert_allclose(C[:I, :N], expected, rtol=tol, atol=tol * max(1, P))
            np.testing.assert_array_equal(C[I:], C0[I:])
            np.testing.assert_array_equal(C[:, N:], C0[:, N:])
