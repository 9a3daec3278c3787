"""Progress of ``symbp exercises``: drawing the variants, then typesetting the PDFs.

The stages report to a :class:`Progress`: ``stage(name, total)`` starts a stage of
``total`` steps (one per student, plus one for the combined PDFs) and ``advance()``
marks one step done. :data:`SILENT` does nothing; :func:`progress_bar` draws a rich
bar on standard error, only where standard error is a terminal (never into a pipe or
a file, and not with ``--quiet``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress

#: Stage names, as the bar shows them.
DRAWING = "drawing variants"
TYPESETTING = "typesetting sheets and keys"


class Progress(Protocol):
    """Where the stages of an exercise set report how far they are."""

    def stage(self, name: str, total: int) -> None:
        """Start the stage ``name`` of ``total`` steps."""

    def advance(self) -> None:
        """One step of the current stage is done."""


class _Silent:
    """A :class:`Progress` that shows nothing."""

    def stage(self, name: str, total: int) -> None:
        pass

    def advance(self) -> None:
        pass


#: Progress that shows nothing (the default of the Python functions).
SILENT: Progress = _Silent()


class _Bar:
    """A :class:`Progress` drawn as one rich bar per stage."""

    def __init__(self, progress: RichProgress) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def stage(self, name: str, total: int) -> None:
        self._task = self._progress.add_task(name, total=total)

    def advance(self) -> None:
        if self._task is not None:
            self._progress.advance(self._task)


@contextmanager
def progress_bar(enabled: bool = True, console: Console | None = None) -> Iterator[Progress]:
    """A bar on ``console`` (default: standard error) while the block runs.

    :data:`SILENT` instead when ``enabled`` is false or the console is not a terminal.
    """
    console = console or Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield SILENT
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with RichProgress(*columns, console=console, transient=False) as bar:
        yield _Bar(bar)
