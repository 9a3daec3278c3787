"""A catalogue of small network specs, as dicts, for tests of every stage.

Every entry is a complete, valid spec (``symbp.load(spec(name))`` works): concrete
starting parameters written as short decimals (exact after loading), at least one
example, targets inside the loss's domain. Together the entries cover every
activation (``leaky_relu`` with ``alpha``, custom formulas), every loss (custom
formulas, ``log_base``), every optimiser and schedule, weight decay, frozen
parameters and specs with several examples. The nets are small (at most ~25
parameters) so exact evaluation and the explicit view stay fast.

Use :func:`spec` for a fresh copy of one entry and :func:`with_numbers` for the same
network at random rational parameters, inputs and targets.
"""

from __future__ import annotations

import copy
import itertools
import random
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

Spec = dict[str, Any]


def _decimal(rng: random.Random) -> float:
    """A nonzero two-decimal number in [-0.99, 0.99] (its repr is the exact decimal)."""
    return rng.choice((-1, 1)) * rng.randint(5, 99) / 100


def _params(layers: list[int], seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    W = [
        [[_decimal(rng) for _ in range(n_in)] for _ in range(n_out)]
        for n_in, n_out in itertools.pairwise(layers)
    ]
    b = [[_decimal(rng) for _ in range(n_out)] for n_out in layers[1:]]
    return {"W": W, "b": b}


def _entry(
    layers: list[int],
    activations: Any,
    loss: Any,
    t: list[Any],
    *,
    seed: int,
    x: list[Any] | None = None,
    optimizer: dict[str, Any] | None = None,
    **extra: Any,
) -> Spec:
    rng = random.Random(seed + 1000)
    out: Spec = {
        "layers": layers,
        "activations": activations,
        "loss": loss,
        "optimizer": optimizer or {"name": "sgd", "learning_rate": 0.5},
        "params": _params(layers, seed),
        "example": {
            "x": x if x is not None else [_decimal(rng) * 2 for _ in range(layers[0])],
            "t": t,
        },
    }
    out.update(extra)
    if "examples" in extra:
        del out["example"]
    return out


_SIGMOID_NET = ([2, 2, 1], "sigmoid", "half_sse")

#: name -> spec dict. Each entry's comment says what it is there to cover.
CATALOG: dict[str, Spec] = {
    # activations
    "sigmoid_half_sse": _entry([2, 2, 1], "sigmoid", "half_sse", [0.75], seed=1),
    "tanh_mse": _entry([2, 3, 2], "tanh", "mse", [0.5, -0.25], seed=2),
    "relu_sse": _entry([2, 3, 1], ["relu", "identity"], "sse", [0.5], seed=3, x=[1.5, 0.5]),
    "leaky_relu_mae": _entry(
        [2, 3, 2],
        [{"name": "leaky_relu", "alpha": 0.2}, "identity"],
        "mae",
        [0.5, -1.5],
        seed=4,
    ),
    "leaky_relu_output_mae": _entry(
        [2, 2, 2], ["sigmoid", {"name": "leaky_relu", "alpha": 0.1}], "mae", [0.5, 2], seed=28
    ),
    "relu_output_hinge": _entry([2, 3, 1], ["tanh", "relu"], "hinge", [1], seed=29),
    "identity_half_sse": _entry([2, 2, 1], "identity", "half_sse", [1], seed=5),
    "linear_hinge": _entry([2, 2, 1], ["tanh", "linear"], "hinge", [-1], seed=6),
    "softmax_cross_entropy": _entry(
        [2, 3, 3], ["sigmoid", "softmax"], "cross_entropy", [0, 1, 0], seed=7
    ),
    "softmax_cross_entropy_log10": _entry(
        [2, 2, 3],
        ["tanh", "softmax"],
        {"name": "cross_entropy", "log_base": 10},
        [1, 0, 0],
        seed=8,
    ),
    "softmax_mse": _entry(
        [2, 2, 2], ["relu", "softmax"], "mse", [0.25, 0.75], seed=9, x=[0.5, 1.5]
    ),
    "formula_softplus": _entry(
        [2, 2, 1], [{"formula": "log(1 + exp(x))"}, "identity"], "half_sse", [0.5], seed=10
    ),
    "formula_softsign_cubic": _entry(
        [2, 3, 1],
        [{"formula": "x / (1 + abs(x))"}, {"formula": "x**3/10 + x/2"}],
        "sse",
        [0.25],
        seed=11,
    ),
    "formula_max_min": _entry(
        [2, 2, 1],
        [{"formula": "max(x, 0) + min(x, 0)/4"}, "identity"],
        "half_sse",
        [2],
        seed=12,
        x=[1.25, 0.75],
    ),
    # losses
    "sigmoid_bce": _entry([3, 2, 1], "sigmoid", "bce", [1], seed=13),
    "sigmoid_bce_log2": _entry(
        [2, 2, 2], "sigmoid", {"name": "bce", "log_base": 2}, [1, 0.25], seed=14
    ),
    "formula_loss_quartic": _entry(
        [2, 2, 1],
        ["relu", "identity"],
        {"formula": "(y - t)**4 / 4"},
        [0.5],
        seed=15,
        x=[1.5, 1.25],
    ),
    "formula_loss_logcosh": _entry(
        [2, 2, 2], "tanh", {"formula": "log(cosh(y - t))"}, [0.5, -0.5], seed=16
    ),
    "formula_loss_bce": _entry(
        [2, 2, 1], "sigmoid", {"formula": "-(t*log(y) + (1 - t)*log(1 - y))"}, [1], seed=13
    ),
    # shapes
    "single_layer_sse": _entry([3, 1], "sigmoid", "sse", [1], seed=17),
    "deep_tanh_sigmoid_bce": _entry([2, 2, 2, 1], ["tanh", "tanh", "sigmoid"], "bce", [0], seed=18),
    "examples_three": _entry(
        [2, 2, 1],
        "sigmoid",
        "half_sse",
        [0],
        seed=19,
        examples=[
            {"x": [0.5, -1], "t": [0.25]},
            {"x": [-0.75, 0.25], "t": [0.5]},
            {"x": [1, 1.5], "t": [0.9]},
        ],
    ),
    "frozen_params": _entry(
        [2, 2, 1], "sigmoid", "half_sse", [1], seed=20, frozen=["W[0]", "b[1]"]
    ),
    # optimisers and schedules
    "sgd_weight_decay": _entry(
        *_SIGMOID_NET,
        [1],
        seed=21,
        optimizer={"name": "gd", "learning_rate": 0.5, "weight_decay": 0.1},
    ),
    "momentum": _entry(
        *_SIGMOID_NET,
        [1],
        seed=22,
        optimizer={"name": "momentum", "learning_rate": 0.5, "momentum": 0.8},
    ),
    "nesterov": _entry(
        *_SIGMOID_NET,
        [1],
        seed=23,
        optimizer={"name": "nesterov", "learning_rate": 0.5, "momentum": 0.9},
    ),
    "adam": _entry(
        *_SIGMOID_NET,
        [1],
        seed=24,
        optimizer={
            "name": "adam",
            "learning_rate": 0.1,
            "beta1": 0.8,
            "beta2": 0.99,
            "eps": 1e-6,
            "weight_decay": 0.01,
        },
    ),
    "rprop": _entry(
        *_SIGMOID_NET,
        [1],
        seed=25,
        optimizer={"name": "rprop", "learning_rate": 0.1, "eta_minus": 0.5, "eta_plus": 1.5},
    ),
    "schedule_exponential": _entry(
        *_SIGMOID_NET,
        [1],
        seed=26,
        optimizer={
            "name": "sgd",
            "learning_rate": 1,
            "schedule": {"name": "exponential", "gamma": 0.5},
        },
    ),
    "schedule_step": _entry(
        *_SIGMOID_NET,
        [1],
        seed=27,
        optimizer={
            "name": "momentum",
            "learning_rate": 1,
            "schedule": {"name": "step", "gamma": 0.5, "step_size": 2},
        },
    ),
}


def spec(name: str) -> Spec:
    """A fresh (deep) copy of catalogue entry ``name``."""
    return copy.deepcopy(CATALOG[name])


def names() -> list[str]:
    """Every catalogue name, in catalogue order."""
    return list(CATALOG)


def items() -> Iterator[tuple[str, Spec]]:
    """``(name, fresh copy)`` for every entry."""
    for name in CATALOG:
        yield name, spec(name)


def activation_names(entry: Spec) -> list[str]:
    """The registry names (or ``"formula"``) of an entry's activations."""
    acts = entry["activations"]
    acts = acts if isinstance(acts, list) else [acts] * (len(entry["layers"]) - 1)
    return [a if isinstance(a, str) else a.get("name", "formula") for a in acts]


def loss_name(entry: Spec) -> str:
    loss = entry["loss"]
    return loss if isinstance(loss, str) else loss.get("name", "formula")


def _rational(rng: random.Random, low: int = -40, high: int = 40) -> Fraction:
    while True:
        value = Fraction(rng.randint(low, high), rng.randint(7, 31))
        if value:
            return value


def _targets(entry: Spec, rng: random.Random) -> list[Fraction]:
    n = entry["layers"][-1]
    name = loss_name(entry)
    if name == "hinge":
        return [Fraction(rng.choice((-1, 1))) for _ in range(n)]
    if name in ("bce", "cross_entropy"):
        return [Fraction(rng.randint(1, 9), 10) for _ in range(n)]
    return [_rational(rng, -20, 20) for _ in range(n)]


def with_numbers(entry: Spec, rng: random.Random, scale: int = 1) -> Spec:
    """``entry`` with random nonzero rational parameters, inputs and targets.

    Weights lie in about ``[-6, 6] * scale``, with denominators 7..31 so that
    weighted inputs are almost never exactly 0 (the kinks of relu, abs, hinge).
    Targets stay in the loss's domain (±1 for hinge, (0, 1) for bce and
    cross-entropy, not necessarily one-hot).
    """
    out = copy.deepcopy(entry)
    layers = out["layers"]
    out["params"] = {
        "W": [
            [[_rational(rng) * scale for _ in range(n_in)] for _ in range(n_out)]
            for n_in, n_out in itertools.pairwise(layers)
        ],
        "b": [[_rational(rng) * scale for _ in range(n_out)] for n_out in layers[1:]],
    }
    n_examples = len(out.get("examples") or [None])
    examples = [
        {"x": [_rational(rng) for _ in range(layers[0])], "t": _targets(out, rng)}
        for _ in range(n_examples)
    ]
    out.pop("example", None)
    out.pop("examples", None)
    if n_examples == 1:
        out["example"] = examples[0]
    else:
        out["examples"] = examples
    return out
