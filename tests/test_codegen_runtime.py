"""The run-time helpers of generated kernels (symbp.codegen.runtime and .simd), unit by unit:
the vectorisable functions, shuffling, the products, transposes, views, min/max."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit, prange

from symbp.codegen import runtime as rt


@njit
def _map(f, values):  # type: ignore[no-untyped-def]
    out = np.empty_like(values)
    for i in range(values.shape[0]):
        out[i] = f(values[i])
    return out


_GRID = np.concatenate(
    [
        np.linspace(-750, 750, 20001),
        np.linspace(-3, 3, 20001),
        np.geomspace(1e-12, 1, 500),
        -np.geomspace(1e-12, 1, 500),
    ]
)


@pytest.mark.parametrize(
    ("name", "reference", "dtype", "rtol"),
    [
        ("exp64", np.exp, np.float64, 5e-16),
        ("expm1_64", np.expm1, np.float64, 1e-15),
        ("tanh64", np.tanh, np.float64, 1e-15),
        ("exp32", np.exp, np.float32, 2.5e-7),
        ("expm1_32", np.expm1, np.float32, 5e-7),
        ("tanh32", np.tanh, np.float32, 5e-7),
    ],
)
def test_vectorisable_functions_are_accurate(name, reference, dtype, rtol) -> None:
    values = _GRID.astype(dtype)
    out = _map(getattr(rt, name), values)
    assert out.dtype == dtype
    exact = reference(values.astype(np.float64))
    tiny = np.finfo(dtype).tiny
    with np.errstate(over="ignore"):
        normal = np.isfinite(exact) & (np.abs(exact) > tiny) & (np.abs(exact) < np.finfo(dtype).max)
    np.testing.assert_allclose(out[normal], exact[normal], rtol=rtol)
    specials = np.array([np.nan, np.inf, -np.inf, 0.0], dtype=dtype)
    with np.errstate(over="ignore"):
        np.testing.assert_array_equal(_map(getattr(rt, name), specials), reference(specials))


def test_shuffle_is_a_seeded_permutation() -> None:
    @njit
    def run(order, rng):  # type: ignore[no-untyped-def]
        rt.shuffle(order, rng)

    a, b, c = (np.arange(50) for _ in range(3))
    run(a, np.array([7], np.uint64))
    run(b, np.array([7], np.uint64))
    run(c, np.array([8], np.uint64))
    assert sorted(a) == list(range(50))
    assert (a == b).all() and not (a == c).all()


@njit(parallel=True)
def gemm_acc_par(X, Y, C, I, N, P, alpha, beta):  # type: ignore[no-untyped-def]
    for t in prange(rt.acc_tiles(C, I, N)):
        rt.gemm_acc_tile(X, Y, C, I, N, P, alpha, beta, t)


#: (I, N, P): rows of C, columns of C, reduction. Row counts not a multiple of the
#: 4-row block, columns below, at and past multiples of the vector width, empty cases.
BROADCAST_SHAPES = [
    (0, 5, 3),
    (1, 1, 1),
    (3, 10, 64),
    (32, 64, 64),
    (33, 10, 64),
    (64, 64, 32),
    (10, 64, 7),
    (5, 17, 3),
    (7, 100, 9),
    (4, 33, 0),
    (13, 45, 5),  # 8-row blocks with a rest; a full and a masked vector after 2 vectors
    (9, 24, 4),  # float64: exactly one full vector after the 2-vector blocks
]


@pytest.mark.parametrize("transposed_x", [False, True])
@pytest.mark.parametrize("scale", [(1.0, 0.0), (1.0, 1.0), (-0.25, 0.5)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_broadcast_product_matches_numpy(transposed_x: bool, scale: tuple, dtype) -> None:
    """gemm_acc(_par): alpha X Y + beta C, exactly the region asked for, nothing else."""
    rng = np.random.default_rng(5)
    tol = 1e-13 if dtype == np.float64 else 2e-5
    alpha, beta = (dtype(v) for v in scale)
    for I, N, P in [*BROADCAST_SHAPES, (70, 300, 33)]:
        Y = rng.normal(size=(P + 1, N + 5)).astype(dtype)
        C0 = rng.normal(size=(I + 2, N + 4)).astype(dtype)
        if transposed_x:  # the weight-gradient form: X = a[:m].T, a strided view
            D = rng.normal(size=(P + 4, I + 1)).astype(dtype)
            X, Xv = D[:P].T, D[:P, :I].T
        else:
            X = rng.normal(size=(I + 3, P + 2)).astype(dtype)
            Xv = X[:I, :P]
        expected = alpha * (Xv.astype(float) @ Y[:P, :N].astype(float))
        expected += beta * C0[:I, :N] if beta else 0
        for product in (rt.gemm_acc, gemm_acc_par):
            C = C0.copy()
            if beta == 0:
                C[:I, :N] = np.nan  # not read when beta is 0
            product(X, Y, C, I, N, P, alpha, beta)
            np.testing.assert_allclose(C[:I, :N], expected, rtol=tol, atol=tol * max(1, P))
            np.testing.assert_array_equal(C[I:], C0[I:])
            np.testing.assert_array_equal(C[:, N:], C0[:, N:])


def test_vectors_have_the_machine_width() -> None:
    from symbp.codegen import simd

    @njit
    def widths(a64, a32):  # type: ignore[no-untyped-def]
        return simd.lanes(a64), simd.lanes(a32)

    assert simd.VECTOR_BITS in (128, 256, 512)
    assert widths(np.zeros((1, 1)), np.zeros((1, 1), np.float32)) == (
        simd.VECTOR_BITS // 64,
        simd.VECTOR_BITS // 32,
    )


def test_transposes() -> None:
    rng = np.random.default_rng(1)
    A = rng.normal(size=(13, 5))
    out, full = np.full((5, 13), np.nan), np.zeros((5, 13))

    @njit
    def run(A, out, full):  # type: ignore[no-untyped-def]
        rt.transpose_rows(A, 11, out)  # 8 rows at a time, then the rest
        rt.transpose_into(A, full)

    run(A, out, full)
    np.testing.assert_array_equal(out[:, :11], A[:11].T)
    assert np.isnan(out[:, 11:]).all()
    np.testing.assert_array_equal(full, A.T)


def test_matrix_and_vector_are_views_into_the_flat_vector() -> None:
    """``matrix(flat, start, rows, cols)`` is ``flat[start:...].reshape(rows, cols)`` and
    ``vector(flat, start, n)`` is ``flat[start:start + n]``; both write through, and a
    vector too short for them raises instead of reading past its end."""

    @njit
    def run(flat, start, rows, cols):  # type: ignore[no-untyped-def]
        M = rt.matrix(flat, start, rows, cols)
        v = rt.vector(flat, start + rows * cols, cols)
        M[rows - 1, cols - 1] = -1.0
        v[0] = -2.0
        return M.copy(), M.strides, v.copy()

    flat = np.arange(40.0)
    got, strides, v = run(flat, 7, 4, 5)
    want = np.arange(40.0)[7:27].reshape(4, 5)
    want[3, 4] = -1.0
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(v, [-2.0, 28.0, 29.0, 30.0, 31.0])
    assert strides == (40, 8) and flat[26] == -1.0 and flat[27] == -2.0
    with pytest.raises(ValueError, match="too short"):
        run(np.zeros(20), 7, 4, 5)  # the matrix does not fit
    with pytest.raises(ValueError, match="too short"):
        run(np.zeros(30), 7, 4, 5)  # the matrix fits, the vector after it does not


_NARROW_SCRIPT = """
import json, sys
import numpy as np
from symbp.codegen import simd
from symbp.codegen import runtime as rt
rng = np.random.default_rng(11)
out = {"bits": simd.VECTOR_BITS, "errors": []}
for dtype in (np.float64, np.float32):
    for I, N, P in [(1, 1, 1), (3, 10, 64), (33, 10, 64), (7, 100, 9), (64, 64, 32), (5, 17, 3)]:
        for beta in (0.0, 1.0):
            X = rng.normal(size=(I, P)).astype(dtype)
            Y = rng.normal(size=(P, N + 3)).astype(dtype)
            C0 = rng.normal(size=(I + 1, N + 2)).astype(dtype)
            C = C0.copy()
            rt.gemm_acc(X, Y, C, I, N, P, dtype(0.5), dtype(beta))
            want = 0.5 * X.astype(float) @ Y[:, :N].astype(float) + beta * C0[:I, :N]
            err = float(np.max(np.abs(C[:I, :N] - want)) / max(1.0, np.max(np.abs(want))))
            untouched = bool(np.array_equal(C[I:], C0[I:]) and np.array_equal(C[:, N:], C0[:, N:]))
            out["errors"].append([np.dtype(dtype).name, err, untouched])
json.dump(out, sys.stdout)
"""


@pytest.mark.parametrize("bits", [128, 256])
def test_narrower_vectors_compute_the_same_products(bits: int, tmp_path) -> None:
    """The kernels at 128- and 256-bit vectors (what a machine without AVX-512 gets)."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "SYMBP_VECTOR_BITS": str(bits), "NUMBA_CACHE_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", _NARROW_SCRIPT], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["bits"] == bits
    for dtype, err, untouched in result["errors"]:
        assert err <= (1e-13 if dtype == "float64" else 2e-5)
        assert untouched


def test_min_max_follow_python() -> None:
    """The runtime's maximum/minimum keep Python's max/min semantics (first argument
    unless the second is strictly larger/smaller), NaN included."""

    @njit
    def run(x, y):  # type: ignore[no-untyped-def]
        return rt.maximum(x, y), rt.minimum(x, y)

    nan = float("nan")
    for x, y in [(1.0, 2.0), (2.0, 1.0), (-0.0, 0.0), (nan, 0.0), (0.0, nan), (3, 5)]:
        got, want = run(x, y), (max(x, y), min(x, y))
        assert [str(v) for v in got] == [str(v) for v in want], (x, y)


def test_one_product_kernel_for_every_layout_of_x() -> None:
    """Row-major X and X = a[:m].T share one compiled product (X typed any-layout)."""
    from symbp.codegen import simd

    rng = np.random.default_rng(2)
    a, Y1, Y2 = rng.normal(size=(6, 9)), rng.normal(size=(9, 4)), rng.normal(size=(6, 5))

    @njit
    def both(a, Y1, Y2, C, D):  # type: ignore[no-untyped-def]
        rt.gemm_acc(a, Y1, C, 6, 4, 9, 1.0, 0.0)  # X = a, row-major
        rt.gemm_acc(a.T, Y2, D, 9, 5, 6, 1.0, 0.0)  # X = a.T, column-major

    C, D = np.zeros((6, 4)), np.zeros((9, 5))
    both(a, Y1, Y2, C, D)
    np.testing.assert_allclose(C, a @ Y1, rtol=1e-13)
    np.testing.assert_allclose(D, a.T @ Y2, rtol=1e-13)
    assert {sig[0].layout for sig in simd._gemm_acc.signatures} == {"A"}
