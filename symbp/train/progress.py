"""The epoch progress bar (rich), on stderr so that stdout keeps the summary."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from .metrics import fmt


class EpochBar:
    """``digits-64-64-10 epoch 12/30 ━━━━━━━ loss 0.1234 val accuracy 0.9630 0:00:03``.

    A disabled bar (``enabled=False``) does nothing, so callers need no branches.
    """

    def __init__(
        self, total: int, label: str, *, enabled: bool = True, console: Console | None = None
    ) -> None:
        self.enabled = enabled
        self._progress: Progress | None = None
        self._task = None
        if enabled:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                TextColumn("epoch"),
                MofNCompleteColumn(),
                BarColumn(),
                TextColumn("loss {task.fields[loss]}"),
                TextColumn("{task.fields[score]}"),
                TimeElapsedColumn(),
                console=console or Console(stderr=True),
                transient=False,
            )
            self._task = self._progress.add_task(label, total=total, loss="-", score="")

    def __enter__(self) -> EpochBar:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def update(self, epoch: int, loss: float, score: str) -> None:
        """Show epoch ``epoch`` done with its training loss and score text."""
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=epoch, loss=fmt(loss), score=score)
