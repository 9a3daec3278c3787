"""Writing an exercise set: every file made in a temporary folder, renamed into place at the end.

:func:`text_outputs` gives the deterministic files (variant specs, ``answers.csv``,
``moodle.xml``, ``gift.txt``) by path; :func:`write_exercises` adds the PDFs
and writes the folder. Nothing is written when anything fails: the files are
assembled in a sibling temporary folder, which replaces the output folder only
once everything is there. In an existing folder only the files an earlier
``symbp exercises`` wrote there (listed in its manifest, :mod:`symbp.outputs.folder`)
are replaced; any other file in the way is refused before anything is written, and
the user's other files are left as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..outputs import OutputFolder, write_folder
from ..render.pdf import INSTALL_HINT, TexMissing, find_engine
from ..spec import Spec
from . import map_sheet
from .map_sheet import SheetKind
from .moodle import moodle_calculated
from .plan import ExerciseSet
from .progress import SILENT, Progress
from .questions import Question, default_asks, parse_asks
from .quiz import answers_csv, gift, moodle_xml
from .report import teacher_report
from .variants import Variant
from .yamltext import dump


def _regenerate_command(
    exercises: ExerciseSet,
    variant: Variant,
    default_asks: Callable[[Spec], list[str]],
    parse_asks: Callable[..., tuple[Question, ...]],
) -> str:
    """The command that rebuilds ``variant``, with ``--ask`` where the spec does not give them."""
    spec = exercises.spec
    given = exercises.settings.ask or tuple(default_asks(spec))
    default = tuple(q.ask for q in parse_asks(list(given), spec))
    asks = "" if default == exercises.asks else "".join(f" --ask '{a}'" for a in exercises.asks)
    return f"symbp exercises {exercises.spec_file} --regenerate {variant.code.text}{asks}"


def variant_yaml(
    exercises: ExerciseSet,
    variant: Variant,
    *,
    default_asks: Callable[[Spec], list[str]] = default_asks,
    parse_asks: Callable[..., tuple[Question, ...]] = parse_asks,
) -> str:
    """``variants/ID.yaml``: a spec whose claims are the student's answers (``default_asks``
    and ``parse_asks``: the net's questions, a dense net's by default)."""
    header = [
        f"Exercise variant for student {variant.student.id} (sheet code {variant.code.text}),",
        f"made by symbp exercises from {exercises.spec_file}.",
        f"Check it: symbp verify variants/{variant.student.id}.yaml",
        f"Rebuild: {_regenerate_command(exercises, variant, default_asks, parse_asks)}",
    ]
    return dump(variant.data, header)


def sheet_kind(spec: Spec) -> SheetKind | None:
    """How the exercises of ``spec``'s network of layer records are worded (a recurrent
    net: :data:`.recurrent_output.RECURRENT`, any other: :data:`.conv_output.CONV`);
    ``None`` for a dense net (:mod:`.sheets`, :mod:`.quiz`)."""
    if spec.recurrence is not None:
        from .recurrent_output import RECURRENT

        return RECURRENT
    if not spec.dense_only:
        from .conv_output import CONV

        return CONV
    return None


def text_outputs(exercises: ExerciseSet, *, quiz: bool = True) -> dict[str, str]:
    """The deterministic files by relative path (``quiz=False``: the variant specs only);
    a network of layer records (conv, recurrent …) has its own (:mod:`.map_sheet`)."""
    kind = sheet_kind(exercises.spec)
    if kind is not None:
        return map_sheet.text_outputs(kind, exercises, quiz=quiz)
    out = {f"variants/{v.student.id}.yaml": variant_yaml(exercises, v) for v in exercises.variants}
    if quiz:
        out["answers.csv"] = answers_csv(exercises)
        out["moodle.xml"] = moodle_xml(exercises)
        out["gift.txt"] = gift(exercises)
        out["moodle_calculated.xml"] = moodle_calculated(exercises)
        out["teacher_report.txt"] = teacher_report(exercises)
    return out


def pdf_outputs(
    exercises: ExerciseSet,
    engine: str | None = None,
    *,
    combined: bool = True,
    progress: Progress = SILENT,
) -> dict[str, bytes]:
    """The sheets and keys as PDF (:func:`.sheets.pdf_outputs`; a network of layer records:
    :func:`.map_sheet.pdf_outputs`)."""
    kind = sheet_kind(exercises.spec)
    if kind is None:
        from .sheets import pdf_outputs as dense

        return dense(exercises, engine, combined=combined, progress=progress)
    return map_sheet.pdf_outputs(kind, exercises, engine, combined=combined, progress=progress)


def check_tex(engine: str | None = None) -> None:
    """Raise :class:`TexMissing` (nothing written yet) when no TeX engine is found."""
    if find_engine(engine) is None:
        raise TexMissing(
            f"no TeX engine ({engine or 'pdflatex'}) found on PATH for the sheets and keys; "
            f"{INSTALL_HINT}, or pass --no-pdf"
        )


def write_tree(files: dict[str, str | bytes], out: str | Path, *, replace: bool = True) -> Path:
    """Write ``files`` (relative path → content) into the folder ``out``
    (:func:`symbp.outputs.write_folder`: a new folder all at once; in an existing one
    only symbp's own earlier files are replaced, anything else in the way is refused).

    ``replace=False`` (``--regenerate``) adds the files and keeps the earlier run's
    other files; ``replace=True`` also removes the earlier run's files not written now.
    """
    return write_folder(out, files, "exercises", replace=replace)


def write_exercises(
    exercises: ExerciseSet,
    out: str | Path,
    *,
    pdf: bool = True,
    engine: str | None = None,
    single: bool = False,
    progress: Progress = SILENT,
) -> Path:
    """Write ``exercises`` to the folder ``out`` (see :mod:`symbp.exercises`).

    ``single`` (``--regenerate``) adds one student's variant, sheet and key to
    ``out`` instead of replacing the folder. ``progress`` hears of the PDFs made.
    """
    if pdf:
        check_tex(engine)
    files: dict[str, str | bytes] = dict(text_outputs(exercises, quiz=not single))
    OutputFolder(out, "exercises").check(files)  # refuse before the (slow) PDFs
    if pdf:
        files.update(pdf_outputs(exercises, engine, combined=not single, progress=progress))
    return write_tree(files, out, replace=not single)
