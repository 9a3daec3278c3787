"""Predict with a saved model using NumPy alone: no SymPy, no Numba, no compile.

::

    from symbp.serving import load_model
    model = load_model("runs/digits")        # a run folder or a saved trainer's .npz
    model.predict_classes(X_raw)             # labels, e.g. array([3, 7, ...])
    model.predict_proba(X_raw)               # the network's outputs (n, layers[-1])

For a process that only predicts (a web worker, a batch job): importing this module
imports NumPy and the standard library only (a test checks ``sys.modules``), and
predicting is plain NumPy matrix products, so nothing compiles on the first call.

What it reads from the ``.npz`` (with ``allow_pickle=False``; see
:mod:`symbp.codegen.persist`): the weights ``W_l``/``b_l`` and ``dtype``; the
standardisation ``x_mean``/``x_scale`` where present; ``labels`` (or the older
``classes``); and the table written at save time from the activation records —
``activation_code`` (one NumPy expression in ``x`` per layer) and
``activation_normalized`` (the layer divides by its sum: softmax) — plus
``class_threshold``/``class_strict`` for a one-unit output. The expressions are
parsed with :mod:`ast` and evaluated by walking the tree over the names in
:data:`FUNCTIONS`: nothing read from the file reaches ``eval``.

Conventions: layer ``l`` computes ``a = f(a_prev @ W_l.T + b_l)``; inputs are
standardised in float64 and then cast to the saved dtype, as the trainer does.
"""

from __future__ import annotations

import ast
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .errors import DataError
from .fileio import open_npz

#: The names a saved activation expression may call or read, and what they are.
FUNCTIONS: dict[str, Any] = {
    "numpy.exp": np.exp,
    "numpy.log": np.log,
    "numpy.sqrt": np.sqrt,
    "numpy.tanh": np.tanh,
    "numpy.sinh": np.sinh,
    "numpy.cosh": np.cosh,
    "numpy.sin": np.sin,
    "numpy.cos": np.cos,
    "numpy.arctan": np.arctan,
    "numpy.maximum": np.maximum,
    "numpy.minimum": np.minimum,
    "numpy.where": np.where,
    "numpy.greater": np.greater,
    "numpy.greater_equal": np.greater_equal,
    "numpy.less": np.less,
    "numpy.less_equal": np.less_equal,
    "numpy.equal": np.equal,
    "numpy.not_equal": np.not_equal,
    "numpy.logical_and": np.logical_and,
    "numpy.logical_or": np.logical_or,
    "numpy.logical_not": np.logical_not,
    "numpy.heaviside": np.heaviside,
    "numpy.sign": np.sign,
    "abs": np.abs,
    "numpy.pi": np.pi,
    "numpy.e": np.e,
}

#: The longest activation expression read (characters).
MAX_EXPRESSION_CHARS = 4000

_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: np.add,
    ast.Sub: np.subtract,
    ast.Mult: np.multiply,
    ast.Div: np.true_divide,
    ast.Pow: np.power,
}
_UNARY: dict[type, Callable[[Any], Any]] = {ast.USub: np.negative, ast.UAdd: np.positive}


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return None if head is None else f"{head}.{node.attr}"
    return None


def _check(node: ast.AST) -> None:
    """Raise ``ValueError`` unless ``node`` uses only arithmetic, numbers, ``x`` and
    :data:`FUNCTIONS`."""
    if isinstance(node, ast.Expression):
        _check(node.body)
    elif isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        _check(node.left)
        _check(node.right)
    elif isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        _check(node.operand)
    elif (isinstance(node, ast.Constant) and type(node.value) in (int, float, bool)) or (
        isinstance(node, ast.Name) and node.id == "x"
    ):
        pass
    elif isinstance(node, (ast.Name, ast.Attribute)):
        if _dotted(node) not in FUNCTIONS:
            raise ValueError(f"unknown name {_dotted(node) or '?'}")
    elif isinstance(node, ast.Call) and not node.keywords:
        name = _dotted(node.func)
        if name not in FUNCTIONS or not callable(FUNCTIONS[name]):
            raise ValueError(f"unknown function {name or '?'}")
        for arg in node.args:
            _check(arg)
    else:
        raise ValueError(f"{type(node).__name__} is not allowed")


def parse_activation(text: str) -> Callable[[np.ndarray], np.ndarray]:
    """The function ``x -> f(x)`` of a saved activation expression (checked, see
    :func:`_check`); raises ``ValueError`` for anything else."""
    if not text or len(text) > MAX_EXPRESSION_CHARS:
        raise ValueError(f"expected an expression of 1 to {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, RecursionError, MemoryError):
        raise ValueError("not an expression") from None
    try:
        _check(tree)
    except RecursionError:
        raise ValueError("nested too deeply") from None

    def run(node: ast.expr, x: np.ndarray) -> Any:
        if isinstance(node, ast.BinOp):
            return _BINARY[type(node.op)](run(node.left, x), run(node.right, x))
        if isinstance(node, ast.UnaryOp):
            return _UNARY[type(node.op)](run(node.operand, x))
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Call):
            return FUNCTIONS[str(_dotted(node.func))](*(run(a, x) for a in node.args))
        name = _dotted(node)
        return x if name == "x" else FUNCTIONS[str(name)]

    body = tree.body

    def f(x: np.ndarray) -> np.ndarray:
        return np.broadcast_to(np.asarray(run(body, x), dtype=x.dtype), x.shape)

    return f


def _layer(f: Callable[[np.ndarray], np.ndarray], normalized: bool) -> Callable[..., np.ndarray]:
    if not normalized:
        return f

    def vector(z: np.ndarray) -> np.ndarray:  # numerator over its sum; shifted: exp's
        e = f(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    return vector


class Model:
    """A saved network for prediction: its weights, activations, standardisation and
    labels (see the module docstring). Safe to use from many threads at once."""

    def __init__(self, arrays: dict[str, np.ndarray], source: str) -> None:
        self.source = source
        self.dtype = np.dtype(str(arrays["dtype"])) if "dtype" in arrays else np.dtype("float64")
        if self.dtype.name not in ("float64", "float32"):
            raise DataError(f"dtype: expected float64 or float32, found {self.dtype}", file=source)
        depth = sum(1 for key in arrays if key.startswith("W_") and key[2:].isdigit())
        if depth == 0:
            raise DataError("no weights (W_1, W_2, ...) in the file", file=source)
        if any(
            np.ndim(arrays[key]) != 2 for key in arrays if key[:2] == "W_" and key[2:].isdigit()
        ):
            raise DataError(
                "serving predicts networks of dense layers; this one has feature maps (conv"
                " kernels): load it with symbp.load_trainer",
                file=source,
            )
        if any(key.startswith("U_") for key in arrays):
            raise DataError(
                "serving predicts networks of dense layers; this one is recurrent (U_1): "
                "load it with symbp.load_trainer",
                file=source,
            )
        try:
            self.W = [np.asarray(arrays[f"W_{l}"], dtype=self.dtype) for l in range(1, depth + 1)]
            self.b = [np.asarray(arrays[f"b_{l}"], dtype=self.dtype) for l in range(1, depth + 1)]
        except KeyError as err:
            raise DataError(f"missing array {err.args[0]}", file=source) from None
        except (TypeError, ValueError):
            raise DataError("the weights are not arrays of numbers", file=source) from None
        self._check_shapes(source)
        if "activation_code" not in arrays:
            raise DataError(
                "no activation table (saved before symbp could serve it): load it with "
                "symbp.load_trainer and save it again",
                file=source,
            )
        codes = [str(c) for c in np.asarray(arrays["activation_code"]).ravel()]
        flags = np.asarray(arrays.get("activation_normalized", np.zeros(len(codes), bool)))
        if len(codes) != depth or flags.shape != (depth,):
            raise DataError(f"expected {depth} activations, found {len(codes)}", file=source)
        self._activations = []
        for l, (code, flag) in enumerate(zip(codes, flags.tolist(), strict=True), start=1):
            try:
                self._activations.append(_layer(parse_activation(code), bool(flag)))
            except ValueError as err:
                raise DataError(
                    f"activation_code[{l - 1}]: {err}; this activation has no NumPy form here",
                    file=source,
                ) from None
        self.mean = self.scale = None
        if "x_mean" in arrays and "x_scale" in arrays:
            self.mean = np.asarray(arrays["x_mean"], dtype=np.float64)
            self.scale = np.asarray(arrays["x_scale"], dtype=np.float64)
            n_in = self.W[0].shape[1]
            if (
                self.mean.shape != (n_in,)
                or self.scale.shape != (n_in,)
                or not (self.scale > 0).all()
            ):
                raise DataError(
                    f"x_mean, x_scale: expected {n_in} numbers each, the scales positive",
                    file=source,
                )
        labels = arrays.get("labels", arrays.get("classes"))
        self.labels = None if labels is None else np.asarray(labels).ravel()
        threshold = arrays.get("class_threshold")
        self.threshold = (
            None if threshold is None or threshold.size != 1 else float(threshold.ravel()[0])
        )
        self.strict = bool(arrays.get("class_strict", np.array(False)))

    def _check_shapes(self, source: str) -> None:
        for l, (w, bias) in enumerate(zip(self.W, self.b, strict=True), start=1):
            if w.ndim != 2 or bias.shape != (w.shape[0],):
                raise DataError(f"W_{l}, b_{l}: expected (out, in) and (out,)", file=source)
            if l > 1 and w.shape[1] != self.W[l - 2].shape[0]:
                raise DataError(f"W_{l}: expected {self.W[l - 2].shape[0]} columns", file=source)

    @property
    def n_inputs(self) -> int:
        return int(self.W[0].shape[1])

    def predict(self, X: Any) -> np.ndarray:
        """The network's outputs ``(n, units)`` for raw inputs ``X`` ``(n, n_inputs)``."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            raise DataError(
                f"expected a 2-D array of shape (n, {self.n_inputs}), found shape {X.shape}",
                field="X",
            )
        if not np.isfinite(X).all():
            raise DataError("values must be finite", field="X")
        if self.mean is not None and self.scale is not None:
            X = (X - self.mean) / self.scale
        a = np.ascontiguousarray(X, dtype=self.dtype)
        with np.errstate(over="ignore", under="ignore"):
            for w, bias, f in zip(self.W, self.b, self._activations, strict=True):
                a = f(a @ w.T + bias)
        return a

    predict_proba = predict

    def predict_classes(self, X: Any) -> np.ndarray:
        """The class of every row: the label of the largest output, or for one output
        unit of the threshold side; the index where no labels were saved."""
        Y = self.predict(X)
        if Y.shape[1] > 1:
            index = np.argmax(Y, axis=1)
        else:
            threshold = 0.5 if self.threshold is None else self.threshold
            above = Y[:, 0] > threshold if self.strict else Y[:, 0] >= threshold
            index = above.astype(np.int64)
        return index if self.labels is None else self.labels[index]

    def __repr__(self) -> str:
        sizes = "-".join(str(n) for n in [self.n_inputs, *(w.shape[0] for w in self.W)])
        return f"Model({self.source!r}, layers {sizes}, {self.dtype.name})"


def load_model(path: str | Path) -> Model:
    """The model saved at ``path`` (a run folder or a ``.npz`` of ``Trainer.save``)."""
    path = Path(path)
    if path.is_dir():
        path = path / "params.npz"
    if not path.is_file():
        raise DataError("expected a saved trainer (.npz) or a run directory", file=str(path))
    try:
        with open_npz(path, error=DataError) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except DataError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise DataError(f"cannot read as .npz: {err}", file=str(path)) from None
    return Model(arrays, str(path))
