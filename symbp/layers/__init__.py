"""Layer kinds: one record per kind (see :mod:`symbp.layers.base` for the protocol).

To add a kind: a record in its own module here, registered in :data:`KINDS`, plus its
presentation (``symbp/render``) and its kernel block (``templates/kernels/``).
"""

from __future__ import annotations

from .base import IndexForm, Layer, Shape
from .conv import Conv
from .dense import Dense
from .flatten import Flatten
from .pool import Pool
from .recurrent import Recurrent

#: The spec's kind names and their records.
KINDS: dict[str, type[Layer]] = {
    Dense.kind: Dense,
    Conv.kind: Conv,
    Pool.kind: Pool,
    Flatten.kind: Flatten,
    Recurrent.kind: Recurrent,
}

__all__ = ["KINDS", "Conv", "Dense", "Flatten", "IndexForm", "Layer", "Pool", "Recurrent", "Shape"]
