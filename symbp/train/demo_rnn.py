"""``symbp demo``'s recurrent net: next-value prediction of a noisy sine (issue 29, item 8).

The series: ``s_i = sin(2π i / 25) + 0.1 e_i`` for ``i = 0..2999`` (``e_i`` standard
normal from NumPy's ``default_rng(seed)``), the same series as the benchmark's
``benchmarks/rnn_workload.py``. A window of :data:`STEPS` steps starting at ``i`` has the
inputs ``x_t = s_{i+t-1}`` and the targets ``t_t = s_{i+t}`` (``t = 1..20``): the net
predicts the next value at every step. Training windows start every 3 values in the
first 2,400 values (794 windows); test windows start every 20 values in the last 600
(29 windows that do not overlap, so their predictions line up into one stretch of the
series: the plot).

The net (:func:`sine_rnn_spec`): Elman tanh with 32 units (``h_0 = 0`` at the start of
every window), a dense 1 identity head at every step, ``output: every_step``, ``loss:
half_sse`` (a window's loss is the sum over its steps), plain SGD at 0.02, 30 epochs of
shuffled minibatches of 32. Its initial parameters are PyTorch's default init of
``nn.RNN(1, 32)`` (one bias) and ``nn.Linear(32, 1)``, drawn with NumPy (seed 0) and
given in the spec's ``params``, so the run does not depend on how the trainer draws.
The test error is the mean squared error over every step of the test windows; the
first steps of a window, before the state has seen the series, are the worst (the plot
marks where each window starts). Predicting the last value seen (persistence) scores
about 0.05 here and the noise alone 0.01; the net must reach :data:`RNN_TARGET_MSE`.

The training call is :func:`train_rnn`, which takes the compiled trainer
(``symbp.compile(spec)``); :func:`train_sine_rnn` compiles, trains, scores and writes
:data:`RNN_FILES`; ``symbp demo`` runs it as its fourth step.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

#: Steps per window, hidden units, the sine's period and noise, the series' length,
#: where the test part begins, the training windows' stride.
STEPS, HIDDEN, PERIOD, NOISE = 20, 32, 25, 0.1
LENGTH, TEST_FROM, TRAIN_STRIDE = 3000, 2400, 3
#: The test MSE the demo's net must reach (persistence: about 0.05; the noise: 0.01).
RNN_TARGET_MSE = 0.03
#: Test windows drawn in the plot (the CSV has them all).
PLOT_WINDOWS = 8
#: The files the demo writes in its folder.
RNN_FILES = ("predictions.png", "predictions.csv")

#: The demo's net and training, without its params (:func:`sine_rnn_spec` adds them).
SINE_RNN: dict[str, Any] = {
    "name": "sine_rnn",
    "title": "Elman RNN (32 tanh units, dense 1 at every step) predicting a noisy sine",
    "input": {"steps": STEPS, "features": 1},
    "layers": [
        {"recurrent": HIDDEN, "cell": "elman", "activation": "tanh"},
        {"dense": 1, "activation": "identity"},
    ],
    "output": "every_step",
    "loss": "half_sse",
    "optimizer": {"name": "sgd", "learning_rate": 0.02},
    "training": {"bptt": "full", "epochs": 30, "batch_size": 32, "shuffle": True, "seed": 0},
}


def sine_series(length: int = LENGTH, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The noisy series ``s`` and the noiseless sine under it, ``length`` values each."""
    i = np.arange(length)
    clean = np.sin(2 * np.pi * i / PERIOD)
    return clean + NOISE * np.random.default_rng(seed).standard_normal(length), clean


def sine_windows(s: np.ndarray, stride: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Windows of ``s`` starting every ``stride`` values: their starts, inputs ``X``
    (m, 20, 1) and next-value targets ``Y`` (m, 20, 1)."""
    starts = np.arange(0, len(s) - STEPS, stride)
    idx = starts[:, None] + np.arange(STEPS)[None, :]
    return starts, s[idx][..., None], s[idx + 1][..., None]


def initial_params(seed: int = 0) -> dict[str, Any]:
    """The spec's ``params``: PyTorch's default init (``U(-1/√n, 1/√n)`` for every
    parameter of ``nn.RNN(1, n)`` with one bias and of ``nn.Linear(n, 1)``), drawn in
    the order W, U, b, V, c."""
    rng = np.random.default_rng(seed)
    bound = 1 / np.sqrt(HIDDEN)

    def draw(*shape: int) -> Any:
        return rng.uniform(-bound, bound, shape).tolist()

    W, U, b, V, c = draw(HIDDEN, 1), draw(HIDDEN, HIDDEN), draw(HIDDEN), draw(1, HIDDEN), draw(1)
    return {"W": [W, V], "U": [U, None], "b": [b, c]}


def sine_rnn_spec(seed: int = 0) -> dict[str, Any]:
    """:data:`SINE_RNN` with :func:`initial_params` of ``seed``."""
    return {**SINE_RNN, "params": initial_params(seed)}


@dataclass(frozen=True)
class SineData:
    """Training and test windows (X, Y: (m, 20, 1)), the test windows' starts in the
    series, and the series with its noiseless signal."""

    X_train: np.ndarray
    Y_train: np.ndarray
    X_test: np.ndarray
    Y_test: np.ndarray
    test_starts: np.ndarray
    series: np.ndarray
    clean: np.ndarray

    def persistence_mse(self) -> float:
        """The test MSE of predicting the last value seen (``y_t = x_t``)."""
        return float(np.mean((self.X_test - self.Y_test) ** 2))


def sine_data(seed: int = 0) -> SineData:
    """The demo's windows (see the module docstring)."""
    s, clean = sine_series(LENGTH, seed)
    _, X_train, Y_train = sine_windows(s[:TEST_FROM], TRAIN_STRIDE)
    starts, X_test, Y_test = sine_windows(s[TEST_FROM:], STEPS)
    return SineData(X_train, Y_train, X_test, Y_test, starts + TEST_FROM, s, clean)


def predict_windows(trainer: Any, X: np.ndarray) -> np.ndarray:
    """The trainer's predictions for windows ``X``, shaped as the targets (m, 20, 1)."""
    return np.asarray(trainer.predict(X), dtype=np.float64).reshape(len(X), STEPS, 1)


def heldout_mse(trainer: Any, data: SineData) -> float:
    """The mean squared error over every step of the test windows."""
    return float(np.mean((predict_windows(trainer, data.X_test) - data.Y_test) ** 2))


def train_rnn(
    trainer: Any,
    data: SineData,
    *,
    progress: bool,
    console: Console,
    epochs: int | None = None,
) -> Any:
    """Train the compiled ``trainer`` (``symbp.compile(sine_rnn_spec())``) on the training
    windows with the spec's schedule (``epochs`` overrides), an epoch progress bar with
    the training loss and the test MSE; the :class:`~symbp.codegen.trainer.History`."""
    from .progress import EpochBar

    total = int(epochs if epochs is not None else SINE_RNN["training"]["epochs"])
    with EpochBar(total, SINE_RNN["name"], enabled=progress, console=console) as bar:

        def on_epoch(epoch: int, tr: Any, history: Any) -> bool:
            score = f"test MSE {heldout_mse(tr, data):.4f}" if progress else ""
            bar.update(epoch, float(history.epoch_losses[-1]), score)
            return False

        return trainer.fit(data.X_train, data.Y_train, epochs=total, callback=on_epoch)


def prediction_files(trainer: Any, data: SineData) -> dict[str, bytes | str]:
    """:data:`RNN_FILES`: the plot of the first :data:`PLOT_WINDOWS` test windows'
    stretch of the series with the predictions, and every test window's numbers as CSV
    (``index,observed,clean,predicted``)."""
    from .plots import sequence_predictions

    predicted = predict_windows(trainer, data.X_test)[:, :, 0].ravel()
    positions = (data.test_starts[:, None] + 1 + np.arange(STEPS)[None, :]).ravel()
    observed, clean = data.series[positions], data.clean[positions]
    mse = float(np.mean((predicted - observed) ** 2))
    shown = PLOT_WINDOWS * STEPS
    png = sequence_predictions(
        positions[:shown],
        observed[:shown],
        predicted[:shown],
        f"{SINE_RNN['name']}: next-value predictions on the test stretch "
        f"(MSE over all {len(data.X_test)} test windows {mse:.4f})",
        starts=[int(s) + 1 for s in data.test_starts[:PLOT_WINDOWS]],
        clean=clean[:shown],
    )
    rows = ["index,observed,clean,predicted"]
    rows += [
        f"{i},{o!r},{c!r},{p!r}"
        for i, o, c, p in zip(
            positions.tolist(), observed.tolist(), clean.tolist(), predicted.tolist(), strict=True
        )
    ]
    return {"predictions.png": png, "predictions.csv": "\n".join(rows) + "\n"}


def train_sine_rnn(
    out: Path | None, *, progress: bool, console: Console, seed: int = 0
) -> tuple[float, str]:
    """Compile :func:`sine_rnn_spec`, train it (:func:`train_rnn`), score it on the test
    windows; with ``out`` write :data:`RNN_FILES` there (atomically). The test MSE and a
    one-line summary."""
    from ..codegen import compile as compile_spec
    from ..fileio import write_atomic

    data = sine_data(seed)
    trainer = compile_spec(sine_rnn_spec(seed))
    history = train_rnn(trainer, data, progress=progress, console=console)
    mse = heldout_mse(trainer, data)
    if out is not None:
        for name, content in prediction_files(trainer, data).items():
            write_atomic(out / name, content)
    summary = (
        f"{SINE_RNN['name']}: {history.epochs} epochs on {len(data.X_train)} windows of "
        f"{STEPS} steps; test MSE {mse:.4f} over {len(data.X_test)} windows (persistence "
        f"{data.persistence_mse():.4f})"
    )
    return mse, summary
