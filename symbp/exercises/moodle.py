"""``moodle_calculated.xml``: one Moodle quiz that serves every student.

Each question of the exercise becomes one Moodle ``calculated`` (dataset)
question. Its text shows the network's numbers through wildcards (``{w2_1_1}``
is w²₁₁, ``{b1_2}`` is b¹₂, ``{x1}`` and ``{t1}`` the first example's input and
target, ``{x1_e2}`` the second example's), and its answer is the wildcard
``{Q3}`` (question 3's answer). Every wildcard is a *shared* dataset of the
question category, with **one dataset item per student**, in the order of the
students: item ``n`` holds student ``n``'s numbers and symbp's exact answers
(15 significant digits, the values of ``answers.csv``). The questions are
synchronised (``<synchronize>1``), so in one quiz attempt Moodle shows every
question with the same item, that is one variant's numbers throughout.

Moodle's tolerance is one number per answer; each question's is the largest of
the students' fair tolerances (:mod:`.tolerance`), so every careful student is
accepted whichever item Moodle draws (nominal tolerance, ``tolerancetype`` 2).
The answer is displayed with the sheet's decimals (``correctanswerformat`` 1).

The format is Moodle's XML question format for ``calculated`` questions
(``dataset_definitions`` / ``dataset_definition`` / ``dataset_items``), written
with :mod:`xml.etree.ElementTree` and no dates or paths: the same set gives
the same bytes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from fractions import Fraction

from ..escape import html_escape, visible_controls, xml_text
from ..verify.compare import exact
from .conventions import conventions
from .plan import ExerciseSet
from .questions import describe, symbol_text
from .variants import Answer, Variant, tolerance_words
from .yamltext import decimal_text

_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_SUB = str.maketrans("0123456789,", "₀₁₂₃₄₅₆₇₈₉,")


def _sub(*indices: int) -> str:
    sep = "," if any(i >= 9 for i in indices) else ""
    return sep.join(str(i + 1) for i in indices).translate(_SUB)


def wildcards(variant: Variant) -> Iterator[tuple[str, str, Fraction]]:
    """``(wildcard, textbook symbol, value)`` of every number on the sheet, in sheet order."""
    params = variant.data["params"]
    for l, matrix in enumerate(params["W"]):
        sup = str(l + 1).translate(_SUP)
        for j, row in enumerate(matrix):
            for k, v in enumerate(row):
                yield f"w{l + 1}_{j + 1}_{k + 1}", f"w{sup}{_sub(j, k)}", exact(v)
            yield f"b{l + 1}_{j + 1}", f"b{sup}{_sub(j)}", exact(params["b"][l][j])
    examples = variant.data.get("examples") or [variant.data["example"]]
    for e, ex in enumerate(examples):
        tail = f"_e{e + 1}" if len(examples) > 1 else ""
        for kind in ("x", "t"):
            for i, v in enumerate(ex[kind]):
                yield f"{kind}{i + 1}{tail}", f"{kind}{_sub(i)}", exact(v)


def _text(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    ET.SubElement(element, "text").text = xml_text(text)
    return element


def _value(element: ET.Element, tag: str, text: str) -> None:
    ET.SubElement(element, tag).text = text


def _question_html(exercises: ExerciseSet, first: Variant, a: Answer, tolerance: str) -> str:
    """The text of a calculated question; ``tolerance`` its words (``tolerance ±0.0003``)."""
    spec = exercises.spec
    d = exercises.settings.answer_decimals
    arch = "-".join(str(n) for n in spec.layers)
    numbers: dict[str, list[str]] = {}
    examples = first.data.get("examples") or [first.data["example"]]
    for name, symbol, _ in wildcards(first):
        if name[0] in "wb":
            group = f"layer {name[1:].split('_')[0]}"
        else:
            e = int(name.split("_e")[1]) if "_e" in name else 1
            group = f"example {e}" if len(examples) > 1 else "the example"
        numbers.setdefault(group, []).append(f"{html_escape(symbol)} = {{{name}}}")
    parts = [
        f"<p>A {arch} network with these numbers (layer 0 is the input):</p><p>"
        + "<br/>".join(f"{html_escape(g)}: {', '.join(v)}" for g, v in numbers.items())
        + "</p>",
        "<p>Conventions:</p><ul>"
        + "".join(f"<li>{html_escape(c.text)}</li>" for c in conventions(spec))
        + "<li>Index convention: w<sup>l</sup><sub>jk</sub> is the weight into neuron j of "
        "layer l from neuron k of layer l−1, b<sup>l</sup><sub>j</sub> the bias of neuron j "
        "of layer l; layer 0 is the input, and indices count from 1.</li></ul>",
        f"<p>{html_escape(a.question.label)}. Compute "
        f"{html_escape(symbol_text(a.question.quantity, spec))}, "
        f"{html_escape(describe(a.question, spec))}. Give {d} decimal places, and write every "
        f"value you compute on the way to {d} decimal places too; the answer counts within "
        f"its tolerance of the exact value ({html_escape(tolerance)}).</p>",
    ]
    return "".join(parts)


def _dataset(parent: ET.Element, name: str, values: list[Fraction], texts: list[str]) -> None:
    """One shared dataset definition with one item per student (item ``n``: student ``n``)."""
    d = ET.SubElement(parent, "dataset_definition")
    _text(d, "status", "shared")
    _text(d, "name", name)
    _value(d, "type", "calculated")
    _text(d, "distribution", "uniform")
    _text(d, "minimum", texts[values.index(min(values))])
    _text(d, "maximum", texts[values.index(max(values))])
    places = max(len(t.partition(".")[2]) for t in texts)
    _text(d, "decimals", str(min(places, 10)))
    _value(d, "itemcount", str(len(values)))
    items = ET.SubElement(d, "dataset_items")
    for n, text in enumerate(texts, start=1):
        item = ET.SubElement(items, "dataset_item")
        _value(item, "number", str(n))
        _value(item, "value", text)
    _value(d, "number_of_items", str(len(values)))


def _category(exercises: ExerciseSet) -> str:
    name = visible_controls(exercises.spec.name).replace("/", "_")
    return f"$course$/top/symbp/{name}/calculated"


def moodle_calculated(exercises: ExerciseSet) -> str:
    """``moodle_calculated.xml``: one calculated question per question (module docstring)."""
    variants = exercises.variants
    first = variants[0]
    names = [w[0] for w in wildcards(first)]
    numbers: dict[str, list[Fraction]] = {n: [] for n in names}
    for v in variants:
        for name, _, value in wildcards(v):
            numbers[name].append(value)
    quiz = ET.Element("quiz")
    category = ET.SubElement(quiz, "question", {"type": "category"})
    _text(category, "category", _category(exercises))
    d = exercises.settings.answer_decimals
    for i, a in enumerate(first.answers):
        label = a.question.label
        answers = [v.answers[i] for v in variants]
        widest = max(x.tolerance for x in answers)
        words = tolerance_words(widest, all(x.bounded for x in answers), d)
        tolerance = decimal_text(widest)
        q = ET.SubElement(quiz, "question", {"type": "calculated"})
        symbol = symbol_text(a.question.quantity, exercises.spec)
        _text(q, "name", f"{visible_controls(exercises.spec.name)} {label} {symbol}")
        _text(q, "questiontext", _question_html(exercises, first, a, words), format="html")
        _text(q, "generalfeedback", "", format="html")
        for tag, text in (("defaultgrade", "1"), ("penalty", "0"), ("hidden", "0"),
                          ("idnumber", f"{exercises.spec.hash[:8]}/{label}"),
                          ("synchronize", "1"), ("single", "0"), ("answernumbering", "abc"),
                          ("shuffleanswers", "0")):  # fmt: skip
            _value(q, tag, text)
        for tag in ("correctfeedback", "partiallycorrectfeedback", "incorrectfeedback"):
            _text(q, tag, "", format="html")
        answer = ET.SubElement(q, "answer", {"fraction": "100"})
        ET.SubElement(answer, "text").text = f"{{{label}}}"
        _value(answer, "tolerance", tolerance)
        _value(answer, "tolerancetype", "2")
        _value(answer, "correctanswerformat", "1")
        _value(answer, "correctanswerlength", str(d))
        _text(answer, "feedback", "", format="html")
        for tag, text in (("unitgradingtype", "0"), ("unitpenalty", "0"), ("showunits", "3"),
                          ("unitsleft", "0")):  # fmt: skip
            _value(q, tag, text)
        definitions = ET.SubElement(q, "dataset_definitions")
        for name in names:
            _dataset(definitions, name, numbers[name], [decimal_text(v) for v in numbers[name]])
        _dataset(definitions, label, [x.value for x in answers], [x.full for x in answers])
    ET.indent(quiz, space="  ")
    body = ET.tostring(quiz, encoding="unicode", short_empty_elements=True)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"
