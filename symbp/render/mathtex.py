"""LaTeX for documents: SymPy's printer in the documents' notation, with numbers.

:class:`DocLatexPrinter` extends :class:`~symbp.render.printers.SymbpLatexPrinter`
with the conventions a derivation document states once in its notation table:

- indices are 1-based: the index form's ``Σ_{k=0}^{n_l - 1}`` prints as
  ``Σ_{k=1}^{n_l}`` (the summed index is a bound variable, so only its range
  is shifted), matching the explicit symbols ``w^{2}_{11}``;
- ``ln`` for the natural logarithm, ``\\mathbf{1}[x > 0]`` for the step function;
- ``names`` renames symbols (the network outputs ``a^L_j`` print as ``\\hat{y}_j``),
  and inside :func:`text_names_in` the text's own names (spec ``names:``) win;
- ``values`` substitutes numbers for symbols *while printing*, so a formula
  with numbers keeps its shape (``0.521 (1 - 0.521)``) instead of collapsing
  to one number; negative values are parenthesised (once: ``\\tanh(-0.2)``,
  never ``\\tanh((-0.2))``), products get ``\\cdot``, and terms of a sum
  that are zero with the numbers (``(1 - t) \\ln(1 - y)`` at ``t = 1``) are
  dropped;
- sums are written in textbook order, positive terms first: ``y - t``, not
  SymPy's ``-t + y``;
- ``ranks`` (symbol -> rank) orders an update rule as the textbooks write it:
  in a sum, after the sign, terms by the lowest rank of the symbols they hold
  (state, then gradient, then parameter: ``β₁ m + (1 − β₁) g``); in a product,
  the factors that hold no ranked symbol (the coefficients) first, then by rank
  (``(1 − β₁) g``, never ``g (1 − β₁)``);
- a power of a name that is itself a fraction (``∂E/∂θ``) is parenthesised:
  ``(∂E/∂θ)²``, never ``∂E/∂θ²``.

Numbers are rounded for display only (:func:`tex_number`); the values passed
in stay exact.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

import sympy as sp

from .escape import Tex
from .printers import SymbpLatexPrinter

#: Significant digits shown by default (seed 001's figures print three).
DIGITS = 3

#: The text's own names of symbols (spec ``names:``) while a document is built.
_TEXT_NAMES: ContextVar[Mapping[sp.Basic, str] | None] = ContextVar(
    "symbp_text_names", default=None
)


@contextmanager
def text_names_in(names: Mapping[sp.Basic, str]) -> Iterator[None]:
    """Print ``names`` (symbol -> trusted LaTeX) for those symbols inside the block.

    The document model is built inside it (:func:`symbp.render.model.build`), so
    every formula, table and diagram speaks the text's notation.
    """
    token = _TEXT_NAMES.set(dict(names))
    try:
        yield
    finally:
        _TEXT_NAMES.reset(token)


#: Exact numbers below this print in powers of ten (``ε = 10^{-8}``), as rounded ones do.
SMALLEST_FIXED = sp.Rational(1, 10**4)


def display_number(value: sp.Expr | float | int, digits: int = DIGITS) -> str:
    """``value`` as shown in documents (plain text, ``1.23e-05`` style).

    An exact number whose decimal expansion ends within ``digits`` significant
    digits is shown exactly (``5.3``, ``-2``, ``0.5``; below :data:`SMALLEST_FIXED`
    as ``1e-08``); any other number is rounded to ``digits`` significant digits,
    trailing zeros kept (``0.240``).
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, sp.Integer):
        return str(int(value))
    if isinstance(value, sp.Rational):
        exact = _terminating(value)
        if exact is not None and len(exact.lstrip("-0.").replace(".", "")) <= digits:
            if abs(value) < SMALLEST_FIXED:  # 1e-08, not 0.00000001
                return f"{float(value):.{digits}g}"
            return exact
    number = float(value)
    if number == 0:
        return "0"
    text = f"{number:#.{digits}g}"
    mantissa, e, exponent = text.partition("e")
    mantissa = mantissa.rstrip(".")
    return f"{mantissa}e{exponent}" if e else mantissa


def _terminating(value: sp.Rational) -> str | None:
    """The exact decimal of ``value`` if it terminates (denominator 2^a 5^b), else None."""
    q = int(value.q)
    twos = fives = 0
    while q % 2 == 0:
        q //= 2
        twos += 1
    while q % 5 == 0:
        q //= 5
        fives += 1
    if q != 1:
        return None
    places = max(twos, fives)
    scaled = abs(int(value.p)) * 10**places // int(value.q)
    sign = "-" if value < 0 else ""
    whole, frac = divmod(scaled, 10**places)
    text = f"{whole}" + (f".{frac:0{places}d}".rstrip("0") if places else "")
    return sign + text.rstrip(".")


def tex_number(value: sp.Expr | float | int, digits: int = DIGITS) -> str:
    """``value`` as :func:`display_number` shows it, ``1.2 \\times 10^{-5}`` style
    (an exact power of ten as ``10^{-8}``)."""
    text = display_number(value, digits)
    if "e" in text:
        mantissa, exponent = text.split("e")
        if mantissa.lstrip("-") == "1":  # an exact power of ten: 10^{-8}
            return rf"{mantissa[:-1]}10^{{{int(exponent)}}}"
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return "0" if text == "-0" else text


def plain_number(value: sp.Expr | float | int, digits: int = DIGITS) -> str:
    """``value`` rounded for plain text (``1.2e-05`` style)."""
    text = display_number(value, digits)
    return "0" if text == "-0" else text


class DocLatexPrinter(SymbpLatexPrinter):
    """The documents' LaTeX printer (see the module docstring)."""

    _default_settings = {  # noqa: RUF012 - SymPy's printers declare settings this way
        **SymbpLatexPrinter._default_settings,
        "ln_notation": True,
        "long_frac_ratio": 1,
        "names": None,
        "values": None,
        "digits": DIGITS,
        "ranks": None,
    }

    def __init__(self, settings: Mapping[str, object] | None = None) -> None:
        settings = dict(settings or {})
        if settings.get("values") is not None:
            settings.setdefault("mul_symbol", "dot")
        super().__init__(settings)
        self._bare = 0  # > 0 while printing a function's only argument

    def _value_of(self, expr: sp.Basic) -> str | None:
        values = self._settings["values"]
        if values is None or expr not in values:
            return None
        value = values[expr]
        text = tex_number(value, self._settings["digits"])
        return rf"\left({text}\right)" if text.startswith("-") and not self._bare else text

    def _print(self, expr: sp.Basic, **kwargs: object) -> str:
        """A function of one number prints its own parentheses: ``\\tanh(-0.2)``."""
        if (
            isinstance(expr, sp.Function)
            and len(expr.args) == 1
            and self._settings["values"] is not None
            and expr.args[0] in self._settings["values"]
        ):
            self._bare += 1
            try:
                return super()._print(expr, **kwargs)
            finally:
                self._bare -= 1
        return super()._print(expr, **kwargs)

    def _rank(self, expr: sp.Basic) -> int:
        """The lowest rank of the ranked symbols in ``expr`` (unranked: after all)."""
        ranks = self._settings["ranks"] or {}
        held = [ranks[s] for s in expr.free_symbols if s in ranks]
        return min(held, default=len(ranks) + 1)

    def _print_Add(self, expr: sp.Add, order: str | None = None) -> str:
        terms = list(self._as_ordered_terms(expr, order=order))
        values = self._settings["values"]
        if values is not None:
            kept = [t for t in terms if not _is_zero(t, values)]
            terms = kept or terms[:1]
        signed = [_signed(t) for t in terms]
        if self._settings["ranks"]:
            signed.sort(key=lambda s: (s[0], self._rank(s[1])))
        elif self._settings["order"] != "rev-lex":
            signed = [s for s in signed if not s[0]] + [s for s in signed if s[0]]
        out = ""
        for i, (negative, term) in enumerate(signed):
            if negative:
                out += " - " if i else "- "
            elif i:
                out += " + "
            term_tex = self._print(term)
            if self._needs_add_brackets(term):
                term_tex = rf"\left({term_tex}\right)"
            out += term_tex
        return out

    def _print_Mul(self, expr: sp.Mul) -> str:
        """With ``ranks``: coefficients first, then the factors by rank (``(1 - β₁) g``)."""
        if not self._settings["ranks"]:
            return super()._print_Mul(expr)
        if expr.could_extract_minus_sign():
            inner = self._print_Mul(-expr) if (-expr).is_Mul else self._print(-expr)
            return "- " + (rf"\left({inner}\right)" if (-expr).is_Add else inner)
        coefficient = len(self._settings["ranks"]) + 1  # _rank of a factor with none ranked
        factors = sorted(expr.args, key=lambda f: (r := self._rank(f)) != coefficient and r + 1)
        unevaluated = sp.Mul(*factors, evaluate=False)
        order = self._settings["order"]
        self._settings["order"] = "none"  # print the factors as sorted
        try:
            return super()._print_Mul(unevaluated)
        finally:
            self._settings["order"] = order

    def _print_Symbol(self, expr: sp.Symbol, style: str = "plain") -> str:
        shown = self._value_of(expr)
        if shown is not None:
            return shown
        text = (_TEXT_NAMES.get() or {}).get(expr)
        if text is not None:
            return text
        names = self._settings["names"]
        if names and expr in names:
            return names[expr]
        return super()._print_Symbol(expr, style)

    def _print_Indexed(self, expr: sp.Indexed) -> str:
        shown = self._value_of(expr)
        return shown if shown is not None else super()._print_Indexed(expr)

    def _print_Sum(self, expr: sp.Sum) -> str:
        (var, low, high), *rest = expr.limits
        if not rest and low == 0:
            expr = sp.Sum(expr.function, (var, 1, high + 1))
        return super()._print_Sum(expr)

    def _helper_print_standard_power(self, expr: sp.Pow, template: str) -> str:
        if isinstance(expr.base, sp.Indexed) or (
            expr.base.is_Symbol
            and (self._value_of(expr.base) is not None or r"\frac" in self._print(expr.base))
        ):  # a^{1}_{j} or ∂E/∂θ squared: (a^{1}_{j})^{2}, never a double superscript
            base = self._print(expr.base)
            if not base.startswith(r"\left("):
                base = rf"\left({base}\right)"
            return template % (base, self._print(expr.exp))
        return super()._helper_print_standard_power(expr, template)

    def _print_Heaviside(self, expr: sp.Heaviside, exp: str | None = None) -> str:
        inner = self._print(expr.args[0])
        tex = rf"\mathbf{{1}}\left[{inner} > 0\right]"
        return tex if exp is None else rf"{tex}^{{{exp}}}"

    def _print_KroneckerDelta(self, expr: sp.KroneckerDelta, exp: str | None = None) -> str:
        i, j = (self._print(a) for a in expr.args)
        tex = rf"\delta_{{{i} {j}}}"
        return tex if exp is None else rf"\left({tex}\right)^{{{exp}}}"


def _negative(term: sp.Expr) -> bool:
    return bool(term.could_extract_minus_sign())


def _signed(term: sp.Expr) -> tuple[bool, sp.Expr]:
    """``term`` as a sign and a magnitude; a factor ``t - 1`` is written ``-(1 - t)``."""
    if _negative(term):
        return True, -term
    if term.is_Mul:
        adds = [f for f in term.args if f.is_Add]
        if len(adds) == 1 and adds[0].as_coeff_Add()[0].is_negative:
            f = adds[0]
            return True, sp.Mul(*[-a if a is f else a for a in term.args], evaluate=False)
    return False, term


def _is_zero(term: sp.Expr, values: Mapping[sp.Basic, sp.Expr]) -> bool:
    """Whether ``term`` is exactly zero with ``values`` substituted."""
    if not term.free_symbols & set(values):
        return False
    return bool(term.xreplace(dict(values)) == 0)


_DOUBLE_PARENS = re.compile(r"\\left\(\\left\(([^()]*)\\right\)\\right\)")


def tex(
    expr: sp.Basic,
    *,
    names: Mapping[sp.Basic, str] | None = None,
    values: Mapping[sp.Basic, sp.Expr] | None = None,
    digits: int = DIGITS,
    order: str | None = None,
    ranks: Mapping[sp.Basic, int] | None = None,
) -> Tex:
    """LaTeX of ``expr`` (numbers substituted from ``values`` where given).

    ``order="rev-lex"`` prints ``θ - η g`` rather than SymPy's ``-η g + θ``;
    ``ranks`` orders sums and products as update rules are written (module docstring).
    A negative number that is a function's whole argument is parenthesised once.
    """
    settings = {
        "names": names,
        "values": values,
        "digits": digits,
        "order": order,
        "ranks": ranks,
    }
    text = DocLatexPrinter(settings).doprint(expr)
    if values is not None:
        text = _DOUBLE_PARENS.sub(r"\\left(\1\\right)", text)
    return Tex(text)


def factor_tex(
    expr: sp.Basic,
    *,
    names: Mapping[sp.Basic, str] | None = None,
    values: Mapping[sp.Basic, sp.Expr] | None = None,
    digits: int = DIGITS,
) -> Tex:
    """Like :func:`tex`, parenthesised where it is a sum or negative (a factor of a product)."""
    text = tex(expr, names=names, values=values, digits=digits)
    if isinstance(expr, sp.Add) or text.startswith("-"):
        return Tex(rf"\left({text}\right)")
    return text


def product_tex(factors: Sequence[str], sep: str = r" \cdot ") -> Tex:
    """Factors (already LaTeX) written as one product."""
    return Tex(sep.join(factors))


def number_tex(
    value: sp.Expr | float | int, digits: int = DIGITS, *, paren: bool | str = False
) -> Tex:
    """One rounded number as LaTeX.

    ``paren=True`` wraps it in parentheses, ``paren="negative"`` only when it is
    negative (a term of a sum: ``5.3 + (-2)``), ``False`` never.
    """
    text = tex_number(value, digits)
    if paren is True or (paren == "negative" and text.startswith("-")):
        return Tex(rf"\left({text}\right)")
    return Tex(text)
