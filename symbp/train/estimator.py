"""scikit-learn estimators wrapping a compiled symbp trainer.

``SymbpClassifier`` and ``SymbpRegressor`` (also ``from symbp import ...``) follow the
scikit-learn estimator contract (constructor arguments stored unchanged,
``get_params``/``set_params`` from :class:`~sklearn.base.BaseEstimator`, fitted
attributes ending in ``_``) and pass every check of ``sklearn.utils.estimator_checks``,
so they work in pipelines, ``cross_val_score`` and grid search (``n_jobs`` and Dask
through joblib too)::

    from sklearn.model_selection import cross_val_score
    clf = SymbpClassifier("examples/digits_64_64_10.yaml", epochs=20, standardize=True)
    cross_val_score(clf, X, y, cv=3)
    SymbpClassifier().fit(X, y)   # the default architecture (MLPClassifier's)

The spec
    A :class:`~symbp.spec.Spec`, a YAML path, a dict, or ``None`` for the default
    architecture (:mod:`symbp.train.estimator_spec`: one hidden layer of 100 ReLU
    units, softmax + cross-entropy or identity + mse, Adam at 0.001, at most 200
    epochs of minibatches of ``min(200, n)`` rows). Its input and output sizes may be
    open (``layers: [null, 32, null]``): ``fit`` sizes them from the data
    (:mod:`symbp.spec.sizing`), the input from the number of features, the output
    from the number of target columns (regressor) or classes (classifier: one unit
    per class, or one unit for two classes unless the output is softmax or the loss
    cross-entropy). Given sizes must match the data (a :class:`~symbp.errors.DataError`,
    which is a ``ValueError``, otherwise).

Hyper-parameters
    Every one is stored unchanged and applied at ``fit`` to a modified copy of the
    spec's data: ``learning_rate`` (``optimizer.learning_rate``), ``alpha`` (L2 weight
    decay, ``optimizer.weight_decay``), ``hidden_layer_sizes`` (the hidden sizes; every
    hidden layer gets the spec's first hidden activation, ``sigmoid`` where the spec
    has no hidden layer; a spec with ``params`` cannot be resized), ``random_state``
    (an int, a ``RandomState`` or ``None``: draws the seed of the weight initialiser
    ``init.seed`` and of the shuffling ``training.seed``; ``None`` keeps the spec's
    seeds, so fits are repeatable either way). ``epochs`` (the most epochs a fit runs,
    scikit-learn's ``max_iter``), ``batch_size`` (else the spec's; where the spec's
    ``training`` gives none, ``min(200, n)``), ``shuffle`` and ``seed`` (the shuffling
    seed, over ``random_state``'s) are passed to
    :meth:`~symbp.codegen.trainer.Trainer.fit`. ``dtype`` (``"float64"`` or
    ``"float32"``, else the spec's) is the arithmetic of the kernels. Each distinct
    spec is compiled once and then found in the compile cache (``$SYMBP_CACHE_DIR``).

Stopping (:mod:`symbp.train.convergence`, scikit-learn's MLP rule)
    ``tol`` and ``n_iter_no_change``: training stops after ``n_iter_no_change`` epochs
    in a row whose training loss is not below the best minus ``tol`` (``tol=None``:
    run every epoch). ``early_stopping=True`` holds out ``validation_fraction`` of the
    training rows (stratified by class for the classifier, seeded by the shuffling
    seed), judges the epochs by their validation score (accuracy or R²) instead, and
    keeps the best epoch's parameters. A fit that runs out of epochs before the rule
    stops it, or whose loss did not go down, warns with ``ConvergenceWarning``.
    ``verbose`` prints one line per epoch.

Fitted attributes
    ``loss_curve_`` (the training loss of every epoch), ``best_loss_``, ``n_iter_``
    (epochs run, counted over continued fits), and with ``early_stopping``
    ``validation_scores_`` (accuracy or R² per epoch, as scikit-learn defines it),
    ``validation_loss_curve_`` (the validation loss per epoch), ``best_validation_score_``
    and ``best_epoch_``.

Weights
    ``sample_weight`` (and, for the classifier, ``class_weight``: ``"balanced"`` or a
    dict, multiplied into it) weights the rows: the kernels minimise each batch's
    weighted mean loss ``Σ wᵢ Lᵢ / Σ wᵢ`` (and its gradients). A weight of 0 leaves its
    row out; equal weights are the plain mean, run without weights (bit-identical to an
    unweighted fit).

Continuing
    ``warm_start=True`` makes ``fit`` continue from the fitted parameters, optimiser
    state and scaling (the classes must be those of the first fit). ``partial_fit``
    runs one epoch on the data given and continues from there; the classifier's first
    call needs ``classes=`` (every class that will ever be seen). With
    ``standardize``, the scaling is computed on the first fit's data and kept.

The classifier encodes the labels with :func:`symbp.train.prepare.encode_targets`;
``predict`` returns class labels, ``predict_proba`` the network's outputs (softmax
outputs are probabilities; other activations are clipped at 0 and rescaled to sum to
1). ``score`` is accuracy (classifier) or R² (regressor), as scikit-learn defines them.

Pickling (and ``copy.deepcopy``, ``joblib.dump``) keeps the fitted state as the
spec data, the dtype, the parameters and the optimiser state; unpickling compiles
the spec again, which finds the generated module in the compile cache.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import _check_partial_fit_first_call, check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted

from ..errors import DataError
from ..spec import Spec
from .convergence import Monitor
from .estimator_spec import DEFAULT_MAX_BATCH, activation_name, fit_spec, output_size
from .metrics import accuracy, predicted_index, probabilities
from .prepare import encode_targets
from .sequences import columns_in, columns_out, sample_shape

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data
except ImportError:  # pragma: no cover - older scikit-learn

    def validate_data(estimator: Any, *args: Any, **kwargs: Any) -> Any:
        return estimator._validate_data(*args, **kwargs)


def _rows(X: Any, spec: Spec | None = None) -> Any:
    """Feature maps ``(n, C, H, W)`` (a conv net's input) as rows ``(n, C·H·W)`` in
    ``(c, i, j)`` order, sequences ``(n, steps, features)`` (a recurrent net's) as rows
    ``(n, steps·features)`` step by step (:mod:`.sequences`), the 2-D array scikit-learn's
    checks take; anything else as is. Where ``spec`` is known, an example's shape must be
    the spec's (:func:`.sequences.sample_shape`), or its rows."""
    if getattr(X, "ndim", None) in (3, 4):
        _check_sample_shape(X.shape[1:], spec)
        return np.reshape(X, (X.shape[0], -1))
    return X


def _check_sample_shape(shape: tuple[int, ...], spec: Spec | None) -> None:
    """Refuse examples shaped otherwise than ``spec``'s input (nothing to check without it)."""
    if spec is not None and tuple(shape) != sample_shape(spec):
        raise ValueError(
            f"X: expected examples of shape {sample_shape(spec)} (the spec's input) or "
            f"rows of {columns_in(spec)} values, found examples of shape {tuple(shape)}"
        )


SpecArg = Spec | str | Path | dict[str, Any] | None


def _whole(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name}: expected a whole number >= {low}, found {value!r}")
    return int(value)


class _SymbpEstimator(BaseEstimator):
    """Shared fitting: the spec for the data, weights, standardisation, the trainer."""

    _task = "regression"

    def __init__(
        self,
        spec: SpecArg = None,
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
        tol: float | None = 1e-4,
        n_iter_no_change: int = 10,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        warm_start: bool = False,
        verbose: int = 0,
        dtype: str | None = None,
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
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.warm_start = warm_start
        self.verbose = verbose
        self.dtype = dtype

    # -- the spec ----------------------------------------------------------

    def _output_size(self) -> int | None:
        return output_size(self.spec, self._task)

    def _fit_spec(self, n_in: int, n_out: int | Callable[[Mapping[str, Any]], int]) -> Spec:
        spec, self._batch_given = fit_spec(
            self.spec,
            self._task,
            n_in,
            n_out,
            learning_rate=self.learning_rate,
            alpha=self.alpha,
            hidden_layer_sizes=self.hidden_layer_sizes,
            random_state=self.random_state,
        )
        return spec

    def _dtype(self) -> str | None:
        if self.dtype is None:
            return None
        try:
            name = np.dtype(self.dtype).name
        except TypeError:
            name = ""
        if name not in ("float32", "float64"):
            raise ValueError(f"dtype: expected 'float64' or 'float32', found {self.dtype!r}")
        return name

    # -- weights -----------------------------------------------------------

    def _row_weights(self, X: np.ndarray, sample_weight: Any, y: Any) -> np.ndarray | None:
        """Each row's weight (``None``: all equal), from ``sample_weight`` and the classes."""
        weights = None
        if sample_weight is not None:
            weights = _check_sample_weight(sample_weight, X, dtype=np.float64)
            if np.any(weights < 0):
                raise ValueError("sample_weight: negative weights; expected weights >= 0")
        weights = self._class_weights(y, weights)
        if weights is not None and not np.any(weights > 0):
            raise ValueError("sample_weight: all weights are zero; expected a non-zero weight")
        return weights

    def _class_weights(self, y: Any, weights: np.ndarray | None) -> np.ndarray | None:
        return weights

    # -- fitting -----------------------------------------------------------

    def _continuing(self, incremental: bool) -> bool:
        return (incremental or bool(self.warm_start)) and hasattr(self, "trainer_")

    def _prepare_trainer(self, spec: Spec, continuing: bool) -> None:
        """``trainer_`` for ``spec``: a new one, or the fitted one continued."""
        from ..codegen import compile as compile_spec

        dtype = self._dtype()
        old = getattr(self, "trainer_", None) if continuing else None
        if old is not None and old.spec == spec and (dtype is None or old.dtype.name == dtype):
            return
        trainer = compile_spec(spec, dtype=dtype)
        if old is not None:  # changed hyper-parameters: carry the state over
            if tuple(old.spec.layers) != tuple(spec.layers):
                raise ValueError(
                    f"warm_start: the fitted network has layers {list(old.spec.layers)}, this "
                    f"fit's {list(spec.layers)}; fit afresh (warm_start=False)"
                )
            trainer.params = old.params
            state = old.optimizer_state()
            if sorted(state) == sorted(trainer.module.STATE):
                trainer.set_optimizer_state(state)
                trainer.set_position(old.epochs_done, old.steps_done)
            else:
                trainer.set_position(old.epochs_done, 0)
        self.spec_ = spec
        self.trainer_ = trainer

    def _rows(self, X: Any) -> Any:
        """:func:`_rows` of the training data, its examples' shape kept for
        :meth:`_fit_arrays` to check against the spec (known only there)."""
        # the attribute, not np.shape: an array-like may refuse NumPy's functions
        self._example_shape = tuple(getattr(X, "shape", (0,))[1:])
        return _rows(X)

    def _fit_arrays(
        self,
        spec: Spec,
        X: np.ndarray,
        T: np.ndarray,
        strata: Any,
        weights: np.ndarray | None,
        *,
        incremental: bool = False,
    ) -> None:
        if len(getattr(self, "_example_shape", ())) > 1:
            _check_sample_shape(self._example_shape, spec)
        if X.shape[1] != columns_in(spec):
            raise DataError(
                f"{X.shape[1]} features per example; the spec's input layer expects "
                f"{columns_in(spec)}"
            )
        continuing = self._continuing(incremental)
        if weights is not None:  # weight 0 leaves the row out; equal weights are no weights
            keep = weights > 0
            X, T, weights = X[keep], T[keep], weights[keep]
            strata = None if strata is None else np.asarray(strata)[keep]
            if np.all(weights == weights[0]):
                weights = None
        seed = spec.training.seed if self.seed is None else self.seed
        early = bool(self.early_stopping) and not incremental
        X_val = T_val = None
        if early:
            X, X_val, T, T_val, weights = self._validation_split(X, T, strata, weights, seed)
        if not continuing:
            self._set_scaling(X)
            self.loss_curve_: list[float] = []
            self.n_iter_ = 0
            self.validation_scores_: list[float] = []
            self.validation_loss_curve_: list[float] = []
        self._prepare_trainer(spec, continuing)
        patience = _whole("n_iter_no_change", self.n_iter_no_change, 1)
        tol = None if self.tol is None or incremental else self._tol()
        score = None
        if X_val is not None:
            X_val = self._transform(X_val)
            T_val = np.asarray(T_val)

            def score(trainer: Any) -> tuple[float, float]:
                Y = trainer.predict(X_val).reshape(len(X_val), -1)
                return self._validation_score(Y, T_val), float(trainer.loss(X_val, T_val))

        monitor = Monitor(
            tol=tol,
            patience=patience,
            loss_curve=self.loss_curve_,
            score=score,
            scores=self.validation_scores_,
            val_losses=self.validation_loss_curve_,
            verbose=int(self.verbose),
            first_epoch=self.n_iter_ + 1,
        )
        epochs = 1 if incremental else self.epochs
        batch_size = self.batch_size
        if batch_size is None and not self._batch_given:
            batch_size = min(DEFAULT_MAX_BATCH, len(X))
        self.history_ = self.trainer_.fit(
            self._transform(X),
            T,
            epochs=epochs,
            batch_size=batch_size,
            shuffle=self.shuffle,
            seed=seed,
            callback=monitor,
            sample_weight=weights,
        )
        self.n_iter_ += int(self.history_.epochs)
        self.best_loss_ = float(min(self.loss_curve_)) if self.loss_curve_ else float("nan")
        if X_val is not None:
            self.best_epoch_ = monitor.best_epoch
            self.best_validation_score_ = monitor.best_score
            if monitor.best_params is not None:
                self.trainer_.params = monitor.best_params
        if not incremental:
            monitor.warn(spec.training.epochs if self.epochs is None else int(self.epochs))

    def _tol(self) -> float:
        tol = self.tol
        if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not tol >= 0:
            raise ValueError(f"tol: expected a number >= 0 or None, found {tol!r}")
        return float(tol)

    def _set_scaling(self, X: np.ndarray) -> None:
        self.mean_: np.ndarray | None
        self.scale_: np.ndarray | None
        if self.standardize:
            self.mean_ = X.mean(axis=0)
            std = X.std(axis=0)
            self.scale_ = np.where(std > 0, std, 1.0)
        else:
            self.mean_ = None
            self.scale_ = None

    def _validation_split(
        self, X: np.ndarray, T: np.ndarray, strata: Any, weights: np.ndarray | None, seed: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
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
        rows = np.arange(len(X))
        try:
            train, val = train_test_split(rows, test_size=n_val, random_state=seed, stratify=strata)
        except ValueError:  # a class too small to stratify
            train, val = train_test_split(rows, test_size=n_val, random_state=seed)
        w = None if weights is None else weights[train]
        return X[train], X[val], T[train], T[val], w

    def _validation_score(self, Y: np.ndarray, T: np.ndarray) -> float:
        from sklearn.metrics import r2_score

        return float(r2_score(T, Y))

    def _transform(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        mean = getattr(self, "mean_", None)
        return X if mean is None else (X - mean) / self.scale_

    def _outputs(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "trainer_")
        X = validate_data(self, _rows(X, self.spec_), reset=False, dtype=np.float64)
        return np.asarray(self.trainer_.predict(self._transform(X))).reshape(len(X), -1)


def _class_units(classes: np.ndarray) -> Callable[[Mapping[str, Any]], int]:
    def n_out(data: Mapping[str, Any]) -> int:
        activations = data.get("activations")
        last = activations[-1] if isinstance(activations, list) and activations else activations
        loss = activation_name(data.get("loss"))
        single = activation_name(last) != "softmax" and loss != "cross_entropy"
        return 1 if len(classes) == 2 and single else len(classes)

    return n_out


class SymbpClassifier(ClassifierMixin, _SymbpEstimator):
    """A symbp network as a scikit-learn classifier (see the module docstring).

    ``class_weight``: ``None``, ``"balanced"`` or ``{label: weight}``, multiplied into
    ``sample_weight`` (:func:`sklearn.utils.class_weight.compute_sample_weight`).
    """

    _task = "classification"

    def __init__(
        self,
        spec: SpecArg = None,
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
        tol: float | None = 1e-4,
        n_iter_no_change: int = 10,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        warm_start: bool = False,
        verbose: int = 0,
        dtype: str | None = None,
        class_weight: str | Mapping[Any, float] | None = None,
    ) -> None:
        super().__init__(
            spec,
            epochs=epochs,
            batch_size=batch_size,
            shuffle=shuffle,
            seed=seed,
            standardize=standardize,
            random_state=random_state,
            learning_rate=learning_rate,
            hidden_layer_sizes=hidden_layer_sizes,
            alpha=alpha,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            warm_start=warm_start,
            verbose=verbose,
            dtype=dtype,
        )
        self.class_weight = class_weight

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        n_out = self._output_size()
        tags.classifier_tags.multi_class = n_out is None or n_out > 2
        tags.classifier_tags.multi_label = False
        return tags

    def _class_weights(self, y: Any, weights: np.ndarray | None) -> np.ndarray | None:
        if self.class_weight is None:
            return weights
        from sklearn.utils.class_weight import compute_sample_weight

        by_class = compute_sample_weight(self.class_weight, y)
        return by_class if weights is None else by_class * weights

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SymbpClassifier:
        """Fit to features ``X`` ``(n, d)`` and class labels ``y`` ``(n,)``."""
        continuing = self._continuing(False)
        X, y = validate_data(self, self._rows(X), y, dtype=np.float64, reset=not continuing)
        check_classification_targets(y)
        weights = self._row_weights(X, sample_weight, y)
        present = np.unique(y if weights is None else y[weights > 0])
        if len(present) < 2:
            raise DataError(
                f"{len(present)} class in the labels; a classifier needs at least 2 classes"
            )
        if continuing and not np.array_equal(present, self.classes_):
            raise ValueError(
                f"warm_start: the labels hold the classes {present.tolist()}, the fitted "
                f"classifier {self.classes_.tolist()}; fit afresh (warm_start=False)"
            )
        self._fit_classes(X, y, present, weights, incremental=False)
        return self

    def partial_fit(
        self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None
    ) -> SymbpClassifier:
        """One epoch on ``X``, ``y``, continuing the fitted state; ``classes`` (every
        label there will be) is needed on the first call."""
        first = not hasattr(self, "trainer_")
        X, y = validate_data(self, self._rows(X), y, dtype=np.float64, reset=first)
        check_classification_targets(y)
        if first and hasattr(self, "classes_"):
            del self.classes_  # a failed first call: start over
        _check_partial_fit_first_call(self, classes)
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(
                f"partial_fit: labels {unknown.tolist()} are not among classes "
                f"{np.asarray(self.classes_).tolist()} given on the first call"
            )
        if len(self.classes_) < 2:
            raise DataError("1 class in classes; a classifier needs at least 2 classes")
        weights = self._row_weights(X, sample_weight, y)
        self._fit_classes(X, y, np.asarray(self.classes_), weights, incremental=True)
        return self

    def _fit_classes(
        self, X: np.ndarray, y: np.ndarray, classes: np.ndarray, weights: Any, *, incremental: bool
    ) -> None:
        spec = self._fit_spec(X.shape[1], _class_units(classes))
        units = spec.layers[-1]
        one_hot = units > 1
        if (one_hot and len(classes) != units) or (not one_hot and len(classes) != 2):
            raise DataError(
                f"{len(classes)} classes; the spec's output layer has {units} unit"
                f"{'s' if units != 1 else ''} (one per class, or one for two classes)"
            )
        self.classes_ = classes
        self._sign = spec.loss.target_domain == "sign"
        T = encode_targets(y, classes, units, one_hot=one_hot, sign=self._sign)
        self._fit_arrays(spec, X, T, y, weights, incremental=incremental)

    def _validation_score(self, Y: np.ndarray, T: np.ndarray) -> float:
        return accuracy(Y, T, sign=self._sign)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n, n_classes)`` from the network's outputs."""
        return probabilities(self._outputs(X), sign=self._sign)

    def predict(self, X: Any) -> np.ndarray:
        """Class labels ``(n,)``."""
        Y = self._outputs(X)  # first: NotFittedError before any fitted attribute is read
        return self.classes_[predicted_index(Y, sign=self._sign)]


class SymbpRegressor(RegressorMixin, _SymbpEstimator):
    """A symbp network as a scikit-learn regressor (see the module docstring)."""

    _1d: bool  # the targets were 1-D: predict gives (n,)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        n_out = self._output_size()
        tags.target_tags.multi_output = n_out is None or n_out > 1
        tags.target_tags.single_output = n_out is None or n_out == 1
        return tags

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SymbpRegressor:
        """Fit to features ``X`` ``(n, d)`` and targets ``y`` ``(n,)`` or ``(n, k)``."""
        return self._fit_targets(X, y, sample_weight, incremental=False)

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> SymbpRegressor:
        """One epoch on ``X``, ``y``, continuing the fitted state."""
        return self._fit_targets(X, y, sample_weight, incremental=True)

    def _fit_targets(
        self, X: Any, y: Any, sample_weight: Any, *, incremental: bool
    ) -> SymbpRegressor:
        continuing = self._continuing(incremental)
        X, y = validate_data(
            self,
            self._rows(X),
            y,
            dtype=np.float64,
            multi_output=True,
            y_numeric=True,
            reset=not continuing,
        )
        weights = self._row_weights(X, sample_weight, y)
        one_d = np.ndim(y) == 1
        T = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        if continuing and one_d != self._1d:
            raise ValueError("y: the fitted regressor had targets of another shape; fit afresh")
        spec = self._fit_spec(X.shape[1], T.shape[1])
        if T.shape[1] != columns_out(spec):
            raise DataError(
                f"{T.shape[1]} target columns; the spec's output layer expects {columns_out(spec)}"
            )
        self._1d = one_d
        self._fit_arrays(spec, X, T, None, weights, incremental=incremental)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predictions ``(n,)`` for 1-D targets, else ``(n, outputs)``."""
        Y = self._outputs(X)
        return Y[:, 0] if self._1d else Y
