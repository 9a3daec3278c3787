"""The recurrent workload of :mod:`rnn_sine` (issue 29, item 8): its symbp spec, its data,
its initial weights and a NumPy forward pass that scores any row's trained weights.

The task: next-value prediction on a noisy sine. The series is ``s_i = sin(2 pi i / 25) +
0.1 e_i`` (``e_i`` standard normal from NumPy's ``default_rng(seed)``); window ``w``
covers the 21 values ``s[w * 3 .. w * 3 + 20]``: its input ``x_t = s[w * 3 + t - 1]`` and
its target ``t_t = s[w * 3 + t]`` for ``t = 1..20`` (windows start every 3 values, so
they overlap). 1,024 windows, 32 minibatches of 32 in order (no shuffle).

The network, as the spec :data:`SPEC` says it (and every row derives its shapes from
it): one recurrent layer of 32 units, Elman tanh (``h_t = tanh(W x_t + U h_{t-1} + b)``)
or LSTM (PyTorch's gates ``i, f, g, o``), ``h_0 = 0`` (and ``c_0 = 0``), then a dense 1
identity head applied at every step (``y_t = V h_t + c``). ``output: every_step`` and
``loss: half_sse``: a window's loss is ``E = sum_t 1/2 (y_t - t_t)^2`` (summed over the
20 steps, not averaged), a minibatch's loss the mean of its windows' ``E``; full BPTT.
Plain SGD at :data:`LR` for :data:`EPOCHS` epochs; the loss of each step is taken before
its update.

Parameters in PyTorch's layout, a tuple ``(W, U, b, V, c)``: ``W`` (G n, 1) as
``weight_ih_l0``, ``U`` (G n, n) as ``weight_hh_l0``, ``b`` (G n) the one bias symbp's
cells have (PyTorch's ``bias_ih_l0 + bias_hh_l0``; the PyTorch row puts it in
``bias_ih_l0`` and holds ``bias_hh_l0`` at zero), ``V`` (1, n) and ``c`` (1) as
``Linear``'s; ``G`` is 1 for Elman, 4 for the LSTM. Initial values: PyTorch's default
init of ``nn.RNN``/``nn.LSTM`` and of ``Linear(n, 1)`` (all ``U(-1/sqrt(n), 1/sqrt(n))``)
drawn once with NumPy's ``default_rng(seed)`` in the order W, U, b, V, c, then copied into
every row.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

#: The workload's network and training as a symbp spec (the Elman form; :func:`spec`
#: gives either cell, other sizes and the params). Every row reads its sizes from here.
SPEC: dict[str, Any] = {
    "name": "rnn_sine",
    "title": "Next value of a noisy sine: recurrent 32 + dense 1 at every step, half SSE",
    "input": {"steps": 20, "features": 1},
    "layers": [
        {"recurrent": 32, "cell": "elman", "activation": "tanh"},
        {"dense": 1, "activation": "identity"},
    ],
    "output": "every_step",
    "loss": "half_sse",
    "optimizer": {"name": "sgd", "learning_rate": 0.005},
    "training": {"bptt": "full", "epochs": 10, "batch_size": 32, "shuffle": False},
}
#: The layer entry of each cell (the LSTM's activations are its own: sigmoid gates, tanh).
CELL_LAYERS: dict[str, dict[str, Any]] = {
    "elman": {"recurrent": 32, "cell": "elman", "activation": "tanh"},
    "lstm": {"recurrent": 32, "cell": "lstm"},
}
CELLS = tuple(CELL_LAYERS)
#: Gate blocks per cell (rows of W and U per unit).
GATES = {"elman": 1, "lstm": 4}

STEPS = SPEC["input"]["steps"]
FEATURES = SPEC["input"]["features"]
HIDDEN = SPEC["layers"][0]["recurrent"]
OUTPUTS = SPEC["layers"][1]["dense"]
LR = SPEC["optimizer"]["learning_rate"]
EPOCHS = SPEC["training"]["epochs"]
BATCH = SPEC["training"]["batch_size"]
#: Windows in the timed workload, the sine's period and noise, the windows' stride.
WINDOWS, PERIOD, NOISE, STRIDE = 1024, 25, 0.1, 3

Params = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def spec(
    cell: str,
    params: Params | None = None,
    *,
    hidden: int = HIDDEN,
    steps: int = STEPS,
    examples: tuple[np.ndarray, np.ndarray] | None = None,
    epochs: int = EPOCHS,
    lr: float = LR,
    batch: int = BATCH,
) -> dict[str, Any]:
    """:data:`SPEC` for ``cell`` (``elman`` or ``lstm``) with ``hidden`` units and
    ``steps`` steps, the protocol's ``epochs``, ``lr`` and ``batch``; with ``params``
    (this module's layout) as its ``params``, with ``examples`` ``(X (m, steps, 1),
    Y (m, steps, 1))`` as its examples."""
    out = copy.deepcopy(SPEC)
    out["name"] = f"rnn_sine_{cell}"
    out["input"]["steps"] = steps
    out["layers"][0] = {**CELL_LAYERS[cell], "recurrent": hidden}
    out["optimizer"]["learning_rate"] = lr
    out["training"]["epochs"] = epochs
    out["training"]["batch_size"] = batch
    if params is not None:
        W, U, b, V, c = (np.asarray(p, np.float64).tolist() for p in params)
        out["params"] = {"W": [W, V], "U": [U, None], "b": [b, c]}
    if examples is not None:
        X, Y = examples
        out["examples"] = [
            {"x": np.asarray(x, np.float64).tolist(), "t": np.asarray(y, np.float64).tolist()}
            for x, y in zip(X, Y, strict=True)
        ]
    return out


def series(length: int, seed: int = 0) -> np.ndarray:
    """The noisy sine ``s_0 .. s_{length-1}`` (float64)."""
    rng = np.random.default_rng(seed)
    i = np.arange(length)
    return np.sin(2 * np.pi * i / PERIOD) + NOISE * rng.standard_normal(length)


def windows(
    s: np.ndarray, steps: int = STEPS, stride: int = STRIDE
) -> tuple[np.ndarray, np.ndarray]:
    """Every window of ``steps + 1`` values of ``s`` starting at a multiple of ``stride``:
    inputs ``X`` (m, steps, 1) and next-value targets ``Y`` (m, steps, 1)."""
    starts = np.arange(0, len(s) - steps, stride)
    idx = starts[:, None] + np.arange(steps)[None, :]
    return s[idx][..., None], s[idx + 1][..., None]


@dataclass
class RnnWorkload:
    """``X`` (n, steps, 1) and ``Y`` (n, steps, 1) float64; the cell; the protocol."""

    X: np.ndarray
    Y: np.ndarray
    cell: str = "elman"
    hidden: int = HIDDEN
    epochs: int = EPOCHS
    batch: int = BATCH
    lr: float = LR

    @property
    def samples(self) -> int:
        """Windows trained on in one run (epochs x windows)."""
        return self.epochs * len(self.X)

    @property
    def steps(self) -> int:
        """SGD updates in one run."""
        return self.epochs * -(-len(self.X) // self.batch)

    def spec(self, params: Params | None = None) -> dict[str, Any]:
        """This workload's symbp spec (its cell, sizes and protocol; with ``params``)."""
        return spec(
            self.cell,
            params,
            hidden=self.hidden,
            steps=self.X.shape[1],
            epochs=self.epochs,
            lr=self.lr,
            batch=self.batch,
        )


def workload(
    cell: str,
    n: int = WINDOWS,
    epochs: int = EPOCHS,
    *,
    hidden: int = HIDDEN,
    steps: int = STEPS,
    seed: int = 0,
) -> RnnWorkload:
    """The timed workload: the first ``n`` windows of ``steps`` steps of the series of
    ``seed`` (smaller ``hidden``/``steps`` for the tests)."""
    X, Y = windows(series(n * STRIDE + steps + 1, seed), steps)
    return RnnWorkload(X[:n], Y[:n], cell, hidden, epochs=epochs)


def initial_params(cell: str, hidden: int = HIDDEN, seed: int = 0) -> Params:
    """PyTorch's default init of ``nn.RNN``/``nn.LSTM(1, hidden)`` (one bias) and
    ``Linear(hidden, 1)``, drawn with NumPy in the order W, U, b, V, c."""
    rng = np.random.default_rng(seed)
    bound = 1 / np.sqrt(hidden)
    G = GATES[cell]
    W = rng.uniform(-bound, bound, (G * hidden, FEATURES))
    U = rng.uniform(-bound, bound, (G * hidden, hidden))
    b = rng.uniform(-bound, bound, G * hidden)
    V = rng.uniform(-bound, bound, (OUTPUTS, hidden))
    c = rng.uniform(-bound, bound, OUTPUTS)
    return W, U, b, V, c


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def predict(cell: str, params: Params, X: np.ndarray) -> np.ndarray:
    """The network's outputs ``y_t`` (m, steps, 1) for windows ``X``, in float64."""
    W, U, b, V, c = (np.asarray(p, np.float64) for p in params)
    n = U.shape[1]
    m, T, _ = X.shape
    h = np.zeros((m, n))
    cs = np.zeros((m, n))
    out = np.empty((m, T, OUTPUTS))
    for t in range(T):
        z = X[:, t] @ W.T + h @ U.T + b
        if cell == "elman":
            h = np.tanh(z)
        else:
            i, f, g, o = np.split(z, 4, axis=1)
            cs = _sigmoid(f) * cs + _sigmoid(i) * np.tanh(g)
            h = _sigmoid(o) * np.tanh(cs)
        out[:, t] = h @ V.T + c
    return out


def mse(cell: str, params: Params, X: np.ndarray, Y: np.ndarray) -> float:
    """The mean squared error of the predictions over every window and step."""
    return float(np.mean((predict(cell, params, X) - Y) ** 2))
