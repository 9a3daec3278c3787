"""The rows of ``benchmarks/conv_digits.py`` train the same network the same way: the
NumPy (im2col) row, both hand-written Numba kernels and symbp's generated kernel give
the same loss trajectory and trained parameters over an epoch of a slice of the digits,
and PyTorch's and JAX's rows (where installed) match them too. No timing is asserted."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
TOL = {"float64": 1e-12, "float32": 1e-4}


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    """``benchmarks/conv_digits.py`` (its helpers import each other by bare name)."""
    sys.path.insert(0, str(BENCH))
    try:
        import conv_digits
    finally:
        sys.path.remove(str(BENCH))
    return conv_digits


def _slice(bench: ModuleType, n: int = 200):  # type: ignore[no-untyped-def]
    """One epoch over the first ``n`` digits: 6 full batches of 32 and one of 8."""
    return bench.workload(n=n, epochs=1)


def _agree(got, ref, tol: float) -> None:  # type: ignore[no-untyped-def]
    losses, params = got
    ref_losses, ref_params = ref
    assert losses.shape == ref_losses.shape
    np.testing.assert_allclose(losses, ref_losses, rtol=tol, atol=0)
    for p, q in zip(params, ref_params, strict=True):
        assert p.shape == q.shape
        np.testing.assert_allclose(p, q, rtol=0, atol=tol)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_numpy_and_hand_kernels_agree(bench: ModuleType, dtype: str) -> None:
    w = _slice(bench)
    p0 = bench.initial_params()
    ref = bench.numpy_row(w, dtype, p0)()
    losses, params = ref
    assert len(losses) == 7 == w.steps
    # the first step's loss is the initial network's mean cross-entropy on the first
    # batch, computed here by the independent forward pass of conv_workload.logits
    z = sys.modules["conv_workload"].logits(p0, w.X[:32])
    lse = z.max(axis=1) + np.log(np.exp(z - z.max(axis=1, keepdims=True)).sum(axis=1))
    first = float(np.mean(lse - z[np.arange(32), w.labels[:32]]))
    assert losses[0] == pytest.approx(first, rel=TOL[dtype])
    assert not np.allclose(params[2], p0[2])  # it trained
    for make in (bench.hand_row, bench.lanes_row, bench.symbp_row):
        _agree(make(w, dtype, p0)(), ref, TOL[dtype])


def _tied(bench: ModuleType, eps: float = 0.0):  # type: ignore[no-untyped-def]
    """One step on 32 images on which two conv values of a pool window tie exactly
    (``eps`` 0) while their patches differ: a kernel with only its centre weight set
    reads single pixels, and equal pixels side by side tie. ``eps`` < 0 breaks the ties
    in favour of the first position, ``eps`` > 0 of the second. The workload and the
    initial parameters."""
    w = bench.workload(n=32, epochs=1)
    X = np.zeros_like(w.X)
    X[:, 0, 1, 1] = 0.5  # conv position (0, 0), window (0, 0)
    X[:, 0, 1, 2] = 0.5 + eps  # position (0, 1), the same window
    X[:, 0, 3, 4] = 0.75  # position (2, 3), window (1, 1)
    X[:, 0, 4, 3] = 0.75 + eps  # position (3, 2), the same window
    X[::2, 0, 2, 2] = 0.25
    w.X = X
    K, c, W, b = bench.initial_params()
    K = np.zeros_like(K)
    K[:, 0, 1, 1] = np.linspace(0.5, 1.5, len(K))
    return w, (K, np.abs(c), W, b)


def test_pool_ties_go_to_the_first_maximum(bench: ModuleType) -> None:
    """The kernel gradient depends on which tied position takes the delta; the NumPy
    row gives it to the first in row-major order (training with the tie broken by 1e-9
    in its favour gives the same), and both hand kernels agree."""
    w, p0 = _tied(bench)
    ref = bench.numpy_row(w, "float64", p0)()
    w1, p1 = _tied(bench, -1e-9)
    first = bench.numpy_row(w1, "float64", p1)()[1][0]
    w2, p2 = _tied(bench, 1e-9)
    second = bench.numpy_row(w2, "float64", p2)()[1][0]
    assert np.max(np.abs(ref[1][0] - first)) < 1e-10
    assert np.max(np.abs(ref[1][0] - second)) > 1e-5
    for make in (bench.hand_row, bench.lanes_row, bench.symbp_row):
        _agree(make(w, "float64", p0)(), ref, TOL["float64"])


@pytest.mark.extras
@pytest.mark.parametrize("row", ["torch_row", "jax_scan_row"])
def test_framework_rows_agree(bench: ModuleType, row: str) -> None:
    """PyTorch's and JAX's rows follow the NumPy row over an epoch of a slice of the
    digits, and on the tied images of :func:`_tied` (their max-pools also send the
    delta to the first maximum)."""
    pytest.importorskip(
        "torch" if row == "torch_row" else "jax", reason=f"{row} needs its framework"
    )
    make = getattr(bench, row)
    w, p0 = _slice(bench), bench.initial_params()
    for dtype in ("float64", "float32"):
        _agree(make(w, dtype, p0)(), bench.numpy_row(w, dtype, p0)(), TOL[dtype])
    w, p0 = _tied(bench)
    _agree(make(w, "float64", p0)(), bench.numpy_row(w, "float64", p0)(), TOL["float64"])


def test_an_empty_slot_is_reported_missing(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row whose maker returns None (symbp's slot until it compiles conv nets) is
    listed as missing with the reason, and the others still run."""
    rows = {"empty": lambda w, dtype, p0: None, "NumPy im2col": bench.numpy_row}
    monkeypatch.setattr(bench, "ROWS", rows)
    runs, missing = bench.make_rows(_slice(bench, n=40), "float64", bench.initial_params())
    assert list(runs) == ["NumPy im2col"]
    assert missing == {"empty": "slot: symbp has no conv kernel yet (conv_digits.symbp_row)"}
