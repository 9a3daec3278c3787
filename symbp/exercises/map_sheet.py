"""The sheets, keys and files of an exercise set of a network of layer records, whatever
its kind: conv nets (:mod:`.conv_output`) and recurrent nets (:mod:`.recurrent_output`).

A kind says how its answers are worded in a :class:`SheetKind` (what a question asks, the
conventions, the numbers as matrices and as text, the input's shape, its questions and its
worked solution); everything else is the same for every kind and is here:

- ``variants/ID.yaml`` (:func:`.output.variant_yaml` with the kind's questions);
- ``answers.csv`` (:func:`.quiz.answers_csv`), ``moodle.xml`` and ``gift.txt``
  (:mod:`.map_quiz`);
- the sheet of one student (:class:`MapSheet`, ``templates/conv_exercise_sheet.tex.j2``):
  the layers as the spec writes them (:func:`layer_lines`), the numbers as small matrices
  (:func:`tex_matrix`, :func:`matrices`: a value split into its last two axes), the
  conventions and the questions; the key boxes the answers and appends the kind's worked
  solution (``sheets/ID.pdf``, ``key/ID.pdf``, ``sheets.pdf``, ``key.pdf``:
  :func:`.sheets.pdf_outputs`).

A drawn number is printed as the spec holds it: a short exact decimal (:func:`plain`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from ..render.escape import Tex
from ..render.templating import render
from ..spec import Spec
from .plan import ExerciseSet
from .progress import SILENT, Progress
from .questions import Question
from .variants import Answer, Variant
from .yamltext import decimal_text

#: The numbers of a sheet: one group (``layer 0``, ``the example``) of matrices after another.
Numbers = tuple[tuple[str, tuple[Tex, ...]], ...]


@dataclass(frozen=True)
class SheetKind:
    """How one kind of network words its exercises (see the module docstring)."""

    #: What the question of an answer asks, in words (``describe(answer, spec)``).
    describe: Callable[[Answer, Spec], str]
    #: The conventions of the spec's answers, one paragraph each.
    conventions: Callable[[Spec], tuple[str, ...]]
    #: The student's numbers as small matrices, by group (the sheet's).
    numbers: Callable[[Variant], Numbers]
    #: The student's numbers as lines of text (the quiz's).
    numbers_text: Callable[[Variant], list[str]]
    #: The input's shape in words (``1 x 5 x 5``, ``3 steps x 2 features``).
    shape: Callable[[Spec], str]
    #: The questions asked without ``--ask``, and the parser of ``--ask`` texts.
    default_asks: Callable[[Spec], list[str]]
    parse_asks: Callable[..., tuple[Question, ...]]
    #: The worked solution a key appends, as PDF bytes (``solution(set, variant, engine)``).
    solution: Callable[[ExerciseSet, Variant, str | None], bytes]


@dataclass(frozen=True)
class QuestionView:
    label: str
    name: str
    text: str
    printed: Tex
    full: Tex
    tolerance: str


@dataclass(frozen=True)
class MapSheet:
    """One student's page of ``conv_exercise_sheet.tex.j2``."""

    title: str
    student: str
    name: str | None
    code: str
    input: str
    layers: tuple[str, ...]
    numbers: Numbers
    conventions: tuple[str, ...]
    decimals: int
    questions: tuple[QuestionView, ...]
    solution: Tex | None = None


def _entry_text(entry: Any) -> str:
    if isinstance(entry, dict):
        return ", ".join(k if v is None else f"{k}: {_entry_text(v)}" for k, v in entry.items())
    if isinstance(entry, list | tuple):
        return "[" + ", ".join(_entry_text(v) for v in entry) + "]"
    return str(entry)


def layer_lines(spec: Spec) -> tuple[str, ...]:
    """Each layer as the spec writes it (``conv: 2, kernel: [2, 2], …``)."""
    return tuple(_entry_text(layer.to_entry()) for layer in spec.network)


def plain(value: Any) -> str:
    """A drawn number (or nested lists of them) as the spec holds it: ``[0.5, -1.25]``."""
    if isinstance(value, list):
        return "[" + ", ".join(plain(v) for v in value) + "]"
    return decimal_text(value) if not isinstance(value, int) else str(value)


def matrices(name: str, value: Any) -> list[tuple[str, Any]]:
    """``value`` split into its last two axes (a vector stays one row), with names."""
    if not isinstance(value, list):
        return [(name, [[value]])]
    if not isinstance(value[0], list):
        return [(name, [value])]
    if not isinstance(value[0][0], list):
        return [(name, value)]
    out = []
    for k, part in enumerate(value):
        out += matrices(f"{name}[{k}]", part)
    return out


def _tex_value(value: Any) -> str:
    """A drawn number as the spec holds it (a short exact decimal), in math mode."""
    text = plain(value)
    return "-" + text[1:] if text.startswith("-") else text


def tex_matrix(name: str, rows: Any) -> Tex:
    """``name = [rows]`` as a LaTeX ``bmatrix`` (``name`` in typewriter type)."""
    body = r" \\ ".join(" & ".join(_tex_value(v) for v in row) for row in rows)
    label = name.replace("_", r"\_")
    return Tex(rf"\texttt{{{label}}} = \begin{{bmatrix}} {body} \end{{bmatrix}}")


def sheet(
    kind: SheetKind, exercises: ExerciseSet, variant: Variant, solution: str | None = None
) -> MapSheet:
    """The :class:`MapSheet` of ``variant`` (``solution``: the included PDF of a key)."""
    spec, base, d = variant.spec, exercises.spec, exercises.settings.answer_decimals
    views = tuple(
        QuestionView(
            a.question.label,
            a.question.name,
            kind.describe(a, spec),
            Tex(a.printed),
            Tex(a.full),
            f"tolerance ±{a.tolerance_text}",
        )
        for a in variant.answers
    )
    return MapSheet(
        title=base.title or base.name,
        student=variant.student.id,
        name=variant.student.name,
        code=variant.code.text,
        input=kind.shape(spec),
        layers=layer_lines(spec),
        numbers=kind.numbers(variant),
        conventions=kind.conventions(spec),
        decimals=d,
        questions=views,
        solution=Tex(solution) if solution else None,  # a file name symbp chose
    )


def sheet_tex(
    kind: SheetKind,
    exercises: ExerciseSet,
    variants: Sequence[Variant],
    *,
    key: bool = False,
    solutions: Sequence[str] | None = None,
) -> str:
    """The LaTeX of the sheets (with ``key``: the keys' first pages) of ``variants``."""
    return render(
        "tex",
        "conv_exercise_sheet.tex.j2",
        sheets=[
            sheet(kind, exercises, v, solutions[i] if solutions else None)
            for i, v in enumerate(variants)
        ],
        key=key,
        spec_file=exercises.spec_file,
        spec_hash=exercises.spec.hash,
        seed=exercises.seed,
    )


def text_outputs(kind: SheetKind, exercises: ExerciseSet, *, quiz: bool = True) -> dict[str, str]:
    """The deterministic files by relative path (``quiz=False``: the variant specs only)."""
    from .map_quiz import gift, moodle_xml
    from .output import variant_yaml
    from .quiz import answers_csv

    yaml = partial(variant_yaml, default_asks=kind.default_asks, parse_asks=kind.parse_asks)
    out = {f"variants/{v.student.id}.yaml": yaml(exercises, v) for v in exercises.variants}
    if quiz:
        out["answers.csv"] = answers_csv(exercises)
        out["moodle.xml"] = moodle_xml(kind, exercises)
        out["gift.txt"] = gift(kind, exercises)
    return out


def pdf_outputs(
    kind: SheetKind,
    exercises: ExerciseSet,
    engine: str | None = None,
    *,
    combined: bool = True,
    progress: Progress = SILENT,
) -> dict[str, bytes]:
    """``sheets/ID.pdf`` and ``key/ID.pdf``, and with ``combined`` ``sheets.pdf`` and
    ``key.pdf`` (:func:`.sheets.pdf_outputs` with this kind's sheets and solutions)."""
    from . import sheets

    tex = partial(sheet_tex, kind)
    return sheets.pdf_outputs(
        exercises, engine, combined=combined, progress=progress, tex=tex, solution=kind.solution
    )


__all__ = [
    "MapSheet",
    "QuestionView",
    "SheetKind",
    "layer_lines",
    "matrices",
    "pdf_outputs",
    "plain",
    "sheet",
    "sheet_tex",
    "tex_matrix",
    "text_outputs",
]
