"""The epoch progress bar (rich), on stderr so that stdout keeps the summary.

In a Jupyter notebook rich draws its live bar through ``ipywidgets``; where
that is not installed (rich would warn), the bar falls back to plain lines,
at most :data:`PLAIN_LINES` of them per run.
"""

from __future__ import annotations

import importlib.util
import sys
from types import TracebackType
from typing import IO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from ..escape import rich_markup, terminal_text
from .metrics import fmt

#: A plain (notebook without ipywidgets) bar prints at most about this many lines.
PLAIN_LINES = 20


def _has_widgets() -> bool:
    try:
        return importlib.util.find_spec("ipywidgets") is not None
    except (ImportError, ValueError):
        return False


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
        self._plain: IO[str] | None = None
        self._total, self._label = total, label
        console = console or Console(stderr=True)
        if enabled and console.is_jupyter and not _has_widgets():
            self._plain = console.file if console.file is not sys.stdout else sys.stderr
        elif enabled:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                TextColumn("epoch"),
                MofNCompleteColumn(),
                BarColumn(),
                TextColumn("loss {task.fields[loss]}"),
                TextColumn("{task.fields[score]}"),
                TimeElapsedColumn(),
                console=console,
                transient=False,
            )
            self._task = self._progress.add_task(
                rich_markup(label), total=total, loss="-", score=""
            )

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
        elif self._plain is not None:
            every = max(1, self._total // PLAIN_LINES)
            if epoch % every == 0 or epoch == self._total:
                line = f"{terminal_text(self._label)} epoch {epoch}/{self._total} loss {fmt(loss)}"
                line += f" {score}"
                print(line.rstrip(), file=self._plain, flush=True)
