"""Which stages take which networks: the one-line refusal of a stage not built for a kind yet.

The stages that read a network through its layer records (``derive``, ``eval``,
``verify``, ``check`` and ``exercises``: :mod:`symbp.symbolic.network_run`,
:mod:`symbp.verify.network`, :mod:`symbp.verify.scan_network`, :mod:`symbp.exercises.conv`;
documents, :mod:`symbp.render.conv_document`; the generated trainer, ``compile`` and
``train``: :mod:`symbp.codegen.front`) take every feed-forward kind. The others (ONNX
export, the NumPy serving spelling, ``export-spec``) are built for networks of dense
layers only; they ask the spec (:attr:`symbp.spec.Spec.dense_only`) and refuse any other
network with one line and exit code 2 (:func:`require_dense`), before reading data or
writing anything.

A network with a recurrent layer (``spec.recurrence``) is taken by ``derive``, ``eval``,
``verify``, ``doc`` (:mod:`symbp.render.recurrent_document`), ``check``
(:mod:`symbp.verify.scan_recurrent`), ``exercises`` (:mod:`symbp.exercises.recurrent`) and
the generated trainer (``compile``, ``train``, :func:`symbp.compile`, ``fit``:
:mod:`symbp.codegen.recurrent_plan`): what still refuses it (the float64 evaluator, ONNX,
``export-spec``, NumPy serving) does so with one line (:func:`require_feedforward`), and every
refusal of it names those stages (:data:`RECURRENT_STAGES`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import SpecError
from .layers import Dense

if TYPE_CHECKING:
    from .spec import Spec

#: The stages that take a network of any kind.
EVERY_KIND = "derive, eval, verify, doc, check, exercises, compile and train are"
#: The stages that take a recurrent network (since issue 29: every one of them).
RECURRENT_STAGES = EVERY_KIND


def _taken_by(spec: Spec) -> str:
    return EVERY_KIND if spec.recurrence is None else RECURRENT_STAGES


def other_kinds(spec: Spec) -> list[str]:
    """The kinds of ``spec``'s layers that the dense-only stages do not take, in order."""
    if spec.dense_only:
        return []
    return list(dict.fromkeys(l.kind for l in spec.network if not isinstance(l, Dense)))


def require_dense(spec: Spec, what: str) -> Spec:
    """``spec`` itself where every layer is dense; else a one-line :class:`SpecError`
    saying that ``what`` (e.g. ``documents``) of its layers' kinds are not available yet."""
    kinds = other_kinds(spec)
    if kinds:
        raise SpecError(
            f"{what} of {'/'.join(kinds)} layers are not available yet; {_taken_by(spec)}",
            file=spec.path,
        )
    return spec


def require_feedforward(spec: Spec, what: str) -> Spec:
    """``spec`` itself where it has no recurrent layer; else the one-line :class:`SpecError`
    of :func:`require_dense` (for the stages that take conv nets but not recurrent ones)."""
    if spec.recurrence is not None:
        return require_dense(spec, what)
    return spec


def trainer_takes(spec: Spec) -> bool:
    """Whether the generated trainer (:mod:`symbp.codegen`) takes ``spec``'s network.

    The one answer that ``python -m symbp.regenerate`` (``generated/``) and the tests that
    train every shipped example ask: a spec it does not take ships its documents but no
    module. Every network: feed-forward (dense, conv, pool, flatten) and recurrent."""
    return True
