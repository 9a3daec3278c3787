"""The recurrent trainer through symbp's other doors: save/load, the sklearn regressor,
``to_torch``, and the one-line refusals of what does not take recurrent nets yet
(NumPy serving, ONNX, ``symbp train``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from recurrent_cases import arrays, case_data, case_spec

import symbp
from symbp.errors import DataError, SpecError


def test_save_and_load_keep_parameters_state_and_counters(tmp_path: Path) -> None:
    spec = case_spec("gru-every-full")
    trainer = symbp.compile(spec)
    X, T = arrays(spec)
    trainer.fit(X, T, epochs=1)
    path = trainer.save(tmp_path / "gru.npz")
    stored = np.load(path)
    assert {"W_1", "U_1", "b_1", "W_2", "b_2", "state_m.U_1", "state_v.U_1"} <= set(stored.files)
    assert "U_2" not in stored.files
    back = symbp.load_trainer(path)
    assert type(back).__name__ == "RecurrentTrainer"
    np.testing.assert_array_equal(back.predict(X), trainer.predict(X))
    assert (back.epochs_done, back.steps_done) == (1, 2)
    np.testing.assert_array_equal(
        back.optimizer_state()["state_v"][1][0], trainer.optimizer_state()["state_v"][1][0]
    )
    # one more epoch from the file is one more epoch of the trainer itself
    np.testing.assert_array_equal(
        back.fit(X, T, epochs=1).step_losses, trainer.fit(X, T, epochs=1).step_losses
    )


def test_numpy_serving_refuses_a_recurrent_model_in_one_line(tmp_path: Path) -> None:
    from symbp.serving import load_model

    spec = case_spec("elman-tanh-every-full")
    path = symbp.compile(spec).save(tmp_path / "elman.npz")
    with pytest.raises(DataError) as err:
        load_model(path)
    assert "this one is recurrent (U_1): load it with symbp.load_trainer" in str(err.value)


def test_onnx_export_refuses_in_one_line() -> None:
    trainer = symbp.compile(case_spec("elman-tanh-every-full"))
    with pytest.raises(SpecError) as err:
        trainer.to_onnx()
    assert str(err.value).endswith(
        "ONNX exports of recurrent layers are not available yet; "
        "derive, eval, verify, doc, check, exercises, compile and train are"
    )


def test_the_regressor_fits_sequences_as_the_trainer_does() -> None:
    from symbp.train.estimator import SymbpRegressor

    data = case_data("elman-tanh-every-full")
    spec = symbp.load(data)
    X, T = arrays(spec)
    est = SymbpRegressor(spec=data, tol=None, epochs=3)
    est.fit(X, T.reshape(3, -1))  # X (n, steps, features); targets one row per sequence
    assert est.predict(X).shape == (3, 8)
    trainer = symbp.compile(spec)
    trainer.fit(X, T, epochs=3)
    np.testing.assert_array_equal(est.trainer_.params[1][0], trainer.params[1][0])
    np.testing.assert_array_equal(est.predict(X), trainer.predict(X).reshape(3, -1))
    with pytest.raises(DataError, match="7 target columns; the spec's output layer expects 8"):
        SymbpRegressor(spec=data).fit(X, np.zeros((3, 7)))
    steps, features = X.shape[1:]
    assert steps != features
    swapped = np.swapaxes(X, 1, 2)  # (n, features, steps): the right count, the wrong order
    shape = rf"\({steps}, {features}\) .* found examples of shape \({features}, {steps}\)"
    with pytest.raises(ValueError, match=shape):
        est.predict(swapped)
    with pytest.raises(ValueError, match=shape):
        SymbpRegressor(spec=data, epochs=1).fit(swapped, T.reshape(3, -1))


@pytest.mark.extras
def test_to_torch_gives_the_trainers_outputs() -> None:
    torch = pytest.importorskip("torch", reason="to_torch builds a PyTorch module")
    for case in ("lstm-last-bptt2", "elman-tanh-every-full"):
        spec = case_spec(case)
        trainer = symbp.compile(spec)
        X, _ = arrays(spec)
        model = symbp.to_torch(trainer)
        with torch.no_grad():
            out = model(torch.from_numpy(X)).numpy()
        np.testing.assert_allclose(out, trainer.predict(X), rtol=0, atol=1e-12)


def test_symbp_train_runs_on_sequences_as_rows(tmp_path: Path) -> None:
    import yaml

    from symbp.cli import main

    data = case_data("elman-tanh-every-full")
    spec = symbp.load(data)
    X, T = arrays(spec)
    X = np.concatenate([X] * 8)  # 24 sequences
    T = np.concatenate([T] * 8)
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    np.savez(tmp_path / "seq.npz", X=X.reshape(24, -1), T=T.reshape(24, -1))
    argv = ["train", str(tmp_path / "spec.yaml"), "--data", str(tmp_path / "seq.npz")]
    assert main([*argv, "-o", str(tmp_path / "run"), "--quiet"]) == 0
    assert {"params.npz", "metrics.csv", "metrics.json"} <= {
        p.name for p in (tmp_path / "run").iterdir()
    }
    back = symbp.load_trainer(tmp_path / "run")
    assert back.predict(X).shape == (24, 4, 2)
    assert "U_1" in np.load(tmp_path / "run" / "params.npz").files
    # standardising is refused before anything is read or written
    assert main([*argv, "-o", str(tmp_path / "run2"), "--standardize"]) == 2
    assert not (tmp_path / "run2").exists()
