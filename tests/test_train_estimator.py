"""The scikit-learn estimators: cross-validation, pipelines, clone/get_params."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from symbp.errors import DataError
from symbp.train.estimator import SymbpClassifier, SymbpRegressor

IRIS = {
    "name": "iris-4-6-3",
    "layers": [4, 6, 3],
    "activations": ["tanh", "softmax"],
    "loss": "cross_entropy",
    "optimizer": {"name": "sgd", "learning_rate": 0.1},
    "init": {"name": "xavier_uniform", "seed": 1},
    "training": {"epochs": 30, "batch_size": 8, "shuffle": True, "seed": 0},
}


def test_cross_val_score_on_iris() -> None:
    X, y = load_iris(return_X_y=True)
    clf = SymbpClassifier(IRIS, standardize=True)
    scores = cross_val_score(clf, X, y, cv=3)
    assert scores.shape == (3,)
    assert scores.mean() >= 0.85


def test_params_clone_and_pipeline() -> None:
    clf = SymbpClassifier(IRIS, epochs=20, batch_size=4)
    params = clf.get_params()
    assert params["epochs"] == 20 and params["batch_size"] == 4 and params["spec"] is IRIS
    twin = clone(clf).set_params(epochs=25)
    assert twin.get_params()["epochs"] == 25 and clf.epochs == 20
    X, y = load_iris(return_X_y=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    pipe = make_pipeline(StandardScaler(), clf).fit(X, labels)
    predicted = pipe.predict(X)
    assert set(predicted) <= set(labels)
    assert pipe.score(X, labels) == pytest.approx(np.mean(predicted == labels))
    proba = pipe.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(pipe.classes_[np.argmax(proba, axis=1)], predicted)
    assert pipe.score(X, labels) >= 0.9


def test_classifier_rejects_class_mismatch() -> None:
    X, y = load_iris(return_X_y=True)
    with pytest.raises(DataError, match="2 classes; the spec's output layer has 3 units"):
        SymbpClassifier(IRIS).fit(X[y < 2], y[y < 2])


def test_regressor_learns_a_linear_map() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = X @ np.array([1.5, -2.0, 0.5]) + 0.3
    spec = {
        "layers": [3, 1],
        "activations": ["identity"],
        "loss": "mse",
        "optimizer": {"name": "sgd", "learning_rate": 0.05},
        "init": {"name": "xavier_uniform", "seed": 0},
        "training": {"epochs": 40, "batch_size": 10},
    }
    reg = SymbpRegressor(spec).fit(X, y)
    assert reg.predict(X).shape == (200,)
    assert reg.score(X, y) > 0.99
    W, b = reg.trainer_.params
    np.testing.assert_allclose(W[0].ravel(), [1.5, -2.0, 0.5], atol=1e-3)
    np.testing.assert_allclose(b[0], [0.3], atol=1e-3)


def test_binary_classifier_with_one_sigmoid_output() -> None:
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    spec = {
        "layers": [30, 1],
        "activations": ["sigmoid"],
        "loss": "bce",
        "optimizer": {"name": "sgd", "learning_rate": 0.1},
        "training": {"epochs": 10, "batch_size": 16},
    }
    clf = SymbpClassifier(spec, standardize=True).fit(X, y)
    assert list(clf.classes_) == [0, 1]
    assert clf.predict_proba(X).shape == (569, 2)
    assert clf.score(X, y) >= 0.95
