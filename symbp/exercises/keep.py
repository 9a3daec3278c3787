"""Which draw a student keeps, for every exercise drawer (dense nets'
:class:`.variants.Drawer`, and :class:`.drawer.RecordDrawer` of networks of layer records).

- :func:`first_kept`: the draw-check-retry loop. A draw is kept when it has no problem
  (the drawer's check: saturated, an answer rounding to zero, values not finite) and,
  making a set, its numbers differ from every earlier student's (``taken``, by the draw's
  key); regenerating one sheet (``taken`` is ``None``), the first ``skip`` valid draws are
  passed over, as its code says;
- :func:`check_fixed`: a kind kept fixed (``exercise.W: fixed`` …) needs the spec's numbers;
- :func:`rounds_to_zero`: an answer that prints as 0 at the sheet's decimals is not asked;
- :func:`give_up`: the one-line refusal of a student no draw of ``exercise.max_draws``
  satisfied, each reason counted (saturated, zero, repeated, diverged, skipped).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import DataError
from ..spec import Spec
from ..spec.exercise import ExerciseSpec
from ..verify.compare import exact, format_decimal
from .draw import Stream
from .roster import Student

#: What a kept draw carries to the drawer's answers.
T = TypeVar("T")
#: One draw from the stream: its problem (``None``: well posed), its key, what it carries.
Attempt = Callable[[Stream], tuple[str | None, Any, T]]


def check_fixed(spec: Spec, settings: ExerciseSpec) -> None:
    """Refuse a kind kept fixed (no range) that the spec gives no numbers to keep for."""
    s = settings
    if (s.W is None or s.b is None) and spec.W is None:
        kind = "W" if s.W is None else "b"
        raise DataError(
            f"exercise.{kind}: fixed, but the spec gives no params to keep; give params or a range"
        )
    if (s.x is None or s.t is None) and not spec.examples:
        kind = "x" if s.x is None else "t"
        raise DataError(
            f"exercise.{kind}: fixed, but the spec gives no example to keep; "
            "give an example or a range"
        )


def give_up(
    settings: ExerciseSpec, student: Student, failures: Counter[str], saturated: str
) -> str:
    """The one-line refusal after ``settings.max_draws`` draws failed, each reason counted
    (``saturated``: the words of a saturated draw, ``{limit}`` standing for ``max_abs_z``)."""
    s = settings
    reasons = {
        "saturated": saturated.format(limit=float(s.max_abs_z)),
        "zero": f"an answer rounded to 0 at {s.answer_decimals} decimals",
        "repeated": "the numbers repeated an earlier student's",
        "diverged": "the values were not finite",
        "skipped": "skipped",
    }
    told = ", ".join(f"{reasons[k]} {n} times" for k, n in failures.most_common())
    return (
        f"exercise: no draw of {s.max_draws} satisfied the constraints for student "
        f"{student.id} ({told}); widen or shift the ranges (exercise.W, b, x, t), "
        "raise exercise.max_abs_z or ask other quantities"
    )


def rounds_to_zero(value: Any, decimals: int) -> bool:
    """Whether ``value`` prints as 0 (or -0) at ``decimals`` decimals."""
    return not format_decimal(exact(value), decimals).strip("-0.")


def first_kept(
    settings: ExerciseSpec,
    student: Student,
    seed: int,
    attempt: Attempt[T],
    saturated: str,
    *,
    taken: set[Any] | None = None,
    skip: int = 0,
) -> tuple[T, int]:
    """The first draw of ``student``'s stream (``seed``) that is kept (module docstring),
    and how many valid draws were passed over before it (the sheet code's ``skip``).
    Refuses the student in one line (:func:`give_up`) after ``settings.max_draws`` draws."""
    stream = Stream(seed, student.id)
    failures: Counter[str] = Counter()
    passed = 0
    for _ in range(settings.max_draws):
        problem, key, kept = attempt(stream)
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
        return kept, passed
    raise DataError(give_up(settings, student, failures, saturated))


__all__ = ["check_fixed", "first_kept", "give_up", "rounds_to_zero"]
