"""An exercise set: the spec, its settings and questions, and one variant per student.

:func:`plan` is the pure part of ``symbp exercises``: no files, no TeX. It
validates the spec's ``exercise:`` block, the questions and the students, then
draws every student's variant (:mod:`.variants`). :func:`plan_one` rebuilds
one student's variant from the code on their sheet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError, quote
from ..spec import Spec, load
from ..spec.exercise import MAX_COUNT, ExerciseSpec, parse_exercise
from ..symbolic.generic import derive_generic
from . import conv, recurrent
from .codes import parse_code
from .conv import NetDrawer
from .progress import DRAWING, SILENT, Progress
from .questions import Question, default_asks, parse_asks
from .recurrent import RecurrentDrawer
from .roster import Student, check_id, numbered, read_roster
from .variants import Drawer, Variant

#: Exercises are worked by hand: the sheet lists every parameter.
MAX_PARAMS = 60
#: The seed when neither --seed nor exercise.seed gives one.
DEFAULT_SEED = 0
#: The number of students when neither --count, a roster nor exercise.count gives one.
DEFAULT_COUNT = 30


@dataclass(frozen=True)
class ExerciseSet:
    """Everything the output files are made from."""

    spec: Spec
    settings: ExerciseSpec
    seed: int
    asks: tuple[str, ...]
    questions: tuple[Question, ...]
    variants: tuple[Variant, ...]

    @property
    def spec_file(self) -> str:
        """The spec's file name (no folders), as the outputs name it."""
        return Path(self.spec.path).name if self.spec.path else "a spec"


def _setup(
    spec: Spec | str | Path, ask: Sequence[str] | None
) -> tuple[Spec, ExerciseSpec, tuple[Question, ...], Drawer | NetDrawer | RecurrentDrawer]:
    loaded = load(spec)
    if loaded.n_params > MAX_PARAMS:
        raise DataError(
            f"exercises are worked by hand, for nets of at most {MAX_PARAMS} parameters; "
            f"this one has {loaded.n_params}",
            field="layers",
            file=loaded.path,
        )
    settings = loaded.exercise or parse_exercise(None)
    if loaded.recurrence is not None:  # per-student BPTT problems: :mod:`.recurrent`
        return _recurrent_setup(loaded, settings, ask)
    dense = loaded.dense_only
    parse = parse_asks if dense else conv.parse_asks
    if ask:
        questions = parse(list(ask), loaded)
    elif settings.ask:
        questions = parse(list(settings.ask), loaded, where="exercise.ask")
    else:
        questions = parse((default_asks if dense else conv.default_asks)(loaded), loaded)
    asks = tuple(q.ask for q in questions)
    if not dense:  # a network of layer records (conv, pool, flatten …): :mod:`.conv`
        return loaded, settings, questions, conv.NetDrawer(loaded, settings, questions, asks)
    drawer = Drawer(loaded, settings, questions, derive_generic(loaded), asks)
    return loaded, settings, questions, drawer


def _recurrent_setup(
    loaded: Spec, settings: ExerciseSpec, ask: Sequence[str] | None
) -> tuple[Spec, ExerciseSpec, tuple[Question, ...], RecurrentDrawer]:
    if ask:
        questions = recurrent.parse_asks(list(ask), loaded)
    elif settings.ask:
        questions = recurrent.parse_asks(list(settings.ask), loaded, where="exercise.ask")
    else:
        questions = recurrent.parse_asks(recurrent.default_asks(loaded), loaded)
    asks = tuple(q.ask for q in questions)
    return loaded, settings, questions, RecurrentDrawer(loaded, settings, questions, asks)


def _students(
    count: int | None, roster: str | Path | None, settings: ExerciseSpec
) -> tuple[Student, ...]:
    if count is not None and (isinstance(count, bool) or not 1 <= count <= MAX_COUNT):
        raise DataError(
            f"count: expected a whole number from 1 to {MAX_COUNT}, found {quote(count)}"
        )
    if roster is not None:
        students = read_roster(roster)
        if count is not None and count != len(students):
            raise DataError(
                f"count: {count} asked, but the roster {roster} lists {len(students)} students; "
                "leave --count out with --students"
            )
        return students
    return numbered(count or settings.count or DEFAULT_COUNT)


def plan(
    spec: Spec | str | Path,
    *,
    count: int | None = None,
    seed: int | None = None,
    ask: Sequence[str] | None = None,
    students: str | Path | None = None,
    progress: Progress = SILENT,
) -> ExerciseSet:
    """Draw one variant per student of ``spec`` (see :mod:`symbp.exercises`).

    ``count`` students ``s01`` ... or those of the roster CSV ``students``;
    ``seed`` and ``ask`` default to the spec's ``exercise:`` block, then to
    :data:`DEFAULT_SEED` and the default questions. Raises
    :class:`~symbp.errors.SymbpError` (one line naming the field) on bad input.
    ``progress`` hears of each variant drawn (:mod:`.progress`).
    """
    loaded, settings, questions, drawer = _setup(spec, ask)
    chosen = _seed(seed, settings)
    people = _students(count, students, settings)
    taken: set[tuple] = set()
    progress.stage(DRAWING, len(people))
    drawn = []
    for student in people:
        drawn.append(drawer.make(student, chosen, taken=taken))
        progress.advance()
    variants = tuple(drawn)
    return ExerciseSet(loaded, settings, chosen, drawer.asks, questions, variants)


def plan_one(
    spec: Spec | str | Path, code: str, *, ask: Sequence[str] | None = None
) -> ExerciseSet:
    """The set holding only the student whose sheet carries ``code``."""
    loaded, settings, questions, drawer = _setup(spec, ask)
    parsed = parse_code(code, loaded.hash, drawer.asks)
    student = Student(check_id(parsed.student, "regenerate"))
    variant = drawer.make(student, parsed.seed, skip=parsed.skip)
    return ExerciseSet(loaded, settings, parsed.seed, drawer.asks, questions, (variant,))


def _seed(seed: int | None, settings: ExerciseSpec) -> int:
    if seed is None:
        return settings.seed if settings.seed is not None else DEFAULT_SEED
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise DataError(f"seed: expected a whole number >= 0, found {quote(seed)}")
    return seed
