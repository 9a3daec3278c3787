"""A time budget for the symbolic stages: a spec can make symbp slow, never hang it.

``with time_limit(30): ...`` stops the block with
:class:`~symbp.errors.TimeLimitExceeded` (a one-line :class:`SymbpError`, exit 2) once
it has run 30 seconds. Two mechanisms share one deadline:

* In the main thread (the CLI, a script) a ``SIGALRM`` timer interrupts the block
  wherever it is, even deep inside one SymPy call. The timer raises
  :class:`Expired`, a ``BaseException``, so that SymPy's own ``except Exception``
  blocks cannot swallow it, and repeats every quarter second until the block has
  ended; :func:`time_limit` turns it into ``TimeLimitExceeded`` at its boundary.
* In any other thread signals cannot be used. There the deadline is only checked
  at :func:`check` points (per layer of a derivation, per example and step of an
  evaluation), so one long SymPy call may overrun it; the caps on formulas
  (:mod:`symbp.formula`) keep single calls short.

``seconds=None`` inherits the budget already running (or starts the default,
:data:`DEFAULT_TIME_LIMIT`); ``0`` means no limit. :func:`paused` stops the clock
around work with its own timeout (the TeX engine). A timer set by other code is
saved and restored.
"""

from __future__ import annotations

import contextvars
import math
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import DataError, TimeLimitExceeded, quote

#: Seconds the derivation and exact evaluation may take unless told otherwise.
DEFAULT_TIME_LIMIT = 30.0
_REPEAT_S = 0.25


class Expired(BaseException):
    """Raised inside a block whose budget ran out (converted by :func:`time_limit`)."""


# (deadline on the monotonic clock or inf, the limit in seconds) of the running budget.
_budget: contextvars.ContextVar[tuple[float, float] | None] = contextvars.ContextVar(
    "symbp_budget", default=None
)


def _uses_signal() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def _on_alarm(signum: int, frame: object) -> None:
    budget = _budget.get()
    if budget is not None and time.monotonic() >= budget[0] - 0.01:
        raise Expired
    if budget is not None and math.isfinite(budget[0]):  # early (clock skew): wait again
        signal.setitimer(signal.ITIMER_REAL, max(budget[0] - time.monotonic(), 0.01), _REPEAT_S)


def _arm(budget: tuple[float, float] | None) -> None:
    if budget is None or not math.isfinite(budget[0]):
        signal.setitimer(signal.ITIMER_REAL, 0)
    else:
        signal.setitimer(signal.ITIMER_REAL, max(budget[0] - time.monotonic(), 0.001), _REPEAT_S)


def _message(seconds: float) -> str:
    return (
        f"stopped after the time limit of {seconds:g} s (the derivation or exact evaluation "
        "of this spec is too costly); allow more with --time-limit SECONDS (0: no limit), "
        "or simplify the spec"
    )


def remaining() -> float | None:
    """Seconds left in the running budget (``inf`` for none; ``None`` outside any)."""
    budget = _budget.get()
    return None if budget is None else budget[0] - time.monotonic()


def check() -> None:
    """Stop (raise :class:`Expired`) when the running budget has run out."""
    budget = _budget.get()
    if budget is not None and time.monotonic() > budget[0]:
        raise Expired


@contextmanager
def time_limit(seconds: float | None = None) -> Iterator[None]:
    """Run the block within ``seconds`` (``None``: the running budget or the default)."""
    outer = _budget.get()
    if seconds is None and outer is not None:
        yield
        return
    try:
        limit = DEFAULT_TIME_LIMIT if seconds is None else float(seconds)
    except (TypeError, ValueError):
        limit = math.nan
    if isinstance(seconds, bool) or not limit >= 0:
        raise DataError(
            f"expected seconds >= 0 (0: no limit), found {quote(seconds)}", field="time_limit"
        )
    budget = (time.monotonic() + limit if limit > 0 else math.inf, limit)
    token = _budget.set(budget)
    use_signal = _uses_signal()
    previous_handler = None
    previous_timer = (0.0, 0.0)
    started = time.monotonic()
    if use_signal:
        previous_handler = signal.signal(signal.SIGALRM, _on_alarm)
        previous_timer = signal.setitimer(signal.ITIMER_REAL, 0)
        _arm(budget)
    try:
        yield
    except Expired:
        if outer is not None and time.monotonic() >= outer[0]:
            raise  # the enclosing budget ran out as well: it reports its own limit
        raise TimeLimitExceeded(_message(limit)) from None
    finally:
        if use_signal:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous_handler or signal.SIG_DFL)
        _budget.reset(token)
        if use_signal:
            if previous_handler is _on_alarm:
                _arm(outer)
            elif previous_timer[0] > 0:
                left = previous_timer[0] - (time.monotonic() - started)
                signal.setitimer(signal.ITIMER_REAL, max(left, 0.001), previous_timer[1])


@contextmanager
def paused() -> Iterator[None]:
    """Stop the running budget's clock for the block (work with its own timeout)."""
    budget = _budget.get()
    if budget is None or not math.isfinite(budget[0]):
        yield
        return
    left = budget[0] - time.monotonic()
    token = _budget.set((math.inf, budget[1]))
    use_signal = _uses_signal() and signal.getsignal(signal.SIGALRM) is _on_alarm
    if use_signal:
        signal.setitimer(signal.ITIMER_REAL, 0)
    try:
        yield
    finally:
        _budget.reset(token)
        resumed = (time.monotonic() + max(left, 0.0), budget[1])
        _budget.set(resumed)
        if use_signal:
            _arm(resumed)


__all__ = ["DEFAULT_TIME_LIMIT", "Expired", "check", "paused", "remaining", "time_limit"]
