"""Exercises of a recurrent network: per-student BPTT problems, answered by the exact engine.

A recurrent net (:mod:`symbp.spec.recurrent`: one recurrent layer, dense layers applied to
``h_t`` at every step) is drawn and answered here, through the engine ``verify`` uses for
it (:func:`symbp.symbolic.recurrent_run.run_recurrent`):

- **Questions** name quantities as ``eval --json`` and ``verify`` do
  (:func:`symbp.verify.recurrent.parse_recurrent_quantity`), a quantity of one time step
  with ``at t=T`` (``t`` from 1): ``h[0][1] at t=2``, ``c[0][0] at t=3``,
  ``gate_f[0][1] at t=1``, ``delta_h[0][0] at t=1`` (``∂E/∂h_t``), ``loss at t=2``
  (``L_t``); of the whole sequence: ``loss`` (``E``), ``grad_W[0][0][1]``,
  ``grad_U[0][1][0]``, ``grad_b[1][0]`` (sums over the steps), an updated parameter
  ``U[0][0][1]@1`` (a parameter defaults to step 1, everything else to step 0:
  ``NAME@STEP at t=T``). The input ``a[0]``, the initial states ``h0``/``c0`` and the
  parameters at step 0 are printed on the sheet, so they are not questions. Without
  ``--ask`` (:func:`default_asks`): the hidden state ``h[0][0]`` at every step (and for a
  cell with more states, ``c[0][0]`` at every step and every gate at step 1), the loss of
  every step with a target and ``E``, ``∂E/∂h_t`` at every step, the first weight of the
  recurrent layer's ``grad_W``, ``grad_U``, ``grad_b`` and the head's ``grad_W``,
  ``grad_b`` (its last layer), and the first ``W[0]`` and ``U[0]`` weights after one update.
  A question whose answer is 0 for every draw (:func:`_always_zero`: a step the last
  step's loss never reaches under ``output: last_step``) is refused in one line.
- **Variants** (:class:`RecurrentDrawer`): each student's stream (:mod:`.draw`) gives,
  layer by layer, ``W``, ``U`` (drawn from the ``exercise.W`` range) and ``b``, then each
  example's inputs (``x_t`` step by step) and targets, as the ``exercise:`` block's ranges
  say; the initial states are the spec's (zeros unless given). A draw is kept when no sum
  ``W x_t + U h_{t-1} + b`` of any gate row, and no dense ``z``, at any step reached
  exceeds ``max_abs_z``, no answer rounds to 0 at the printed decimals and the numbers
  differ from every earlier student's; otherwise the next draw is tried.
- **Tolerance**: the least one (:attr:`~symbp.spec.exercise.ExerciseSpec.quiz_tolerance`);
  the sheet asks for every digit of the values on the way, as for conv nets.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import DataError, quote
from ..layers import Recurrent
from ..spec import Spec, load
from ..spec.exercise import ExerciseSpec, Range
from ..symbolic.recurrent_run import RecurrentStep, run_recurrent
from ..verify.claims import MAX_STEP
from ..verify.compare import exact, format_decimal
from ..verify.quantities import Quantity
from ..verify.recurrent import parse_recurrent_quantity, quantity_shapes
from .codes import make_code
from .draw import Stream
from .questions import Question, whole_number
from .roster import Student
from .variants import Answer, Variant, full_text, variant_fields

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
    step = 1 if parameter else 0
    raw_step = raw_step.strip()
    if at:
        if not whole_number(raw_step) or int(raw_step) > MAX_STEP:
            raise DataError(
                f"{where}: expected a step from 0 to {MAX_STEP} after '@', found {quote(raw_step)}"
            )
        step = int(raw_step)
    if parameter and (kind, layer_of(quantity)) in spec.frozen:
        raise DataError(
            f"{where}: {quantity.name} is frozen (never updated), so it is printed on the "
            "sheet; ask another quantity"
        )
    if parameter and step == 0:
        raise DataError(
            f"{where}: {quantity.name} at step 0 is printed on the sheet; ask it after an "
            f"update, e.g. {quantity.name}@1"
        )
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
    if not asks:
        raise DataError(f"{where}: expected at least one quantity to ask")
    out: list[TimedQuestion] = []
    for i, text in enumerate(asks):
        q = parse_ask(text, spec, i + 1, f"{where}[{i}]" if where != "ask" else where)
        if any(p.quantity == q.quantity and (p.step, p.time) == (q.step, q.time) for p in out):
            raise DataError(f"{where}: {q.ask} is asked twice")
        out.append(q)
    return tuple(out)


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


def value_of(steps: Sequence[RecurrentStep], q: TimedQuestion) -> Any:
    """The exact value of ``q``: a parameter after ``k`` updates is the step ``k − 1``'s
    value plus that step's update."""
    name = q.quantity.name
    if base_kind(q.quantity) in PARAMETERS:
        before = steps[q.step - 1].quantities()
        return before[name] + before["update_" + name]
    return steps[q.step].quantities(q.time)[name]


def steps_needed(questions: Sequence[TimedQuestion]) -> int:
    """The last step the run must evaluate for ``questions``."""
    return max(q.step - 1 if base_kind(q.quantity) in PARAMETERS else q.step for q in questions)


def _zeros(shape: Sequence[int]) -> Any:
    return 0 if not shape else [_zeros(shape[1:]) for _ in range(shape[0])]


class RecurrentDrawer:
    """Draws and checks the variants of one recurrent spec (module docstring)."""

    def __init__(
        self,
        spec: Spec,
        settings: ExerciseSpec,
        questions: Sequence[TimedQuestion],
        asks: Sequence[str],
    ) -> None:
        self.spec, self.settings, self.questions = spec, settings, tuple(questions)
        self.asks = tuple(asks)
        self.last = steps_needed(questions)
        rec = spec.recurrence
        assert rec is not None
        self.rec = rec
        s = settings
        if (s.W is None or s.b is None) and spec.W is None:
            kind = "W" if s.W is None else "b"
            raise DataError(
                f"exercise.{kind}: fixed, but the spec gives no params to keep; "
                "give params or a range"
            )
        if (s.x is None or s.t is None) and not spec.examples:
            kind = "x" if s.x is None else "t"
            raise DataError(
                f"exercise.{kind}: fixed, but the spec gives no example to keep; "
                "give an example or a range"
            )
        shape: tuple[int, ...] = tuple(spec.input_shape)
        self.param_shapes = []
        for layer in spec.network:
            self.param_shapes.append(layer.parameter_shapes(shape))
            shape = layer.output_shape(shape)
        self.out = shape[0]

    def _array(self, stream: Stream, r: Range | None, base: Any) -> Any:
        if isinstance(base, list | tuple):
            return [self._array(stream, r, part) for part in base]
        return exact(base) if r is None else stream.decimal(r)

    def draw(self, stream: Stream) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
        """One draw: ``W``, ``U``, ``b`` (``None`` where a layer has none) and the examples
        (``x`` one list per step, ``t`` one per step or one for the last)."""
        s, spec, rec = self.settings, self.spec, self.rec
        given = {"W": spec.W, "U": rec.U, "b": spec.b}
        ranges = {"W": s.W, "U": s.W, "b": s.b}
        drawn: dict[str, list[Any]] = {"W": [], "U": [], "b": []}
        for l, shapes in enumerate(self.param_shapes):
            for name in ("W", "U", "b"):
                if name not in shapes:
                    drawn[name].append(None)
                    continue
                values = given[name]
                base = values[l] if values is not None else _zeros(shapes[name])
                drawn[name].append(self._array(stream, ranges[name], base))
        T, F = rec.steps, spec.input_shape[0]
        per = self.out if rec.output == "every_step" else 0
        examples = []
        for ex in spec.examples or [None]:
            flat_x = list(ex.x) if ex else [0] * (T * F)
            flat_t = list(ex.t) if ex else [0] * (T * self.out if per else self.out)
            x = [self._array(stream, s.x, flat_x[t * F : (t + 1) * F]) for t in range(T)]
            ts = [self._array(stream, s.t, v) for v in flat_t]
            t_field = [ts[t * per : (t + 1) * per] for t in range(T)] if per else ts
            examples.append({"x": x, "t": t_field})
        return drawn["W"], drawn["U"], drawn["b"], examples

    def variant_data(
        self, student: Student, W: list[Any], U: list[Any], b: list[Any], examples: list[Any]
    ) -> dict[str, Any]:
        """The variant spec's fields: the spec's own, the drawn numbers, its initial states."""
        data = variant_fields(self.spec, student, W, b, examples)
        given = self.spec.data.get("params")
        params: dict[str, Any] = {"W": W, "U": U, "b": b}
        if isinstance(given, dict):
            params.update({k: v for k, v in given.items() if k in ("h0", "c0")})
        data["params"] = params
        return data

    def _problem(self, steps: Sequence[RecurrentStep]) -> str | None:
        limit = float(self.settings.max_abs_z)
        for step in steps:
            W: Any = step.params["W"][0]
            U: Any = step.params["U"][0]
            b: Any = step.params["b"][0]
            for result in step.evaluation.examples:
                prev = [float(v) for v in step.initial["h"]]
                for row in result.times:
                    x = [float(v) for v in row["a[0]"]]
                    for r in range(len(W)):
                        z = sum(float(w) * v for w, v in zip(W[r], x, strict=True))
                        z += sum(float(u) * v for u, v in zip(U[r], prev, strict=True))
                        if abs(z + float(b[r])) > limit:
                            return "saturated"
                    heads = [row[k] for k in row if k.startswith("z[") and k != "z[0]"]
                    if any(abs(float(v)) > limit for z in heads for v in z):
                        return "saturated"
                    prev = [float(v) for v in row["h[0]"]]
        for q in self.questions:
            text = format_decimal(exact(value_of(steps, q)), self.settings.answer_decimals)
            if not text.strip("-0."):
                return "zero"
        return None

    def make(
        self, student: Student, seed: int, *, taken: set[Any] | None = None, skip: int = 0
    ) -> Variant:
        """The variant of ``student`` (``taken``/``skip`` as in :meth:`.variants.Drawer.make`)."""
        stream = Stream(seed, student.id)
        failures: Counter[str] = Counter()
        passed = 0
        for _ in range(self.settings.max_draws):
            W, U, b, examples = self.draw(stream)
            data = self.variant_data(student, W, U, b, examples)
            steps = run_recurrent(load(data), self.last).steps
            problem = self._problem(steps)
            key = repr((W, U, b, examples))
            if problem is None and taken is not None and key in taken:
                problem = "repeated"
            elif problem is None and taken is None and passed < skip:
                problem = "skipped"
            if problem is not None:
                failures[problem] += 1
                passed += problem in ("repeated", "skipped")
                continue
            if taken is not None:
                taken.add(key)
            return self._finish(student, seed, passed, data, steps)
        raise DataError(self._give_up(student, failures))

    def _finish(
        self,
        student: Student,
        seed: int,
        skip: int,
        data: dict[str, Any],
        steps: Sequence[RecurrentStep],
    ) -> Variant:
        d = self.settings.answer_decimals
        least = self.settings.quiz_tolerance
        answers = []
        for q in self.questions:
            value = exact(value_of(steps, q))
            answers.append(
                Answer(q, value, full_text(value), format_decimal(value, d), least, False)
            )
        code = make_code(self.spec.hash, self.asks, student.id, seed, skip)
        claims = []
        for a in answers:
            asked = a.question
            assert isinstance(asked, TimedQuestion)
            claim: dict[str, Any] = {"of": asked.quantity.name, "step": asked.step}
            if asked.time is not None:
                claim["time"] = asked.time
            claim["printed"] = a.printed
            claim["note"] = f"{asked.label} of exercise {code.text}"
            claims.append(claim)
        data["claims"] = claims
        return Variant(student, code, data, load(data), tuple(answers), ())

    def _give_up(self, student: Student, failures: Counter[str]) -> str:
        s = self.settings
        reasons = {
            "saturated": f"a sum W x_t + U h_(t-1) + b or a dense z exceeded "
            f"|z| > {float(s.max_abs_z):g}",
            "zero": f"an answer rounded to 0 at {s.answer_decimals} decimals",
            "repeated": "the numbers repeated an earlier student's",
            "skipped": "skipped",
        }
        told = ", ".join(f"{reasons[k]} {n} times" for k, n in failures.most_common())
        return (
            f"exercise: no draw of {s.max_draws} satisfied the constraints for student "
            f"{student.id} ({told}); widen or shift the ranges (exercise.W, b, x, t), "
            "raise exercise.max_abs_z or ask other quantities"
        )


__all__ = [
    "RecurrentDrawer",
    "TimedQuestion",
    "base_kind",
    "default_asks",
    "parse_asks",
    "steps_needed",
    "value_of",
]
