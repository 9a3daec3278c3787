"""The spec's optimiser applied exactly to the parameters of a network of layer records.

The parameters of a network of layer records are nested lists of any depth (a conv
kernel ``W[l][o][c][u][v]``, a dense ``W[l][j][k]``, ``None`` for a layer without
any). :class:`NetworkUpdater` runs the spec's optimiser program
(:mod:`symbp.ops.optimizers`, with weight decay and the learning-rate schedule, through
:class:`.updates.Updater`, the dense engine's own) on every element, keeping each
element's optimiser state between steps, exactly as the dense engine does: it asks the
optimiser record for its program and its state, never the optimiser's name. Frozen
parameters (``frozen:``) are never updated and keep no state.

Optimiser states are named as the optimiser record names them, one array per state and
parameter, shaped as the parameter: ``m_W[l]…``, ``v_b[l]…`` (Adam), ``v_W[l]…``
(momentum); ``None`` for a layer without that parameter or a frozen one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sympy as sp

from .updates import Updater

if TYPE_CHECKING:
    from ..spec import Spec

Nested = Any
#: The parameter arrays, in the order of ``eval --json``.
PARAMS = ("W", "b")


def _at(value: Nested, pos: tuple[int, ...]) -> Any:
    for k in pos:
        value = value[k]
    return value


def _rebuild(value: Nested, fn: Any, prefix: tuple[int, ...] = ()) -> Nested:
    """``value``'s nesting with ``fn(pos)`` at every leaf."""
    if isinstance(value, list | tuple):
        return [_rebuild(part, fn, (*prefix, k)) for k, part in enumerate(value)]
    return fn(prefix)


class NetworkUpdater:
    """The spec's optimiser over a network's nested parameters (see the module docstring)."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.updater = Updater(spec)
        self.record = spec.optimizer.optimizer

    def rate(self, epoch: int) -> sp.Expr:
        """The learning rate of the spec's schedule at ``epoch`` (0-based)."""
        return self.updater.rate(epoch)

    @property
    def state_names(self) -> tuple[str, ...]:
        """The optimiser record's state names (``("m", "v")`` for Adam; none for SGD)."""
        return tuple(self.record.state)

    def apply(
        self,
        index: int,
        epoch: int,
        params: Mapping[str, Sequence[Nested | None]],
        grads: Mapping[str, Sequence[Nested | None]],
    ) -> dict[str, list[Nested | None]]:
        """The parameters after update ``index + 1`` (0-based step ``index`` of epoch
        ``epoch``): ``params["W"][l]`` and ``["b"][l]`` updated with the gradients of
        the step's batch-mean loss."""
        lr = self.rate(epoch)
        out: dict[str, list[Nested | None]] = {}
        for name in PARAMS:
            new: list[Nested | None] = []
            for l, (value, grad) in enumerate(zip(params[name], grads[name], strict=True)):
                if value is None or (name, l) in self.spec.frozen:
                    new.append(value)
                    continue

                def one(
                    pos: tuple[int, ...],
                    v: Nested = value,
                    g: Nested = grad,
                    key: tuple[str, int] = (name, l),
                ) -> sp.Expr:
                    theta = sp.sympify(_at(v, pos))
                    return self.updater.element(key, pos, theta, _at(g, pos), lr, index)

                new.append(_rebuild(value, one))
            out[name] = new
        return out

    def states(self, params: Mapping[str, Sequence[Nested | None]]) -> dict[str, Nested]:
        """Every optimiser state after the latest update, by its name (``m_W``, ``v_b``):
        a list over the layers of arrays shaped as the parameter (``None`` where the
        layer has no such parameter or it is frozen)."""
        out: dict[str, Nested] = {}
        for state in self.state_names:
            symbol = self.record.symbol(state)
            for name in PARAMS:
                arrays: list[Nested | None] = []
                for l, value in enumerate(params[name]):
                    if value is None or (name, l) in self.spec.frozen:
                        arrays.append(None)
                        continue

                    def read(
                        pos: tuple[int, ...], n: str = name, k: int = l, s: sp.Symbol = symbol
                    ) -> Any:
                        return self.updater.state_of((n, k), pos).get(s, sp.Integer(0))

                    arrays.append(_rebuild(value, read))
                out[f"{state}_{name}"] = arrays
        return out
