"""Train a compiled network on prepared data: metrics, early stopping, Ctrl-C, outputs.

Semantics (seed 001): one *iteration* is one forward and backward pass over one
batch and one parameter update; one *epoch* passes the whole training split
once, so it takes ``ceil(n_train / batch_size)`` iterations (2,000 examples with
batch 20: 100 iterations per epoch). ``batch_size None`` means the spec's
``training.batch_size``, and where that is unset the whole training split.

After every epoch the runner records (from the trainer's own ``loss``,
``predict`` and ``gradients``):

* ``train_loss`` / ``val_loss`` — the batch-mean loss ``E`` of the spec over the
  split, at the epoch's final parameters;
* ``train_accuracy`` / ``val_accuracy`` (classification) or ``train_mse`` /
  ``val_mse`` (regression), see :mod:`symbp.train.metrics`;
* ``grad_W<l>`` / ``grad_b<l>`` — gradient norms per layer on a fixed batch of
  the first ``monitor_size`` training examples (:mod:`symbp.train.diagnostics`).

Epoch 0 is the record before training. Early stopping (``patience`` epochs
without a lower validation loss) restores the best epoch's parameters. Ctrl-C
(``KeyboardInterrupt``) keeps the parameters of the last completed epoch, writes
them and the metrics so far, and returns with ``interrupted`` set.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from ..errors import DataError
from ..outputs import OutputFolder
from ..spec import Spec
from ..spec import load as load_spec
from ..spec.preprocessing import network_spec
from . import metrics, plots, rundir
from .diagnostics import Sensitivity, feature_sensitivity, gradient_norms
from .model import saved_model
from .prepare import Prepared, Split
from .progress import EpochBar

Params = tuple[list[np.ndarray], list[np.ndarray]]
EpochCallback = Callable[[int, Any, list[dict[str, float]]], "bool | None"]


@dataclass
class RunResult:
    """What a run produced. ``rows`` start with epoch 0 (before training)."""

    spec: Spec
    data: Prepared
    trainer: Any
    rows: list[dict[str, float]]
    step_losses: np.ndarray
    test: dict[str, Any]
    epochs_planned: int
    batch_size: int
    iterations_per_epoch: int
    stopped_early: bool = False
    best_epoch: int | None = None
    interrupted: bool = False
    seconds: float = 0.0
    sensitivity: Sensitivity | None = None
    run_dir: Path | None = None
    files: list[Path] = field(default_factory=list)

    @property
    def epochs_run(self) -> int:
        return len(self.rows) - 1

    @property
    def score_name(self) -> str:
        return metrics.score_name(self.data.task)

    @property
    def test_score(self) -> float:
        return self.test[self.score_name]

    def __repr__(self) -> str:
        from ..render.jupyter import run_result_repr

        return run_result_repr(self)

    def _repr_html_(self) -> str:
        from ..render.jupyter import run_result_repr_html

        return run_result_repr_html(self)

    def summary(self) -> str:
        """One line: epochs × iterations, batch, examples, test score."""
        n = len(self.data.train)
        ipe = self.iterations_per_epoch
        text = (
            f"{self.spec.name} on {self.data.name}: {self.epochs_run} epochs × {ipe} "
            f"iteration{'s' if ipe != 1 else ''} per epoch (batch {self.batch_size} of "
            f"{n} training examples) = {self.epochs_run * ipe} iterations"
        )
        if len(self.data.test):
            text += f"; test {self.score_name} {metrics.fmt(self.test_score)}"
            text += f", test loss {metrics.fmt(self.test['loss'])}"
            for name in metrics.report_names(self.data.task):
                if name != self.score_name and name != "confusion_matrix":
                    text += f", {name.replace('_', '-')} {metrics.fmt(self.test[name])}"
        if self.stopped_early:
            text += f"; stopped early, kept epoch {self.best_epoch}"
        if self.interrupted:
            text += f"; interrupted, kept epoch {self.epochs_run}"
        return text


class EarlyStopping:
    """Stop after ``patience`` epochs in a row without a strictly lower validation loss."""

    def __init__(self, patience: int) -> None:
        self.patience = patience
        self.best_loss = math.inf
        self.best_epoch: int | None = None
        self.since_best = 0

    def update(self, epoch: int, val_loss: float) -> bool:
        """Record epoch ``epoch``; true when training should stop."""
        if val_loss < self.best_loss:
            self.best_loss, self.best_epoch, self.since_best = val_loss, epoch, 0
            return False
        self.since_best += 1
        return self.since_best >= self.patience


def _copy(params: Params) -> Params:
    """A copy of ``(W, b)`` (a recurrent trainer's ``(W, U, b)``; ``None`` kept)."""
    return tuple(  # type: ignore[return-value]
        [None if a is None else np.array(a, copy=True) for a in part] for part in params
    )


class _Recorder:
    """Computes one metrics row per epoch from the trainer."""

    def __init__(self, trainer: Any, data: Prepared, monitor: Split) -> None:
        self.trainer = trainer
        self.data = data
        self.monitor = monitor
        self.score = metrics.score_name(data.task)

    def _split(self, split: Split, prefix: str, row: dict[str, float]) -> None:
        if len(split) == 0:
            row[f"{prefix}_loss"] = math.nan
            row[f"{prefix}_{self.score}"] = math.nan
            return
        Y = self.trainer.predict(split.X).reshape(len(split.X), -1)  # sequences: rows
        row[f"{prefix}_loss"] = float(self.trainer.loss(split.X, split.T))
        row[f"{prefix}_{self.score}"] = metrics.score(
            self.data.task, Y, split.T, sign=self.data.sign_targets
        )

    def row(self, epoch: int, seconds: float) -> dict[str, float]:
        row: dict[str, float] = {"epoch": epoch}
        self._split(self.data.train, "train", row)
        self._split(self.data.val, "val", row)
        grads = self.trainer.gradients(self.monitor.X, self.monitor.T)
        grad_W, grad_b = grads[0], grads[-1]  # a recurrent trainer's (W, U, b): U not listed
        row.update({f"grad_{k}": v for k, v in gradient_norms(grad_W, grad_b).items()})
        row["seconds"] = round(seconds, 3)
        return row


def train(
    spec: Spec | str | Path | dict[str, Any],
    data: Prepared,
    *,
    trainer: Any = None,
    out_dir: str | Path | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    shuffle: bool | None = None,
    seed: int | None = None,
    early_stopping: int | None = None,
    progress: bool = True,
    console: Console | None = None,
    callback: EpochCallback | None = None,
    monitor_size: int = 256,
    plots_enabled: bool = True,
) -> RunResult:
    """Train ``spec``'s compiled trainer on ``data``; write the run directory if ``out_dir``.

    ``callback(epoch, trainer, rows)`` runs after the runner has recorded the epoch;
    returning ``True`` stops training. Raises ``TrainingDiverged`` if the loss
    becomes NaN or infinite (nothing is written then).
    """
    # the run prepares its own inputs: a spec's (a trainer's) preprocessing is dropped,
    # and the run's own is saved with the model (symbp.train.model)
    spec = network_spec(load_spec(spec))
    if trainer is None:
        from ..codegen import compile as compile_spec

        trainer = compile_spec(spec)
    elif getattr(trainer, "preprocessing", None) is not None:
        trainer = trainer.with_preprocessing(None)
    if early_stopping is not None and len(data.val) == 0:
        raise DataError("early stopping needs a validation split; the validation fraction is 0")

    def run() -> RunResult:
        return _run(
            spec, data, trainer, progress, console, callback, epochs=epochs,
            batch_size=batch_size, shuffle=shuffle, seed=seed, early_stopping=early_stopping,
            monitor_size=monitor_size,
        )  # fmt: skip

    if out_dir is None:
        return run()
    # the run folder is locked and marked incomplete until its last file is written
    names = rundir.run_files(
        metrics.score_name(data.task), plots=plots_enabled, sensitivity=spec.dense_only
    )
    folder = OutputFolder(out_dir, "train").begin(names)
    try:
        result = run()
        write_run(result, Path(out_dir), plots_enabled=plots_enabled, folder=folder)
    except Exception:
        folder.rollback()  # divergence, a failing callback...: nothing written
        raise
    finally:
        folder.close()  # killed (SIGTERM, time limit) before the end: stays incomplete
    return result


def _run(
    spec: Spec,
    data: Prepared,
    trainer: Any,
    progress: bool,
    console: Console | None,
    callback: EpochCallback | None,
    *,
    epochs: int | None,
    batch_size: int | None,
    shuffle: bool | None,
    seed: int | None,
    early_stopping: int | None,
    monitor_size: int,
) -> RunResult:
    """The training of :func:`train`, without the run folder."""
    n_train = len(data.train)
    n_epochs = epochs if epochs is not None else spec.training.epochs
    batch = batch_size or spec.training.batch_size or n_train
    batch = min(batch, n_train)
    ipe = math.ceil(n_train / batch)
    monitor = Split(data.train.X[:monitor_size], data.train.T[:monitor_size])
    recorder = _Recorder(trainer, data, monitor)
    start = time.perf_counter()
    rows = [recorder.row(0, 0.0)]
    stopper = EarlyStopping(early_stopping) if early_stopping is not None else None
    state: dict[str, Any] = {"last": _copy(trainer.params), "best": None, "history": None}
    stopped_early = False
    score = recorder.score

    bar = EpochBar(n_epochs, spec.name, enabled=progress, console=console)

    def on_epoch(_epoch: int, tr: Any, history: Any) -> bool:
        epoch = len(rows)
        row = recorder.row(epoch, time.perf_counter() - start)
        rows.append(row)
        state["last"] = _copy(tr.params)
        state["history"] = history
        shown = "val" if len(data.val) else "train"
        shown_value = metrics.fmt(row[f"{shown}_{score}"])
        bar.update(epoch, row["train_loss"], f"{shown} {score} {shown_value}")
        stop = False
        if stopper is not None:
            stop = stopper.update(epoch, row["val_loss"])
            if stopper.best_epoch == epoch:
                state["best"] = state["last"]
            if stop:
                nonlocal stopped_early
                stopped_early = True
        if callback is not None and callback(epoch, tr, rows):
            stop = True
        return stop

    interrupted = False
    with bar:
        try:
            history = trainer.fit(
                data.train.X,
                data.train.T,
                epochs=n_epochs,
                batch_size=batch,
                shuffle=shuffle,
                seed=seed,
                callback=on_epoch,
            )
            state["history"] = history
        except KeyboardInterrupt:
            interrupted = True
    if interrupted:
        trainer.params = state["last"]
    elif stopped_early and state["best"] is not None:
        trainer.params = state["best"]
    history = state["history"]
    steps = np.asarray(getattr(history, "step_losses", ()), dtype=np.float64)
    result = RunResult(
        spec=spec,
        data=data,
        trainer=trainer,
        rows=rows,
        step_losses=steps[: (len(rows) - 1) * ipe],
        test=_test_scores(trainer, data),
        epochs_planned=n_epochs,
        batch_size=batch,
        iterations_per_epoch=ipe,
        stopped_early=stopped_early,
        best_epoch=stopper.best_epoch if stopper is not None and stopped_early else None,
        interrupted=interrupted,
        seconds=time.perf_counter() - start,
    )
    probe = data.test if len(data.test) else (data.val if len(data.val) else data.train)
    if spec.dense_only:  # the input Jacobian of feature maps is not computed yet
        W, b = trainer.params
        result.sensitivity = feature_sensitivity(spec, W, b, probe.X)
    return result


def _test_scores(trainer: Any, data: Prepared) -> dict[str, Any]:
    """The loss and every score of :func:`symbp.train.metrics.report` on the test split."""
    if len(data.test) == 0:
        return {"loss": math.nan, **metrics.report(data.task, data.test.T, data.test.T)}
    Y = trainer.predict(data.test.X).reshape(len(data.test.X), -1)  # sequences: rows
    return {
        "loss": float(trainer.loss(data.test.X, data.test.T)),
        **metrics.report(data.task, Y, data.test.T, sign=data.sign_targets),
    }


def _output_names(result: RunResult) -> list[str]:
    if result.data.classes is not None and len(result.data.classes) == result.spec.layers[-1]:
        return [str(c) for c in result.data.classes]
    return [str(i + 1) for i in range(result.spec.layers[-1])]


def write_run(
    result: RunResult,
    out: Path,
    *,
    plots_enabled: bool = True,
    folder: OutputFolder | None = None,
) -> list[Path]:
    """Write the run directory (see :mod:`symbp.train.rundir`); returns the files.

    ``folder`` is the run folder :func:`train` locked before training; without it the
    folder is claimed here (:mod:`symbp.outputs.folder`: only symbp's own earlier
    files are replaced). The manifest is marked complete after the last file.
    """
    spec, data = result.spec, result.data
    params = result.trainer.params
    W, b = params[0], params[-1]  # a recurrent trainer's (W, U, b): U saved by saved_model
    score = result.score_name
    title = f"{spec.name} on {data.name}"
    sens = result.sensitivity
    files: dict[str, str | bytes] = {
        "params.npz": rundir.params_npz(
            W,
            b,
            mean=data.mean,
            scale=data.scale,
            classes=data.classes,
            trainer=saved_model(result.trainer, data),
        ),
        "metrics.csv": rundir.rows_csv(result.rows),
        "metrics.json": rundir.json_text(_payload(result)),
    }
    if sens is not None:
        files["sensitivity.csv"] = rundir.sensitivity_csv(
            data.feature_names, sens.per_feature, sens.per_output, _output_names(result)
        )
    if plots_enabled:
        files["loss.png"] = plots.loss_curves(
            result.rows, result.step_losses, result.iterations_per_epoch, title
        )
        files[f"{score}.png"] = plots.score_curves(result.rows, score, title)
        files["gradient_norms.png"] = plots.gradient_norm_curves(
            result.rows, spec.depth, f"gradient norms: {title}"
        )
        if sens is not None:
            files["feature_sensitivity.png"] = plots.sensitivity_bars(
                sens.per_feature, data.feature_names, f"feature sensitivity: {title}"
            )
    claimed = folder or OutputFolder(out, "train").begin(
        rundir.run_files(score, plots=plots_enabled, sensitivity=spec.dense_only)
    )
    try:
        paths = claimed.write(files)
        claimed.finish()
    finally:
        if folder is None:
            claimed.close()
    result.run_dir = out
    result.files = paths
    return paths


def payload(result: RunResult) -> dict[str, Any]:
    """The run's settings, metrics rows, test scores and summary (``metrics.json``,
    ``symbp train --json``)."""
    return _payload(result)


def _payload(result: RunResult) -> dict[str, Any]:
    spec, data = result.spec, result.data
    return {
        "spec": spec.name,
        "spec_hash": spec.hash,
        "spec_path": spec.path,
        "layers": list(spec.layers),
        "data": data.name,
        "task": data.task,
        "score": result.score_name,
        "examples": {"train": len(data.train), "val": len(data.val), "test": len(data.test)},
        "standardized": data.mean is not None,
        "classes": None if data.classes is None else [str(c) for c in data.classes],
        "batch_size": result.batch_size,
        "iterations_per_epoch": result.iterations_per_epoch,
        "epochs_planned": result.epochs_planned,
        "epochs_run": result.epochs_run,
        "stopped_early": result.stopped_early,
        "best_epoch": result.best_epoch,
        "interrupted": result.interrupted,
        "seconds": round(result.seconds, 3),
        "test": result.test,
        "summary": result.summary(),
        "epochs": result.rows,
        "step_losses": result.step_losses,
    }
