"""The Python API; the CLI takes exactly these paths.

``load`` → ``derive`` → ``evaluate`` are here, and ``document``, which joins two
stages: it writes the derivation document (:mod:`symbp.render`) with the
verdicts on a spec's claims (:mod:`symbp.verify`) marked in place. ``compile``
and ``verify`` live in their stages (:mod:`symbp.codegen`, :mod:`symbp.verify`)
and are re-exported by :mod:`symbp`; ``verify``, ``check`` and ``exercises`` are
here too, as the commands of those names call them.

Every entry point that can take long (``derive``, ``evaluate``, ``document``,
``verify``, ``check``, ``exercises``) takes ``time_limit=``: seconds, with the
default of the commands' ``--time-limit`` (:data:`symbp.budget.DEFAULT_TIME_LIMIT`,
30 s; ``None`` inherits a budget already running, ``0`` is no limit). Past it,
:class:`~symbp.errors.TimeLimitExceeded` (one line) is raised.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .budget import time_limit as _budget
from .errors import SpecError
from .spec import Spec
from .spec import load as _load
from .symbolic.derivation import Derivation
from .symbolic.derivation import derive as _derive
from .symbolic.evaluate import Evaluation
from .symbolic.evaluate import evaluate as _evaluate

if TYPE_CHECKING:
    from .exercises import ExerciseSet
    from .symbolic.network_run import NetworkDerivation, NetworkRun
    from .symbolic.recurrent_run import RecurrentDerivation, RecurrentRun
    from .verify import Report
    from .verify.scan import ScanReport

SpecLike = Spec | str | Path | Mapping[str, Any]


def load(source: SpecLike) -> Spec:
    """Load and validate a spec from a YAML path or a dict (a Spec is returned as is)."""
    return _load(source)


def derive(
    spec: SpecLike, *, explicit: bool | None = None, time_limit: float | None = None
) -> Derivation | NetworkDerivation | RecurrentDerivation:
    """Derive a spec: layer-generic formulas, plus per-parameter chains for small nets.

    A network with a recurrent layer gives a
    :class:`~symbp.symbolic.recurrent_run.RecurrentDerivation` (the cell, its derived
    partials, the BPTT recursion and the gradient sums).
    A network with layers other than dense (conv, pool, flatten) gives a
    :class:`~symbp.symbolic.network_run.NetworkDerivation`: each layer's forward in
    index form and its derived backward, the loss and the output ``δ`` (``.text()``,
    ``.to_json()``, as ``symbp derive`` prints them); ``explicit`` does not apply to it.

    The result shows its equations in Jupyter (``_repr_latex_``/``_repr_html_``,
    see :func:`symbp.render.show`). Loading and deriving stop with
    :class:`~symbp.errors.TimeLimitExceeded` after ``time_limit`` seconds (``None``:
    the running budget, else 30 s; ``0``: no limit; see :mod:`symbp.budget`).
    """
    from .render.jupyter import show

    with _budget(time_limit):
        loaded = load(spec)
        if loaded.recurrence is not None:  # a recurrent layer: the cell unrolled over time
            from .symbolic.recurrent_run import derive_recurrent

            return derive_recurrent(loaded)
        if not loaded.dense_only:
            from .symbolic.network_run import derive_network

            return derive_network(loaded)
        return show(_derive(loaded, explicit=explicit))


def document(
    spec: SpecLike,
    *,
    format: str = "pdf",
    steps: int = 1,
    style: str = "full",
    out: str | Path | None = None,
    digits: int | None = None,
    engine: str | None = None,
    marks: Mapping[tuple[str, int], str] | None = None,
    time_limit: float | None = None,
    chains: bool = False,
    blank_every: int | None = None,
) -> Path:
    """Write the derivation document of ``spec`` (``symbp doc``) and return its path.

    ``format``, ``steps``, ``style``, ``out``, ``digits`` (default: the documents'
    significant digits), ``engine``, ``chains`` and ``blank_every`` (a cloze's
    blanks, default :data:`symbp.render.cloze.CLOZE_EVERY`) are those of
    :func:`symbp.render.write_document`.
    A spec with ``claims`` (a verification file) gets every claimed number marked in
    place with its verdict and cause (:meth:`symbp.verify.Report.marks`), unless
    ``marks`` is given (``marks={}`` for none); the steps cover the claims' steps.
    Only ``style="full"`` (the teacher's document) carries verdicts: a handout is for
    students and has none.
    ``time_limit`` bounds the whole run as in :func:`derive`.
    """
    from .render import write_document
    from .render.mathtex import DIGITS

    with _budget(time_limit):
        loaded = load(spec)
        # Verdict marks are placed in documents of feed-forward nets only so far.
        if marks is None and loaded.claims and loaded.recurrence is None:
            from .verify import verify
            from .verify.claims import parse_claims

            steps = max(steps, max(c.step for c in parse_claims(loaded)))
            # The verdicts are the teacher's (the full document); a handout has none.
            marks = verify(loaded).marks() if style == "full" else {}
        return write_document(
            loaded,
            format=format,
            steps=steps,
            style=style,
            out=out,
            digits=DIGITS if digits is None else digits,
            engine=engine,
            marks=marks,
            chains=chains,
            **({} if blank_every is None else {"blank_every": blank_every}),
        )


def evaluate(
    spec: SpecLike,
    steps: int = 0,
    *,
    epochs: int | None = None,
    arithmetic: str = "exact",
    time_limit: float | None = None,
) -> Evaluation | NetworkRun | RecurrentRun:
    """Evaluate a spec's worked example over ``steps`` updates (``steps + 1`` records).

    A network with a recurrent layer gives a
    :class:`~symbp.symbolic.recurrent_run.RecurrentRun` (exact arithmetic, plain SGD).
    A network with layers other than dense (conv, pool, flatten) gives a
    :class:`~symbp.symbolic.network_run.NetworkRun` (exact arithmetic only; the spec's
    optimiser, :mod:`symbp.symbolic.nested_updates`).

    A step is one update of the spec's ``training`` schedule (full batch without
    one); ``epochs`` counts whole epochs instead. ``arithmetic`` is ``exact``,
    ``float64`` or ``float32``. ``time_limit`` bounds loading and evaluating as in
    :func:`derive`.
    """
    with _budget(time_limit):
        loaded = load(spec)
        if loaded.recurrence is not None:
            from .symbolic.recurrent_run import run_recurrent

            if arithmetic != "exact":
                raise SpecError(
                    f"{arithmetic} evaluation of recurrent layers is not available yet; exact is",
                    field="arithmetic",
                    file=loaded.path,
                )
            return run_recurrent(loaded, steps, epochs=epochs)
        if not loaded.dense_only:
            from .symbolic.network_run import run_network

            if arithmetic != "exact":
                raise SpecError(
                    f"{arithmetic} evaluation of conv/pool/flatten layers is not available "
                    "yet; exact is",
                    field="arithmetic",
                    file=loaded.path,
                )
            return run_network(loaded, steps, epochs=epochs)
        return _evaluate(loaded, steps=steps, epochs=epochs, arithmetic=arithmetic)


def verify(
    spec: SpecLike, *, against: str | None = None, time_limit: float | None = None
) -> Report:
    """Judge a spec's claims (``symbp verify``; :func:`symbp.verify.verify`).

    ``time_limit`` bounds loading, evaluating and the convention search as in
    :func:`derive`.
    """
    from .verify.core import verify as _verify

    return _verify(spec, against=against, time_limit=time_limit)


def check(
    text: str | Path,
    spec: SpecLike,
    *,
    steps: int | None = None,
    time_limit: float | None = None,
) -> ScanReport:
    """Name the quantity behind every decimal number of the text file ``text`` (``symbp check``).

    The format (md, html, tex or plain text) comes from the file's suffix
    (:func:`symbp.verify.scan.format_of`); ``steps`` as ``--steps``. ``time_limit``
    bounds loading, evaluating and matching as in :func:`derive`.
    """
    from .verify.scan import format_of, read_text, scan

    with _budget(time_limit):
        loaded = load(spec)
        return scan(loaded, read_text(text), format=format_of(text), steps=steps, source=str(text))


def exercises(
    spec: SpecLike,
    out: str | Path,
    *,
    count: int | None = None,
    seed: int | None = None,
    ask: Sequence[str] | None = None,
    students: str | Path | None = None,
    pdf: bool = True,
    time_limit: float | None = None,
) -> ExerciseSet:
    """Write per-student exercise sheets, keys and a quiz (``symbp exercises``).

    The arguments are those of :func:`symbp.exercises.make_exercises`;
    ``time_limit`` bounds drawing and answering the variants as in :func:`derive`
    (writing the files is not timed, so a folder is never left half-replaced).
    """
    from .exercises import make_exercises

    return make_exercises(
        load(spec) if isinstance(spec, Mapping) else spec,
        out,
        count=count,
        seed=seed,
        ask=ask,
        students=students,
        pdf=pdf,
        time_limit=time_limit,
    )
