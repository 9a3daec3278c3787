"""The questions of a recurrent net's exercises: which quantity, at which update step and
time step (see :mod:`.recurrent`, whose questions these are).

A question is ``NAME[@STEP][ at t=T]`` with the names of ``eval --json`` and ``verify``
(:func:`symbp.verify.recurrent.parse_recurrent_quantity`): ``h[0][1] at t=2``,
``grad_U[0][1][0]``, ``U[0][0][1]@1``. :func:`default_asks` gives the questions asked
without ``--ask``; a question whose answer is 0 whatever the numbers is refused
(:func:`_always_zero`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import DataError, quote
from ..layers import Recurrent
from ..spec import Spec
from ..verify.quantities import Quantity
from ..verify.recurrent import parse_recurrent_quantity, quantity_shapes
from .questions import Question, asked_step, parse_all, whole_number

#: The parameters a sheet asks after an update (printed at step 0).
PARAMETERS = ("W", "U", "b")
#: Kinds of the whole sequence a sheet asks.
WHOLE = ("loss", "grad_W", "grad_U", "grad_b", *PARAMETERS)
_TIME = re.compile(r"\s+at\s+t\s*=\s*(?P<time>\S*)\s*\Z")


@dataclass(frozen=True)
class TimedQuestion(Question):
    """A question on a recurrent net: ``quantity`` after ``step`` updates, at time step
    ``time`` (from 1; ``None``: a quantity of the whole sequence)."""

    time: int | None = None

    @property
    def name(self) -> str:
        """``h[0][1] at t=2`` (the quantity alone where it has no time step)."""
        base = self.quantity.name
        return base if self.time is None else f"{base} at t={self.time}"

    @property
    def key(self) -> tuple[Any, ...]:
        """The quantity, the step and the time step."""
        return (self.quantity, self.step, self.time)

    @property
    def ask(self) -> str:
        """The canonical ``--ask`` text: ``h[0][1] at t=2``, ``U[0][0][1]@1``."""
        default = 1 if base_kind(self.quantity) in PARAMETERS else 0
        head = self.quantity.name + ("" if self.step == default else f"@{self.step}")
        return head if self.time is None else f"{head} at t={self.time}"


def parse_ask(text: Any, spec: Spec, number: int, where: str = "ask") -> TimedQuestion:
    """The question ``text`` (``NAME[@STEP][ at t=T]``) asks of ``spec``'s recurrent net."""
    if not isinstance(text, str) or len(text) > 200:
        raise DataError(f"{where}: expected QUANTITY[@STEP][ at t=T], found {quote(text)}")
    rec = spec.recurrence
    assert rec is not None
    body, time = text.strip(), None
    match = _TIME.search(body)
    if match:
        raw = match.group("time")
        if not whole_number(raw) or not 1 <= int(raw) <= rec.steps:
            raise DataError(
                f"{where}: expected a time step from 1 to {rec.steps} after 'at t=', "
                f"found {quote(raw)}"
            )
        body, time = body[: match.start()], int(raw)
    name, at, raw_step = body.partition("@")
    try:
        quantity = parse_recurrent_quantity(name.strip(), spec)
    except ValueError as err:
        raise DataError(f"{where}: {err}") from None
    whole, per_step = quantity_shapes(spec)
    head, kind = quantity.kind, base_kind(quantity)  # ``grad_U[0]``, ``grad_U``
    if time is None and head not in whole:
        raise DataError(
            f"{where}: {head} is a quantity of one time step: ask it with at t=1 to t={rec.steps}"
        )
    if time is not None and head not in per_step:
        raise DataError(f"{where}: {head} is not a quantity of one time step: leave out at t=")
    if time is None and kind not in WHOLE:
        raise DataError(f"{where}: {quantity.name} is not asked on sheets; ask another quantity")
    if head == "a[0]":
        raise DataError(f"{where}: {quantity.name} is an input, printed on the sheet; ask another")
    if kind == "loss" and time is not None and rec.output == "last_step" and time != rec.steps:
        raise DataError(
            f"{where}: step {time} has no loss (output: last_step); ask loss at t={rec.steps}"
        )
    if time is not None and (why := _always_zero(spec, kind, layer_of(quantity), time)):
        raise DataError(
            f"{where}: {quantity.name} at t={time} is 0 for every draw ({why}); "
            "ask another quantity"
        )
    parameter = kind in PARAMETERS
    frozen = parameter and (kind, layer_of(quantity)) in spec.frozen
    step = asked_step(raw_step.strip() if at else None, quantity.name, parameter, frozen, where)
    return TimedQuestion(number, quantity, step, time)


def _always_zero(spec: Spec, kind: str, layer: int, time: int) -> str | None:
    """Why a quantity of step ``time`` is 0 whatever the numbers, else ``None``: under
    ``output: last_step`` the dense layers' deltas and gradient terms of an earlier step,
    and the recurrent layer's backward before the last step's loss reaches (``bptt: k``:
    steps T−k+1..T); ``grad_U``'s term of step 1 when the initial state is 0."""
    rec = spec.recurrence
    assert rec is not None
    T = rec.steps
    backward = kind in ("delta_h", "delta_c") or (kind.startswith("grad_") and layer == 0)
    head = kind == "delta" or (kind.startswith("grad_") and layer > 0)
    if rec.output == "last_step" and head and time != T:
        return f"output: last_step, so only step {T} has a loss"
    low = T - rec.bptt + 1 if rec.bptt is not None else 1
    if rec.output == "last_step" and backward and time < low:
        return f"the loss of step {T} flows back to steps {low}..{T} only"
    initial = (rec.initial[0] or {}).get("h", ())
    if kind == "grad_U" and time == 1 and all(v == 0 for v in initial):
        return "its term reads h_0, which is 0"
    return None


def base_kind(quantity: Quantity) -> str:
    """``grad_U`` of ``grad_U[0][1][2]`` (whose :class:`Quantity` kind is ``grad_U[0]``)."""
    return quantity.kind.split("[")[0]


def layer_of(quantity: Quantity) -> int:
    """The layer ``l`` of ``grad_U[l][…]`` (0 for ``loss``)."""
    head = quantity.kind
    return int(head[head.index("[") + 1 : -1]) if "[" in head else 0


def parse_asks(asks: Sequence[str], spec: Spec, where: str = "ask") -> tuple[TimedQuestion, ...]:
    """Every question of ``asks`` (duplicates refused), numbered from 1."""
    return parse_all(asks, spec, where, parse_ask)


def default_asks(spec: Spec) -> list[str]:
    """The questions asked when none are given (see the module docstring)."""
    rec = spec.recurrence
    assert rec is not None
    layer = spec.network[0]
    assert isinstance(layer, Recurrent)
    T, L = rec.steps, len(spec.network)
    times = range(1, T + 1)
    asks = [f"h[0][0] at t={t}" for t in times]
    for state in layer.cell.states[1:]:
        asks += [f"{state}[0][0] at t={t}" for t in times]
    if len(layer.cell.states) > 1:
        asks += [f"{g}[0][0] at t=1" for g in layer.cell.unit(layer.unit_activation)
                 if g.startswith("gate_")]  # fmt: skip
    lossy = times if rec.output == "every_step" else [T]
    asks += [f"loss at t={t}" for t in lossy] + ["loss"]
    reached = range(T - rec.bptt + 1 if rec.output == "last_step" and rec.bptt else 1, T + 1)
    asks += [f"delta_h[0][0] at t={t}" for t in reached]
    asks += ["grad_W[0][0][0]", "grad_U[0][0][0]", "grad_b[0][0]"]
    asks += [f"grad_W[{L - 1}][0][0]", f"grad_b[{L - 1}][0]"]
    asks += [f"{k}[0][0][0]@1" for k in ("W", "U") if (k, 0) not in spec.frozen]
    return asks


__all__ = [
    "PARAMETERS",
    "WHOLE",
    "TimedQuestion",
    "base_kind",
    "default_asks",
    "layer_of",
    "parse_ask",
    "parse_asks",
]
