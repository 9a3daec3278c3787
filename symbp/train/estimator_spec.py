"""The spec an estimator fits: the user's (or the default architecture), sized and tuned.

The default architecture (``spec=None``) is scikit-learn's ``MLPClassifier`` /
``MLPRegressor`` default, written as a spec with open input and output sizes:

* one hidden layer of 100 units (``hidden_layer_sizes`` resizes it), ReLU;
* classification: softmax output with cross-entropy (one unit per class, two for two
  classes); regression: identity output with ``mse``;
* Adam at learning rate 0.001 (β₁ 0.9, β₂ 0.999, ε 1e-8), Glorot-uniform weights
  (seed 0), zero biases;
* at most 200 epochs of shuffled minibatches of ``min(200, n)`` rows.

A spec whose ``training`` gives no ``batch_size`` (``batch_size: null`` is the whole
data set, as written) trains on minibatches of
``min(200, n)`` rows under an estimator, as scikit-learn's MLP does (``symbp train``
and :meth:`~symbp.codegen.trainer.Trainer.fit` keep the spec's full-batch meaning).
Every hyper-parameter is applied to a modified copy of the spec's data; the user's
spec is never changed.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from ..errors import SymbpError
from ..spec import Spec
from ..spec.loader import build
from ..spec.sizing import SpecSource, open_sizes, spec_source, with_sizes

#: The hidden activation of ``hidden_layer_sizes`` when the spec has no hidden layer
#: (the spec format's default activation).
DEFAULT_HIDDEN_ACTIVATION = "sigmoid"
#: ``hidden_layer_sizes`` of the default architecture (scikit-learn's default).
DEFAULT_HIDDEN = (100,)
#: Minibatch rows where neither the estimator nor the spec gives a batch size.
DEFAULT_MAX_BATCH = 200


def default_spec(task: str) -> dict[str, Any]:
    """The default architecture's spec data for ``task`` (see the module docstring)."""
    classify = task == "classification"
    return {
        "name": f"symbp-default-{'classifier' if classify else 'regressor'}",
        "layers": [None, *DEFAULT_HIDDEN, None],
        "activations": ["relu"] * len(DEFAULT_HIDDEN) + ["softmax" if classify else "identity"],
        "loss": "cross_entropy" if classify else "mse",
        "optimizer": {"name": "adam", "learning_rate": 0.001},
        "init": {"name": "xavier_uniform", "seed": 0},
        "training": {"epochs": 200, "shuffle": True, "seed": 0},
    }


def number(name: str, value: Any, *, positive: bool) -> int | float:
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


def hidden_sizes(value: Any) -> list[int]:
    """``hidden_layer_sizes`` as a list of positive ints, checked."""
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


def activation_name(item: Any) -> Any:
    """The name of an activation or loss entry (a name or a mapping with ``name``)."""
    return item.get("name") if isinstance(item, Mapping) else item


def raw_spec(
    source: SpecSource | None, task: str
) -> tuple[dict[str, Any], dict[Any, int], str | None]:
    """The spec's raw data, YAML lines and file; the default architecture for ``None``."""
    if source is None:
        return default_spec(task), {}, None
    data, lines, file = spec_source(source)
    if not isinstance(data, Mapping):  # let the loader say what is wrong, located
        build(data, lines=lines, file=file)
    return data, lines, file


def output_size(source: SpecSource | None, task: str) -> int | None:
    """The spec's output size (``None`` when open or unreadable), for the tags."""
    try:
        data, _, _ = raw_spec(source, task)
        layers = data.get("layers")
        size = layers[-1] if isinstance(layers, list) and layers else None
    except (SymbpError, OSError):
        return None
    return size if isinstance(size, int) else None


def resized(data: dict[str, Any], hidden: list[int]) -> dict[str, Any]:
    """``data`` with its hidden layers replaced by ``hidden`` (same hidden activation)."""
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


def fit_spec(
    source: SpecSource | None,
    task: str,
    n_in: int,
    n_out: int | Callable[[Mapping[str, Any]], int],
    *,
    learning_rate: Any,
    alpha: Any,
    hidden_layer_sizes: Any,
    random_state: Any,
) -> tuple[Spec, bool]:
    """The spec of one fit, and whether its ``training`` gives a ``batch_size``.

    ``n_out`` is an int, or a callable of the raw spec data giving it.
    """
    data, lines, file = raw_spec(source, task)
    if open_sizes(data)[1] and callable(n_out):
        n_out = n_out(data)
    data = with_sizes(data, n_in, n_out if isinstance(n_out, int) else None)
    optimizer = dict(data.get("optimizer") or {})
    if learning_rate is not None:
        optimizer["learning_rate"] = number("learning_rate", learning_rate, positive=True)
    if alpha is not None:
        optimizer["weight_decay"] = number("alpha", alpha, positive=False)
    if optimizer:
        data["optimizer"] = optimizer
    if hidden_layer_sizes is not None:
        data = resized(data, hidden_sizes(hidden_layer_sizes))
    if random_state is not None:
        rng = check_random_state(random_state)
        init_seed, shuffle_seed = (int(s) for s in rng.randint(0, 2**31 - 1, size=2))
        if data.get("params") is None:
            data["init"] = {**dict(data.get("init") or {}), "seed": init_seed}
        data["training"] = {**dict(data.get("training") or {}), "seed": shuffle_seed}
    training = data.get("training")
    batch_given = isinstance(training, Mapping) and "batch_size" in training
    return build(data, lines=lines, file=file), batch_given
