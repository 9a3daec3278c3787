"""The shortest form of a small derivative, for the documents and the kernels.

``sympy.diff`` of a custom formula is correct but rarely the form a textbook
prints: ``d/dx [x/(1+|x|)]`` comes out as ``-x·sign(x)/(|x|+1)² + 1/(|x|+1)``,
which is ``1/(1+|x|)²``. :func:`shortest_form` tries a few rewritings and keeps
the one with the fewest operations (SymPy's ``count_ops``), never one that brings
in a function the expression did not have (a ``Piecewise``, or ``cosh`` for a
sigmoid written out: ``simplify`` likes ``1/(4 cosh²(x/2))``).

Bounded: ``simplify`` runs only on expressions of at most :data:`SIMPLIFY_MAX_OPS`
operations (the per-activation and per-loss derivatives, never the network's
formulas), so its time stays in milliseconds; larger expressions get the cheap
rewritings (``factor``, ``cancel``) only.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

#: ``simplify`` is tried on expressions of at most this many operations.
SIMPLIFY_MAX_OPS = 40
#: No rewriting at all above this many operations.
REWRITE_MAX_OPS = 400


def _sign_times_self(expr: sp.Expr) -> sp.Expr:
    """``x·sign(x)`` is ``|x|`` for real ``x`` (the derivative of ``|x|`` leaves it)."""

    def rewrite(term: sp.Expr) -> sp.Expr:
        factors = list(sp.Mul.make_args(term))
        for s in [f for f in factors if isinstance(f, sp.sign)]:
            arg = s.args[0]
            if arg.is_real and arg in factors:
                factors.remove(s)
                factors.remove(arg)
                factors.append(sp.Abs(arg))
        return sp.Mul(*factors)

    return expr.replace(lambda e: e.is_Mul and e.has(sp.sign), rewrite)


def _functions(expr: sp.Expr) -> set[type]:
    """The kinds of function in ``expr`` (``exp``, ``Abs``, ``Piecewise`` ...)."""
    return {type(f) for f in expr.atoms(sp.Function)} | (
        {sp.Piecewise} if expr.has(sp.Piecewise) else set()
    )


def shortest_form(expr: sp.Expr) -> sp.Expr:
    """``expr`` in the form with the fewest operations among a few exact rewritings."""
    ops = sp.count_ops(expr)
    if ops > REWRITE_MAX_OPS:
        return expr
    base = _sign_times_self(expr)
    rewrites: list[Callable[[sp.Expr], sp.Expr]] = [
        lambda e: e,
        lambda e: sp.factor(sp.together(e)),
        sp.cancel,
        sp.factor_terms,
    ]
    if ops <= SIMPLIFY_MAX_OPS:
        rewrites.append(sp.simplify)
    candidates = [expr]
    for rewrite in rewrites:
        try:
            candidates.append(rewrite(base))
        except (sp.PolynomialError, NotImplementedError, TypeError):  # pragma: no cover
            continue
    functions = _functions(expr) | {sp.Abs}
    allowed = [c for c in candidates if _functions(c) <= functions and not c.has(sp.nan)]
    return min(allowed, key=lambda c: (sp.count_ops(c), len(str(c))))


__all__ = ["shortest_form"]
