"""Which stages take which networks: the one-line refusal of a stage not built for a kind yet.

The stages that read a network through its layer records (``derive``, ``eval`` and
``verify``, :mod:`symbp.symbolic.network_run` and :mod:`symbp.verify.network`) take every
kind. The others (documents, the generated trainer and everything built on it, the
exercises, ``check``) are built for networks of dense layers only; they ask the spec
(:attr:`symbp.spec.Spec.dense_only`) and refuse any other network with one line and
exit code 2 (:func:`require_dense`), before reading data or writing anything.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import SpecError
from .layers import Dense

if TYPE_CHECKING:
    from .spec import Spec

#: The stages that take a network of any kind.
EVERY_KIND = "derive, eval, verify and doc are"


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
            f"{what} of {'/'.join(kinds)} layers are not available yet; {EVERY_KIND}",
            file=spec.path,
        )
    return spec


def trainer_takes(spec: Spec) -> bool:
    """Whether the generated trainer (:mod:`symbp.codegen`) takes ``spec``'s network.

    The one answer that ``python -m symbp.regenerate`` (``generated/``) and the tests that
    train every shipped example ask: a spec it does not take ships its documents but no
    module. Networks of dense layers only, until the conv kernel blocks land."""
    return spec.dense_only
