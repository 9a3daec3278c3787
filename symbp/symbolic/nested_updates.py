"""The spec's optimiser applied exactly to parameters held as nested lists of any depth.

The exact runs of networks of layer records (:mod:`.network_run`: a conv kernel
``W[l][o][c][u][v]``, a dense ``W[l][j][k]``; :mod:`.recurrent_run`: ``W``, ``U``, ``b``)
hold their parameters by name, one nested list per layer (``None`` where a layer has
none). :class:`NestedUpdater` runs the optimiser record's
program (:mod:`symbp.ops.optimizers`, weight decay and schedule included) on every
element with :class:`.updates.Updater` (the dense engine's own), keeping each element's
state between steps; it asks the optimiser record for its program and states, never the
optimiser's name;
a frozen array (``spec.frozen``: ``("W", l)``, ``("b", l)``, ``("U", l)``) is never
updated. Its state arrays are named ``<state>_<param>`` (``m_U``, ``v_W``), the value
after the update, one nested list per layer like the parameter's.

Gradient clipping by global norm (``clip_norm: c`` of the optimiser): before the
update every gradient is multiplied by ``scale = min(1, c / (‖g‖ + 10⁻⁶))``, ``‖g‖``
the Euclidean norm over all gradients of the parameters updated (frozen ones left out), as
``torch.nn.utils.clip_grad_norm_`` does (it adds ``10⁻⁶`` to the norm and clamps the
factor at 1); weight decay is added after clipping, as ``torch.optim`` adds it in
``step``. The norm is exact (a square root), the epsilon a rational.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sympy as sp

from .instantiate import numeric
from .updates import Updater

Nested = Any

#: ``torch.nn.utils.clip_grad_norm_``'s epsilon added to the norm.
CLIP_EPS = sp.Rational(1, 10**6)


def _number(value: Any) -> sp.Expr:
    """An engine's number as a SymPy number; text is never parsed (a ``str`` is refused)."""
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, found {type(value).__name__}")
    return sp.Integer(value) if isinstance(value, int) else sp.Float(value)


def _leaves(value: Nested) -> Iterator[Any]:
    if isinstance(value, list | tuple):
        for v in value:
            yield from _leaves(v)
    elif value is not None:
        yield value


def global_norm(grads: Mapping[str, Nested]) -> sp.Expr:
    """The Euclidean norm over every element of every gradient in ``grads``."""
    return sp.sqrt(sum((_number(g) ** 2 for v in grads.values() for g in _leaves(v)), sp.S.Zero))


def clip_scale(norm: sp.Expr, clip: sp.Expr | None) -> sp.Expr:
    """The factor :func:`torch.nn.utils.clip_grad_norm_` multiplies the gradients by."""
    if clip is None:
        return sp.S.One
    factor = clip / (norm + CLIP_EPS)
    return sp.S.One if bool(factor >= 1) else factor


@dataclass(frozen=True)
class Update:
    """One update: the new parameters, ``update_<name>`` (new − old), the optimiser's
    state after it (``<state>_<name>``), and the clipping's ``grad_norm`` and ``clip_scale``
    (``None`` without ``clip_norm``)."""

    params: dict[str, list[Nested | None]]
    deltas: dict[str, list[Nested | None]]
    states: dict[str, list[Nested | None]]
    grad_norm: sp.Expr | None
    scale: sp.Expr | None


class NestedUpdater:
    """Applies ``spec``'s optimiser to parameters held as nested lists (module docstring)."""

    def __init__(self, spec: Any) -> None:
        self.spec = spec
        self.updater = Updater(spec)
        self.clip: sp.Expr | None = spec.optimizer.clip_norm
        self.state_names = tuple(spec.optimizer.optimizer.state)

    def rate(self, epoch: int) -> sp.Expr:
        return self.updater.rate(epoch)

    def apply(
        self,
        params: Mapping[str, list[Nested | None]],
        grads: Mapping[str, Nested],
        index: int,
        epoch: int,
    ) -> Update:
        """Update ``index + 1`` (rate of ``epoch``); ``grads[f"grad_{name}[{l}]"]``."""
        lr = self.rate(epoch)
        norm = scale = None
        if self.clip is not None:
            norm = global_norm(
                {
                    f"grad_{name}[{l}]": grads[f"grad_{name}[{l}]"]
                    for name, values in params.items()
                    for l, v in enumerate(values)
                    if v is not None and (name, l) not in self.spec.frozen
                }
            )
            scale = clip_scale(norm, self.clip)
        new: dict[str, list[Nested | None]] = {}
        deltas: dict[str, list[Nested | None]] = {}
        states: dict[str, list[Nested | None]] = {}
        for name, values in params.items():
            new[name], deltas[name] = [], []
            for l, v in enumerate(values):
                if v is None:
                    new[name].append(None)
                    deltas[name].append(None)
                    continue
                g = grads[f"grad_{name}[{l}]"]
                if (name, l) in self.spec.frozen:
                    after = v
                else:
                    after = self._walk((name, l), (), v, g, lr, index, scale)
                new[name].append(after)
                deltas[name].append(_minus(after, v))
            for s in self.state_names:
                states[f"{s}_{name}"] = [
                    None
                    if v is None or (name, l) in self.spec.frozen  # frozen: no state
                    else self._state((name, l), (), v, s)
                    for l, v in enumerate(values)
                ]
        return Update(new, deltas, states, norm, scale)

    def _walk(
        self,
        array: tuple[str, int],
        pos: tuple[int, ...],
        value: Nested,
        grad: Nested,
        lr: sp.Expr,
        index: int,
        scale: sp.Expr | None,
    ) -> Nested:
        if isinstance(value, list | tuple):
            return [
                self._walk(array, (*pos, i), v, g, lr, index, scale)
                for i, (v, g) in enumerate(zip(value, grad, strict=True))
            ]
        g = _number(grad) if scale is None else scale * _number(grad)
        return numeric(self.updater.element(array, pos, _number(value), g, lr, index))

    def _state(
        self, array: tuple[str, int], pos: tuple[int, ...], value: Nested, name: str
    ) -> Nested:
        if isinstance(value, list | tuple):
            return [self._state(array, (*pos, i), v, name) for i, v in enumerate(value)]
        state = self.updater.state.get((*array, *pos))  # type: ignore[arg-type]
        if not state:  # frozen: never updated, the initial state
            return None
        return state[self.spec.optimizer.optimizer.symbol(name)]


def _minus(after: Nested, before: Nested) -> Nested:
    if isinstance(after, list | tuple):
        return [_minus(a, b) for a, b in zip(after, before, strict=True)]
    return numeric(_number(after) - _number(before))


__all__ = ("CLIP_EPS", "NestedUpdater", "Update", "clip_scale", "global_norm")
