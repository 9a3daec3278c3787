"""symbp: symbolic backpropagation.

Data flows one way: spec → symbolic model → (documents | kernels) → verify / train::

    import symbp
    spec = symbp.load("examples/koech_3_4_1.yaml")
    derivation = symbp.derive(spec)          # layer-generic + per-parameter chains
    run = symbp.evaluate(spec, steps=6)      # exact worked example
    trainer = symbp.compile(spec)            # Numba trainer for this network
    symbp.document(spec, format="html")      # derivation document
    report = symbp.verify("examples/koech_3_4_1_claims.yaml")
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

from .api import derive, document, evaluate, load
from .errors import SpecError, SymbpError
from .spec import Spec

# Imported eagerly: importing the subpackage symbp.verify binds that name to the
# package, so the function must be bound after it (the stage's own API is
# ``symbp.verify.verify``; ``symbp.verify`` is the same function).
from .verify import verify

_LAZY = {
    "compile": ("symbp.codegen", "compile"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'symbp' has no attribute {name!r}")


__all__ = [
    "Spec",
    "SpecError",
    "SymbpError",
    "__version__",
    "compile",
    "derive",
    "document",
    "evaluate",
    "load",
    "verify",
]
