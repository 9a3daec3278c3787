"""Run metrics through sklearn.metrics (issue 26, item 5): accuracy, F1, log-loss and
the confusion matrix, or MSE, MAE and R², in metrics.json, the summary line and the
notebook display."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import symbp
from symbp.render.jupyter import run_result_repr_html
from symbp.train.data import load_data
from symbp.train.metrics import probabilities, report
from symbp.train.prepare import prepare
from symbp.train.runner import train

IRIS = {
    "name": "metrics-iris",
    "layers": [4, 6, 3],
    "activations": ["tanh", "softmax"],
    "loss": "cross_entropy",
    "optimizer": {"name": "sgd", "learning_rate": 0.1},
    "init": {"name": "xavier_uniform", "seed": 1},
    "training": {"epochs": 4, "batch_size": 8, "shuffle": True, "seed": 0},
}


def test_classification_report_by_hand() -> None:
    T = np.eye(3)[[0, 1, 2, 1]]
    Y = np.array([[0.5, 0.25, 0.25], [0.25, 0.5, 0.25], [0.25, 0.25, 0.5], [0.25, 0.25, 0.5]])
    got = report("classification", Y, T)
    assert got["accuracy"] == 0.75
    assert got["confusion_matrix"] == [[1, 0, 0], [0, 1, 1], [0, 0, 1]]
    # F1 per class: 1, 2/3 (precision 1, recall 1/2), 2/3 (precision 1/2, recall 1)
    assert got["f1"] == pytest.approx(7 / 9, rel=1e-15)
    assert got["log_loss"] == pytest.approx(-(3 * math.log(0.5) + math.log(0.25)) / 4, rel=1e-15)


def test_one_output_and_sign_targets() -> None:
    T = np.array([[1.0], [-1.0], [1.0]])
    Y = np.array([[0.5], [-0.5], [-0.2]])  # hinge outputs: (y + 1) / 2 is p
    np.testing.assert_allclose(probabilities(Y, sign=True)[:, 1], [0.75, 0.25, 0.4])
    got = report("classification", Y, T, sign=True)
    assert got["accuracy"] == pytest.approx(2 / 3)
    assert got["confusion_matrix"] == [[1, 0], [1, 1]]
    assert got["log_loss"] == pytest.approx(-(math.log(0.75) * 2 + math.log(0.4)) / 3)


def test_regression_report_by_hand() -> None:
    T = np.array([[1.0], [2.0], [3.0], [4.0]])
    Y = np.array([[1.5], [2.0], [2.0], [4.0]])
    got = report("regression", Y, T)
    assert got["mse"] == (0.25 + 1) / 4
    assert got["mae"] == 1.5 / 4
    assert got["r2"] == 1 - 1.25 / 5
    empty = report("regression", Y[:0], T[:0])
    assert all(math.isnan(v) for v in empty.values())


def test_run_writes_every_score(tmp_path: Path) -> None:
    from sklearn import metrics as sk

    spec = symbp.load(IRIS)
    data = prepare(load_data("iris"), spec, standardize=True, seed=0)
    result = train(spec, data, out_dir=tmp_path / "run", progress=False, plots_enabled=False)
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())["test"]
    assert sorted(saved) == ["accuracy", "confusion_matrix", "f1", "log_loss", "loss"]
    truth = np.argmax(data.test.T, axis=1)
    Y = result.trainer.predict(data.test.X)
    predicted = np.argmax(Y, axis=1)
    assert saved["accuracy"] == sk.accuracy_score(truth, predicted)
    assert saved["f1"] == sk.f1_score(truth, predicted, average="macro")
    assert saved["log_loss"] == pytest.approx(sk.log_loss(truth, Y), rel=1e-12)
    assert saved["confusion_matrix"] == sk.confusion_matrix(truth, predicted).tolist()
    assert sum(map(sum, saved["confusion_matrix"])) == len(data.test)
    line = result.summary()
    assert f", f1 {saved['f1']:.4f}, log-loss " in line
    html = run_result_repr_html(result)
    matrix = "; ".join(" ".join(str(v) for v in row) for row in saved["confusion_matrix"])
    assert f"<td>{matrix}</td>" in html and "<th>test log loss</th>" in html


def test_regression_run_reports_mae_and_r2(tmp_path: Path) -> None:
    spec = symbp.load(
        {
            "name": "metrics-diabetes",
            "layers": [10, 1],
            "activations": ["identity"],
            "loss": "half_sse",
            "optimizer": {"name": "sgd", "learning_rate": 0.05},
            "training": {"epochs": 3, "batch_size": 16},
        }
    )
    data = prepare(load_data("diabetes"), spec, standardize=True, seed=0)
    result = train(spec, data, progress=False, plots_enabled=False)
    Y = result.trainer.predict(data.test.X)
    T = data.test.T
    assert result.test["mae"] == pytest.approx(np.mean(np.abs(Y - T)), rel=1e-12)
    r2 = 1 - np.sum((Y - T) ** 2) / np.sum((T - T.mean()) ** 2)
    assert result.test["r2"] == pytest.approx(r2, rel=1e-12)
    assert f", mae {result.test['mae']:.4f}, r2 " in result.summary()
