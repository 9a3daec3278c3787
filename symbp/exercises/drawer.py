"""What the drawers of networks of layer records share: the draw-check-retry loop and the
answers of a kept draw (which draw is kept, shared with dense nets' drawer: :mod:`.keep`).

A drawer (the conv nets' :class:`.conv.NetDrawer`, the recurrent nets'
:class:`.recurrent.RecurrentDrawer`) subclasses :class:`RecordDrawer` and says only what
is its own: how one draw is made from a student's stream (:meth:`~RecordDrawer.draw`), the
variant spec's fields (:meth:`~RecordDrawer.variant_data`), how the exact engine runs it
(:meth:`~RecordDrawer.run`), when a draw saturates (:meth:`~RecordDrawer.saturated`), a
question's exact value (:meth:`~RecordDrawer.value_of`) and its claim's extra fields.

Conventions of the loop (:meth:`RecordDrawer.make`): a draw is kept when it does not
saturate, no answer rounds to 0 at the printed decimals and, making a set, its numbers
differ from every earlier student's (``taken``); regenerating one sheet (``taken`` is
``None``) the first ``skip`` valid draws are passed over, as its code says. After
``exercise.max_draws`` draws the student is refused in one line that counts each reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from ..spec import Spec, load
from ..spec.exercise import ExerciseSpec, Range
from ..verify.compare import exact, format_decimal
from .codes import make_code
from .draw import Stream
from .keep import check_fixed, first_kept, rounds_to_zero
from .questions import Question
from .roster import Student
from .variants import Answer, Variant, full_text


class RecordDrawer:
    """Draws and checks the variants of a network of layer records (module docstring).

    ``last`` is the last update step the run evaluates: a parameter asked after ``k``
    updates is read off step ``k − 1`` (its value plus that step's update), so the run
    need not evaluate step ``k`` itself.
    """

    #: A saturated draw in the refusal's words (``{limit}``: ``exercise.max_abs_z``).
    SATURATED: ClassVar[str] = "a pre-activation exceeded |z| > {limit:g}"

    def __init__(
        self, spec: Spec, settings: ExerciseSpec, questions: Sequence[Question], asks: Sequence[str]
    ) -> None:
        self.spec, self.settings, self.questions = spec, settings, tuple(questions)
        self.asks = tuple(asks)
        self.last = max(q.step - 1 if self.is_parameter(q) else q.step for q in questions)
        check_fixed(spec, settings)

    # What each kind says for itself.
    def is_parameter(self, q: Question) -> bool:
        """Whether ``q`` asks a parameter (printed at step 0, asked after updates)."""
        return q.quantity.is_parameter

    def draw(self, stream: Stream) -> tuple[Any, ...]:
        """One draw of the numbers, in the order :meth:`variant_data` takes them."""
        raise NotImplementedError

    def variant_data(self, student: Student, *drawn: Any) -> dict[str, Any]:
        """The variant spec's fields of the numbers ``drawn`` (claims added by :meth:`make`)."""
        raise NotImplementedError

    def run(self, spec: Spec) -> Sequence[Any]:
        """The exact engine's steps ``0..last`` of the variant ``spec``."""
        raise NotImplementedError

    def saturated(self, steps: Sequence[Any]) -> bool:
        """Whether a pre-activation of the run exceeds ``exercise.max_abs_z``."""
        raise NotImplementedError

    def step_value(self, steps: Sequence[Any], q: Question) -> Any:
        """The value of ``q``'s quantity at ``steps[q.step]`` (not a parameter)."""
        return steps[q.step].quantities()[q.quantity.name]

    def claim_fields(self, q: Question) -> dict[str, Any]:
        """Fields a claim of ``q`` has beyond ``of`` and ``step`` (a time step …)."""
        return {}

    # Shared.
    def value_of(self, steps: Sequence[Any], q: Question) -> Any:
        """The exact value of ``q``: a parameter after ``k`` updates is the step ``k − 1``'s
        value plus that step's update."""
        if self.is_parameter(q):
            before = steps[q.step - 1].quantities()
            name = q.quantity.name
            return before[name] + before["update_" + name]
        return self.step_value(steps, q)

    def _array(self, stream: Stream, r: Range | None, base: Any) -> Any:
        """``base`` (nested lists) with every number drawn from ``r`` (kept where ``None``)."""
        if isinstance(base, list | tuple):
            return [self._array(stream, r, part) for part in base]
        return exact(base) if r is None else stream.decimal(r)

    def _problem(self, steps: Sequence[Any]) -> str | None:
        if self.saturated(steps):
            return "saturated"
        d = self.settings.answer_decimals
        if any(rounds_to_zero(self.value_of(steps, q), d) for q in self.questions):
            return "zero"
        return None

    def make(
        self, student: Student, seed: int, *, taken: set[Any] | None = None, skip: int = 0
    ) -> Variant:
        """The variant of ``student`` (``taken``/``skip`` as in :meth:`.variants.Drawer.make`)."""

        def attempt(stream: Stream) -> tuple[str | None, Any, Any]:
            drawn = self.draw(stream)
            data = self.variant_data(student, *drawn)
            steps = self.run(load(data))
            return self._problem(steps), repr(drawn), (data, steps)

        kept, passed = first_kept(
            self.settings, student, seed, attempt, self.SATURATED, taken=taken, skip=skip
        )
        return self._finish(student, seed, passed, *kept)

    def _finish(
        self, student: Student, seed: int, skip: int, data: dict[str, Any], steps: Sequence[Any]
    ) -> Variant:
        d = self.settings.answer_decimals
        least = self.settings.quiz_tolerance
        answers = []
        for q in self.questions:
            value = exact(self.value_of(steps, q))
            answers.append(
                Answer(q, value, full_text(value), format_decimal(value, d), least, False)
            )
        code = make_code(self.spec.hash, self.asks, student.id, seed, skip)
        claims = []
        for a in answers:
            q = a.question
            claim: dict[str, Any] = {"of": q.quantity.name, "step": q.step}
            claim.update(self.claim_fields(q))
            claim["printed"] = a.printed
            claim["note"] = f"{q.label} of exercise {code.text}"
            claims.append(claim)
        data["claims"] = claims
        return Variant(student, code, data, load(data), tuple(answers), ())


__all__ = ["RecordDrawer"]
