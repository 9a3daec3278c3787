"""Exercise sheets: one variant of a worked example per student, with keys and a quiz.

``symbp exercises SPEC --count 30 --seed 7 [--ask QUANTITY ...] [--students roster.csv] -o DIR``
(:func:`make_exercises`) draws every student's numbers (:mod:`.draw`: PCG64
with a fixed stream per student ID), keeps only well-posed problems
(:mod:`.variants`), answers the questions (:mod:`.questions`) with the exact
evaluator and writes, into ``DIR``:

- ``variants/ID.yaml``: each student's spec, whose ``claims`` are the answers
  (``symbp verify variants/ID.yaml`` confirms them);
- ``sheets.pdf`` and ``sheets/ID.pdf``: the question sheets, ``key.pdf`` and
  ``key/ID.pdf``: the answer keys with the worked solution (:mod:`.sheets`);
- ``answers.csv``, ``moodle.xml`` (Moodle XML) and ``gift.txt`` (:mod:`.quiz`).

The same spec, seed, questions and roster give byte-identical variant specs,
``answers.csv``, ``moodle.xml`` and ``gift.txt``. Each sheet carries a code
(:mod:`.codes`) from which :func:`regenerate_sheet` (``--regenerate CODE``)
rebuilds that student's sheet and key. How numbers vary is set by the spec's
``exercise:`` block (:mod:`symbp.spec.exercise`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path

from ..budget import paused
from ..budget import time_limit as budget
from ..spec import Spec, load
from .output import pdf_outputs, sheet_kind, text_outputs, write_exercises
from .plan import ExerciseSet, plan, plan_one
from .progress import SILENT, Progress

SpecLike = Spec | str | Path

#: Where the shipped examples' exercise outputs live (relative to the repository root).
SHIPPED_DIR = "docs/exercises"


def make_exercises(
    spec: SpecLike,
    out: str | Path,
    *,
    count: int | None = None,
    seed: int | None = None,
    ask: Sequence[str] | None = None,
    students: str | Path | None = None,
    pdf: bool = True,
    engine: str | None = None,
    progress: Progress = SILENT,
    time_limit: float | None = None,
) -> ExerciseSet:
    """Draw the exercise set of ``spec`` and write it to the folder ``out``; return the set.

    ``count``, ``seed`` and ``ask`` default to the spec's ``exercise:`` block
    (then 30 students, seed 0 and the default questions); ``students`` is a
    roster CSV with an ID column. ``pdf=False`` skips the sheets and keys.
    Bad input raises :class:`~symbp.errors.SymbpError` and writes nothing. ``progress``
    hears of each variant drawn and each PDF pair made (:mod:`.progress`; the CLI's bar).

    Drawing and answering the variants stop with
    :class:`~symbp.errors.TimeLimitExceeded` after ``time_limit`` seconds (``None``:
    the running budget, else 30 s as ``symbp exercises``; ``0``: no limit), before
    anything is written; writing the files (and the TeX engine, which has its own
    timeout) is not timed, so a budget never stops a folder half-replaced.
    """
    with budget(time_limit):
        exercises = plan(
            spec, count=count, seed=seed, ask=ask, students=students, progress=progress
        )
        with paused():
            write_exercises(exercises, out, pdf=pdf, engine=engine, progress=progress)
    return exercises


def regenerate_sheet(
    spec: SpecLike,
    code: str,
    out: str | Path,
    *,
    ask: Sequence[str] | None = None,
    pdf: bool = True,
    engine: str | None = None,
    progress: Progress = SILENT,
    time_limit: float | None = None,
) -> ExerciseSet:
    """Rebuild the variant, sheet and key of the student whose sheet carries ``code``.

    ``ask`` must be the questions of the original run (the code checks them).
    The files are added to ``out`` (``variants/ID.yaml``, ``sheets/ID.pdf``,
    ``key/ID.pdf``). ``time_limit`` bounds the drawing as in :func:`make_exercises`.
    """
    with budget(time_limit):
        exercises = plan_one(spec, code, ask=ask)
        with paused():
            write_exercises(exercises, out, pdf=pdf, engine=engine, single=True, progress=progress)
    return exercises


def _exercise_specs(spec_paths: Sequence[Path]) -> list[tuple[Path, Spec]]:
    return [(Path(p), s) for p in spec_paths if (s := load(p)).exercise is not None]


def shipped_outputs(spec_paths: Sequence[Path]) -> dict[str, str | bytes]:
    """``docs/exercises/<stem>/...``: the text outputs of every example with an exercise block.

    The variant specs, ``answers.csv``, ``moodle.xml``, ``gift.txt`` and the
    sheets' LaTeX (``sheets.tex``), all byte-reproducible, so the drift check
    covers them; the PDFs are in :func:`shipped_pdfs`.
    """
    from . import map_sheet, sheets

    out: dict[str, str | bytes] = {}
    for path, spec in _exercise_specs(spec_paths):
        exercises = plan(spec)
        folder = f"{SHIPPED_DIR}/{path.stem}"
        for rel, text in text_outputs(exercises).items():
            out[f"{folder}/{rel}"] = text
        kind = sheet_kind(spec)
        tex = sheets.sheet_tex if kind is None else partial(map_sheet.sheet_tex, kind)
        out[f"{folder}/sheets.tex"] = tex(exercises, exercises.variants)
    return out


def shipped_pdfs(spec_paths: Sequence[Path]) -> dict[str, str | bytes]:
    """``docs/exercises/<stem>/sheets.pdf`` and ``key.pdf`` (needs TeX; not drift-checked,
    since PDF bytes depend on the TeX Live release)."""
    out: dict[str, str | bytes] = {}
    for path, spec in _exercise_specs(spec_paths):
        pdfs = pdf_outputs(plan(spec))
        for name in ("sheets.pdf", "key.pdf"):
            out[f"{SHIPPED_DIR}/{path.stem}/{name}"] = pdfs[name]
    return out


__all__ = [
    "ExerciseSet",
    "make_exercises",
    "plan",
    "plan_one",
    "regenerate_sheet",
    "shipped_outputs",
    "shipped_pdfs",
]
