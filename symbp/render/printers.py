"""SymPy printer subclasses shared by every text output.

Index-form symbols are ``IndexedBase("w^2")[j, k]``; the printers show them as
the textbooks do, ``w^{2}_{jk}`` / ``w²ⱼₖ``, by printing the equivalent plain
symbol. Single-variable derivatives print as ``∂L/∂w`` fractions. Numbers can be
shown rounded (:func:`fmt_number`) while the values underneath stay exact.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.pretty.pretty import PrettyPrinter
from sympy.printing.pretty.stringpict import prettyForm, stringPict

_GREEK = {"delta": "δ"}
_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_SUB = {
    **{str(d): chr(0x2080 + d) for d in range(10)},
    "i": "ᵢ",
    "j": "ⱼ",
    "k": "ₖ",
    "e": "ₑ",
    "p": "ₚ",
    "q": "q",
    ",": ",",
}


def _unicode_name(base: str, indices: list[str]) -> str:
    name, _, layer = base.partition("^")
    head = _GREEK.get(name, name) + layer.translate(_SUP)
    text = "".join(indices) if all(len(i) == 1 for i in indices) else ",".join(indices)
    if all(c in _SUB for c in text):
        return head + "".join(_SUB[c] for c in text)
    return f"{head}[{text}]"


def indexed_as_symbol(expr: sp.Indexed) -> sp.Symbol:
    """``w^2[j, k]`` -> the symbol ``w^2_jk`` (indices joined; commas if any is compound)."""
    parts = [str(i) for i in expr.indices]
    sep = "," if any(len(p) > 1 for p in parts) else ""
    base = str(expr.base.label)
    return sp.Symbol(f"{base}_{sep.join(parts)}")


class SymbpLatexPrinter(LatexPrinter):
    """LaTeX in textbook notation: ``w^{2}_{jk}``, ``\\frac{\\partial L}{\\partial w}``."""

    def _print_Indexed(self, expr: sp.Indexed) -> str:
        return self._print(indexed_as_symbol(expr))

    def _print_IndexedBase(self, expr: sp.IndexedBase) -> str:
        return self._print(sp.Symbol(str(expr.label)))

    def _print_Derivative(self, expr: sp.Derivative) -> str:
        if len(expr.variables) == 1 and isinstance(expr.expr, (sp.Symbol, sp.Indexed)):
            return (
                rf"\frac{{\partial {self._print(expr.expr)}}}"
                rf"{{\partial {self._print(expr.variables[0])}}}"
            )
        return super()._print_Derivative(expr)

    def _print_Heaviside(self, expr: sp.Heaviside, exp: str | None = None) -> str:
        inner = self._print(expr.args[0])
        tex = rf"\mathbb{{1}}\left[{inner} > 0\right]"
        return tex if exp is None else rf"{tex}^{{{exp}}}"


class SymbpPrettyPrinter(PrettyPrinter):
    """Unicode in textbook notation: ``w²ⱼₖ``, ``δ²ⱼ``, ``∂L/∂w``, ``σ(z)``."""

    def _print_Indexed(self, expr: sp.Indexed):  # type: ignore[no-untyped-def]
        name = _unicode_name(str(expr.base.label), [str(i) for i in expr.indices])
        return prettyForm(name)

    def _print_Symbol(self, e: sp.Symbol, bold_name: bool = False):  # type: ignore[no-untyped-def]
        name, sep, rest = e.name.partition("^")
        if sep and "_" in rest:
            layer, _, sub = rest.partition("_")
            if layer.isdigit():
                return prettyForm(
                    _unicode_name(f"{name}^{layer}", sub.split(",") if "," in sub else list(sub))
                )
        return super()._print_Symbol(e, bold_name)

    def _print_Derivative(self, expr: sp.Derivative):  # type: ignore[no-untyped-def]
        if len(expr.variables) == 1 and isinstance(expr.expr, (sp.Symbol, sp.Indexed)):
            num = _plain(self._print(expr.expr))
            den = _plain(self._print(expr.variables[0]))
            return prettyForm(f"∂{num}/∂{den}")
        return super()._print_Derivative(expr)

    def _print_Function(self, expr, sort=False, func_name=None, left="(", right=")"):  # type: ignore[no-untyped-def]
        func_name = getattr(type(expr), "pretty_name", None) or func_name  # the record's
        return super()._print_Function(expr, sort=sort, func_name=func_name, left=left, right=right)


def pretty_join(parts: list[sp.Basic | str], **settings: object) -> str:
    """Unicode of ``parts`` laid side by side (2-D forms aligned), strings taken literally."""
    settings.setdefault("use_unicode", True)
    printer = SymbpPrettyPrinter(settings)
    forms = [prettyForm(p) if isinstance(p, str) else _parenthesised(printer, p) for p in parts]
    return str(prettyForm(*stringPict.next(*forms)))


def _parenthesised(printer: SymbpPrettyPrinter, expr: sp.Basic):  # type: ignore[no-untyped-def]
    form = printer._print(expr)
    return prettyForm(*form.parens()) if isinstance(expr, sp.Add) else form


def _plain(pform: object) -> str:
    return str(pform).replace("\n", "")


def latex(expr: sp.Basic, **settings: object) -> str:
    """LaTeX of ``expr`` in symbp's notation."""
    return SymbpLatexPrinter(settings).doprint(expr)


def pretty(expr: sp.Basic, **settings: object) -> str:
    """Unicode of ``expr`` in symbp's notation (no line wrapping)."""
    settings.setdefault("use_unicode", True)
    settings.setdefault("wrap_line", False)
    return SymbpPrettyPrinter(settings).doprint(expr)


def fmt_number(value: sp.Expr | float, digits: int = 6) -> str:
    """``value`` rounded to ``digits`` significant digits (exact integers as they are)."""
    if isinstance(value, sp.Expr) and value.is_Integer:
        return str(int(value))
    number = float(value)
    if number == 0:
        return "0"
    text = f"{number:.{digits}g}"
    return text
