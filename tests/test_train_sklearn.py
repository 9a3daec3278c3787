"""The estimators under scikit-learn's own estimator checks, open sizes, hyper-parameters,
sample weights, pickling and parallel grid search."""

from __future__ import annotations

import copy
import pickle
import re
from typing import Any

import numpy as np
import pytest
import sympy as sp
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.utils.estimator_checks import parametrize_with_checks

import symbp
from symbp.errors import DataError, SpecError
from symbp.spec.sizing import sized
from symbp.train.estimator import SymbpClassifier, SymbpRegressor

#: Small open-size specs: sized from each check's data, few epochs, adam; no batch size,
#: so minibatches of min(200, n) rows: one batch on the checks' data, on which weights
#: 0, 1, 2, ... then equal removed and repeated rows to rounding.
CLASSIFIER_SPEC: dict[str, Any] = {
    "name": "check-classifier",
    "layers": [None, 8, None],
    "activations": ["tanh", "softmax"],
    "loss": "cross_entropy",
    "optimizer": {"name": "adam", "learning_rate": 0.05},
    "init": {"name": "xavier_uniform", "seed": 0},
    "training": {"epochs": 200, "shuffle": True},
}
REGRESSOR_SPEC: dict[str, Any] = {
    "name": "check-regressor",
    "layers": [None, 8, None],
    "activations": ["tanh", "identity"],
    "loss": "mse",
    "optimizer": {"name": "adam", "learning_rate": 0.05},
    "init": {"name": "xavier_uniform", "seed": 0},
    "training": {"epochs": 200, "shuffle": True},
}


@parametrize_with_checks(
    [SymbpClassifier(CLASSIFIER_SPEC), SymbpRegressor(REGRESSOR_SPEC), SymbpClassifier()]
)
def test_sklearn_estimator_checks(estimator: Any, check: Any) -> None:
    """Every check passes: none is expected to fail (no xfail), the default too."""
    check(estimator)


# -- open sizes ------------------------------------------------------------


def test_open_spec_is_refused_where_no_data_sizes_it(write_spec, capsys) -> None:
    from symbp.cli import main

    for layers, field in (([None, 8, 3], "layers[0]"), ([4, 8, None], "layers[2]")):
        with pytest.raises(SpecError) as err:
            symbp.load({**CLASSIFIER_SPEC, "layers": layers})
        assert str(err.value) == f"{field}: open size; give it or fit an estimator"
    with pytest.raises(
        SpecError, match=r"layers\[1\]: open size \(null\) is allowed for the input"
    ):
        symbp.load({**CLASSIFIER_SPEC, "layers": [3, None, 2]})
    path = write_spec(CLASSIFIER_SPEC)
    assert main(["derive", str(path)]) == 2
    err_text = capsys.readouterr().err.strip()
    assert err_text.endswith("layers[0]: open size; give it or fit an estimator")
    assert len(err_text.splitlines()) == 1


def test_sized_fills_open_sizes_only() -> None:
    spec = sized(CLASSIFIER_SPEC, 4, 3)
    assert spec.layers == (4, 8, 3) and CLASSIFIER_SPEC["layers"] == [None, 8, None]
    assert sized({**CLASSIFIER_SPEC, "layers": [5, 8, None]}, 4, 2).layers == (5, 8, 2)
    # same sizes written out: the same spec (hash, hence the same compiled module)
    assert spec.hash == symbp.load({**CLASSIFIER_SPEC, "layers": [4, 8, 3]}).hash
    with pytest.raises(SpecError, match=r"layers\[2\]: open size"):
        sized(CLASSIFIER_SPEC, 4, None)


def test_open_sizes_follow_the_data() -> None:
    X, y = load_iris(return_X_y=True)
    clf = SymbpClassifier(CLASSIFIER_SPEC, epochs=30, standardize=True).fit(X, y)
    assert clf.spec_.layers == (4, 8, 3) and clf.n_features_in_ == 4
    assert clf.score(X, y) > 0.9
    binary = SymbpClassifier({**CLASSIFIER_SPEC, "activations": ["tanh", "sigmoid"], "loss": "bce"})
    assert binary.fit(X[y < 2], y[y < 2]).spec_.layers == (4, 8, 1)
    assert SymbpClassifier(CLASSIFIER_SPEC).fit(X[y < 2], y[y < 2]).spec_.layers == (4, 8, 2)
    Y = np.column_stack([X[:, 0] + X[:, 1], X[:, 2] - X[:, 3]])
    reg = SymbpRegressor(REGRESSOR_SPEC, standardize=True).fit(X, Y)
    assert reg.spec_.layers == (4, 8, 2) and reg.predict(X).shape == (150, 2)
    assert reg.score(X, Y) > 0.9
    with pytest.raises(DataError, match="3 features per example; the spec's input layer expects 4"):
        SymbpRegressor({**REGRESSOR_SPEC, "layers": [4, 8, None]}).fit(X[:, :3], Y)
    with pytest.raises(ValueError, match="1 class in the labels"):
        SymbpClassifier(CLASSIFIER_SPEC).fit(X[:10], y[:10])


def test_tags_follow_the_output_size() -> None:
    from sklearn.utils import get_tags

    assert get_tags(SymbpRegressor(REGRESSOR_SPEC)).target_tags.multi_output
    one = get_tags(SymbpRegressor({**REGRESSOR_SPEC, "layers": [None, 8, 1]})).target_tags
    assert one.single_output and not one.multi_output
    assert get_tags(SymbpClassifier(CLASSIFIER_SPEC)).classifier_tags.multi_class
    two = {**CLASSIFIER_SPEC, "layers": [None, 8, 2]}
    assert not get_tags(SymbpClassifier(two)).classifier_tags.multi_class


# -- hyper-parameters ------------------------------------------------------


def test_hyper_parameters_build_the_fitted_spec() -> None:
    X, y = load_iris(return_X_y=True)
    given = copy.deepcopy(CLASSIFIER_SPEC)
    clf = SymbpClassifier(
        given,
        learning_rate=0.02,
        alpha=0.001,
        hidden_layer_sizes=(5, 4),
        random_state=3,
        epochs=2,
    )
    clf.fit(X, y)
    spec = clf.spec_
    assert spec.layers == (4, 5, 4, 3)
    assert [a.name for a in spec.activations] == ["tanh", "tanh", "softmax"]
    assert spec.optimizer.learning_rate == sp.Rational(1, 50)
    assert spec.optimizer.weight_decay == sp.Rational(1, 1000)
    assert given == CLASSIFIER_SPEC  # the user's spec is not changed
    assert clf.get_params()["hidden_layer_sizes"] == (5, 4)
    seeds = (spec.init.seed, spec.training.seed)
    again = clone(clf).fit(X, y)
    assert (again.spec_.init.seed, again.spec_.training.seed) == seeds
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    other = clone(clf).set_params(random_state=4).fit(X, y)
    assert (other.spec_.init.seed, other.spec_.training.seed) != seeds
    assert not np.array_equal(other.predict_proba(X), clf.predict_proba(X))
    # without random_state the spec's own seeds
    plain = SymbpClassifier(CLASSIFIER_SPEC, epochs=2).fit(X, y)
    assert plain.spec_.init.seed == 0 and plain.spec_.training.seed == 0


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"learning_rate": 0}, "learning_rate: expected a positive number, found 0"),
        ({"alpha": -1.0}, "alpha: expected a non-negative number, found -1.0"),
        ({"hidden_layer_sizes": (4, 0)}, "hidden_layer_sizes: expected positive whole numbers"),
        ({"early_stopping": True, "validation_fraction": 1.5}, "validation_fraction: expected"),
        ({"early_stopping": True, "n_iter_no_change": 0}, "n_iter_no_change: expected"),
    ],
)
def test_bad_hyper_parameters_are_value_errors(params: dict[str, Any], message: str) -> None:
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match=re.escape(message)):
        SymbpClassifier(CLASSIFIER_SPEC, epochs=1, **params).fit(X, y)


def test_hidden_layer_sizes_cannot_resize_given_params() -> None:
    spec = {
        "layers": [2, 2, 1],
        "params": {"W": [[[1, 0], [0, 1]], [[1, 1]]]},
        "loss": "mse",
    }
    X = np.array([[0.0, 1.0], [1.0, 0.0]])
    with pytest.raises(ValueError, match=r"hidden_layer_sizes: the spec gives params for layers"):
        SymbpRegressor(spec, hidden_layer_sizes=(3,)).fit(X, [0.0, 1.0])


def test_early_stopping_keeps_the_best_epoch() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = X @ np.array([1.0, -1.0, 0.5]) + rng.normal(scale=0.5, size=60)
    # a large learning rate makes the validation loss wander: stop, keep the best
    reg = SymbpRegressor(
        {**REGRESSOR_SPEC, "optimizer": {"name": "sgd", "learning_rate": 0.3}},
        epochs=200,
        early_stopping=True,
        validation_fraction=0.25,
        n_iter_no_change=3,
        tol=0.0,
        random_state=0,
    ).fit(X, y)
    scores = reg.validation_scores_  # R² per epoch, as scikit-learn's: higher is better
    losses = reg.validation_loss_curve_
    assert reg.n_iter_ == len(scores) == len(losses) == len(reg.loss_curve_) < 200
    assert reg.best_epoch_ == int(np.argmax(scores)) + 1
    assert reg.best_validation_score_ == max(scores)
    assert reg.n_iter_ == reg.best_epoch_ + 3
    # the kept parameters are the best epoch's: its validation R² and loss, recomputed
    from sklearn.metrics import r2_score
    from sklearn.model_selection import train_test_split

    rows = np.arange(60)
    _, val = train_test_split(rows, test_size=15, random_state=reg.spec_.training.seed)
    assert reg.trainer_.loss(X[val], y[val].reshape(-1, 1)) == losses[reg.best_epoch_ - 1]
    assert r2_score(y[val], reg.predict(X[val])) == max(scores)


# -- sample weights --------------------------------------------------------


def test_sample_weight_equal_zero_and_integer_weights() -> None:
    X, y = load_iris(return_X_y=True)
    est = SymbpClassifier(CLASSIFIER_SPEC, epochs=5, standardize=True)
    plain = clone(est).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(
        clone(est).fit(X, y, sample_weight=np.full(150, 2.5)).predict_proba(X), plain
    )
    keep = np.arange(150) % 3 != 0
    dropped = clone(est).fit(X[keep], y[keep]).predict_proba(X)
    weighted = clone(est).fit(X, y, sample_weight=keep.astype(float)).predict_proba(X)
    np.testing.assert_array_equal(weighted, dropped)
    # integer weights are repeated rows (one full batch each: the same mean, to rounding)
    full = SymbpClassifier(CLASSIFIER_SPEC, epochs=5, batch_size=300, standardize=False)
    twice = np.r_[np.ones(75, int), np.full(75, 2)]
    repeated = clone(full).fit(np.repeat(X, twice, axis=0), np.repeat(y, twice))
    weighted = clone(full).fit(X, y, sample_weight=twice)
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-12)
    assert weighted.loss_curve_ == pytest.approx(repeated.loss_curve_, rel=1e-13)
    assert not np.allclose(weighted.predict_proba(X), clone(full).fit(X, y).predict_proba(X))
    with pytest.raises(ValueError, match="sample_weight: negative weights"):
        clone(est).fit(X, y, sample_weight=-np.ones(150))


# -- pickling ----------------------------------------------------------------


def test_fitted_estimators_pickle_and_deepcopy() -> None:
    X, y = load_iris(return_X_y=True)
    clf = SymbpClassifier(CLASSIFIER_SPEC, epochs=5, standardize=True).fit(X, y)
    for twin in (pickle.loads(pickle.dumps(clf)), copy.deepcopy(clf)):
        np.testing.assert_array_equal(twin.predict_proba(X), clf.predict_proba(X))
        assert (
            twin.spec_.layers == (4, 8, 3) and twin.trainer_.steps_done == clf.trainer_.steps_done
        )
    # training resumes from the same optimiser state: the same next epoch
    twin = pickle.loads(pickle.dumps(clf))
    clf.trainer_.fit(clf._transform(X), np.eye(3)[y], epochs=1)
    twin.trainer_.fit(twin._transform(X), np.eye(3)[y], epochs=1)
    np.testing.assert_array_equal(twin.predict_proba(X), clf.predict_proba(X))


# -- parallel grid search --------------------------------------------------

GRID = {"learning_rate": [0.02, 0.05], "epochs": [5, 10]}


def shared_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Name the compile cache in the environment, so worker processes share it."""
    from symbp.codegen.loader import cache_dir

    monkeypatch.setenv("SYMBP_CACHE_DIR", str(cache_dir().parent))


def grid_scores(estimator: Any, n_jobs: int, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    search = GridSearchCV(estimator, GRID, cv=cv, n_jobs=n_jobs).fit(X, y)
    assert search.best_estimator_.n_iter_ == search.best_params_["epochs"]
    return search.cv_results_["mean_test_score"]


def test_grid_search_in_two_processes_gives_the_sequential_scores(monkeypatch) -> None:
    shared_cache(monkeypatch)
    X, y = load_iris(return_X_y=True)
    unfitted = SymbpClassifier(CLASSIFIER_SPEC, batch_size=16, standardize=True, random_state=0)
    sequential = grid_scores(unfitted, 1, X, y)
    assert sequential.max() > 0.9 and len(set(sequential)) > 1
    np.testing.assert_array_equal(grid_scores(unfitted, 2, X, y), sequential)
    fitted = clone(unfitted).set_params(epochs=7).fit(X, y)
    np.testing.assert_array_equal(grid_scores(fitted, 2, X, y), sequential)
    assert fitted.n_iter_ == 7  # the search fitted clones, never the estimator given
