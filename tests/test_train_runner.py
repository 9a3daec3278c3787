"""The runner with the compiled trainer: metrics, semantics, outputs, early stopping, Ctrl-C."""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import numpy as np
import pytest

import symbp
from symbp.cli import main
from symbp.codegen import compile as compile_spec
from symbp.train import cli as train_cli
from symbp.train import load_data, prepare, rundir, train
from symbp.train.diagnostics import forward, input_jacobian
from symbp.train.runner import EarlyStopping

IRIS = {
    "name": "iris-4-6-3",
    "layers": [4, 6, 3],
    "activations": ["tanh", "softmax"],
    "loss": "cross_entropy",
    "optimizer": {"name": "sgd", "learning_rate": 0.1},
    "init": {"name": "xavier_uniform", "seed": 1},
    "training": {"epochs": 12, "batch_size": 8, "shuffle": True, "seed": 0},
}


@pytest.fixture(scope="module")
def spec_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import yaml

    path = tmp_path_factory.mktemp("spec") / "iris.yaml"
    path.write_text(yaml.safe_dump(IRIS), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def spec(spec_path: Path) -> symbp.Spec:
    return symbp.load(spec_path)


@pytest.fixture(scope="module")
def data(spec: symbp.Spec):
    return prepare(load_data("iris"), spec, standardize=True, seed=0)


@pytest.fixture(scope="module")
def run(spec: symbp.Spec, data, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("run") / "iris"
    return train(spec, data, out_dir=out, progress=False)


def test_run_directory_contents(run) -> None:
    names = sorted(p.name for p in run.run_dir.iterdir())
    assert names == [
        ".symbp-manifest.json",  # every file listed, "complete": true
        "accuracy.png",
        "feature_sensitivity.png",
        "gradient_norms.png",
        "loss.png",
        "metrics.csv",
        "metrics.json",
        "params.npz",
        "sensitivity.csv",
    ]
    W, b = rundir.load_params(run.run_dir / "params.npz")
    for saved, live in zip(W + b, run.trainer.params[0] + run.trainer.params[1], strict=True):
        np.testing.assert_array_equal(saved, live)
    meta = json.loads((run.run_dir / "metrics.json").read_text())
    assert meta["epochs_run"] == 12 and len(meta["epochs"]) == 13
    assert meta["examples"] == {"train": 104, "val": 23, "test": 23}
    header = (run.run_dir / "metrics.csv").read_text().splitlines()[0].split(",")
    assert header[:5] == ["epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy"]
    assert {"grad_W1", "grad_b1", "grad_W2", "grad_b2"} <= set(header)


def test_epoch_batch_iteration_semantics(run) -> None:
    # seed 001: one epoch passes every training example once, in ceil(n / batch) iterations
    assert run.batch_size == 8 and run.iterations_per_epoch == math.ceil(104 / 8) == 13
    assert len(run.step_losses) == 12 * 13
    assert "12 epochs × 13 iterations per epoch (batch 8 of 104 training examples) = 156" in (
        run.summary()
    )


def test_metrics_are_the_trainers_own(run, data) -> None:
    last = run.rows[-1]
    assert last["train_loss"] == pytest.approx(run.trainer.loss(data.train.X, data.train.T))
    Y = run.trainer.predict(data.val.X)
    acc = np.mean(Y.argmax(axis=1) == data.val.T.argmax(axis=1))
    assert last["val_accuracy"] == pytest.approx(acc)
    assert run.rows[0]["train_loss"] > last["train_loss"]  # it learned
    assert run.test["accuracy"] >= 0.8


def test_sensitivity_forward_matches_the_kernel(run, spec, data) -> None:
    # the NumPy forward pass built from the activation records predicts what the kernel does,
    # and the input Jacobian agrees with finite differences of the kernel's predict
    W, b = run.trainer.params
    X = data.test.X[:5]
    np.testing.assert_allclose(forward(spec, W, b, X)[1][-1], run.trainer.predict(X), rtol=1e-10)
    J = input_jacobian(spec, W, b, X)
    h = 1e-6
    for k in range(4):
        e = np.zeros(4)
        e[k] = h
        fd = (run.trainer.predict(X + e) - run.trainer.predict(X - e)) / (2 * h)
        np.testing.assert_allclose(J[:, :, k], fd, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(
        run.sensitivity.per_feature,
        np.abs(input_jacobian(spec, W, b, data.test.X)).mean(axis=(0, 1)),
    )


def test_early_stopping_rule() -> None:
    stopper = EarlyStopping(2)
    decisions = [stopper.update(e, v) for e, v in enumerate([3.0, 2.0, 2.5, 1.5, 1.5, 1.6], 1)]
    assert decisions == [False, False, False, False, False, True]
    assert stopper.best_epoch == 4 and stopper.best_loss == 1.5


def test_early_stopping_restores_the_best_epoch(spec, data) -> None:
    trainer = compile_spec(spec)
    result = train(
        spec, data, trainer=trainer, epochs=300, batch_size=2, early_stopping=1, progress=False
    )
    assert result.stopped_early and result.epochs_run < 300
    best = min(range(1, len(result.rows)), key=lambda e: result.rows[e]["val_loss"])
    assert result.best_epoch == best
    assert trainer.loss(data.val.X, data.val.T) == pytest.approx(result.rows[best]["val_loss"])


def test_ctrl_c_keeps_the_last_completed_epoch(spec, data, tmp_path: Path) -> None:
    seen: dict[int, tuple] = {}

    def interrupt(epoch: int, trainer, rows) -> None:
        seen[epoch] = tuple(np.array(w) for w in trainer.params[0])
        if epoch == 3:
            raise KeyboardInterrupt

    result = train(spec, data, out_dir=tmp_path / "run", callback=interrupt, progress=False)
    assert result.interrupted and result.epochs_run == 3
    W, _ = rundir.load_params(tmp_path / "run" / "params.npz")
    for saved, at3 in zip(W, seen[3], strict=True):
        np.testing.assert_array_equal(saved, at3)
    meta = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert meta["interrupted"] and meta["epochs_run"] == 3
    assert len((tmp_path / "run" / "metrics.csv").read_text().splitlines()) == 1 + 4


def test_cli_train_and_interrupt(
    spec_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    out = tmp_path / "ok"
    code = main(["train", str(spec_path), "--data", "iris", "--standardize", "-o", str(out)])
    stdout = capsys.readouterr().out
    assert code == 0
    assert stdout.startswith("iris-4-6-3 on iris: 12 epochs × 13 iterations per epoch")
    assert (out / "params.npz").is_file() and (out / "loss.png").is_file()

    def stop_at_2(epoch: int, trainer, rows) -> None:
        if epoch == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(train_cli, "train", functools.partial(train, callback=stop_at_2))
    code = main(["train", str(spec_path), "--data", "iris", "-o", str(tmp_path / "stop")])
    err = capsys.readouterr().err
    assert code == 130
    assert "interrupted; saved the parameters and metrics of epoch 2" in err
    assert (tmp_path / "stop" / "params.npz").is_file()


def test_regression_scores_by_mse(tmp_path: Path) -> None:
    spec = symbp.load(
        {
            "name": "diabetes-linear",
            "layers": [10, 1],
            "activations": ["identity"],
            "loss": "half_sse",
            "optimizer": {"name": "sgd", "learning_rate": 0.05},
            "training": {"epochs": 5, "batch_size": 16},
        }
    )
    data = prepare(load_data("diabetes"), spec, standardize=True, seed=0)
    assert data.task == "regression" and data.classes is None
    result = train(spec, data, out_dir=tmp_path / "run", progress=False)
    assert (tmp_path / "run" / "mse.png").is_file()
    Y = result.trainer.predict(data.val.X)
    assert result.rows[-1]["val_mse"] == pytest.approx(np.mean((Y - data.val.T) ** 2))
    # half_sse on one output: the loss E is half the MSE
    assert result.rows[-1]["val_loss"] == pytest.approx(result.rows[-1]["val_mse"] / 2)
    assert "; test mse " in result.summary()


def test_cli_csv_labels_and_npz(spec_path: Path, tmp_path: Path, capsys) -> None:
    from sklearn.datasets import load_iris

    iris = load_iris()
    names = np.array(["setosa", "versicolor", "virginica"])[iris.target]
    lines = ["sl,sw,pl,pw,species"] + [
        ",".join([*map(str, x), s]) for x, s in zip(iris.data, names, strict=True)
    ]
    csv_path = tmp_path / "iris.csv"
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "csv"
    code = main(
        ["train", str(spec_path), "--data", str(csv_path), "--target", "species", "-o", str(out)]
    )
    assert code == 0, capsys.readouterr().err
    with np.load(out / "params.npz") as archive:
        assert archive["classes"].tolist() == ["setosa", "versicolor", "virginica"]
    sens = (out / "sensitivity.csv").read_text().splitlines()
    assert sens[0] == "feature,mean_abs_dy_dx,dy_setosa,dy_versicolor,dy_virginica"
    assert [row.split(",")[0] for row in sens[1:]] == ["sl", "sw", "pl", "pw"]

    npz = tmp_path / "iris.npz"
    np.savez(npz, X=iris.data, T=np.eye(3)[iris.target])
    code = main(
        ["train", str(spec_path), "--data", str(npz), "--epochs", "2", "-o", str(tmp_path / "n")]
    )
    assert code == 0
    meta = json.loads((tmp_path / "n" / "metrics.json").read_text())
    assert meta["task"] == "classification" and meta["epochs_run"] == 2
