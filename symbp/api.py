"""The Python API; the CLI takes exactly these paths.

``load`` → ``derive`` → ``evaluate`` are here, and ``document``, which joins two
stages: it writes the derivation document (:mod:`symbp.render`) with the
verdicts on a spec's claims (:mod:`symbp.verify`) marked in place. ``compile``
and ``verify`` live in their stages (:mod:`symbp.codegen`, :mod:`symbp.verify`)
and are re-exported by :mod:`symbp`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .budget import time_limit as _budget
from .spec import Spec
from .spec import load as _load
from .symbolic.derivation import Derivation
from .symbolic.derivation import derive as _derive
from .symbolic.evaluate import Evaluation
from .symbolic.evaluate import evaluate as _evaluate

SpecLike = Spec | str | Path | Mapping[str, Any]


def load(source: SpecLike) -> Spec:
    """Load and validate a spec from a YAML path or a dict (a Spec is returned as is)."""
    return _load(source)


def derive(
    spec: SpecLike, *, explicit: bool | None = None, time_limit: float | None = None
) -> Derivation:
    """Derive a spec: layer-generic formulas, plus per-parameter chains for small nets.

    The result shows its equations in Jupyter (``_repr_latex_``/``_repr_html_``,
    see :func:`symbp.render.show`). Loading and deriving stop with
    :class:`~symbp.errors.TimeLimitExceeded` after ``time_limit`` seconds (``None``:
    the running budget, else 30 s; ``0``: no limit; see :mod:`symbp.budget`).
    """
    from .render.jupyter import show

    with _budget(time_limit):
        return show(_derive(load(spec), explicit=explicit))


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
) -> Path:
    """Write the derivation document of ``spec`` (``symbp doc``) and return its path.

    ``format``, ``steps``, ``style``, ``out``, ``digits`` (default: the documents'
    significant digits), ``engine`` and ``chains`` are those of
    :func:`symbp.render.write_document`.
    A spec with ``claims`` (a verification file) gets every claimed number marked in
    place with its verdict and cause (:meth:`symbp.verify.Report.marks`), unless
    ``marks`` is given (``marks={}`` for none); the steps cover the claims' steps.
    ``time_limit`` bounds the whole run as in :func:`derive`.
    """
    from .render import write_document
    from .render.mathtex import DIGITS

    with _budget(time_limit):
        loaded = load(spec)
        if marks is None and loaded.claims:
            from .verify import verify
            from .verify.claims import parse_claims

            marks = verify(loaded).marks()
            steps = max(steps, max(c.step for c in parse_claims(loaded)))
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
        )


def evaluate(
    spec: SpecLike,
    steps: int = 0,
    *,
    epochs: int | None = None,
    arithmetic: str = "exact",
    time_limit: float | None = None,
) -> Evaluation:
    """Evaluate a spec's worked example over ``steps`` updates (``steps + 1`` records).

    A step is one update of the spec's ``training`` schedule (full batch without
    one); ``epochs`` counts whole epochs instead. ``arithmetic`` is ``exact``,
    ``float64`` or ``float32``. ``time_limit`` bounds loading and evaluating as in
    :func:`derive`.
    """
    with _budget(time_limit):
        return _evaluate(load(spec), steps=steps, epochs=epochs, arithmetic=arithmetic)
