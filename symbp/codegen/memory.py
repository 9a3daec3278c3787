"""The memory a compiled trainer's buffers need, checked against the machine first.

A spec's layer sizes are data: ``layers: [1000000, 1000000, 1]`` asks for 10^12
parameters. :func:`check_memory` estimates the bytes the trainer allocates
(parameters, gradients, optimiser state, the float64 starting values, and the
workspace of one chunk of examples) and raises
:class:`~symbp.errors.TooLargeError` before anything is rendered or allocated when
that exceeds the memory this machine has available.
"""

from __future__ import annotations

import os

from ..errors import TooLargeError
from ..spec import Spec
from .emit import CHUNK

#: Share of the available memory the buffers may take (the rest: Python, Numba, data).
MEMORY_SHARE = 0.5


def available_memory() -> int | None:
    """Bytes of memory available now (``MemAvailable``, else the physical memory)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def buffer_bytes(spec: Spec, dtype: str) -> int:
    """An upper estimate of the bytes a trainer of ``spec`` allocates in ``dtype``."""
    itemsize = 8 if dtype == "float64" else 4
    n = spec.n_params
    n_state = len(spec.optimizer.optimizer.state)
    per_param = itemsize * (3 + n_state) + 8 * 3  # params, grads, state, copies; float64 draws
    units = spec.layers[0] + 4 * sum(spec.layers[1:])  # a, z, delta per unit; a_0
    return n * per_param + itemsize * CHUNK * units


def check_memory(spec: Spec, dtype: str, available: int | None = None) -> int:
    """The estimated bytes; :class:`TooLargeError` where they exceed the share available."""
    need = buffer_bytes(spec, dtype)
    have = available_memory() if available is None else available
    if have is not None and need > MEMORY_SHARE * have:
        raise TooLargeError(
            f"the trainer of this net ({spec.n_params} parameters, layers "
            f"{list(spec.layers)}) needs about {need / 2**30:.3g} GiB for its buffers; this "
            f"machine has {have / 2**30:.3g} GiB available (at most {MEMORY_SHARE:.0%} of it "
            "is used): make the layers smaller",
            field="layers",
        )
    return need
