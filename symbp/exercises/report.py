"""``teacher_report.txt``: symbp's own check of an exercise set, for the teacher only.

Sheets, keys and quiz items speak to students in textbook words and carry no
verdicts of symbp's checks; this report holds them. For every student it lists
each question with its ``symbp verify`` name (0-based, as the variant spec's
claims and ``answers.csv`` name it), the textbook symbol, the printed answer, the
fair tolerance (:mod:`.tolerance`) and the verdict of ``symbp verify`` on the
student's variant spec (every answer is expected to be *confirmed*: the exact
value rounds to the printed one). The text is deterministic (no dates or paths).
"""

from __future__ import annotations

from ..escape import visible_controls
from ..verify import verify
from .plan import ExerciseSet
from .questions import symbol_text


def teacher_report(exercises: ExerciseSet) -> str:
    """The report's text (module docstring)."""
    spec = exercises.spec
    d = exercises.settings.answer_decimals
    lines = [
        f"symbp exercises of {visible_controls(spec.name)} ({exercises.spec_file}, spec hash "
        f"{spec.hash}), seed {exercises.seed}",
        "The teacher's report: not for students.",
        "",
        "Every answer is the exact engine's value; `symbp verify variants/ID.yaml` re-checks",
        "a student's answers (the claims of their variant spec), as listed below.",
        f"A tolerance is how far rounding every intermediate value to {d} decimal places can",
        "move the answer (interval arithmetic over the student's working), never below one",
        "unit of the last place; the key's rubric lists the intermediate values.",
    ]
    total = confirmed = 0
    for variant in exercises.variants:
        report = verify(variant.spec)
        lines += ["", f"Student {variant.student.id} (sheet code {variant.code.text})"]
        for a, result in zip(variant.answers, report.results, strict=True):
            q = a.question
            total += 1
            confirmed += result.grade == "confirmed"
            lines.append(
                f"  {q.label}  {q.ask:<20} {symbol_text(q.quantity, variant.spec):<12} "
                f"{a.printed:>12}  ±{a.tolerance_text:<8} {result.grade}"
                + ("" if a.bounded else " (rounded intermediates: unbounded)")
            )
    lines += ["", f"symbp verify: {confirmed} of {total} answers confirmed.", ""]
    return "\n".join(lines)
