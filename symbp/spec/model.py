"""The validated spec: frozen dataclasses with exact values."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import sympy as sp

from ..layers import Dense, Layer, Shape
from ..ops.activations import Activation
from ..ops.losses import Loss
from ..ops.optimizers import Optimizer, Schedule
from ..yamlio import PathKey
from .exercise import ExerciseSpec
from .preprocessing import Preprocessing

Matrix = tuple[tuple[sp.Rational, ...], ...]


@dataclass(frozen=True)
class Example:
    """One training example: input ``x`` and target ``t`` (exact rationals)."""

    x: tuple[sp.Rational, ...]
    t: tuple[sp.Rational, ...]


@dataclass(frozen=True)
class OptimizerSpec:
    """The optimiser with its options, the learning rate and its schedule."""

    optimizer: Optimizer
    learning_rate: sp.Rational
    options: Mapping[str, sp.Rational]
    weight_decay: sp.Rational
    schedule: Schedule
    schedule_options: Mapping[str, sp.Rational]
    #: Gradient clipping by global norm (``clip_norm: c``; recurrent networks' exact run
    #: only so far, :mod:`symbp.symbolic.nested_updates`); ``None``: no clipping.
    clip_norm: sp.Rational | None = None

    @property
    def name(self) -> str:
        return self.optimizer.name


@dataclass(frozen=True)
class InitSpec:
    """How to draw starting weights when the spec gives none."""

    name: str
    options: Mapping[str, Fraction]
    seed: int
    legacy: bool


@dataclass(frozen=True)
class TrainingSpec:
    """Training-loop settings; ``batch_size None`` means the whole data set.

    The schedule of every stage (exact evaluation, documents, verify, the kernels):
    see :mod:`symbp.ops.batches`. ``drop_last`` leaves out each epoch's last, smaller
    batch.
    """

    epochs: int
    batch_size: int | None
    shuffle: bool
    seed: int
    drop_last: bool = False


@dataclass(frozen=True)
class Recurrence:
    """What a network with a recurrent layer adds to a spec (:mod:`symbp.spec.recurrent`).

    ``steps`` time steps per sequence; ``output`` ``every_step`` (a loss at every step,
    summed over the steps) or ``last_step``; ``bptt`` the truncation ``k`` (``None``:
    full BPTT); ``U`` each layer's recurrent weights (``None`` for a layer without);
    ``initial`` each layer's initial states by name (``{"h": h0, "c": c0}``, zeros where
    the spec gives none; ``None`` for a layer without states). An example's ``x`` holds
    ``steps × features`` values (step by step), its ``t`` ``steps × outputs`` values for
    ``every_step`` and ``outputs`` values for ``last_step``.
    """

    steps: int
    output: str
    bptt: int | None
    U: tuple[Any, ...] | None
    initial: tuple[Mapping[str, tuple[sp.Rational, ...]] | None, ...]


@dataclass(frozen=True)
class Spec:
    """A validated network spec (see the module docstring for the conventions)."""

    name: str
    layers: tuple[int, ...]
    activations: tuple[Activation, ...]
    loss: Loss
    optimizer: OptimizerSpec
    W: tuple[Matrix, ...] | None
    b: tuple[tuple[sp.Rational, ...], ...] | None
    init: InitSpec | None
    examples: tuple[Example, ...]
    frozen: frozenset[tuple[str, int]]
    dtype: str
    training: TrainingSpec
    claims: tuple[Any, ...]
    title: str | None
    description: str | None
    source: str | None
    data: Mapping[str, Any] = field(repr=False, compare=False)
    #: The text's own names, ``((name, canonical quantity), …)`` (:mod:`symbp.spec.names`).
    names: tuple[tuple[str, str], ...] = ()
    path: str | None = field(default=None, compare=False)
    lines: Mapping[PathKey, int] = field(default_factory=dict, repr=False, compare=False)
    #: The ``exercise:`` block (:mod:`symbp.spec.exercise`), ``None`` when absent.
    exercise: ExerciseSpec | None = None
    #: The trained model's input standardisation and output labels
    #: (:mod:`symbp.spec.preprocessing`); never part of the network's kernels.
    preprocessing: Preprocessing | None = None
    #: The shape of an example's input: ``(n,)`` a vector, ``(C, H, W)`` feature maps.
    input_shape: Shape = ()
    #: The network as layer records (:mod:`symbp.layers`), layer ``l`` producing ``a[l+1]``.
    #: For a network of dense layers only it is rebuilt from ``layers`` and ``activations``
    #: (the old form says it all, also after :func:`dataclasses.replace`); for any other
    #: network ``layers`` holds the number of values of the input and of each layer's
    #: output, and ``activations`` each layer's activation (identity where it has none).
    network: tuple[Layer, ...] = ()
    #: The sequence settings of a network with a recurrent layer (``None``: no recurrence).
    recurrence: Recurrence | None = None

    def __post_init__(self) -> None:
        if all(isinstance(layer, Dense) for layer in self.network):
            network = tuple(
                Dense(n, a) for n, a in zip(self.layers[1:], self.activations, strict=True)
            )
            object.__setattr__(self, "input_shape", (self.layers[0],))
            object.__setattr__(self, "network", network)

    @property
    def dense_only(self) -> bool:
        """Whether every layer is a dense record (the stages built for dense nets take it;
        :func:`symbp.stages.require_dense`)."""
        return all(isinstance(layer, Dense) for layer in self.network)

    @property
    def depth(self) -> int:
        """The number of weight layers (``len(layers) - 1``)."""
        return len(self.layers) - 1

    def _parameter_sizes(self) -> list[dict[str, int]]:
        """Each layer's number of values per parameter (``{"W": …, "b": …}``; ``{}``: none)."""
        sizes, shape = [], self.input_shape
        for layer in self.network:
            sizes.append({k: math.prod(s) for k, s in layer.parameter_shapes(shape).items()})
            shape = layer.output_shape(shape)
        return sizes

    @property
    def n_params(self) -> int:
        """The number of parameters, trainable or frozen (3-4-1: 21), of every kind of layer."""
        return sum(sum(layer.values()) for layer in self._parameter_sizes())

    @property
    def n_trainable(self) -> int:
        """The number of parameters that updates change."""
        return sum(
            n
            for l, layer in enumerate(self._parameter_sizes())
            for name, n in layer.items()
            if (name, l) not in self.frozen
        )

    @property
    def has_numbers(self) -> bool:
        """Whether the spec carries starting parameters and at least one example."""
        return self.W is not None and bool(self.examples)

    @property
    def hash(self) -> str:
        """SHA-256 (16 hex digits) of the spec's normalised data (:meth:`to_data`).

        Recomputed from the fields (:func:`symbp.spec.dump.content_hash`), never from
        the text the spec was loaded from, so a spec changed with
        :func:`dataclasses.replace` (or any other way) has its own hash: the compile
        cache and the exercise codes are keyed by it.
        """
        from .dump import content_hash

        return content_hash(self)

    def to_data(self) -> dict[str, Any]:
        """The spec's normalised data, loadable by :func:`symbp.load` (:mod:`.dump`)."""
        from .dump import to_data

        return to_data(self)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickle as data (:meth:`to_data`) and reload: no SymPy objects are stored."""
        return (_from_data, (self.to_data(), self.path))

    def __repr__(self) -> str:
        from ..render.jupyter import spec_repr  # the spec imports no rendering

        return spec_repr(self)

    def _repr_html_(self) -> str:
        from ..render.jupyter import spec_repr_html

        return spec_repr_html(self)

    def line_of(self, *path: str | int) -> int | None:
        """The YAML line of a field, where the spec came from a file."""
        return self.lines.get(tuple(path))


def _from_data(data: Mapping[str, Any], path: str | None) -> Spec:
    """Unpickle a spec: load its data again (and remember the file it came from)."""
    import dataclasses

    from .loader import load

    spec = load(data)
    return dataclasses.replace(spec, path=path) if path is not None else spec
