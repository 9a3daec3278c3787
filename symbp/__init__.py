"""symbp: symbolic backpropagation.

Data flows one way: spec → symbolic model → (documents | kernels) → verify / train::

    import symbp
    spec = symbp.load("examples/koech_3_4_1.yaml")
    derivation = symbp.derive(spec)          # layer-generic + per-parameter chains
    run = symbp.evaluate(spec, steps=6)      # exact worked example
    trainer = symbp.compile(spec)            # Numba trainer for this network
    symbp.document(spec, format="html")      # derivation document
    report = symbp.verify("examples/koech_3_4_1_claims.yaml")
    trainer.save("run.npz"); symbp.load_trainer("run.npz")

The names are imported on first use (PEP 562), so that ``import symbp`` and
``symbp --help`` do not import SymPy, NumPy or Numba.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # what the lazy names are, for type checkers and IDEs
    from .api import derive as derive
    from .api import document as document
    from .api import evaluate as evaluate
    from .api import load as load
    from .codegen import compile as compile
    from .codegen.persist import load_trainer as load_trainer
    from .codegen.torch import to_torch as to_torch
    from .errors import SpecError as SpecError
    from .errors import SymbpError as SymbpError
    from .spec import Spec as Spec
    from .train.estimator import SymbpClassifier as SymbpClassifier
    from .train.estimator import SymbpRegressor as SymbpRegressor
    from .verify import verify as verify

#: Public name → (module, attribute). ``verify`` is the stage's package itself, which
#: is callable (``symbp.verify(path)`` is ``symbp.verify.verify(path)``), so the name
#: means the same whether or not the subpackage was imported first.
_LAZY: dict[str, tuple[str, str | None]] = {
    "Spec": ("symbp.spec", "Spec"),
    "SpecError": ("symbp.errors", "SpecError"),
    "SymbpClassifier": ("symbp.train.estimator", "SymbpClassifier"),
    "SymbpError": ("symbp.errors", "SymbpError"),
    "SymbpRegressor": ("symbp.train.estimator", "SymbpRegressor"),
    "compile": ("symbp.codegen", "compile"),
    "derive": ("symbp.api", "derive"),
    "document": ("symbp.api", "document"),
    "evaluate": ("symbp.api", "evaluate"),
    "load": ("symbp.api", "load"),
    "load_trainer": ("symbp.codegen.persist", "load_trainer"),
    "to_torch": ("symbp.codegen.torch", "to_torch"),
    "verify": ("symbp.verify", None),
}


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'symbp' has no attribute {name!r}") from None
    loaded = importlib.import_module(module)
    value = loaded if attr is None else getattr(loaded, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = ["__version__", *sorted(_LAZY)]
