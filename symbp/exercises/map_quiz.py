"""The quiz of an exercise set of a network of layer records: ``moodle.xml`` and ``gift.txt``.

One numerical question per student and question, as for dense nets (:func:`.quiz.moodle_xml`,
:func:`.quiz.gift`, whose files these are), whose text states the student's input shape,
layers (as the spec writes them), numbers, the conventions and what to compute, worded by
the net's kind (:class:`.map_sheet.SheetKind`), with the answer's full value and its
tolerance. A question is named by its ``symbp verify`` name. Spec text is escaped for each
file's context (:mod:`symbp.escape`); both files are deterministic.
"""

from __future__ import annotations

from functools import partial

from ..escape import html_escape
from . import quiz
from .map_sheet import SheetKind, layer_lines
from .plan import ExerciseSet
from .variants import Answer, Variant


def question_html(kind: SheetKind, exercises: ExerciseSet, variant: Variant, a: Answer) -> str:
    """The quiz question as HTML (escaped text only): the layers, the student's numbers,
    the conventions and what to compute."""
    spec, d = variant.spec, exercises.settings.answer_decimals
    parts = [
        f"<p>Exercise {html_escape(variant.student.id)} (sheet code "
        f"{html_escape(variant.code.text)}): input of shape "
        f"{html_escape(kind.shape(spec))}, layers "
        + "; ".join(html_escape(t) for t in layer_lines(spec))
        + ".</p>",
        "<p>Conventions:</p><ul>"
        + "".join(f"<li>{html_escape(c)}</li>" for c in kind.conventions(spec))
        + "</ul>",
        "<p>" + "<br/>".join(html_escape(line) for line in kind.numbers_text(variant)) + "</p>",
        f"<p>{html_escape(a.question.label)}. Compute {html_escape(a.question.name)}, "
        f"{html_escape(kind.describe(a, spec))}. Give {d} decimal places, keeping every digit "
        "of the values you compute on the way; the answer counts within its tolerance of the "
        f"exact value (tolerance ±{html_escape(a.tolerance_text)}).</p>",
    ]
    return "".join(parts)


def question_name(exercises: ExerciseSet, variant: Variant, a: Answer) -> str:
    """The question's name in the quiz bank: ``s01 Q2 grad_W[0][1][0][1][0] after 1 update``."""
    q = a.question
    after = f" after {q.step} update{'s' if q.step != 1 else ''}" if q.step else ""
    return f"{variant.student.id} {q.label} {q.name}{after}"


def moodle_xml(kind: SheetKind, exercises: ExerciseSet) -> str:
    """``moodle.xml``: one numerical question per student and question."""
    return quiz.moodle_xml(exercises, html=partial(question_html, kind), name=question_name)


def gift(kind: SheetKind, exercises: ExerciseSet) -> str:
    """``gift.txt``: the questions of :func:`moodle_xml` in GIFT format."""
    return quiz.gift(exercises, html=partial(question_html, kind), name=question_name)
