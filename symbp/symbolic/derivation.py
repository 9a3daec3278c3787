"""The whole symbolic model of one spec: both views of one derivation."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import TooLargeError
from ..spec import Spec
from .explicit import ExplicitModel, derive_explicit
from .generic import GenericModel, derive_generic


@dataclass(frozen=True)
class Derivation:
    """The layer-generic view, and the explicit view where the net is small.

    ``explicit`` is ``None`` when it was not asked for or the net is above the
    explicit view's thresholds; ``explicit_refusal`` then says why.
    """

    spec: Spec
    generic: GenericModel
    explicit: ExplicitModel | None
    explicit_refusal: str | None = None


def derive(spec: Spec, *, explicit: bool | None = None) -> Derivation:
    """Derive ``spec``.

    ``explicit=None`` builds the explicit view when the net is small enough and
    skips it otherwise; ``True`` insists (raising :class:`TooLargeError`);
    ``False`` skips it.
    """
    generic = derive_generic(spec)
    if explicit is False:
        return Derivation(spec, generic, None, "not requested")
    try:
        return Derivation(spec, generic, derive_explicit(spec))
    except TooLargeError as err:
        if explicit:
            raise
        return Derivation(spec, generic, None, err.message)
