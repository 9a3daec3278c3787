"""The quiz of an exercise set of a network of layer records: ``moodle.xml`` and ``gift.txt``.

One numerical question per student and question, as for dense nets (:mod:`.quiz`), whose
text states the student's layers (as the spec writes them), numbers, the conventions
(:func:`.conv_output.conventions`) and what to compute, with the answer's full value and
its tolerance. Spec text is escaped for each file's context (:mod:`symbp.escape`); both
files are deterministic.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable

from ..escape import gift_escape, html_escape, visible_controls, xml_text
from ..spec import Spec
from .conv_output import _plain, conventions, describe, layer_lines
from .plan import ExerciseSet
from .variants import Answer, Variant

#: A question's HTML (:func:`question_html`; recurrent nets: :mod:`.recurrent_output`).
Html = Callable[[ExerciseSet, Variant, Answer], str]


def _numbers_text(variant: Variant) -> list[str]:
    params = variant.data["params"]
    lines = []
    for l, (w, b) in enumerate(zip(params["W"], params["b"], strict=True)):
        if w is not None:
            lines.append(f"W[{l}] = {_plain(w)}, b[{l}] = {_plain(b)}")
    for e, ex in enumerate(variant.data.get("examples") or [variant.data["example"]]):
        lines.append(f"example {e}: x = {_plain(ex['x'])}, t = {_plain(ex['t'])}")
    return lines


def _shape(spec: Spec) -> str:
    return " x ".join(str(n) for n in spec.input_shape)


def question_html(
    exercises: ExerciseSet,
    variant: Variant,
    a: Answer,
    *,
    describe: Callable[[Answer, Spec], str] = describe,
    conventions: Callable[[Spec], tuple[str, ...]] = conventions,
    numbers: Callable[[Variant], list[str]] = _numbers_text,
    shape: Callable[[Spec], str] = _shape,
) -> str:
    """The quiz question as HTML (escaped text only): the layers, the student's numbers,
    the conventions and what to compute (``describe``, ``conventions``, ``numbers`` and
    ``shape`` word them: a recurrent net's are :mod:`.recurrent_output`'s)."""
    spec, d = variant.spec, exercises.settings.answer_decimals
    parts = [
        f"<p>Exercise {html_escape(variant.student.id)} (sheet code "
        f"{html_escape(variant.code.text)}): input of shape "
        f"{html_escape(shape(spec))}, layers "
        + "; ".join(html_escape(t) for t in layer_lines(spec))
        + ".</p>",
        "<p>Conventions:</p><ul>"
        + "".join(f"<li>{html_escape(c)}</li>" for c in conventions(spec))
        + "</ul>",
        "<p>" + "<br/>".join(html_escape(line) for line in numbers(variant)) + "</p>",
        f"<p>{html_escape(a.question.label)}. Compute {html_escape(a.question.name)}, "
        f"{html_escape(describe(a, spec))}. Give {d} decimal places, keeping every digit of "
        "the values you compute on the way; the answer counts within its tolerance of the "
        f"exact value (tolerance ±{html_escape(a.tolerance_text)}).</p>",
    ]
    return "".join(parts)


def _question_name(variant: Variant, a: Answer) -> str:
    q = a.question
    after = f" after {q.step} update{'s' if q.step != 1 else ''}" if q.step else ""
    return f"{variant.student.id} {q.label} {q.name}{after}"


def _category(exercises: ExerciseSet, variant: Variant) -> str:
    name = visible_controls(exercises.spec.name).replace("/", "_")
    return f"$course$/top/symbp/{name}/{variant.student.id}"


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    ET.SubElement(element, "text").text = xml_text(text)
    return element


def moodle_xml(exercises: ExerciseSet, html: Html = question_html) -> str:
    """``moodle.xml``: one numerical question per student and question (``html``: its text)."""
    quiz = ET.Element("quiz")
    for variant in exercises.variants:
        category = ET.SubElement(quiz, "question", {"type": "category"})
        _text(category, "category", _category(exercises, variant))
        for a in variant.answers:
            q = ET.SubElement(quiz, "question", {"type": "numerical"})
            _text(q, "name", _question_name(variant, a))
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


def gift(exercises: ExerciseSet, html: Html = question_html) -> str:
    """``gift.txt``: the questions of :func:`moodle_xml` in GIFT format."""
    lines = [f"// symbp exercises of {gift_escape(exercises.spec.name)}, seed {exercises.seed}", ""]
    for variant in exercises.variants:
        lines += [f"$CATEGORY: {_category(exercises, variant)}", ""]
        for a in variant.answers:
            name = gift_escape(_question_name(variant, a))
            text = gift_escape(html(exercises, variant, a))
            lines += [f"::{name}::[html]{text}{{#{a.full}:{a.tolerance_text}}}", ""]
    return "\n".join(lines)
