"""The question sheets and the answer keys, as LaTeX and PDF.

A sheet (``templates/exercise_sheet.tex.j2``) shows one student's network
diagram with their weights, their numbers (weights, biases, the examples), the
conventions (loss and its scaling, activations, optimiser and learning rate,
index convention) and the questions, with a line for each answer and never the
answer. A key's first page is the same sheet with the answers boxed; the
derivation document of the student's variant follows (``write_document`` in
:data:`KEY_STYLE`, the asked numbers boxed and ticked in its tables), included with
``pdfpages``. ``key.pdf`` puts every student's key in one file the same way.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..render.diagram import Diagram, layout
from ..render.escape import Tex
from ..render.mathtex import tex_number
from ..render.pdf import build_pdf
from ..render.templating import render
from ..spec import Spec
from .conventions import conventions as spec_conventions
from .plan import ExerciseSet
from .progress import SILENT, TYPESETTING, Progress
from .questions import describe, symbol_tex
from .rubric import rubric, total
from .variants import Variant

#: The style of the derivation documents in the keys (``write_document(style=...)``).
KEY_STYLE = "handout"
#: Digits the diagram's weight labels may use (drawn numbers are short decimals: exact).
_LABEL_DIGITS = 12


@dataclass(frozen=True)
class RubricLine:
    """One value of a question's rubric as the key prints it."""

    symbol: Tex
    step: int
    value: Tex
    marks: int
    note: str


@dataclass(frozen=True)
class QuestionView:
    """One question as a sheet prints it (``rubric``: its marking rubric, in the key)."""

    label: str
    symbol: Tex
    text: str
    printed: Tex
    full: Tex
    tolerance: str
    rubric: tuple[RubricLine, ...] = ()
    marks: int = 0


@dataclass(frozen=True)
class Sheet:
    """One student's page (see the module docstring)."""

    title: str
    student: str
    name: str | None
    code: str
    architecture: str
    diagram: Diagram
    numbers: tuple[tuple[str, tuple[Tex, ...]], ...]
    conventions: tuple[str, ...]
    decimals: int
    questions: tuple[QuestionView, ...]
    mark_note: str
    solution: Tex | None = None


def _n(value: Any) -> str:
    return tex_number(value, _LABEL_DIGITS)


def _sub(*indices: int) -> str:
    sep = "," if any(i >= 9 for i in indices) else ""
    return sep.join(str(i + 1) for i in indices)


def numbers(spec: Spec) -> tuple[tuple[str, tuple[Tex, ...]], ...]:
    """One row per neuron (its weights and bias) and per example (inputs and targets)."""
    assert spec.W is not None and spec.b is not None
    rows = []
    for l, matrix in enumerate(spec.W):
        for j, row in enumerate(matrix):
            terms = [rf"w^{{{l + 1}}}_{{{_sub(j, k)}}} = {_n(v)}" for k, v in enumerate(row)]
            terms.append(rf"b^{{{l + 1}}}_{{{_sub(j)}}} = {_n(spec.b[l][j])}")
            rows.append((f"layer {l + 1}, neuron {j + 1}", tuple(Tex(t) for t in terms)))
    for e, ex in enumerate(spec.examples):
        terms = [rf"x_{{{_sub(k)}}} = {_n(v)}" for k, v in enumerate(ex.x)]
        terms += [rf"t_{{{_sub(j)}}} = {_n(v)}" for j, v in enumerate(ex.t)]
        label = f"example {e + 1}" if len(spec.examples) > 1 else "the example"
        rows.append((label, tuple(Tex(t) for t in terms)))
    return tuple(rows)


def conventions(spec: Spec) -> tuple[str, ...]:
    """The conventions a student needs, in words (:mod:`.conventions`)."""
    return tuple(c.text for c in spec_conventions(spec))


def sheet(exercises: ExerciseSet, variant: Variant, solution: str | None = None) -> Sheet:
    """The :class:`Sheet` of ``variant`` (``solution``: the included PDF of a key)."""
    spec = variant.spec
    base = exercises.spec
    d = exercises.settings.answer_decimals
    views = []
    for a in variant.answers:
        items = rubric(spec, a.question, variant.steps, d)
        lines = tuple(
            RubricLine(Tex(i.tex), i.step, Tex(i.value), i.marks, i.note) for i in items
        )  # symbp's own symbols and numbers
        views.append(
            QuestionView(
                a.question.label,
                Tex(symbol_tex(a.question.quantity, spec)),
                describe(a.question, spec),
                Tex(a.printed),
                Tex(a.full),
                a.tolerance_words(d),
                lines,
                total(items),
            )
        )
    return Sheet(
        title=base.title or base.name,
        student=variant.student.id,
        name=variant.student.name,
        code=variant.code.text,
        architecture="-".join(str(n) for n in spec.layers),
        diagram=layout(spec, spec.W, digits=_LABEL_DIGITS, biases=spec.b),
        numbers=numbers(spec),
        conventions=conventions(spec),
        decimals=exercises.settings.answer_decimals,
        questions=tuple(views),
        mark_note="boxed, with a check mark, in the tables",
        solution=Tex(solution) if solution else None,  # a file name symbp chose
    )


def sheet_tex(
    exercises: ExerciseSet,
    variants: Sequence[Variant],
    *,
    key: bool = False,
    solutions: Sequence[str] | None = None,
) -> str:
    """The LaTeX of the sheets (or, with ``key``, the keys' first pages) of ``variants``."""
    sheets = [
        sheet(exercises, v, solutions[i] if solutions else None) for i, v in enumerate(variants)
    ]
    return render(
        "tex",
        "exercise_sheet.tex.j2",
        sheets=sheets,
        key=key,
        spec_file=exercises.spec_file,
        spec_hash=exercises.spec.hash,
        seed=exercises.seed,
    )


def solution_pdf(
    exercises: ExerciseSet, variant: Variant, engine: str | None = None, *, marked: bool = True
) -> bytes:
    """The derivation document of ``variant`` as PDF bytes, the asked numbers marked
    (``marked=False``: not marked, for documents that take no marks: conv nets')."""
    from ..render.document import write_document

    marks = {
        (a.question.name, a.question.step): f"answer to {a.question.label}" for a in variant.answers
    }
    steps = max(1, *(a.question.step for a in variant.answers))
    digits = max(3, exercises.settings.answer_decimals)
    with tempfile.TemporaryDirectory(prefix="symbp-key-") as tmp:
        path = write_document(
            variant.spec,
            format="pdf",
            steps=steps,
            out=Path(tmp) / "solution.pdf",
            digits=min(digits, 15),
            marks=marks if marked else None,
            engine=engine,
            style=KEY_STYLE,
        )
        return path.read_bytes()


def _pdf(source: str, inputs: Mapping[str, bytes] | None, engine: str | None) -> bytes:
    with tempfile.TemporaryDirectory(prefix="symbp-sheet-") as tmp:
        return build_pdf(source, Path(tmp) / "out.pdf", engine=engine, inputs=inputs).read_bytes()


def pdf_outputs(
    exercises: ExerciseSet,
    engine: str | None = None,
    *,
    combined: bool = True,
    progress: Progress = SILENT,
    tex: Callable[..., str] = sheet_tex,
    solution: Callable[[ExerciseSet, Variant, str | None], bytes] = solution_pdf,
) -> dict[str, bytes]:
    """``sheets/ID.pdf`` and ``key/ID.pdf`` as bytes, and with ``combined`` (not for
    ``--regenerate``) ``sheets.pdf`` and ``key.pdf``. ``progress`` hears of each
    student's pair done, then of the combined pair (:mod:`.progress`). ``tex`` (as
    :func:`sheet_tex`) and ``solution`` (as :func:`solution_pdf`) make the sheets and the
    worked solutions: a dense net's by default, a network of layer records' in
    :mod:`.map_sheet`."""
    out: dict[str, bytes] = {}
    keys: list[bytes] = []
    progress.stage(TYPESETTING, len(exercises.variants) + (1 if combined else 0))
    for v in exercises.variants:
        out[f"sheets/{v.student.id}.pdf"] = _pdf(tex(exercises, [v]), None, engine)
        worked = solution(exercises, v, engine)
        source = tex(exercises, [v], key=True, solutions=["part1.pdf"])
        keys.append(_pdf(source, {"part1.pdf": worked}, engine))
        out[f"key/{v.student.id}.pdf"] = keys[-1]
        progress.advance()
    if not combined:
        return out
    out["sheets.pdf"] = _pdf(tex(exercises, exercises.variants), None, engine)
    parts = {f"part{i + 1}.pdf": data for i, data in enumerate(keys)}
    out["key.pdf"] = _pdf(bundle_tex(exercises, sorted(parts, key=_part_number)), parts, engine)
    progress.advance()
    return out


def _part_number(name: str) -> int:
    return int(name.removeprefix("part").removesuffix(".pdf"))


def bundle_tex(exercises: ExerciseSet, parts: Sequence[str]) -> str:
    """The LaTeX that puts the PDFs ``parts`` one after the other."""
    return render(
        "tex",
        "exercise_bundle.tex.j2",
        parts=[Tex(p) for p in parts],  # file names symbp chose (part1.pdf ...)
        spec_file=exercises.spec_file,
        spec_hash=exercises.spec.hash,
        seed=exercises.seed,
    )
