"""The text form of a layer's forward and derived backward, and the names of what they are.

:func:`derivation_lines` gives the lines ``symbp derive`` prints for one layer record:
the forward in index form, then ``∂L/∂W``, ``∂L/∂b`` and ``∂L/∂a^{l-1}`` as
:mod:`.shifted` derived them, each followed by what it recognises the formula to be.
Notation: ``Σ_{u,v}`` sums each index over its whole range (stated once per formula);
``[cond]·(…)`` is the term where ``cond`` holds and 0 elsewhere; ``s | n`` reads
"``s`` divides ``n``"; a read outside an array's range gives the value stated after
"outside:" (zero padding, ``δ`` beyond the output).

:func:`recognise` names a derived formula from its structure (never from the kind): the
signs with which a summation index enters the two reads it couples tell a correlation
(same sign) from a convolution (opposite signs: the kernel read rotated by 180°).
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp
from sympy.printing.str import StrPrinter

from ..layers.base import IndexForm, Layer
from . import notation as nt
from .shifted import LayerDerivation, derive_layer


class _Text(StrPrinter):
    """SymPy's str printer with index-form notation (Σ, [cond], s | n, a[i, j])."""

    def _print_Indexed(self, expr: sp.Indexed) -> str:
        return f"{expr.base}[{', '.join(self._print(i) for i in expr.indices)}]"

    def _print_Sum(self, expr: sp.Sum) -> str:
        names = ",".join(self._print(v) for v, _, _ in expr.limits)
        body = self._print(expr.function)
        if isinstance(expr.function, sp.Add):
            body = f"({body})"
        return f"Σ_{{{names}}} {body}"

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:
        (value, condition), *rest = expr.args
        if len(rest) == 1 and rest[0][0] == 0 and rest[0][1] is sp.true:
            return f"[{self._print(condition)}]·({self._print(value)})"
        return super()._print_Piecewise(expr)  # type: ignore[no-any-return]

    def _print_Equality(self, expr: sp.Eq) -> str:
        if isinstance(expr.lhs, sp.Mod) and expr.rhs == 0:
            return f"{self._print(expr.lhs.args[1])} | {self._print(expr.lhs.args[0])}"
        return f"{self._print(expr.lhs)} = {self._print(expr.rhs)}"

    def _print_And(self, expr: sp.And) -> str:
        return " ∧ ".join(self._print(a) for a in expr.args)

    def _print_KroneckerDelta(self, expr: sp.KroneckerDelta) -> str:
        return f"[{self._print(expr.args[0])} = {self._print(expr.args[1])}]"


def text(expr: sp.Basic) -> str:
    """``expr`` in the index-form text notation."""
    return _Text().doprint(expr)


def _ranges(expr: sp.Expr) -> str:
    limits = {v: hi for s in expr.atoms(sp.Sum) for v, _, hi in s.limits}
    return ", ".join(f"{v} = 0..{text(hi)}" for v, hi in limits.items())


def _reads(expr: sp.Expr, base: sp.IndexedBase) -> list[sp.Indexed]:
    return [r for r in expr.atoms(sp.Indexed) if r.base == base]


def _signs(read: sp.Indexed, var: sp.Symbol) -> list[int]:
    """The sign of ``∂index/∂var`` on each axis of ``read`` that ``var`` enters."""
    out = []
    for index in read.indices:
        slope = sp.diff(index, var)
        if slope != 0:
            out.append(1 if slope.is_positive else -1 if slope.is_negative else 0)
    return out


def _coupling(expr: sp.Expr, first: sp.IndexedBase, second: sp.IndexedBase) -> str | None:
    """``same``/``opposite``: how the summed indices shared by a read of ``first`` and
    one of ``second`` move them; ``None`` where they share none."""
    reads1, reads2 = _reads(expr, first), _reads(expr, second)
    if len(reads1) != 1 or len(reads2) != 1:
        return None
    bound = {v for s in expr.atoms(sp.Sum) for v, _, _ in s.limits}
    products = []
    for var in bound:
        if var in reads1[0].indices and var in reads2[0].indices:
            continue  # read at the same plain index in both (a channel): no shift
        s1, s2 = _signs(reads1[0], var), _signs(reads2[0], var)
        if s1 and s2:
            products.append(s1[0] * s2[0])
    if not products:
        return None
    if all(p > 0 for p in products):
        return "same"
    if all(p < 0 for p in products):
        return "opposite"
    return None


def recognise(derivation: LayerDerivation, name: str) -> str | None:
    """What the derived ``∂L/∂(name)`` is, read from its structure, or ``None``."""
    l = derivation.l
    form = derivation.gradients[name]
    delta, weight, inputs = nt.delta(l), nt.weight(l), nt.activation(l - 1)
    rhs = form.rhs
    if name == "W":
        if _coupling(rhs, inputs, delta) == "same":
            return (
                f"the correlation of the input {inputs} with {delta} (the output positions summed)"
            )
        return None
    if name == "b":
        return f"{delta} summed over its positions" if rhs.atoms(sp.Sum) else None
    if _coupling(rhs, delta, weight) == "opposite":
        words = f"the full convolution of {delta} with the kernel {weight} rotated by 180°"
        (read,) = _reads(rhs, delta)
        strides = {
            d for index in read.indices for d in sp.fraction(sp.together(index))[1].atoms(sp.Symbol)
        }
        if strides:
            s = ", ".join(sorted(str(x) for x in strides))
            words += (
                f", {delta} dilated by the stride {s} ({s} − 1 zeros between its entries:"
                f" a kernel position reaches an input only where {s} divides the offset)"
            )
        bound = {v for s in rhs.atoms(sp.Sum) for v, _, _ in s.limits}
        offsets = read.free_symbols - bound - set(form.index) - strides - {read.base.label}
        offsets = {x for x in offsets if isinstance(x, sp.Symbol)}
        if offsets:
            words += f", shifted by {', '.join(sorted(str(x) for x in offsets))}"
        return words
    constants = {r.base for r in rhs.atoms(sp.Indexed)} - {delta, weight, inputs}
    if constants and _reads(rhs, delta):
        (m,) = sorted(constants, key=str)[:1]
        return f"routing: each window's {delta} goes to the one position its selector {m} chose"
    if _reads(rhs, delta) and not rhs.has(weight) and rhs.atoms(sp.Sum):
        return f"each window's {delta} shared equally by the positions of the window"
    if _reads(rhs, delta) and not rhs.atoms(sp.Sum):
        return f"{delta} read back in the forward's order (the inverse reshape)"
    return None


def _line(form: IndexForm, lhs: str) -> list[str]:
    lines = [f"{lhs} = {text(form.rhs)}"]
    ranges = _ranges(form.rhs)
    if ranges:
        lines.append(f"    sums over {ranges}")
    outside = ", ".join(f"{b} → {v}" for b, v in form.outside.items())
    if outside:
        lines.append(f"    outside its range: {outside}")
    return lines


def derivation_lines(layer: Layer, l: int) -> list[str]:
    """The lines ``symbp derive`` prints for ``layer`` as textbook layer ``l``."""
    derivation = derive_layer(layer, l)
    form = derivation.forward
    index = ", ".join(str(i) for i in form.index)
    lines = [f"layer {l} ({layer.kind}): forward"]
    lines += ["  " + x for x in _line(form, f"{form.out}[{index}]")]
    if layer.activation is not None:
        lines.append(f"  {nt.activation(l)} = {layer.activation.name}({form.out})")
    lines.append(f"layer {l} ({layer.kind}): derived backward, δ = {nt.delta(l)} = ∂L/∂{form.out}")
    wrt = {"W": nt.weight(l), "b": nt.bias(l), "input": nt.activation(l - 1)}
    for name, grad in derivation.gradients.items():
        generic = ", ".join(str(i) for i in grad.index)
        lines += ["  " + x for x in _line(grad, f"∂L/∂{wrt[name]}[{generic}]")]
        named = recognise(derivation, name)
        if named:
            lines.append(f"    = {named}")
    return lines


def network_lines(network: Sequence[Layer]) -> list[str]:
    """:func:`derivation_lines` of every layer of ``network`` (textbook layers 1, 2, …)."""
    lines: list[str] = []
    for l, layer in enumerate(network, start=1):
        lines += derivation_lines(layer, l)
    return lines
