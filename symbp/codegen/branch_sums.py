"""Sums over the outputs whose body is piecewise, split so that the kernel can lower them.

A normalised output (softmax) has the Jacobian ``∂a_i/∂z_j = a_i (δ_ij - a_j)``; under a
loss whose derivative is piecewise (the hinge's ``-t_i [a_i t_i < 1]``) the exact output
delta is one sum over the outputs of one ``Piecewise``::

    Σ_i Piecewise((a_i t_i (a_j - δ_ij), a_i t_i < 1), (0, True))

The ``KroneckerDelta`` sits inside a branch, beside a term without it, where
:func:`~symbp.symbolic.generic.collapse` cannot see it, and ``a_j`` sits inside the
branch, where :func:`~symbp.symbolic.generic.pull_out` cannot take it out of the sum.
:func:`split_branch_sums` writes the sum as one sum per term of each branch (a
``Piecewise`` that is that term on its branch and 0 on the others: the same value for
every outcome of the conditions, which keep their order), collapses the ``δ_ij`` terms
and takes the factors that do not hold the sum's index out of the branches::

    a_j Σ_i Piecewise((a_i t_i, a_i t_i < 1), (0, True))
        - Piecewise((a_j t_j, a_j t_j < 1), (0, True))

Each sum is built on its own: SymPy's ``Sum`` folds its body (``piecewise_fold``), so
two ``Piecewise`` terms with the same conditions in one body would merge again.
"""

from __future__ import annotations

import sympy as sp

from ..symbolic.generic import collapse


def split_branch_sums(expr: sp.Expr) -> sp.Expr:
    """``expr`` with every ``Sum`` whose body holds a ``Piecewise`` with a
    ``KroneckerDelta`` split into single-term sums, the deltas collapsed and the factors
    free of the sum's index outside (see the module's docstring); other sums unchanged."""

    def one(s: sp.Sum) -> sp.Expr:
        if len(s.limits) != 1 or not _has_branch_delta(s.function):
            return s
        index = s.limits[0][0]
        out = []
        for term in sp.Add.make_args(sp.expand(s.function)):
            for part in _one_term_branches(sp.piecewise_fold(term)):
                outside, inside = _outside_branches(part, index)
                out.append(outside * collapse(sp.Sum(inside, *s.limits)))
        return sp.Add(*out)

    return expr.replace(lambda e: isinstance(e, sp.Sum), one)


def _has_branch_delta(expr: sp.Expr) -> bool:
    return any(
        isinstance(e, sp.Piecewise) and e.has(sp.KroneckerDelta)
        for e in sp.preorder_traversal(expr)
    )


def _one_term_branches(term: sp.Expr) -> list[sp.Expr]:
    """A ``Piecewise`` as the list of ``Piecewise`` that are one term of one branch and 0
    on every other branch (conditions unchanged, in order); anything else as itself."""
    if not isinstance(term, sp.Piecewise):
        return [term]
    conditions = [c for _, c in term.args]
    parts = []
    for k, (branch, _) in enumerate(term.args):
        for addend in sp.Add.make_args(sp.expand(branch)):
            if addend != 0:
                values = [addend if m == k else sp.Integer(0) for m in range(len(conditions))]
                parts.append(sp.Piecewise(*zip(values, conditions, strict=True)))
    return parts


def _outside_branches(term: sp.Expr, index: sp.Symbol) -> tuple[sp.Expr, sp.Expr]:
    """``(outside, inside)`` with ``term = outside · inside``: for a ``Piecewise``, outside is
    the product of the factors that every nonzero branch has and that do not hold
    ``index`` (a zero branch is 0 times any factor)."""
    if not isinstance(term, sp.Piecewise):
        return sp.Integer(1), term
    branches = [sp.Mul.make_args(sp.factor_terms(branch)) for branch, _ in term.args]
    free = [
        {f for f in factors if not f.has(index)}
        for factors in branches
        if factors != (sp.Integer(0),)
    ]
    common = set.intersection(*free) if free else set()
    if not common:
        return sp.Integer(1), term
    rest = [sp.Mul(*(f for f in factors if f not in common)) for factors in branches]
    conditions = [c for _, c in term.args]
    return sp.Mul(*common), sp.Piecewise(*zip(rest, conditions, strict=True))
