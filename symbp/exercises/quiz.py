"""The answers as data: ``answers.csv``, a Moodle XML quiz and the same quiz in GIFT.

- ``answers.csv`` (:mod:`csv`): ``student, question, quantity, step, value,
  tolerance, printed``; ``value`` has :data:`~.variants.FULL_DIGITS`
  significant digits, ``printed`` the sheet's decimals.
- ``moodle.xml`` (:mod:`xml.etree.ElementTree`): a ``<quiz>`` with a category
  per student and one ``numerical`` question per student and question, whose
  answer is the full value with the quiz tolerance. The question text states
  the student's numbers, so each question stands on its own.
- ``gift.txt``: the same questions in GIFT (``{#value:tolerance}``), with
  GIFT's special characters escaped.

Spec text is escaped for each file's context by :mod:`symbp.escape`:
:func:`~symbp.escape.csv_cell` (no formula cell), :func:`~symbp.escape.xml_text`
and :func:`~symbp.escape.html_escape` (the question text is HTML inside XML),
:func:`~symbp.escape.gift_escape` (one line per question, whatever the name holds).

All three are deterministic: no dates, no paths, fixed order and formatting.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator

from ..escape import csv_cell, gift_escape, html_escape, visible_controls, xml_text
from .conventions import conventions
from .plan import ExerciseSet
from .questions import describe, symbol_text
from .variants import Answer, Variant
from .yamltext import decimal_text

CSV_HEADER = ("student", "question", "quantity", "step", "value", "tolerance", "printed")
#: A question's text or name in the quiz: ``(exercises, variant, answer) -> str``.
Text = Callable[[ExerciseSet, Variant, Answer], str]
_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def answers_csv(exercises: ExerciseSet) -> str:
    """``answers.csv``: one row per student and question."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for variant in exercises.variants:
        for a in variant.answers:
            q = a.question
            row = (variant.student.id, q.label, q.name, q.step, a.full, a.tolerance_text,
                   a.printed)  # fmt: skip
            writer.writerow([csv_cell(c) for c in row])
    return buffer.getvalue()


def _number(value: object) -> str:
    return decimal_text(value) if not isinstance(value, int) else str(value)  # type: ignore[arg-type]


def _sub(*indices: int) -> str:
    sep = "," if any(i >= 9 for i in indices) else ""
    return sep.join(str(i + 1) for i in indices).translate(_SUB)


def numbers_text(variant: Variant) -> list[str]:
    """The student's numbers in textbook notation, one line per layer and example."""
    params = variant.data["params"]
    lines = []
    for l, matrix in enumerate(params["W"]):
        sup = str(l + 1).translate(_SUP)
        weights = [
            f"w{sup}{_sub(j, k)} = {_number(v)}"
            for j, row in enumerate(matrix)
            for k, v in enumerate(row)
        ]
        biases = [f"b{sup}{_sub(j)} = {_number(v)}" for j, v in enumerate(params["b"][l])]
        lines.append(", ".join(weights + biases))
    examples = variant.data.get("examples") or [variant.data["example"]]
    for e, ex in enumerate(examples):
        x = ", ".join(_number(v) for v in ex["x"])
        t = ", ".join(_number(v) for v in ex["t"])
        label = f"example {e + 1}: " if len(examples) > 1 else ""
        lines.append(f"{label}x = ({x}), t = ({t})")
    return lines


def question_text(exercises: ExerciseSet, a: Answer) -> str:
    """What the question asks, in words and symbol: ``the network output ŷ``."""
    spec = exercises.spec
    return f"{symbol_text(a.question.quantity, spec)}, {describe(a.question, spec)}"


def question_name(exercises: ExerciseSet, variant: Variant, a: Answer) -> str:
    """The question's name in the quiz bank: ``s01 Q2 δ²₁`` (textbook symbol, 1-based)."""
    q = a.question
    after = f" after {q.step} update{'s' if q.step != 1 else ''}" if q.step else ""
    return f"{variant.student.id} {q.label} {symbol_text(q.quantity, exercises.spec)}{after}"


def _html(exercises: ExerciseSet, variant: Variant, a: Answer) -> str:
    """The question as HTML (escaped text only; no scripts, no links)."""
    spec = variant.spec
    arch = "-".join(str(n) for n in spec.layers)
    d = exercises.settings.answer_decimals
    parts = [
        f"<p>Exercise {html_escape(variant.student.id)} (sheet code "
        f"{html_escape(variant.code.text)}): the {arch} network of the sheet.</p>",
        "<p>Conventions:</p><ul>"
        + "".join(f"<li>{html_escape(c.text)}</li>" for c in conventions(spec))
        + "<li>Index convention: w<sup>l</sup><sub>jk</sub> is the weight into neuron j of "
        "layer l from neuron k of layer l−1, b<sup>l</sup><sub>j</sub> the bias of neuron j "
        "of layer l; layer 0 is the input, and indices count from 1.</li></ul>",
        "<p>" + "<br/>".join(html_escape(line) for line in numbers_text(variant)) + "</p>",
        f"<p>{html_escape(a.question.label)}. Compute "
        f"{html_escape(question_text(exercises, a))}. Give {d} decimal places, and write "
        f"every value you compute on the way to {d} decimal places too; the answer counts "
        f"within its tolerance of the exact value ({html_escape(a.tolerance_words(d))}).</p>",
    ]
    return "".join(parts)


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    ET.SubElement(element, "text").text = xml_text(text)
    return element


def _category(exercises: ExerciseSet, variant: Variant) -> str:
    """The question category, on one line; the spec's name is one path segment (``/`` is ``_``)."""
    name = visible_controls(exercises.spec.name).replace("/", "_")
    return f"$course$/top/symbp/{name}/{variant.student.id}"


def _items(exercises: ExerciseSet) -> Iterator[tuple[Variant, Answer]]:
    for variant in exercises.variants:
        for a in variant.answers:
            yield variant, a


def moodle_xml(exercises: ExerciseSet, *, html: Text = _html, name: Text = question_name) -> str:
    """``moodle.xml``: one numerical question per student and question (Moodle XML);
    ``html`` and ``name`` word each question's text and name (a dense net's by default,
    a network of layer records' in :mod:`.map_quiz`)."""
    quiz = ET.Element("quiz")
    current = None
    for variant, a in _items(exercises):
        if variant is not current:
            current = variant
            category = ET.SubElement(quiz, "question", {"type": "category"})
            _text(category, "category", _category(exercises, variant))
        q = ET.SubElement(quiz, "question", {"type": "numerical"})
        _text(q, "name", name(exercises, variant, a))
        _text(q, "questiontext", html(exercises, variant, a), format="html")
        _text(q, "generalfeedback", f"<p>{html_escape(a.printed)}</p>", format="html")
        ET.SubElement(q, "defaultgrade").text = "1"
        ET.SubElement(q, "penalty").text = "0"
        ET.SubElement(q, "hidden").text = "0"
        ET.SubElement(q, "idnumber").text = f"{variant.code.text}/{a.question.label}"
        answer = ET.SubElement(q, "answer", {"fraction": "100", "format": "moodle_auto_format"})
        ET.SubElement(answer, "text").text = a.full
        ET.SubElement(answer, "tolerance").text = a.tolerance_text
        _text(answer, "feedback", "", format="html")
    ET.indent(quiz, space="  ")
    body = ET.tostring(quiz, encoding="unicode", short_empty_elements=True)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def gift(exercises: ExerciseSet, *, html: Text = _html, name: Text = question_name) -> str:
    """``gift.txt``: the questions of :func:`moodle_xml` in GIFT format."""
    lines = [f"// symbp exercises of {gift_escape(exercises.spec.name)}, seed {exercises.seed}", ""]
    current = None
    for variant, a in _items(exercises):
        if variant is not current:
            current = variant
            # a category line is taken as it reads (no GIFT escapes): _category is one line
            lines += [f"$CATEGORY: {_category(exercises, variant)}", ""]
        title = gift_escape(name(exercises, variant, a))
        text = gift_escape(html(exercises, variant, a))
        lines += [f"::{title}::[html]{text}{{#{a.full}:{a.tolerance_text}}}", ""]
    return "\n".join(lines)
