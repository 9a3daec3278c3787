"""SIGTERM and SIGHUP as an exception, so that a killed command cleans up after itself.

Python's default for SIGTERM is to die on the spot: no ``finally`` runs, so a
temporary folder stays behind and a child process (the TeX engine, in its own
process group) keeps running. Inside :func:`terminate_as_exception` (the CLI runs
every command in it) these signals raise :class:`Terminated` instead, a
``BaseException`` that ``except Exception`` blocks do not swallow: temporary
folders are removed, the engine's group is killed
(:func:`symbp.render.pdf.build_pdf`) and a run folder keeps its "incomplete" mark
(:mod:`symbp.outputs.folder`). A second such signal while cleaning up is ignored.
``kill -9`` cannot be caught; the run folder's lock is still released by the kernel
and its manifest still says incomplete.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Terminated(BaseException):
    """Raised where the process was when SIGTERM or SIGHUP arrived."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)

    @property
    def exit_code(self) -> int:
        """The shell's code for a death by this signal (143 for SIGTERM)."""
        return 128 + self.signum


def _raise(signum: int, frame: FrameType | None) -> None:
    for other in _SIGNALS:  # the cleanup the exception starts is not interrupted again
        signal.signal(other, signal.SIG_IGN)
    raise Terminated(signum)


@contextmanager
def terminate_as_exception() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise :class:`Terminated` (main thread
    only; elsewhere, and after the block, the previous handlers apply)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in _SIGNALS}
    for signum in _SIGNALS:
        signal.signal(signum, _raise)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
