"""One variant per student: numbers drawn, the problem checked well posed, answers exact.

For each student the stream of :mod:`.draw` gives the weights (layer by layer,
row by row), the biases, then each example's inputs and targets, as the
``exercise:`` block's ranges say (a fixed kind keeps the spec's numbers). A draw
is kept when

- no unit saturates: ``|z| <= max_abs_z`` for every neuron, example and step
  that the questions reach;
- no answer rounds to 0 at the printed precision (``answer_decimals``);
- the numbers differ from every earlier student's (else the student's next
  valid draw is taken, and the sheet's code records the skip);

otherwise the next draw is tried, at most ``max_draws`` times. Answers are the
exact evaluator's values (:func:`symbp.symbolic.evaluate.evaluate`), the same
engine ``symbp verify`` judges the variant spec's claims with.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from typing import Any

from ..errors import TrainingDiverged
from ..spec import Spec, load
from ..spec.exercise import ExerciseSpec, Range
from ..symbolic.evaluate import Step, evaluate
from ..symbolic.generic import GenericModel
from ..verify.compare import exact, format_decimal
from .codes import Code, make_code
from .draw import Stream
from .keep import check_fixed, first_kept, rounds_to_zero
from .questions import Question
from .roster import Student
from .tolerance import fair_tolerance, student_steps
from .yamltext import decimal_text

#: Significant digits of an answer's full-precision value (answers.csv, the quiz).
FULL_DIGITS = 15
#: Fields of the spec that a variant replaces or leaves out.
_REPLACED = ("name", "title", "params", "init", "example", "examples", "claims", "exercise")

Numbers = tuple[Any, ...]
#: A saturated draw in the refusal's words (:func:`.keep.give_up`).
_SATURATED = "a unit saturated (|z| > {limit:g})"


def variant_fields(
    spec: Spec, student: Student, W: list[Any], b: list[Any], examples: list[Any]
) -> dict[str, Any]:
    """A student's variant spec's fields: ``spec``'s own but its name, title, parameters,
    examples, claims and exercise block (of any network: dense or of layer records)."""
    base = spec.data
    title = base.get("title") or spec.name
    data: dict[str, Any] = {
        "name": f"{spec.name}-{student.id}",
        "title": f"{title}: exercise {student.id}",
    }
    data.update({k: v for k, v in base.items() if k not in _REPLACED})
    data["params"] = {"W": W, "b": b}
    if len(examples) == 1:
        data["example"] = examples[0]
    else:
        data["examples"] = examples
    return data


@dataclass(frozen=True)
class Answer:
    """The exact answer to one question, with its full and printed texts, and the
    tolerance that accepts every careful student (:mod:`.tolerance`)."""

    question: Question
    value: Fraction
    full: str
    printed: str
    tolerance: Fraction
    #: False where rounding the intermediates could move the answer without bound.
    bounded: bool = True

    def tolerance_words(self, decimals: int) -> str:
        """``tolerance ±0.0002``; for an unbounded answer, also that every digit is needed."""
        return tolerance_words(self.tolerance, self.bounded, decimals)

    @property
    def tolerance_text(self) -> str:
        """The tolerance as a decimal (``0.0002``)."""
        return decimal_text(self.tolerance)


@dataclass(frozen=True)
class Variant:
    """One student's problem: its spec data (with claims), the loaded spec, the answers."""

    student: Student
    code: Code
    data: dict[str, Any]
    spec: Spec
    answers: tuple[Answer, ...]
    steps: tuple[Step, ...]


def tolerance_words(tolerance: Fraction, bounded: bool, decimals: int) -> str:
    """How a sheet or quiz item states a tolerance (see :meth:`Answer.tolerance_words`)."""
    words = f"tolerance ±{decimal_text(tolerance)}"
    if bounded:
        return words
    return (
        f"keep every digit of the values on the way for this one: rounded to {decimals} "
        f"decimal places they can move the answer without bound; {words}"
    )


def full_text(value: Fraction, digits: int = FULL_DIGITS) -> str:
    """``value`` rounded to ``digits`` significant digits, positional (``-0.0123...``)."""
    if value == 0:
        return "0"
    with localcontext() as ctx:
        ctx.prec = digits
        ctx.rounding = ROUND_HALF_EVEN
        number = Decimal(value.numerator) / Decimal(value.denominator)
    return f"{number:f}"


class Drawer:
    """Draws and checks the variants of one spec (see the module docstring)."""

    def __init__(
        self,
        spec: Spec,
        settings: ExerciseSpec,
        questions: Sequence[Question],
        model: GenericModel,
        asks: Sequence[str],
    ) -> None:
        self.spec, self.settings, self.questions, self.model = spec, settings, questions, model
        self.asks = tuple(asks)
        self.max_step = max(q.step for q in questions)
        check_fixed(spec, settings)

    def _values(self, stream: Stream, r: Range | None, fixed: Sequence[Any]) -> list[Fraction]:
        if r is None:
            return [exact(v) for v in fixed]
        return [stream.decimal(r) for _ in fixed]

    def draw(self, stream: Stream) -> tuple[list[Any], list[Any], list[dict[str, list[Any]]]]:
        """One draw: ``W`` and ``b`` (spec-shaped lists) and the examples."""
        layers, s = self.spec.layers, self.settings
        zero_W = [[[0] * i for _ in range(o)] for i, o in itertools.pairwise(layers)]
        base_W = self.spec.W if self.spec.W is not None else zero_W
        base_b = self.spec.b if self.spec.b is not None else [[0] * o for o in layers[1:]]
        W = [[self._values(stream, s.W, row) for row in matrix] for matrix in base_W]
        b = [self._values(stream, s.b, vec) for vec in base_b]
        bases = self.spec.examples or [None]
        examples = []
        for ex in bases:
            x = self._values(stream, s.x, ex.x if ex else [0] * layers[0])
            t = self._values(stream, s.t, ex.t if ex else [0] * layers[-1])
            examples.append({"x": x, "t": t})
        return W, b, examples

    def variant_data(
        self, student: Student, W: list[Any], b: list[Any], examples: list[Any]
    ) -> dict[str, Any]:
        """The variant spec's fields (claims added by :meth:`make`)."""
        return variant_fields(self.spec, student, W, b, examples)

    def _problem(self, steps: Sequence[Step]) -> str | None:
        """Why the draw is not well posed (a key of the failure counts), or ``None``."""
        limit = self.settings.max_abs_z
        for step in steps:
            for ex in step.examples:
                if any(abs(exact(z)) > limit for layer in ex.z for z in layer):
                    return "saturated"
        if any(
            rounds_to_zero(q.quantity.value(steps[q.step]), self._decimals) for q in self.questions
        ):
            return "zero"
        return None

    @property
    def _decimals(self) -> int:
        return self.settings.answer_decimals

    def make(
        self, student: Student, seed: int, *, taken: set[tuple] | None = None, skip: int = 0
    ) -> Variant:
        """The variant of ``student``.

        Making a set, ``taken`` holds the earlier students' numbers and a repeat is
        skipped; regenerating one sheet (``taken`` is ``None``), the first ``skip``
        valid draws are passed over, as its code says.
        """

        def attempt(stream: Stream) -> tuple[str | None, Any, Any]:
            W, b, examples = self.draw(stream)
            spec = load(self.variant_data(student, W, b, examples))
            try:
                steps = evaluate(spec, self.max_step, model=self.model).steps
            except TrainingDiverged:
                return "diverged", None, None
            return self._problem(steps), _key(W, b, examples), (W, b, examples, spec, steps)

        kept, passed = first_kept(
            self.settings, student, seed, attempt, _SATURATED, taken=taken, skip=skip
        )
        W, b, examples, spec, steps = kept
        answers = self._answers(spec, steps)
        return self._finish(student, seed, passed, W, b, examples, steps, answers)

    def _finish(
        self,
        student: Student,
        seed: int,
        skip: int,
        W: list[Any],
        b: list[Any],
        examples: list[Any],
        steps: Sequence[Step],
        answers: tuple[Answer, ...],
    ) -> Variant:
        code = make_code(self.spec.hash, self.asks, student.id, seed, skip)
        data = self.variant_data(student, W, b, examples)
        data["claims"] = [
            {"of": a.question.name, "step": a.question.step, "printed": a.printed,
             "note": f"{a.question.label} of exercise {code.text}"}
            for a in answers
        ]  # fmt: skip
        return Variant(student, code, data, load(data), answers, tuple(steps))

    def _answers(self, spec: Spec, steps: Sequence[Step]) -> tuple[Answer, ...]:
        """The exact answers with their fair tolerances (a careful student's intervals).

        Where rounding the intermediates to the asked decimals can move an answer without
        bound (Adam's second moment rounds to 0, a logarithm's argument to 0 or below),
        the answer is marked unbounded and keeps the least tolerance: the sheet asks for
        every digit of the intermediates of that question.
        """
        least = self.settings.quiz_tolerance
        answers = []
        runs: dict[int, list[Step] | None] = {}
        for q in self.questions:
            value = exact(q.quantity.value(steps[q.step]))
            printed = format_decimal(value, self._decimals)
            reach: Fraction | None = None
            try:
                careful = runs.get(q.step) or self._careful(spec, q.step, runs)
                reach = fair_tolerance(value, q.quantity.value(careful[q.step]), self._decimals)
            except (ArithmeticError, ValueError):  # an interval left a formula's domain
                reach = None
            tolerance = least if reach is None else max(reach, least)
            answers.append(
                Answer(q, value, full_text(value), printed, tolerance, reach is not None)
            )
        return tuple(answers)

    def _careful(self, spec: Spec, step: int, runs: dict[int, list[Step] | None]) -> list[Step]:
        """The careful student's steps up to ``max_step`` (else up to ``step``), kept in
        ``runs`` by the last step they reach."""
        for count in (self.max_step, step):
            try:
                careful = student_steps(spec, self.model, count, self._decimals)
            except (ArithmeticError, ValueError):
                continue
            for k in range(count + 1):
                runs[k] = careful
            return careful
        raise ArithmeticError("the careful student's intervals are unbounded")


def _key(W: list[Any], b: list[Any], examples: list[Any]) -> tuple:
    def frozen(v: Any) -> Any:
        return tuple(frozen(i) for i in v) if isinstance(v, list) else v

    return (frozen(W), frozen(b), tuple((frozen(e["x"]), frozen(e["t"])) for e in examples))
