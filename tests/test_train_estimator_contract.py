"""The estimator contract next to scikit-learn's MLP (issue 26, item 4): the default
architecture, partial_fit, warm_start, class_weight, verbose, dtype, loss_curve_,
tol / n_iter_no_change stopping and ConvergenceWarning, and the names in ``symbp``."""

from __future__ import annotations

import itertools
import subprocess
import sys
import warnings
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits, load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils.class_weight import compute_sample_weight

from symbp.train.estimator import SymbpClassifier, SymbpRegressor

IRIS: dict[str, Any] = {
    "name": "contract-iris",
    "layers": [None, 6, None],
    "activations": ["tanh", "softmax"],
    "loss": "cross_entropy",
    "optimizer": {"name": "adam", "learning_rate": 0.02},
    "init": {"name": "xavier_uniform", "seed": 2},
}


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, ...]:
    X, y = load_digits(return_X_y=True)
    return tuple(train_test_split(X, y, test_size=0.25, random_state=0, stratify=y))


def test_default_classifier_fits_digits(digits: tuple[np.ndarray, ...]) -> None:
    X_train, X_test, y_train, y_test = digits
    clf = SymbpClassifier().fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.95
    spec = clf.spec_
    assert spec.layers == (64, 100, 10)
    assert [a.name for a in spec.activations] == ["relu", "softmax"]
    assert spec.loss.name == "cross_entropy" and spec.optimizer.name == "adam"
    # minibatches of min(200, n) rows: ceil(1347 / 200) = 7 steps per epoch
    assert len(clf.history_.step_losses) == 7 * clf.n_iter_
    assert len(clf.loss_curve_) == clf.n_iter_ < 200  # stopped by tol, as MLPClassifier
    assert clf.loss_curve_[-1] < clf.loss_curve_[0] / 10
    assert clf.best_loss_ == min(clf.loss_curve_)


def test_default_regressor_is_identity_and_mse() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2]
    reg = SymbpRegressor(epochs=300, learning_rate=0.01).fit(X, y)
    assert reg.spec_.layers == (4, 100, 1)
    assert [a.name for a in reg.spec_.activations] == ["relu", "identity"]
    assert reg.spec_.loss.name == "mse"
    assert reg.score(X, y) > 0.9


def _targets(y: np.ndarray) -> np.ndarray:
    return np.eye(10)[y]


def test_partial_fit_over_five_chunks_continues(digits: tuple[np.ndarray, ...]) -> None:
    X_train, _, y_train, _ = digits
    X, y = X_train[:1000], y_train[:1000]
    chunks = np.array_split(np.arange(1000), 5)
    clf = SymbpClassifier(batch_size=200, shuffle=False, learning_rate=0.01)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clone(clf).partial_fit(X[:10], y[:10])
    whole: list[float] = []
    for k, rows in enumerate(chunks):
        if k == 0:
            clf.partial_fit(X[rows], y[rows], classes=np.arange(10))
        else:
            before = clf.trainer_.loss(X[rows], _targets(y[rows]))
            clf.partial_fit(X[rows], y[rows])
            # the first step's loss is the loss where the previous call stopped
            assert abs(clf.history_.step_losses[0] - before) <= 1e-12
        whole.append(clf.trainer_.loss(X, _targets(y)))
    assert all(b < a for a, b in itertools.pairwise(whole))
    assert clf.n_iter_ == len(clf.loss_curve_) == 5
    assert clf.trainer_.steps_done == 5
    with pytest.raises(ValueError, match=r"partial_fit: labels \[10\] are not among classes"):
        clf.partial_fit(X[:3], np.array([1, 2, 10]))


def test_warm_start_continues_where_the_fit_stopped() -> None:
    X, y = load_iris(return_X_y=True)
    T = np.eye(3)[y]
    est = SymbpClassifier(IRIS, epochs=5, batch_size=150, shuffle=False, tol=None)
    warm = clone(est).set_params(warm_start=True).fit(X, y)
    end = warm.trainer_.loss(X, T)
    warm.fit(X, y)
    assert abs(warm.history_.step_losses[0] - end) <= 1e-12
    assert warm.n_iter_ == len(warm.loss_curve_) == 10
    assert all(b < a for a, b in itertools.pairwise(warm.loss_curve_))
    # two warm fits of 5 epochs are one fit of 10
    ten = clone(est).set_params(epochs=10).fit(X, y)
    np.testing.assert_array_equal(warm.predict_proba(X), ten.predict_proba(X))
    assert warm.loss_curve_ == ten.loss_curve_
    # without warm_start a refit starts again from the initial weights
    cold = clone(est).fit(X, y)
    first = cold.history_.step_losses[0]
    cold.fit(X, y)
    assert cold.history_.step_losses[0] == first and cold.n_iter_ == 5
    with pytest.raises(ValueError, match="warm_start: the labels hold the classes"):
        warm.fit(X[y < 2], y[y < 2])


def test_class_weight_is_sample_weight_by_class() -> None:
    X, y = load_iris(return_X_y=True)
    est = SymbpClassifier(IRIS, epochs=10, batch_size=32, shuffle=True, tol=None)
    weights = {0: 3.0, 1: 1.0, 2: 0.5}
    by_dict = clone(est).set_params(class_weight=weights).fit(X, y)
    by_rows = clone(est).fit(X, y, sample_weight=np.array([weights[c] for c in y]))
    np.testing.assert_array_equal(by_dict.predict_proba(X), by_rows.predict_proba(X))
    plain = clone(est).fit(X, y)
    assert not np.allclose(by_dict.predict_proba(X), plain.predict_proba(X))
    # "balanced" on balanced classes is equal weights: exactly the unweighted fit
    np.testing.assert_array_equal(
        clone(est).set_params(class_weight="balanced").fit(X, y).predict_proba(X),
        plain.predict_proba(X),
    )
    keep = np.r_[np.arange(50), np.arange(50, 150, 4)]
    balanced = clone(est).set_params(class_weight="balanced").fit(X[keep], y[keep])
    by_hand = clone(est).fit(
        X[keep], y[keep], sample_weight=compute_sample_weight("balanced", y[keep])
    )
    np.testing.assert_array_equal(balanced.predict_proba(X), by_hand.predict_proba(X))


def test_verbose_prints_every_epoch(capsys: pytest.CaptureFixture[str]) -> None:
    X, y = load_iris(return_X_y=True)
    clf = SymbpClassifier(IRIS, epochs=4, tol=None, verbose=1).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in lines] == [f"Epoch {e}" for e in range(1, 5)]
    assert lines[-1] == f"Epoch 4, loss = {clf.loss_curve_[-1]:.8f}"
    SymbpClassifier(IRIS, epochs=2, tol=None).fit(X, y)
    assert capsys.readouterr().out == ""


def test_dtype_float32() -> None:
    X, y = load_iris(return_X_y=True)
    est = SymbpClassifier(IRIS, epochs=30, batch_size=16, tol=None, standardize=True)
    single = clone(est).set_params(dtype="float32").fit(X, y)
    double = clone(est).fit(X, y)
    assert single.trainer_.dtype == np.float32 and double.trainer_.dtype == np.float64
    np.testing.assert_allclose(single.predict_proba(X), double.predict_proba(X), atol=1e-3)
    with pytest.raises(ValueError, match="dtype: expected 'float64' or 'float32', found 'int8'"):
        clone(est).set_params(dtype="int8").fit(X, y)


def test_convergence_warning_and_tol_stopping() -> None:
    X, y = load_iris(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match="did not go down over 1 epoch"):
        SymbpClassifier(IRIS, epochs=1, learning_rate=1e-6).fit(X, y)
    with pytest.warns(ConvergenceWarning, match=r"maximum epochs \(20\) reached"):
        SymbpClassifier(IRIS, epochs=20, batch_size=16).fit(X, y)
    # a tol no epoch can meet after the first (which improves on nothing): stop after
    # n_iter_no_change more epochs, no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = SymbpClassifier(IRIS, epochs=50, tol=100.0, n_iter_no_change=4).fit(X, y)
    assert clf.n_iter_ == 1 + 4
    with pytest.raises(ValueError, match="tol: expected a number >= 0 or None, found -1"):
        SymbpClassifier(IRIS, tol=-1).fit(X, y)


def test_estimators_are_names_of_symbp_imported_lazily() -> None:
    code = (
        "import sys, symbp\n"
        "assert 'sklearn' not in sys.modules, 'eager'\n"
        "from symbp import SymbpClassifier, SymbpRegressor\n"
        "import symbp.train.estimator as e\n"
        "assert SymbpClassifier is e.SymbpClassifier and SymbpRegressor is e.SymbpRegressor\n"
        "assert 'SymbpClassifier' in symbp.__all__ and 'SymbpRegressor' in dir(symbp)\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "ok\n"
