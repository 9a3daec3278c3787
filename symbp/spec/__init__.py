"""The network spec: load, validate, and hold it as a frozen, typed :class:`Spec`.

A spec is data, never code. It comes from a YAML file or from a Python dict of
the same structure::

    name: koech-3-4-1
    layers: [3, 4, 1]                 # sizes, input layer first
    activations: sigmoid              # one for all layers, or a list (one per non-input layer)
    loss: bce
    optimizer: {name: sgd, learning_rate: 0.5}
    params:                           # optional concrete starting values
      W: [[[...], ...], [[...]]]      # W[l][j][k]: into neuron j of layer l+1 from k of layer l
      b: [[...], [...]]
    example: {x: [...], t: [...]}     # or examples: [{x: ..., t: ...}, ...]
    frozen: [b]                       # parameters never updated: W, b, W[l] or b[l]

Index convention (0-based everywhere in the spec and the API): layer 0 is the
input; ``W[l]`` has shape ``(layers[l+1], layers[l])`` and feeds layer ``l+1``.
The textbook's ``w^{l}_{jk}`` (1-based) is ``W[l-1][j-1][k-1]`` here.

Numbers are exact: YAML decimals become fractions from their source text.
Errors are :class:`~symbp.errors.SpecError` with one line naming the file, the
line and the field.
"""

from .loader import load
from .model import Example, InitSpec, Matrix, OptimizerSpec, Spec, TrainingSpec

__all__ = ["Example", "InitSpec", "Matrix", "OptimizerSpec", "Spec", "TrainingSpec", "load"]
