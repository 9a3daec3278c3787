"""The ``claims`` of a spec: what a text printed, validated against the network.

Each claim is a mapping::

    {of: "a[2][0]", step: 1, printed: 0.648}
    {of: "w²₁₁", step: 0, printed: "0.50", tolerance: 0.005, note: "Figure 4"}
    {of: loss, step: 0, printed: 0.2, example: 1}
    {of: epoch_loss, epoch: 3, printed: 0.1342}

``of`` names a quantity (:mod:`.quantities`), ``step`` counts the updates applied
before it (default 0), or ``epoch`` the whole epochs (``epoch * steps per epoch``
updates, the spec's ``training`` schedule; not both), ``printed`` is the number as
printed (a string keeps trailing zeros), ``tolerance`` replaces the rounding rule,
``example`` picks one example (forward values default to example 0; ``loss`` and the
gradients default to the mean over the examples), ``note`` is free text shown in the
report (where the number was printed), ``time`` the time step (from 1) of a per-step
quantity of a recurrent network (:mod:`.recurrent`).

A claim that cannot be checked (unknown or out-of-range quantity, a printed
value that is not a number, a step beyond :data:`MAX_STEP`) is a
:class:`~symbp.errors.SpecError` naming the claim's index and text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..errors import SpecError, quote
from ..ops.batches import plan_of
from ..spec import Spec
from .compare import Printed, parse_printed
from .quantities import Quantity, parse_quantity

#: Verify evaluates the worked example exactly; claims beyond this many updates are refused.
MAX_STEP = 1000
FIELDS = ("of", "step", "epoch", "printed", "tolerance", "example", "note", "time")


@dataclass(frozen=True)
class Claim:
    """One validated claim (see the module docstring)."""

    index: int
    text: str
    of: str
    quantity: Quantity
    step: int
    printed: Printed
    tolerance: Fraction | None
    example: int | None
    note: str | None
    #: The ``epoch`` the claim gave (``step`` is then ``epoch × steps per epoch``).
    epoch: int | None = None
    #: The time step (from 1) of a recurrent network's per-step quantity; ``None``: none.
    time: int | None = None


def claim_text(raw: object, limit: int = 90) -> str:
    """A claim as a short one-line text for messages."""
    if isinstance(raw, Mapping):
        parts = [f"{k}: {_scalar(v)}" for k, v in raw.items()]
        text = "{" + ", ".join(parts) + "}"
    else:
        text = _scalar(raw)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _scalar(value: object) -> str:
    if isinstance(value, Fraction):
        try:
            return str(parse_printed(value).text)
        except ValueError:
            return quote(value)
    if isinstance(value, str):
        return '"' + value[:200].replace('"', '\\"') + ('…"' if len(value) > 200 else '"')
    return quote(value)


#: Reads a claim's ``of`` for a spec (``ValueError``: one line saying what was expected).
QuantityParser = Callable[[Any, Spec], Quantity]


def parse_claims(spec: Spec, parse: QuantityParser = parse_quantity) -> tuple[Claim, ...]:
    """Validate ``spec.claims`` against ``spec``'s network; raise SpecError on the first bad one.

    ``parse`` reads each ``of`` (:func:`.quantities.parse_quantity` for dense nets,
    :func:`.network.parse_network_quantity` for networks of other kinds)."""
    return tuple(_claim(i, raw, spec, parse) for i, raw in enumerate(spec.claims))


def _claim(index: int, raw: Any, spec: Spec, parse: QuantityParser = parse_quantity) -> Claim:
    text = claim_text(raw)

    def error(message: str, key: str | None = None) -> SpecError:
        line = spec.line_of("claims", index, key) if key else None
        line = line or spec.line_of("claims", index)
        return SpecError(f"{text}: {message}", field=f"claims[{index}]", file=spec.path, line=line)

    if not isinstance(raw, Mapping):
        raise error("expected a mapping such as {of: a[2][0], step: 0, printed: 0.521}")
    unknown = [k for k in raw if k not in FIELDS]
    if unknown:
        raise error(
            f"unknown field {quote(unknown[0])}; expected {', '.join(FIELDS)}", str(unknown[0])
        )
    for key in ("of", "printed"):
        if key not in raw:
            raise error(f"'{key}' is missing")
    try:
        quantity = parse(raw["of"], spec)
    except ValueError as err:
        raise error(str(err), "of") from None
    try:
        printed = parse_printed(raw["printed"])
    except ValueError as err:
        raise error(str(err), "printed") from None
    step = _whole(raw.get("step", 0), "step", error)
    epoch = None
    if "epoch" in raw:
        if "step" in raw:
            raise error("give step or epoch, not both", "epoch")
        epoch = _whole(raw["epoch"], "epoch", error)
        step = epoch * plan_of(spec).per_epoch
    if quantity.kind == "epoch_loss" and step == 0:
        raise error("epoch_loss is of a whole epoch: give epoch: 1 or later", "epoch")
    if step > MAX_STEP:
        raise error(f"step {step} is beyond the {MAX_STEP} updates verify computes exactly", "step")
    example = raw.get("example")
    if example is not None:
        example = _whole(example, "example", error)
        if example >= len(spec.examples):
            raise error(
                f"example {example} does not exist; the spec has {len(spec.examples)}", "example"
            )
    tolerance = raw.get("tolerance")
    if tolerance is not None:
        try:
            tolerance = parse_printed(tolerance).value
        except ValueError as err:
            message = str(err).replace("printed", "tolerance", 1)
            raise error(message, "tolerance") from None
        if tolerance <= 0:
            raise error(f"tolerance must be positive, found {tolerance}", "tolerance")
    time = raw.get("time")
    if time is not None:
        rec = spec.recurrence
        if rec is None:
            raise error("time applies to the steps of a recurrent network only", "time")
        time = _whole(time, "time", error)
        if not 1 <= time <= rec.steps:
            raise error(f"time {time} does not exist; expected 1 to {rec.steps}", "time")
    note = raw.get("note")
    if note is not None and not isinstance(note, str):
        raise error(f"note must be text, found {quote(note)}", "note")
    return Claim(
        index, text, str(raw["of"]), quantity, step, printed, tolerance, example, note, epoch, time
    )


def _whole(value: object, key: str, error: Any) -> int:
    if isinstance(value, Fraction) and value.denominator == 1:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise error(f"{key} must be a whole number >= 0, found {quote(value)}", key)
    return value
