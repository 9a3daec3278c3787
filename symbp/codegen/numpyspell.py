"""The NumPy spelling of each layer's activation, written into a saved model at save
time, so that :mod:`symbp.serving` predicts without SymPy (which the records need).

Each activation record's formula ``f(x)`` is printed by SymPy's ``NumPyPrinter``
(``strict``: a node it cannot print raises) with ``Max``/``Min`` as nested
``numpy.maximum``/``numpy.minimum`` and ``Piecewise`` as nested ``numpy.where``, so the
text uses only the names :data:`symbp.serving.FUNCTIONS` allows. The vector activation
(the record that is not elementwise: softmax) is its numerator ``f(x)`` divided by
the sum over the layer; the text says so with a ``normalized`` flag.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from ..ops.symbols import X

if TYPE_CHECKING:
    from ..ops.activations import Activation
    from ..spec import Spec


class _Printer(NumPyPrinter):
    """NumPy text in ``x`` built from :data:`symbp.serving.FUNCTIONS` only."""

    def _nested(self, name: str, args: tuple[Any, ...]) -> str:
        first, *rest = (self._print(a) for a in args)
        for item in rest:
            first = f"numpy.{name}({first}, {item})"
        return first

    def _print_Max(self, expr: Any) -> str:
        return self._nested("maximum", expr.args)

    def _print_Min(self, expr: Any) -> str:
        return self._nested("minimum", expr.args)

    def _print_Piecewise(self, expr: Any) -> str:
        *pieces, (last, cond) = expr.args
        if cond is not sp.true:
            raise ValueError("a piecewise activation needs an otherwise branch")
        text = self._print(last)
        for value, condition in reversed(pieces):
            text = f"numpy.where({self._print(condition)}, {self._print(value)}, {text})"
        return text

    def _print_Rational(self, expr: Any) -> str:
        return f"({expr.p}/{expr.q})" if expr.q != 1 else str(expr.p)


def spelling(activation: Activation) -> str:
    """``f(x)`` of ``activation`` as NumPy text (the numerator for the vector one)."""
    formula = activation.formula.xreplace({X: sp.Symbol("x", real=True)})
    formula = formula.xreplace({s: sp.Symbol("x") for s in formula.free_symbols})
    return _Printer({"strict": True, "fully_qualified_modules": True}).doprint(formula)


def table(spec: Spec) -> tuple[list[str], list[bool]]:
    """Per layer: the activation's NumPy text (``""`` where it has none) and whether
    the layer divides by its sum (the vector activation)."""
    from ..serving import parse_activation

    texts, normalized = [], []
    for activation in spec.activations:
        try:
            text = spelling(activation)
            parse_activation(text)  # only what serving evaluates (math.erf is not)
        except (ValueError, TypeError, NotImplementedError):  # strict: no NumPy spelling
            text = ""
        texts.append(text)
        normalized.append(not activation.elementwise)
    return texts, normalized
