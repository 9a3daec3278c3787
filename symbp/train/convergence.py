"""When an estimator's training stops, and what it reports per epoch.

The rule is scikit-learn's MLP rule (``tol``, ``n_iter_no_change``):

* without a validation set, an epoch *improves* when its training loss (the mean of
  its step losses, ``loss_curve_``) is below the best so far minus ``tol``; training
  stops after ``n_iter_no_change`` epochs in a row that do not improve;
* with a validation set (``early_stopping``), an epoch improves when its validation
  score (accuracy or R², higher is better) is above the best so far plus ``tol``; the
  parameters of the best-scoring epoch are kept at the end.

``tol=None`` turns the training-loss rule off (every epoch runs). A fit that runs all
its epochs without stopping by the rule, or whose last epoch's loss is not below its
first, warns with scikit-learn's :class:`~sklearn.exceptions.ConvergenceWarning`.
``verbose`` prints one line per epoch to standard output.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

from sklearn.exceptions import ConvergenceWarning

Params = tuple[list[Any], list[Any]]


class Monitor:
    """Called after every epoch (a :class:`~symbp.codegen.trainer.Trainer` callback).

    ``score`` gives the validation score and loss of the trainer's current parameters
    (``None``: no validation set). The curves are appended to the given lists, so that
    a continued fit (``warm_start``) extends them.
    """

    def __init__(
        self,
        *,
        tol: float | None,
        patience: int,
        loss_curve: list[float],
        score: Callable[[Any], tuple[float, float]] | None = None,
        scores: list[float] | None = None,
        val_losses: list[float] | None = None,
        verbose: int = 0,
        first_epoch: int = 1,
    ) -> None:
        self.tol = tol
        self.patience = patience
        self.loss_curve = loss_curve
        self.score = score
        self.scores = scores if scores is not None else []
        self.val_losses = val_losses if val_losses is not None else []
        self.verbose = verbose
        self.first_epoch = first_epoch
        self.best_loss = math.inf
        self.best_score = -math.inf
        self.best_epoch: int | None = None
        self.best_params: Params | None = None
        self.no_improvement = 0
        self.stopped = False
        self.losses: list[float] = []  # this fit's epoch losses

    def __call__(self, epoch: int, trainer: Any, history: Any) -> bool:
        loss = float(history.epoch_losses[-1])
        self.losses.append(loss)
        self.loss_curve.append(loss)
        line = f"Epoch {self.first_epoch + epoch - 1}, loss = {loss:.8f}"
        if self.score is not None:
            score, val_loss = self.score(trainer)
            self.scores.append(score)
            self.val_losses.append(val_loss)
            line += f", validation score = {score:.6f}, validation loss = {val_loss:.8f}"
            improved = self.tol is None and score > self.best_score
            improved = improved or (self.tol is not None and score > self.best_score + self.tol)
            if score > self.best_score:
                self.best_score, self.best_epoch = score, epoch
                self.best_params = trainer.params
        else:
            improved = self.tol is None or loss < self.best_loss - self.tol
            if loss < self.best_loss:
                self.best_loss, self.best_epoch = loss, epoch
        if self.verbose:
            print(line, flush=True)
        self.no_improvement = 0 if improved else self.no_improvement + 1
        if self.tol is None and self.score is None:
            return False
        self.stopped = self.no_improvement >= self.patience
        if self.stopped and self.verbose:
            what = "Validation score" if self.score is not None else "Training loss"
            print(
                f"{what} did not improve more than tol={self.tol} for "
                f"{self.patience} consecutive epochs. Stopping.",
                flush=True,
            )
        return self.stopped

    def warn(self, epochs: int) -> None:
        """Warn when the fit did not converge (see the module docstring)."""
        if not self.losses:
            return
        went_down = len(self.losses) > 1 and self.losses[-1] < self.losses[0]
        if not went_down:
            warnings.warn(
                f"the training loss did not go down over {len(self.losses)} epoch"
                f"{'s' if len(self.losses) != 1 else ''} ({self.losses[0]:.6g} to "
                f"{self.losses[-1]:.6g}); raise epochs or the learning rate",
                ConvergenceWarning,
                stacklevel=3,
            )
        elif not self.stopped and (self.tol is not None or self.score is not None):
            warnings.warn(
                f"maximum epochs ({epochs}) reached and the optimisation has not "
                "converged yet (the loss still improves by more than tol); raise epochs",
                ConvergenceWarning,
                stacklevel=3,
            )
