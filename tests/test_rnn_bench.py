"""The building blocks of ``benchmarks/rnn_sine.py`` compute what they claim, on small
instances of the workload's own spec (3 or 4 hidden units, 4 or 5 steps): the NumPy
reference's BPTT gradients equal symbp's exact engine (``symbolic/recurrent_eval``),
central finite differences of the NumPy loss and PyTorch autograd (``nn.RNN``/``nn.LSTM``
in float64); every row (the hand Numba kernels, PyTorch, JAX and, once ``compile`` takes
recurrent specs, symbp's generated trainer) follows the NumPy row's loss trajectory and
trained parameters over a few SGD steps. No timing is asserted."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import sympy as sp

import symbp
from symbp.symbolic.recurrent_run import run_recurrent

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
TOL = {"float64": 1e-12, "float32": 1e-4}
NAMES = ("W", "U", "b", "V", "c")
KEYS = ("grad_W[0]", "grad_U[0]", "grad_b[0]", "grad_W[1]", "grad_b[1]")


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    """``benchmarks/rnn_sine.py`` (its helpers import each other by bare name)."""
    sys.path.insert(0, str(BENCH))
    try:
        import rnn_sine
    finally:
        sys.path.remove(str(BENCH))
    return rnn_sine


def _mod(name: str) -> ModuleType:
    return sys.modules[name]


def _small(bench: ModuleType, cell: str, n: int = 40, epochs: int = 2) -> Any:
    """``n`` windows of 5 steps, 4 hidden units, batches of 16 (the last one of an
    epoch 8 windows when ``n`` is 40)."""
    w = _mod("rnn_workload").workload(cell, n=n, epochs=epochs, hidden=4, steps=5)
    w.batch = 16
    return w


def _floats(value: Any) -> np.ndarray:
    return np.array(value, dtype=object).astype(float)


def test_the_workload_is_its_spec(bench: ModuleType) -> None:
    """symbp reads the workload's spec as the benchmark states it, with the initial
    weights as its params, and the workload's sizes are the spec's."""
    wl = _mod("rnn_workload")
    w = wl.workload("elman")
    p0 = wl.initial_params("elman")
    spec = symbp.load(w.spec(p0))
    assert (w.X.shape, w.Y.shape) == ((1024, 20, 1), (1024, 20, 1))
    assert np.array_equal(w.Y[:, :-1], w.X[:, 1:])  # the next value at every step
    assert (spec.recurrence.steps, spec.input_shape) == (20, (1,))
    assert (spec.recurrence.output, spec.recurrence.bptt, spec.loss.name) == (
        "every_step",
        None,
        "half_sse",
    )
    layer = spec.network[0]
    assert (layer.cell.name, layer.size, spec.network[1].kind) == ("elman", 32, "dense")
    assert spec.optimizer.name == "sgd" and spec.optimizer.learning_rate == sp.Rational(1, 200)
    assert (spec.training.epochs, spec.training.batch_size, spec.training.shuffle) == (
        10,
        32,
        False,
    )
    assert (
        float(spec.W[0][7][0]) == p0[0][7, 0] and float(spec.recurrence.U[0][3][5]) == p0[1][3, 5]
    )
    assert (w.samples, w.steps) == (10240, 320)


@pytest.mark.parametrize("cell", ["elman", "lstm"])
def test_numpy_bptt_equals_the_exact_engine(bench: ModuleType, cell: str) -> None:
    """The workload's spec (3 hidden units, 4 steps, two windows as its examples) with
    the benchmark's initial weights: the exact loss and every gradient of the first
    step, the mean over the two windows, equal the NumPy reference's to 1e-12."""
    wl = _mod("rnn_workload")
    X, Y = wl.windows(wl.series(40), steps=4)
    X, Y = X[:2], Y[:2]
    p0 = wl.initial_params(cell, hidden=3)
    spec = symbp.load(wl.spec(cell, p0, hidden=3, steps=4, examples=(X, Y)))
    assert spec.network[0].cell.name == cell and spec.network[0].size == 3
    exact = run_recurrent(spec).steps[0].arrays()
    loss, grads = _mod("rnn_peers").loss_and_grads(cell, p0, X, Y)
    assert float(exact["loss"]) == pytest.approx(loss, rel=1e-13, abs=0)
    for key, g in zip(KEYS, grads, strict=True):
        got = _floats(exact[key])
        assert got.shape == g.shape, key
        assert np.max(np.abs(got - g)) < 1e-12, key
        assert np.max(np.abs(g)) > 1e-3, key  # a gradient that is there


@pytest.mark.parametrize("cell", ["elman", "lstm"])
def test_numpy_bptt_equals_central_differences(bench: ModuleType, cell: str) -> None:
    """Every entry of every gradient of a 4-unit, 5-step net on 3 windows equals the
    central difference of the NumPy loss (step 1e-6) to 1e-8."""
    wl, peers = _mod("rnn_workload"), _mod("rnn_peers")
    X, Y = wl.windows(wl.series(40, seed=3), steps=5)
    X, Y = X[:3], Y[:3]
    p0 = wl.initial_params(cell, hidden=4, seed=2)
    _, grads = peers.loss_and_grads(cell, p0, X, Y)
    eps = 1e-6
    for p, g, name in zip(p0, grads, NAMES, strict=True):
        for idx in np.ndindex(p.shape):
            up = [q.copy() for q in p0]
            down = [q.copy() for q in p0]
            k = NAMES.index(name)
            up[k][idx] += eps
            down[k][idx] -= eps
            slope = (
                peers.loss_and_grads(cell, tuple(up), X, Y)[0]
                - peers.loss_and_grads(cell, tuple(down), X, Y)[0]
            ) / (2 * eps)
            assert abs(slope - g[idx]) < 1e-8, (name, idx)


def _torch_grads(cell: str, params: Any, X: np.ndarray, Y: np.ndarray) -> tuple[float, list[Any]]:
    """PyTorch autograd of the workload's batch loss with ``nn.RNN``/``nn.LSTM`` and
    ``nn.Linear`` in float64 (``bias_hh_l0`` zero)."""
    import torch

    W, U, b, V, c = (torch.tensor(p, dtype=torch.float64) for p in params)
    n = U.shape[1]
    layer = torch.nn.RNN if cell == "elman" else torch.nn.LSTM
    rnn = layer(1, n, batch_first=True, dtype=torch.float64)
    head = torch.nn.Linear(n, 1, dtype=torch.float64)
    with torch.no_grad():
        for p, v in zip(
            (rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, head.weight, head.bias),
            (W, U, b, V, c),
            strict=True,
        ):
            p.copy_(v)
        rnn.bias_hh_l0.zero_()
    out, _ = rnn(torch.tensor(X, dtype=torch.float64))
    loss = ((head(out) - torch.tensor(Y, dtype=torch.float64)) ** 2).sum() / (2 * len(X))
    loss.backward()
    ours = (rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, head.weight, head.bias)
    # one bias under two names: the same gradient (summed apart, so to the last bits)
    assert torch.allclose(rnn.bias_ih_l0.grad, rnn.bias_hh_l0.grad, rtol=0, atol=1e-14)
    return float(loss.detach()), [p.grad.numpy() for p in ours]


@pytest.mark.extras
@pytest.mark.parametrize("cell", ["elman", "lstm"])
def test_numpy_bptt_equals_pytorch_autograd(bench: ModuleType, cell: str) -> None:
    pytest.importorskip("torch", reason="the PyTorch reference needs the torch extra")
    wl = _mod("rnn_workload")
    X, Y = wl.windows(wl.series(60, seed=5), steps=5)
    X, Y = X[:4], Y[:4]
    p0 = wl.initial_params(cell, hidden=4, seed=1)
    loss, grads = _mod("rnn_peers").loss_and_grads(cell, p0, X, Y)
    ref_loss, ref = _torch_grads(cell, p0, X, Y)
    assert loss == pytest.approx(ref_loss, rel=1e-13, abs=0)
    for name, g, r in zip(NAMES, grads, ref, strict=True):
        assert g.shape == r.shape, name
        assert np.max(np.abs(g - r)) < 1e-13, name


def _agree(got: Any, ref: Any, tol: float) -> None:
    losses, params = got
    ref_losses, ref_params = ref
    assert losses.shape == ref_losses.shape
    np.testing.assert_allclose(losses, ref_losses, rtol=tol, atol=0)
    for p, q in zip(params, ref_params, strict=True):
        assert p.shape == q.shape
        np.testing.assert_allclose(p, q, rtol=0, atol=tol)


@pytest.mark.parametrize("cell", ["elman", "lstm"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_hand_kernels_follow_the_numpy_row(bench: ModuleType, cell: str, dtype: str) -> None:
    """Two epochs of 40 windows in batches of 16 (3 steps an epoch, the last on 8
    windows): both hand kernels give the NumPy row's losses and parameters, whose first
    loss is the initial net's, computed by the workload's own forward pass."""
    wl = _mod("rnn_workload")
    w = _small(bench, cell)
    p0 = wl.initial_params(cell, hidden=4)
    ref = bench.numpy_row(w, dtype, p0)()
    losses, params = ref
    assert len(losses) == 6 == w.steps
    first = 0.5 * np.sum((wl.predict(cell, p0, w.X[:16]) - w.Y[:16]) ** 2) / 16
    assert losses[0] == pytest.approx(first, rel=TOL[dtype])
    assert not np.allclose(params[1], p0[1])  # it trained
    for make in (bench.hand_row, bench.lanes_row, bench.blas_row):
        _agree(make(w, dtype, p0)(), ref, TOL[dtype])


@pytest.mark.extras
@pytest.mark.parametrize("row", ["torch_row", "jax_scan_row"])
def test_framework_rows_follow_the_numpy_row(bench: ModuleType, row: str) -> None:
    """PyTorch's and JAX's rows over two epochs of 40 windows (batches of 16, 16, 8)."""
    pytest.importorskip(
        "torch" if row == "torch_row" else "jax", reason=f"{row} needs its framework"
    )
    for cell in ("elman", "lstm"):
        w = _small(bench, cell)
        p0 = _mod("rnn_workload").initial_params(cell, hidden=4)
        for dtype in ("float64", "float32"):
            ref = bench.numpy_row(w, dtype, p0)()
            _agree(getattr(bench, row)(w, dtype, p0)(), ref, TOL[dtype])


@pytest.mark.parametrize("cell", ["elman", "lstm"])
def test_symbp_row_follows_the_numpy_row(bench: ModuleType, cell: str) -> None:
    """symbp's generated trainer, compiled from the workload's spec with the initial
    weights as its params, follows the NumPy row (its parameters compared where its
    ``state_dict`` has PyTorch's keys)."""
    w = _small(bench, cell)
    p0 = _mod("rnn_workload").initial_params(cell, hidden=4)
    losses, params = bench.symbp_row(w, "float64", p0)()
    ref = bench.numpy_row(w, "float64", p0)()
    np.testing.assert_allclose(losses, ref[0], rtol=TOL["float64"], atol=0)
    if params is not None:
        _agree((losses, params), ref, TOL["float64"])


def test_make_rows_holds_symbp_beside_the_reference(bench: ModuleType) -> None:
    """The generated recurrent trainer makes symbp's row (none is left out as pending)."""
    w = _small(bench, "elman")
    p0 = _mod("rnn_workload").initial_params("elman", hidden=4)
    runs, missing = bench.make_rows(w, "float64", p0)
    assert bench.SYMBP in runs and bench.SYMBP not in missing
    assert bench.REFERENCE in runs and bench.HAND[0] in runs


@pytest.mark.extras
def test_trained_params_read_pytorch_keys(bench: ModuleType) -> None:
    """A state dict in ``nn.Sequential(nn.LSTM, Linear)`` keys is read back into the
    workload's layout, the two PyTorch biases summed; unknown keys give None."""
    torch = pytest.importorskip("torch", reason="the state dict is PyTorch's")
    lstm, head = torch.nn.LSTM(1, 3), torch.nn.Linear(3, 1)
    state = {f"0.{k}": v for k, v in lstm.state_dict().items()}
    state |= {f"1.{k}": v for k, v in head.state_dict().items()}
    W, U, b, V, c = _mod("rnn_symbp").params_from_state({k: v.numpy() for k, v in state.items()})
    assert np.array_equal(W, lstm.weight_ih_l0.detach().numpy())
    assert np.array_equal(U, lstm.weight_hh_l0.detach().numpy())
    assert np.array_equal(b, (lstm.bias_ih_l0 + lstm.bias_hh_l0).detach().numpy())
    assert np.array_equal(V, head.weight.detach().numpy()) and c.shape == (1,)
    assert (
        _mod("rnn_symbp").params_from_state({"0.weight": np.ones((1, 3)), "0.bias": np.ones(1)})
        is None
    )


def test_the_vectorisable_tanh_is_within_two_ulp_of_numpy(bench: ModuleType) -> None:
    """:func:`rnn_vtanh.vtanh` (the batch-lanes kernels' tanh) over [-25, 25] and at the
    edges of its pieces (0.625, the clamp at 19.1), signed zeros and NaN; its float32
    form over [-12, 12] against NumPy's float32 tanh."""
    from numba import njit

    vt = _mod("rnn_vtanh")
    x = np.concatenate(
        [
            np.linspace(-25, 25, 200_001),
            np.nextafter(0.625, [0, 1]),
            -np.nextafter(0.625, [0, 1]),
            [0.0, -0.0, 1e-300, 19.1, -19.1, 40.0, np.inf, -np.inf],
        ]
    )

    @njit(error_model="numpy")
    def apply(xs: np.ndarray) -> np.ndarray:
        out = np.empty_like(xs)
        for i in range(len(xs)):
            out[i] = vt.vtanh(xs[i])
        return out

    got, ref = apply(x), np.tanh(x)
    assert np.all(np.abs(got - ref) <= 2 * np.spacing(np.abs(ref)))
    assert np.array_equal(np.signbit(got), np.signbit(ref))  # -0.0 stays -0.0
    assert np.isnan(apply(np.array([np.nan]))[0])
    s = np.linspace(-30, 30, 1001)
    sig = np.array([vt.vsigmoid(v) for v in s])
    assert np.max(np.abs(sig - 1 / (1 + np.exp(-s)))) < 4e-16

    @njit(error_model="numpy")
    def apply32(xs: np.ndarray) -> np.ndarray:  # the float32 kernels' pick: vtanh32
        out = np.empty_like(xs)
        for i in range(len(xs)):
            out[i] = vt.act_tanh(xs[i])
        return out

    x32 = np.concatenate([np.linspace(-12, 12, 100_001), [0.0, -0.0, 0.625, 9.0, 20.0]])
    x32 = x32.astype(np.float32)
    with vt.quiet_inlining():
        got32 = apply32(x32)
    ref32 = np.tanh(x32)
    assert got32.dtype == np.float32
    assert np.all(np.abs(got32 - ref32) <= 2 * np.spacing(np.abs(ref32)))
    assert np.array_equal(np.signbit(got32), np.signbit(ref32))
