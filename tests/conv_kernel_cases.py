"""Conv-net specs (list form) for the tests of the generated conv trainer: small nets
over stride 1 and 2, padding 0 and 1, several channels, max and average pooling, and
every kind of activation record on the conv layer; deterministic parameters from
:func:`conv_cases.grid` (multiples of 1/8, no ties)."""

from __future__ import annotations

import math
from typing import Any

from conv_cases import grid

#: (id, input shape, layer entries, loss, output size): the cases of the kernel tests.
CASES: list[tuple[str, list[int], list[Any], str, int]] = [
    (
        "s1p0-max-relu",
        [1, 5, 5],
        [
            {"conv": 2, "kernel": 2, "stride": 1, "padding": 0, "activation": "relu"},
            {"pool": "max", "size": 2},
            "flatten",
            {"dense": 1, "activation": "sigmoid"},
        ],
        "bce",
        1,
    ),
    (
        "s2p1-avg-tanh",
        [2, 5, 5],
        [
            {"conv": 3, "kernel": 3, "stride": 2, "padding": 1, "activation": "tanh"},
            {"pool": "avg", "size": 3},
            "flatten",
            {"dense": 2, "activation": "softmax"},
        ],
        "cross_entropy",
        2,
    ),
    (
        "s1p1-two-convs-sigmoid",
        [2, 4, 4],
        [
            {"conv": 2, "kernel": 3, "stride": 1, "padding": 1, "activation": "sigmoid"},
            {"conv": 3, "kernel": 2, "stride": 2, "padding": 0, "activation": "relu"},
            "flatten",
            {"dense": 3, "activation": "tanh"},
            {"dense": 1, "activation": "identity"},
        ],
        "mse",
        1,
    ),
    (
        "s2p0-max-overlap",
        [3, 6, 7],
        [
            {"conv": 2, "kernel": [2, 3], "stride": 2, "padding": 0, "activation": "leaky_relu"},
            {"pool": "max", "size": 2, "stride": 1},
            "flatten",
            {"dense": 2, "activation": "sigmoid"},
        ],
        "bce",
        2,
    ),
]


def shapes(input_shape: list[int], entries: list[Any]) -> list[dict[str, tuple[int, ...]]]:
    """Each layer's parameter shapes (``{}`` for none), by the spec's own rules."""
    out = []
    c, h, w = input_shape
    n = None
    for entry in entries:
        if isinstance(entry, str):
            n = c * h * w
            out.append({})
        elif "conv" in entry:
            k = entry["kernel"]
            kh, kw = (k, k) if isinstance(k, int) else k
            s, p = entry["stride"], entry["padding"]
            out.append({"W": (entry["conv"], c, kh, kw), "b": (entry["conv"],)})
            c, h, w = entry["conv"], (h + 2 * p - kh) // s + 1, (w + 2 * p - kw) // s + 1
        elif "pool" in entry:
            k, s = entry["size"], entry.get("stride", entry["size"])
            h, w = (h - k) // s + 1, (w - k) // s + 1
            out.append({})
        else:
            out.append({"W": (entry["dense"], n), "b": (entry["dense"],)})
            n = entry["dense"]
    return out


def spec_of(
    case: tuple[str, list[int], list[Any], str, int],
    n_examples: int = 3,
    optimizer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The case as a spec dict: parameters and ``n_examples`` examples from :func:`grid`."""
    name, input_shape, entries, loss, n_out = case
    W, b = [], []
    for l, params in enumerate(shapes(input_shape, entries)):
        W.append(grid(params["W"], 3 + l) if params else None)
        b.append(grid(params["b"], 11 + l) if params else None)
    examples = []
    for e in range(n_examples):
        x = grid(input_shape, 20 + e, scale=2)
        t = [((e + k) % 2) for k in range(n_out)] if loss != "cross_entropy" else None
        if t is None:
            t = [1 if k == e % n_out else 0 for k in range(n_out)]
        examples.append({"x": x, "t": t})
    return {
        "name": f"conv-{name}",
        "input": input_shape,
        "layers": entries,
        "loss": loss,
        "optimizer": optimizer or {"name": "sgd", "learning_rate": 0.1},
        "params": {"W": W, "b": b},
        "examples": examples,
    }


def inputs(spec: dict[str, Any]) -> tuple[Any, Any]:
    """``(X, T)`` of a spec dict's examples as float64 arrays, X shaped (n, C, H, W)."""
    import numpy as np

    X = np.array([_floats(e["x"]) for e in spec["examples"]], dtype=np.float64)
    T = np.array([_floats(e["t"]) for e in spec["examples"]], dtype=np.float64)
    assert X.shape[1:] == tuple(spec["input"]) and math.prod(X.shape[1:]) > 0
    return X, T


def assert_matches_exact(got: list[Any], exact: list[Any], tol: float = 1e-12) -> None:
    """Each of the kernel's arrays equals the exact engine's to ``tol`` (relative and
    absolute); ``None`` on both sides where a layer has no parameters."""
    import numpy as np

    for array, value in zip(got, exact, strict=True):
        assert (array is None) == (value is None)
        if array is not None:
            want = np.array(value, dtype=object).astype(np.float64)
            np.testing.assert_allclose(array, want, rtol=tol, atol=tol)


def _floats(value: Any) -> Any:
    if isinstance(value, list):
        return [_floats(v) for v in value]
    return float(value)
