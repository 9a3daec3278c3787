"""What every layer kind tells the stages: the record protocol of :mod:`symbp.layers`.

A *layer* is one record: the kind (dense, conv, pool, flatten; recurrent cells next), its
concrete settings from the spec (sizes, kernel, stride, padding, activation) and what it
knows about itself:

- its shapes: :meth:`Layer.output_shape` from the input shape, and the shapes of its
  parameters (:meth:`Layer.parameter_shapes`, ``{}`` for a layer without any);
- its forward map written **once** in index form (:meth:`Layer.forward`), with the sizes,
  stride and padding as symbols where that keeps a derivation's cost independent of the
  sizes; the engine (:mod:`symbp.symbolic`) derives the backward from it, never the record;
- which arrays its forward reads outside their range, and what such a read gives
  (:attr:`IndexForm.outside`: zero for padding);
- its initialisation fan-in and fan-out (:meth:`Layer.fan`).

Shapes are tuples of ints: ``(n,)`` is a vector of ``n`` values, ``(C, H, W)`` a stack of
``C`` feature maps of ``H`` rows and ``W`` columns (PyTorch's order). Indices are 0-based
everywhere, as in the spec.

Naming (as the spec and ``eval --json`` name things): the layer that produces ``a[l+1]``
from ``a[l]`` is layer ``l`` of the spec's list (0-based) and layer ``l + 1`` of the
textbook's numbering (:mod:`symbp.symbolic.notation`); its parameters are ``W[l]`` and
``b[l]``, its weighted input ``z[l]`` and ``delta[l] = ∂L/∂z[l]``.

A stage never asks a layer what kind it is to decide what to do: it asks the record for
what it needs (shapes, the index form, the presentation, the kernel block). ``kind`` is
for messages, the spec's text and dispatch tables keyed by record, nothing else.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import sympy as sp

from ..ops.activations import Activation

#: A value's shape: ``(n,)`` a vector, ``(C, H, W)`` feature maps.
Shape = tuple[int, ...]


@dataclass(frozen=True)
class IndexForm:
    """A layer's forward map in index form: ``out[index] = rhs``.

    ``rhs`` reads the layer's input (``a^{l-1}``) and its parameters as SymPy
    ``Indexed`` objects, inside ``Sum``\\ s whose bounds use the symbols of ``sizes``.
    ``sizes`` maps each size symbol to its concrete value for this layer (the engine
    substitutes them only when it instantiates a formula with numbers).
    ``outside`` maps each array base that ``rhs`` may read outside its range to the value
    such a read gives (``0`` for zero padding); a read of any other array outside its
    range is an error, never a wrap-around.
    ``shapes`` gives the symbolic shape of every array the form writes or reads (``out``,
    the input, the parameters, constants such as max-pool's selector), one expression in
    the size symbols per axis; the derivation engine (:mod:`symbp.symbolic.shifted`) reads
    the ranges of indices from it. A kind may leave it empty: the engine then infers what
    it needs from the sums' limits.
    """

    out: sp.IndexedBase
    index: tuple[sp.Symbol, ...]
    rhs: sp.Expr
    sizes: Mapping[sp.Symbol, int] = field(default_factory=dict)
    outside: Mapping[sp.IndexedBase, sp.Expr] = field(default_factory=dict)
    shapes: Mapping[sp.IndexedBase, tuple[sp.Expr, ...]] = field(default_factory=dict)

    @property
    def equation(self) -> sp.Eq:
        """``out[index] = rhs``, unevaluated, for printing."""
        return sp.Eq(self.out[self.index], self.rhs, evaluate=False)


class EntryContext(Protocol):
    """What the spec loader lends a record while it reads one entry of ``layers:``."""

    def fail(self, field: str | None, message: str) -> Exception:
        """The one-line spec error for ``layers[i].field`` (``None``: the entry itself)."""
        ...

    def activation(self, value: Any, field: str) -> Activation:
        """The activation named (or written as a formula) by ``value`` at ``layers[i].field``."""
        ...


class Layer(ABC):
    """One layer of a network: a kind's record with the spec's settings.

    Subclasses are frozen dataclasses (hashable, comparable, picklable as data).
    """

    #: The spec's name of the kind (``dense``, ``conv``, ``pool``, ``flatten``).
    kind: ClassVar[str]
    #: The template file of the kind's blocks in the generated trainer (under
    #: ``templates/``, e.g. ``kernels/dense.py.j2``): its ``forward`` and ``backward`` macros.
    kernel_block: ClassVar[str] = ""
    #: Whether the forward only renumbers its input's values in the order they are stored
    #: (flatten: (c, i, j) is the rows' memory order), so that a kernel gives the output
    #: the input's memory and moves nothing.
    renumbers_only: ClassVar[bool] = False

    #: The activation applied to ``z`` (``None``: the layer's output is ``z`` itself).
    #: A plain class attribute, not a property, so that a kind's frozen dataclass can
    #: declare ``activation`` as its own field.
    activation: Activation | None = None

    @classmethod
    @abstractmethod
    def from_entry(cls, entry: Mapping[str, Any], input_shape: Shape, ctx: EntryContext) -> Layer:
        """The record of one entry of the spec's ``layers:`` list, validated and bounded.

        ``entry`` is the entry's mapping (the bare string ``flatten`` arrives as
        ``{"flatten": None}``); ``input_shape`` is the shape the entry receives. Every
        problem is raised as ``ctx.fail(field, message)``: one line naming what was expected.
        """

    @abstractmethod
    def output_shape(self, input_shape: Shape) -> Shape:
        """The shape of ``a[l+1]`` for an input ``a[l]`` of ``input_shape``."""

    def parameter_shapes(self, input_shape: Shape) -> dict[str, Shape]:
        """``{"W": shape, "b": shape}`` in that order; ``{}`` for a layer with none."""
        return {}

    def fan(self, input_shape: Shape) -> tuple[int, int]:
        """``(fan_in, fan_out)`` for the initialisers (as PyTorch computes them)."""
        return (0, 0)

    @abstractmethod
    def forward(self, l: int) -> IndexForm:
        """The forward map of this layer as textbook layer ``l`` (1-based), in index form."""

    def constants(self, l: int, inputs: Any) -> dict[sp.IndexedBase, Any]:
        """Arrays the forward reads that are constants of the forward's values.

        ``inputs`` is the value of ``a^{l-1}`` (nested lists, ``[c][i][j]`` for feature
        maps); the result maps each constant's base (as :meth:`forward` reads it) to its
        values. Differentiation treats them as constants (max-pool's selector of the
        maximum); ``{}`` for a kind without any.
        """
        return {}

    # -- numbers: the evaluators' arithmetic (NumPy arrays of floats or of mpmath numbers)

    def values(self, a: Any, W: Any, b: Any) -> Any:
        """``z`` for the rows of ``a`` (shape ``(rows, *input)``) at parameters ``W``, ``b``."""
        raise NotImplementedError(f"{type(self).__name__} has no numeric forward map")

    def input_gradient(self, delta: Any, W: Any) -> Any:
        """``∂L/∂a^{l-1}`` from ``delta = ∂L/∂z^l`` (any leading axes), before ``f'``."""
        raise NotImplementedError(f"{type(self).__name__} has no numeric backward map")

    def weight_gradient(self, delta: Any, a: Any) -> Any:
        """``∂L/∂W`` of one row from its ``delta`` and its input ``a``."""
        raise NotImplementedError(f"{type(self).__name__} has no numeric weight gradient")

    def to_entry(self) -> dict[str, Any]:
        """The record as its entry of the spec's ``layers:`` list (the inverse of
        :meth:`from_entry`; numbers exact, options spelled out)."""
        raise NotImplementedError(f"{type(self).__name__} cannot be written as a spec entry")

    def n_parameters(self, input_shape: Shape) -> int:
        """The number of values of its parameters."""
        total = 0
        for shape in self.parameter_shapes(input_shape).values():
            count = 1
            for n in shape:
                count *= n
            total += count
        return total
