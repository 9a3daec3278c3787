"""symbp: symbolic backpropagation.

Data flows one way: spec → symbolic model → (documents | kernels) → verify / train.

>>> import symbp
>>> spec = symbp.load("examples/koech_3_4_1.yaml")    # doctest: +SKIP
>>> model = symbp.derive(spec)                        # doctest: +SKIP
>>> run = symbp.evaluate(spec, steps=6)               # doctest: +SKIP
"""

from .errors import SpecError, SymbpError
from .spec import Spec, load

__version__ = "0.1.0"

__all__ = ["Spec", "SpecError", "SymbpError", "__version__", "load"]
