"""Which kernel runs a trainer's passes: the piecewise one until the generated one pays.

A new network's generated kernel takes seconds to compile (:mod:`.emit`); the piecewise
kernel (:mod:`.piecewise`) runs the same passes at once, from pieces compiled before,
with the same numbers bit for bit. A :class:`~.trainer.Trainer` in mode ``"auto"`` (the
default) therefore trains, predicts and evaluates its gradients piecewise while the
generated kernel is neither compiled in this process nor in Numba's on-disk cache, until
the trainers of that module have spent :data:`.piecewise.TIER_UP_S` seconds in the
piecewise kernel: then the generated kernel compiles (once, in the foreground) and runs
from the next epoch on. Mode ``"generated"`` always runs the generated kernel (and
compiles it on first use), ``"piecewise"`` runs the piecewise one wherever it takes the
network (:func:`.piecewise.takes`). Weighted rows always run the generated kernel.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from ..errors import SpecError
from ..spec import Spec

#: The modes of :class:`KernelChoice` (``symbp.compile(..., kernel=...)``).
MODES = ("auto", "generated", "piecewise")

#: Seconds spent in the piecewise kernel, by generated module file (this process).
_SPENT: dict[str, float] = {}
#: The piecewise kernels by generated module file: a module holds one structure (and
#: dtype), so the trainers of its specs share one (a search makes a trainer per fit).
_KERNELS: dict[str, Any] = {}
_LOCK = threading.Lock()


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise SpecError(f"expected one of {', '.join(MODES)}, found {mode!r}", field="kernel")
    return mode


def compiled(kernel: Any) -> bool:
    """Whether ``kernel`` (a generated module's ``@njit`` function) runs without compiling:
    compiled in this process, found in Numba's on-disk cache, or plain Python
    (``NUMBA_DISABLE_JIT``)."""
    signatures = getattr(kernel, "signatures", None)
    if signatures is None or signatures:
        return True
    cache_file = getattr(getattr(kernel, "_cache", None), "_cache_file", None)
    index = getattr(cache_file, "_index_path", None)
    return isinstance(index, str) and os.path.exists(index)


class KernelChoice:
    """The piecewise kernel of one trainer, while it is the one to run (module docstring)."""

    def __init__(self, spec: Spec, module: ModuleType, dtype: str, mode: str = "auto") -> None:
        self.spec, self.module, self.dtype, self.mode = spec, module, dtype, check_mode(mode)
        self._key = str(getattr(module, "__file__", id(module)))
        self._piecewise: Any = None

    def piecewise(self) -> Any:
        """The :class:`~.piecewise.PiecewiseKernel` to run now, or ``None`` for the
        generated kernel."""
        from .piecewise import TIER_UP_S, PiecewiseKernel, takes

        if self.mode == "generated" or not takes(self.spec):
            return None
        if self.mode == "auto" and (
            compiled(self.module.train) or _SPENT.get(self._key, 0.0) >= TIER_UP_S
        ):
            return None
        if self._piecewise is None:
            with _LOCK:
                kernel = _KERNELS.get(self._key)
            if kernel is None:
                kernel = PiecewiseKernel(self.spec, self.dtype)
                with _LOCK:
                    kernel = _KERNELS.setdefault(self._key, kernel)
            self._piecewise = kernel
        return self._piecewise

    @property
    def name(self) -> str:
        """``"piecewise"`` or ``"generated"``: the kernel that runs the next pass."""
        return "generated" if self.piecewise() is None else "piecewise"

    @contextlib.contextmanager
    def timed(self) -> Iterator[None]:
        """Count the time of a piecewise pass towards the module's tier-up."""
        start = time.perf_counter()
        try:
            yield
        finally:
            with _LOCK:
                _SPENT[self._key] = _SPENT.get(self._key, 0.0) + time.perf_counter() - start
