"""The rows of ``benchmarks/conv_digits.py`` train the same network the same way: the
NumPy (im2col) row and both hand-written Numba kernels give the same loss trajectory and
trained parameters over an epoch of a slice of the digits, and PyTorch's and JAX's rows
(where installed) match them too. No timing is asserted."""

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
    for make in (bench.hand_row, bench.lanes_row):
        _agree(make(w, dtype, p0)(), ref, TOL[dtype])


def test_pool_ties_go_to_the_first_maximum(bench: ModuleType) -> None:
    """Images on which two conv values of a pool window tie exactly while their patches
    differ: a kernel with only its centre weight set reads single pixels, and equal
    pixels side by side tie. The kernel gradient depends on which tied position takes
    the delta; every row gives it to the first in row-major order, as training on the
    same images with the tie broken in its favour (by 1e-9) shows."""
    w = bench.workload(n=32, epochs=1)  # one step

    def images(eps: float) -> np.ndarray:
        X = np.zeros_like(w.X)
        X[:, 0, 1, 1] = 0.5  # conv position (0, 0), window (0, 0)
        X[:, 0, 1, 2] = 0.5 + eps  # position (0, 1), the same window
        X[:, 0, 3, 4] = 0.75  # position (2, 3), window (1, 1)
        X[:, 0, 4, 3] = 0.75 + eps  # position (3, 2), the same window
        X[::2, 0, 2, 2] = 0.25
        return X

    K, c, W, b = bench.initial_params()
    K = np.zeros_like(K)
    K[:, 0, 1, 1] = np.linspace(0.5, 1.5, len(K))
    p0 = (K, np.abs(c), W, b)

    def trained(eps: float, make=bench.numpy_row):  # type: ignore[no-untyped-def]
        w.X = images(eps)
        return make(w, "float64", p0)()

    ref = trained(0.0)
    first, second = trained(-1e-9)[1][0], trained(1e-9)[1][0]
    assert np.max(np.abs(ref[1][0] - first)) < 1e-10
    assert np.max(np.abs(ref[1][0] - second)) > 1e-5
    for make in (bench.hand_row, bench.lanes_row):
        _agree(trained(0.0, make), ref, TOL["float64"])
    pytest.importorskip("torch", reason="the PyTorch row needs torch")
    _agree(trained(0.0, bench.torch_row), ref, TOL["float64"])


@pytest.mark.parametrize("row", ["torch_row", "jax_scan_row"])
def test_framework_rows_agree(bench: ModuleType, row: str) -> None:
    pytest.importorskip(
        "torch" if row == "torch_row" else "jax", reason=f"{row} needs its framework"
    )
    w = _slice(bench)
    p0 = bench.initial_params()
    for dtype in ("float64", "float32"):
        ref = bench.numpy_row(w, dtype, p0)()
        _agree(getattr(bench, row)(w, dtype, p0)(), ref, TOL[dtype])


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
