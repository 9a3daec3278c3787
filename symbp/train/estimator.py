"""scikit-learn estimators wrapping a compiled symbp trainer.

``SymbpClassifier`` and ``SymbpRegressor`` follow the scikit-learn estimator
contract (constructor arguments stored unchanged, ``get_params``/``set_params``
from :class:`~sklearn.base.BaseEstimator`, fitted attributes ending in ``_``),
so they work in pipelines, ``cross_val_score`` and grid search::

    from sklearn.model_selection import cross_val_score
    clf = SymbpClassifier("examples/digits_64_64_10.yaml", epochs=20, standardize=True)
    cross_val_score(clf, X, y, cv=3)

``fit`` compiles the spec (the kernel cache makes repeated compiles cheap) and
trains from the spec's starting parameters, so every fit starts afresh.
The classifier one-hot encodes the labels when the output layer has one unit per
class, or uses a single 0/1 (hinge: −1/+1) column for two classes and one output
unit (:func:`symbp.train.prepare.encode_targets`). ``predict`` returns class labels;
``predict_proba`` the network's outputs (softmax outputs are probabilities;
other activations are rescaled to sum to 1). ``score`` is accuracy
(classifier) or R² (regressor), as scikit-learn defines them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ..errors import DataError
from ..spec import Spec
from ..spec import load as load_spec
from .metrics import predicted_index
from .prepare import encode_targets

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data
except ImportError:  # pragma: no cover - older scikit-learn

    def validate_data(estimator: Any, *args: Any, **kwargs: Any) -> Any:
        return estimator._validate_data(*args, **kwargs)


class _SymbpEstimator(BaseEstimator):
    """Shared fitting: spec, optional standardisation, compiled trainer."""

    def __init__(
        self,
        spec: Spec | str | Path | dict[str, Any],
        *,
        epochs: int | None = None,
        batch_size: int | None = None,
        shuffle: bool | None = None,
        seed: int | None = None,
        standardize: bool = False,
    ) -> None:
        self.spec = spec
        self.epochs = epochs
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.standardize = standardize

    def _fit_arrays(self, X: np.ndarray, T: np.ndarray) -> None:
        from ..codegen import compile as compile_spec

        spec = self.spec_
        if X.shape[1] != spec.layers[0]:
            raise DataError(
                f"{X.shape[1]} features per example; the spec's input layer expects "
                f"{spec.layers[0]}"
            )
        if self.standardize:
            self.mean_ = X.mean(axis=0)
            std = X.std(axis=0)
            self.scale_ = np.where(std > 0, std, 1.0)
        else:
            self.mean_ = None
            self.scale_ = None
        self.trainer_ = compile_spec(spec)
        self.history_ = self.trainer_.fit(
            self._transform(X),
            T,
            epochs=self.epochs,
            batch_size=self.batch_size,
            shuffle=self.shuffle,
            seed=self.seed,
        )

    def _transform(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        return X if self.mean_ is None else (X - self.mean_) / self.scale_

    def _outputs(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "trainer_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return np.asarray(self.trainer_.predict(self._transform(X)))


class SymbpClassifier(ClassifierMixin, _SymbpEstimator):
    """A symbp network as a scikit-learn classifier (see the module docstring)."""

    def fit(self, X: Any, y: Any) -> SymbpClassifier:
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.spec_ = load_spec(self.spec)
        self.classes_ = np.unique(y)
        n_out = self.spec_.layers[-1]
        one_hot = n_out > 1
        if (one_hot and len(self.classes_) != n_out) or (not one_hot and len(self.classes_) != 2):
            raise DataError(
                f"{len(self.classes_)} classes; the spec's output layer has {n_out} unit"
                f"{'s' if n_out != 1 else ''} (one per class, or one for two classes)"
            )
        self._sign = self.spec_.loss.target_domain == "sign"
        T = encode_targets(y, self.classes_, n_out, one_hot=one_hot, sign=self._sign)
        self._fit_arrays(X, T)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n, n_classes)`` from the network's outputs."""
        Y = self._outputs(X)
        if Y.shape[1] == 1:
            p = (Y[:, 0] + 1) / 2 if self._sign else Y[:, 0]
            p = np.clip(p, 0.0, 1.0)
            return np.column_stack([1 - p, p])
        Y = np.clip(Y, 0.0, None)
        total = Y.sum(axis=1, keepdims=True)
        return np.divide(Y, total, out=np.full_like(Y, 1 / Y.shape[1]), where=total > 0)

    def predict(self, X: Any) -> np.ndarray:
        """Class labels ``(n,)``."""
        return self.classes_[predicted_index(self._outputs(X), sign=self._sign)]


class SymbpRegressor(RegressorMixin, _SymbpEstimator):
    """A symbp network as a scikit-learn regressor (see the module docstring)."""

    def fit(self, X: Any, y: Any) -> SymbpRegressor:
        X, y = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True)
        self.spec_ = load_spec(self.spec)
        self._1d = np.ndim(y) == 1
        T = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        if T.shape[1] != self.spec_.layers[-1]:
            raise DataError(
                f"{T.shape[1]} target columns; the spec's output layer expects "
                f"{self.spec_.layers[-1]}"
            )
        self._fit_arrays(X, T)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predictions ``(n,)`` for 1-D targets, else ``(n, outputs)``."""
        Y = self._outputs(X)
        return Y[:, 0] if self._1d else Y
