"""The generated trainer of recurrent nets against the exact engine and finite
differences: gradients to 1e-12 (float64), several optimiser steps (SGD, momentum, Adam,
clipping) to 1e-12, float32 near float64, the shapes it takes and the layouts it gives."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from recurrent_cases import (
    CASES,
    arrays,
    assert_follows_recurrent_run,
    case_data,
    case_spec,
    floats,
)

import symbp
from symbp.cli import main
from symbp.errors import DataError
from symbp.symbolic.recurrent_run import run_recurrent

NAMES = ("W", "U", "b")


def _grads_match(exact: dict, got: tuple, tol: float) -> float:
    worst = 0.0
    for name, values in zip(NAMES, got, strict=True):
        for l, value in enumerate(values):
            key = f"grad_{name}[{l}]"
            if value is None:
                assert key not in exact or exact[key] is None
                continue
            want = floats(exact[key])
            assert value.shape == want.shape, key
            worst = max(worst, float(np.abs(value - want).max()))
    assert worst <= tol
    return worst


@pytest.mark.parametrize("case", list(CASES))
def test_gradients_and_loss_equal_the_exact_engine(case: str) -> None:
    spec = case_spec(case)
    trainer = symbp.compile(spec, dtype="float64")
    X, T = arrays(spec)
    run = run_recurrent(spec, 0, epochs=None)
    # the exact run's first step evaluates the first batch: rows 0, 1
    rows = list(run.steps[0].rows)
    ev = run.steps[0].evaluation
    assert trainer.loss(X[rows], T[rows]) == pytest.approx(float(ev.loss), abs=1e-12)
    _grads_match(ev.grads, trainer.gradients(X[rows], T[rows]), 1e-12)


@pytest.mark.parametrize("case", list(CASES))
def test_training_steps_equal_the_exact_run(case: str) -> None:
    spec = case_spec(case)
    trainer = symbp.compile(spec, dtype="float64")
    X, T = arrays(spec)
    steps = 4  # two epochs of batches of 2 over 3 sequences
    run = run_recurrent(spec, steps)
    history = trainer.fit(X, T)
    assert history.n_steps == steps
    exact = [float(s.evaluation.loss) for s in run.steps[:steps]]
    np.testing.assert_allclose(history.step_losses, exact, rtol=0, atol=1e-12)
    W, U, b = trainer.params
    after = run.steps[steps].params
    for name, values in zip(NAMES, (W, U, b), strict=True):
        for l, value in enumerate(values):
            if value is None:
                assert after[name][l] is None
            else:
                np.testing.assert_allclose(value, floats(after[name][l]), rtol=0, atol=1e-12)


def test_clipping_changes_the_step_and_gradients_stay_unclipped() -> None:
    data = case_data("lstm-every-full-clip")
    clipped = symbp.compile(symbp.load(data))
    del data["optimizer"]["clip_norm"]
    plain = symbp.compile(symbp.load(data))
    X, T = arrays(clipped.spec)
    run = run_recurrent(clipped.spec, 1)
    assert float(run.steps[0].update.scale) < 0.5  # the clipping acts on this step
    for a, b in zip(clipped.gradients(X, T), plain.gradients(X, T), strict=True):
        for u, v in zip(a, b, strict=True):
            assert (u is None and v is None) or np.array_equal(u, v)
    clipped.fit(X, T, epochs=1, batch_size=3)
    plain.fit(X, T, epochs=1, batch_size=3)
    assert not np.allclose(clipped.params[0][0], plain.params[0][0])
    assert clipped.module.HYPER[-1] == "clip_norm"


@pytest.mark.parametrize("case", ["elman-tanh-every-full", "gru-every-full", "lstm-last-bptt2"])
def test_gradients_equal_central_differences_of_the_loss(case: str) -> None:
    spec = case_spec(case)
    trainer = symbp.compile(spec, dtype="float64")
    X, T = arrays(spec)
    grads = trainer.gradients(X, T)
    base = trainer.params
    rng = np.random.default_rng(1)
    eps = 1e-6
    for which in range(3):
        for l, value in enumerate(base[which]):
            if value is None:
                continue
            for _ in range(3):
                index = tuple(int(rng.integers(0, s)) for s in value.shape)
                moved = []
                for sign in (1, -1):
                    params = [[None if a is None else a.copy() for a in part] for part in base]
                    params[which][l][index] += sign * eps
                    trainer.params = tuple(params)
                    moved.append(trainer.loss(X, T))
                trainer.params = base
                numeric = (moved[0] - moved[1]) / (2 * eps)
                if "bptt2" in case:
                    continue  # the truncated gradient is not the loss's derivative
                assert grads[which][l][index] == pytest.approx(numeric, abs=1e-8)


def test_truncated_gradient_differs_from_the_full_one() -> None:
    data = case_data("lstm-last-bptt2")
    truncated = symbp.compile(symbp.load(data))
    data["training"]["bptt"] = "full"
    full = symbp.compile(symbp.load(data))
    X, T = arrays(full.spec)
    gt, gf = truncated.gradients(X, T), full.gradients(X, T)
    assert not np.allclose(gt[1][0], gf[1][0])  # U reaches the loss over more steps
    np.testing.assert_array_equal(gt[0][1], gf[0][1])  # the head's gradient is the same


@pytest.mark.parametrize("case", ["elman-tanh-every-full", "lstm-every-full-clip"])
def test_float32_trains_near_float64(case: str) -> None:
    spec = case_spec(case)
    X, T = arrays(spec)
    f64 = symbp.compile(spec, dtype="float64")
    f32 = symbp.compile(spec, dtype="float32")
    h64, h32 = f64.fit(X, T), f32.fit(X, T)
    np.testing.assert_allclose(h32.step_losses, h64.step_losses, rtol=1e-5, atol=1e-6)
    assert f32.params[0][0].dtype == np.float32
    np.testing.assert_allclose(f32.params[1][0], f64.params[1][0], rtol=0, atol=1e-5)


def test_shapes_taken_and_given() -> None:
    spec = case_spec("elman-tanh-every-full")
    trainer = symbp.compile(spec)
    X, T = arrays(spec)
    out = trainer.predict(X)
    assert out.shape == (3, 4, 2)
    # the flat layouts: (n, steps*features) inputs, (n, steps*outputs) targets
    np.testing.assert_array_equal(trainer.predict(X.reshape(3, -1)), out)
    assert trainer.loss(X.reshape(3, -1), T.reshape(3, -1)) == trainer.loss(X, T)
    last = symbp.compile(case_spec("lstm-last-bptt2"))
    Xl, Tl = arrays(last.spec)
    assert last.predict(Xl).shape == (3, 1)
    assert last.loss(Xl, Tl.ravel()) == last.loss(Xl, Tl)
    with pytest.raises(DataError, match=r"X: expected sequences of shape \(n, 4, 2\)"):
        trainer.predict(np.zeros((3, 5, 2)))
    with pytest.raises(DataError, match=r"T: expected targets of shape \(3, 4, 2\)"):
        trainer.loss(X, np.zeros((3, 4)))
    with pytest.raises(DataError, match="sample weights are not available"):
        trainer.fit(X, T, sample_weight=np.ones(3))


def test_predict_follows_the_exact_forward_pass() -> None:
    spec = case_spec("gru-every-full")
    trainer = symbp.compile(spec)
    X, _ = arrays(spec)
    run = run_recurrent(spec, 0)
    first = run.steps[0].evaluation.examples[0]
    L = len(spec.network)
    want = np.array([floats(first.times[t][f"a[{L}]"]) for t in range(4)])
    np.testing.assert_allclose(trainer.predict(X[:1])[0], want, rtol=0, atol=1e-12)


def test_state_dict_round_trip_and_pickle() -> None:
    spec = case_spec("gru-every-full")
    trainer = symbp.compile(spec)
    X, T = arrays(spec)
    trainer.fit(X, T, epochs=1)
    state = trainer.state_dict()
    assert list(state) == [
        "rnn.weight_ih_l0",
        "rnn.weight_hh_l0",
        "rnn.bias_ih_l0",
        "rnn.bias_hh_l0",
        "head.0.weight",
        "head.0.bias",
    ]
    b0 = trainer.params[2][0]
    np.testing.assert_array_equal(state["rnn.bias_ih_l0"], b0[:9])
    np.testing.assert_array_equal(state["rnn.bias_hh_l0"], np.r_[np.zeros(6), b0[9:]])
    twin = symbp.compile(spec)
    twin.load_state_dict(state)
    np.testing.assert_array_equal(twin.predict(X), trainer.predict(X))
    copy = pickle.loads(pickle.dumps(trainer))
    np.testing.assert_array_equal(copy.predict(X), trainer.predict(X))
    assert copy.steps_done == trainer.steps_done
    assert copy.optimizer_state()["state_m"][0][0].shape == (9, 2)


def test_drawn_start_without_params_trains() -> None:
    data = case_data("lstm-every-full-clip")
    del data["params"]
    data["init"] = {"name": "uniform", "seed": 3}
    spec = symbp.load(data)
    trainer = symbp.compile(spec)
    W, U, b = trainer.params
    assert W[0].shape == (12, 2) and U[0].shape == (12, 3) and U[1] is None
    assert not np.array_equal(W[0], np.zeros_like(W[0])) and not b[0].any()
    np.testing.assert_array_equal(symbp.compile(spec).params[1][0], U[0])  # seeded


def test_symbp_compile_writes_the_recurrent_module(tmp_path: Path) -> None:
    spec_path = tmp_path / "elman.yaml"
    import yaml

    spec_path.write_text(yaml.safe_dump(case_data("elman-tanh-every-full")), encoding="utf-8")
    assert main(["compile", str(spec_path), "-o", str(tmp_path / "mod")]) == 0
    (module,) = (tmp_path / "mod").glob("*.py")
    text = module.read_text(encoding="utf-8")
    assert text.startswith("# Generated by symbp ")
    assert "STEPS = 4" in text and '("U", 0, 6, (3, 3)),' in text
    # the cell's formula and its partial come from the symbolic model, printed
    assert "tanh64(Uh_h + Wx_h + b_h)" in text


@pytest.mark.parametrize("name", ["elman_3step", "lstm_3step"])
def test_issue_specs_follow_their_exact_run(name: str) -> None:
    """The issue's Elman and LSTM specs (one sequence each; the shipped recurrent examples
    take the same check in tests/test_codegen_crosscheck.py)."""
    spec = symbp.load(Path(__file__).parent / "data" / f"{name}.yaml")
    assert_follows_recurrent_run(symbp.compile(spec), spec, 3)
