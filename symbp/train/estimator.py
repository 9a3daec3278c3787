"""scikit-learn estimators wrapping a compiled symbp trainer.

``SymbpClassifier`` and ``SymbpRegressor`` follow the scikit-learn estimator
contract (constructor arguments stored unchanged, ``get_params``/``set_params``
from :class:`~sklearn.base.BaseEstimator`, fitted attributes ending in ``_``) and
pass ``sklearn.utils.estimator_checks``, so they work in pipelines,
``cross_val_score`` and grid search (``n_jobs`` and Dask through joblib too)::

    from sklearn.model_selection import cross_val_score
    clf = SymbpClassifier("examples/digits_64_64_10.yaml", epochs=20, standardize=True)
    cross_val_score(clf, X, y, cv=3)

The spec
    A :class:`~symbp.spec.Spec`, a YAML path or a dict. Its input and output sizes
    may be open (``layers: [null, 32, null]``): ``fit`` sizes them from the data
    (:mod:`symbp.spec.sizing`), the input from the number of features, the output
    from the number of target columns (regressor) or classes (classifier: one unit
    per class, or one unit for two classes unless the output is softmax or the loss
    cross-entropy). Given sizes must match the data (a :class:`~symbp.errors.DataError`,
    which is a ``ValueError``, otherwise).

Hyper-parameters
    Every one is stored unchanged and applied at ``fit`` by building a modified copy
    of the spec's data and loading it (the user's spec is never changed):
    ``learning_rate`` (``optimizer.learning_rate``), ``alpha`` (L2 weight decay,
    ``optimizer.weight_decay``), ``hidden_layer_sizes`` (the hidden sizes; every
    hidden layer gets the spec's first hidden activation, ``sigmoid`` where the spec
    has no hidden layer; a spec with ``params`` cannot be resized), ``random_state``
    (an int, a ``RandomState`` or ``None``: draws the seed of the weight
    initialiser ``init.seed`` and of the shuffling ``training.seed``; ``None`` keeps
    the spec's seeds, so fits are repeatable either way). ``epochs``, ``batch_size``,
    ``shuffle`` and ``seed`` (the shuffling seed, over ``random_state``'s) are
    passed to :meth:`~symbp.codegen.trainer.Trainer.fit`. Each distinct spec is
    compiled once and then found in the compile cache (``$SYMBP_CACHE_DIR``).

Early stopping
    ``early_stopping=True`` holds out ``validation_fraction`` of the training rows
    (stratified by class for the classifier, seeded by the shuffling seed), and stops
    after ``n_iter_no_change`` epochs without a strictly lower validation loss,
    keeping the best epoch's parameters (:class:`symbp.train.runner.EarlyStopping`).
    ``validation_scores_`` holds the validation loss of every epoch, ``best_epoch_``
    the epoch kept.

``sample_weight``
    The generated kernels minimise the plain mean of the per-example loss over each
    batch; they cannot weight rows. ``fit`` therefore accepts exactly the weightings
    that are that mean: equal positive weights, where a weight of 0 leaves its row
    out (the weighted mean ``Σ wᵢ Lᵢ / Σ wᵢ`` over the rest is then the plain mean).
    Any other weighting is a ``ValueError``, never an approximation.

Fitting starts afresh from the spec's starting parameters. The classifier encodes
the labels with :func:`symbp.train.prepare.encode_targets`; ``predict`` returns
class labels, ``predict_proba`` the network's outputs (softmax outputs are
probabilities; other activations are clipped at 0 and rescaled to sum to 1).
``score`` is accuracy (classifier) or R² (regressor), as scikit-learn defines them.
``n_iter_`` is the number of epochs run.

Pickling (and ``copy.deepcopy``, ``joblib.dump``) keeps the fitted state as the
spec data, the dtype, the parameters and the optimiser state; unpickling compiles
the spec again, which finds the generated module in the compile cache.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from ..errors import DataError, SymbpError
from ..spec import Spec
from ..spec.loader import build
from ..spec.sizing import open_sizes, spec_source, with_sizes
from .metrics import predicted_index
from .prepare import encode_targets

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data
except ImportError:  # pragma: no cover - older scikit-learn

    def validate_data(estimator: Any, *args: Any, **kwargs: Any) -> Any:
        return estimator._validate_data(*args, **kwargs)


#: The hidden activation of ``hidden_layer_sizes`` when the spec has no hidden layer
#: (the spec format's default activation).
DEFAULT_HIDDEN_ACTIVATION = "sigmoid"


def _number(name: str, value: Any, *, positive: bool) -> int | float:
    """``value`` as a plain int or float (what the spec format reads), checked."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name}: expected a number, found {value!r}")
    plain: int | float = int(value) if isinstance(value, numbers.Integral) else float(value)
    if not np.isfinite(plain) or plain < 0 or (positive and plain == 0):
        raise ValueError(
            f"{name}: expected a {'positive' if positive else 'non-negative'} number, "
            f"found {value!r}"
        )
    return plain


def _hidden_sizes(value: Any) -> list[int]:
    sizes = [value] if isinstance(value, numbers.Integral) else value
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
        raise ValueError(
            f"hidden_layer_sizes: expected a sequence of positive whole numbers, found {value!r}"
        )
    out = []
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
            raise ValueError(
                f"hidden_layer_sizes: expected positive whole numbers, found {size!r} in {value!r}"
            )
        out.append(int(size))
    return out


def _activation_name(item: Any) -> Any:
    return item.get("name") if isinstance(item, Mapping) else item


class _SymbpEstimator(BaseEstimator):
    """Shared fitting: the spec for the data, standardisation, the compiled trainer."""

    def __init__(
        self,
        spec: Spec | str | Path | dict[str, Any],
        *,
        epochs: int | None = None,
        batch_size: int | None = None,
        shuffle: bool | None = None,
        seed: int | None = None,
        standardize: bool = False,
        random_state: int | np.random.RandomState | None = None,
        learning_rate: float | None = None,
        hidden_layer_sizes: Sequence[int] | None = None,
        alpha: float | None = None,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
    ) -> None:
        self.spec = spec
        self.epochs = epochs
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.standardize = standardize
        self.random_state = random_state
        self.learning_rate = learning_rate
        self.hidden_layer_sizes = hidden_layer_sizes
        self.alpha = alpha
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change

    # -- the spec ----------------------------------------------------------

    def _raw_spec(self) -> tuple[dict[str, Any], dict[Any, int], str | None]:
        data, lines, file = spec_source(self.spec)
        if not isinstance(data, Mapping):  # let the loader say what is wrong, located
            build(data, lines=lines, file=file)
        return data, lines, file

    def _output_size(self) -> int | None:
        """The spec's output size (``None`` when open or unreadable), for the tags."""
        try:
            data, _, _ = self._raw_spec()
            layers = data.get("layers")
            size = layers[-1] if isinstance(layers, list) and layers else None
        except (SymbpError, OSError):
            return None
        return size if isinstance(size, int) else None

    def _fit_spec(self, n_in: int, n_out: Any) -> Spec:
        """The spec for this fit: open sizes filled, hyper-parameters applied.

        ``n_out`` is an int, or a callable of the raw spec data giving it.
        """
        data, lines, file = self._raw_spec()
        if open_sizes(data)[1] and callable(n_out):
            n_out = n_out(data)
        data = with_sizes(data, n_in, n_out if isinstance(n_out, int) else None)
        optimizer = dict(data.get("optimizer") or {})
        if self.learning_rate is not None:
            optimizer["learning_rate"] = _number("learning_rate", self.learning_rate, positive=True)
        if self.alpha is not None:
            optimizer["weight_decay"] = _number("alpha", self.alpha, positive=False)
        if optimizer:
            data["optimizer"] = optimizer
        if self.hidden_layer_sizes is not None:
            data = self._resized(data, _hidden_sizes(self.hidden_layer_sizes))
        if self.random_state is not None:
            rng = check_random_state(self.random_state)
            init_seed, shuffle_seed = (int(s) for s in rng.randint(0, 2**31 - 1, size=2))
            if data.get("params") is None:
                data["init"] = {**dict(data.get("init") or {}), "seed": init_seed}
            data["training"] = {**dict(data.get("training") or {}), "seed": shuffle_seed}
        return build(data, lines=lines, file=file)

    @staticmethod
    def _resized(data: dict[str, Any], hidden: list[int]) -> dict[str, Any]:
        layers = data.get("layers")
        if not isinstance(layers, list) or len(layers) < 2:
            return data  # the loader reports it
        if data.get("params") is not None:
            raise ValueError(
                "hidden_layer_sizes: the spec gives params for layers "
                f"{layers}; leave out hidden_layer_sizes or the spec's params"
            )
        activations = data.get("activations", DEFAULT_HIDDEN_ACTIVATION)
        if isinstance(activations, list) and activations:
            given_hidden = activations[:-1]
            repeated = given_hidden[0] if given_hidden else DEFAULT_HIDDEN_ACTIVATION
            data["activations"] = [repeated] * len(hidden) + [activations[-1]]
        data["layers"] = [layers[0], *hidden, layers[-1]]
        return data

    # -- fitting -----------------------------------------------------------

    def _weighted_rows(self, X: np.ndarray, sample_weight: Any) -> np.ndarray | None:
        """The rows to keep for ``sample_weight`` (``None``: all); see the module docstring."""
        if sample_weight is None:
            return None
        weights = _check_sample_weight(sample_weight, X, dtype=np.float64)
        if np.any(weights < 0):
            raise ValueError("sample_weight: negative weights; expected weights >= 0")
        keep = weights > 0
        if not keep.any():
            raise ValueError("sample_weight: all weights are zero; expected a non-zero weight")
        kept = weights[keep]
        if np.any(kept != kept[0]):
            raise ValueError(
                "sample_weight: the compiled kernels minimise the plain mean loss over rows; "
                "only equal weights (0 leaves a row out) are exact, found unequal weights"
            )
        return None if keep.all() else keep

    def _fit_arrays(self, spec: Spec, X: np.ndarray, T: np.ndarray, strata: Any) -> None:
        from ..codegen import compile as compile_spec

        if X.shape[1] != spec.layers[0]:
            raise DataError(
                f"{X.shape[1]} features per example; the spec's input layer expects "
                f"{spec.layers[0]}"
            )
        seed = spec.training.seed if self.seed is None else self.seed
        X_val = T_val = None
        if self.early_stopping:
            X, X_val, T, T_val = self._validation_split(X, T, strata, seed)
        self.mean_: np.ndarray | None
        self.scale_: np.ndarray | None
        if self.standardize:
            self.mean_ = X.mean(axis=0)
            std = X.std(axis=0)
            self.scale_ = np.where(std > 0, std, 1.0)
        else:
            self.mean_ = None
            self.scale_ = None
        self.spec_ = spec
        self.trainer_ = compile_spec(spec)
        callback = None
        state: dict[str, Any] = {}
        if X_val is not None:
            from .runner import EarlyStopping  # the runner's rule (it imports matplotlib)

            stopper = EarlyStopping(self._patience())
            X_val = self._transform(X_val)
            scores: list[float] = []

            def callback(epoch: int, trainer: Any, history: Any) -> bool:
                loss = float(trainer.loss(X_val, T_val))
                scores.append(loss)
                stop = stopper.update(epoch, loss)
                if stopper.best_epoch == epoch:
                    state["best"] = trainer.params
                return stop

            self.validation_scores_ = scores
        self.history_ = self.trainer_.fit(
            self._transform(X),
            T,
            epochs=self.epochs,
            batch_size=self.batch_size,
            shuffle=self.shuffle,
            seed=seed,
            callback=callback,
        )
        self.n_iter_ = int(self.history_.epochs)
        if X_val is not None:
            self.best_epoch_ = stopper.best_epoch
            if "best" in state:
                self.trainer_.params = state["best"]

    def _patience(self) -> int:
        value = self.n_iter_no_change
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"n_iter_no_change: expected a whole number >= 1, found {value!r}")
        return int(value)

    def _validation_split(
        self, X: np.ndarray, T: np.ndarray, strata: Any, seed: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        from sklearn.model_selection import train_test_split

        fraction = self.validation_fraction
        if (
            isinstance(fraction, bool)
            or not isinstance(fraction, numbers.Real)
            or not 0 < fraction < 1
        ):
            raise ValueError(
                f"validation_fraction: expected a number strictly between 0 and 1, "
                f"found {fraction!r}"
            )
        n_val = int(np.ceil(fraction * len(X)))
        if n_val >= len(X):
            raise ValueError(
                f"early_stopping: {len(X)} examples leave no training rows with "
                f"validation_fraction {fraction!r}"
            )
        try:
            parts = train_test_split(X, T, test_size=n_val, random_state=seed, stratify=strata)
        except ValueError:  # a class too small to stratify
            parts = train_test_split(X, T, test_size=n_val, random_state=seed)
        return parts[0], parts[1], parts[2], parts[3]

    def _transform(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        return X if self.mean_ is None else (X - self.mean_) / self.scale_

    def _outputs(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "trainer_")
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return np.asarray(self.trainer_.predict(self._transform(X)))


class SymbpClassifier(ClassifierMixin, _SymbpEstimator):
    """A symbp network as a scikit-learn classifier (see the module docstring)."""

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        n_out = self._output_size()
        tags.classifier_tags.multi_class = n_out is None or n_out > 2
        tags.classifier_tags.multi_label = False
        return tags

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SymbpClassifier:
        """Fit to features ``X`` ``(n, d)`` and class labels ``y`` ``(n,)``."""
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        keep = self._weighted_rows(X, sample_weight)
        if keep is not None:
            X, y = X[keep], y[keep]
        classes = np.unique(y)
        if len(classes) < 2:
            raise DataError(
                f"{len(classes)} class in the labels; a classifier needs at least 2 classes"
            )

        def n_out(data: Mapping[str, Any]) -> int:
            activations = data.get("activations")
            last = activations[-1] if isinstance(activations, list) and activations else activations
            loss = _activation_name(data.get("loss"))
            single = _activation_name(last) != "softmax" and loss != "cross_entropy"
            return 1 if len(classes) == 2 and single else len(classes)

        spec = self._fit_spec(X.shape[1], n_out)
        self.classes_ = classes
        units = spec.layers[-1]
        one_hot = units > 1
        if (one_hot and len(classes) != units) or (not one_hot and len(classes) != 2):
            raise DataError(
                f"{len(classes)} classes; the spec's output layer has {units} unit"
                f"{'s' if units != 1 else ''} (one per class, or one for two classes)"
            )
        self._sign = spec.loss.target_domain == "sign"
        T = encode_targets(y, classes, units, one_hot=one_hot, sign=self._sign)
        self._fit_arrays(spec, X, T, y)
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
        Y = self._outputs(X)  # first: NotFittedError before any fitted attribute is read
        return self.classes_[predicted_index(Y, sign=self._sign)]


class SymbpRegressor(RegressorMixin, _SymbpEstimator):
    """A symbp network as a scikit-learn regressor (see the module docstring)."""

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        n_out = self._output_size()
        tags.target_tags.multi_output = n_out is None or n_out > 1
        tags.target_tags.single_output = n_out is None or n_out == 1
        return tags

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SymbpRegressor:
        """Fit to features ``X`` ``(n, d)`` and targets ``y`` ``(n,)`` or ``(n, k)``."""
        X, y = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True)
        keep = self._weighted_rows(X, sample_weight)
        if keep is not None:
            X, y = X[keep], y[keep]
        self._1d = np.ndim(y) == 1
        T = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        spec = self._fit_spec(X.shape[1], T.shape[1])
        if T.shape[1] != spec.layers[-1]:
            raise DataError(
                f"{T.shape[1]} target columns; the spec's output layer expects {spec.layers[-1]}"
            )
        self._fit_arrays(spec, X, T, None)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predictions ``(n,)`` for 1-D targets, else ``(n, outputs)``."""
        Y = self._outputs(X)
        return Y[:, 0] if self._1d else Y
