"""Derivation of a layer's backward from its index form, for shifted indices.

A layer record gives its forward once, ``z^l[index] = rhs`` (:class:`~symbp.layers.IndexForm`),
with sizes, stride and padding as symbols. For each array ``X`` the layer reads (its input
``a^{l-1}`` and its parameters) the engine differentiates ``rhs`` with respect to a
generic element ``X[g]``, sums the result against ``δ^l`` over the output index,

    ∂L/∂X[g] = Σ_index δ^l[index] · ∂z^l[index]/∂X[g],

and collapses the Kronecker deltas that ``diff`` produces, **one summation index at a
time** (a convolution's derivative carries one delta per axis, each inside a sum of
several indices). Collapsing index ``v`` of a delta ``[α·v + β = γ]`` replaces ``v`` by
``(γ − β)/α`` and keeps what the sum over ``v`` knew:

- a *divisibility* condition ``α | γ − β`` when ``α`` is not ±1 (a stride): never a
  fractional index;
- the *range guard* ``lo ≤ (γ − β)/α ≤ hi`` of ``v``, dropped only where it cannot fail
  (the bounds of the other indices prove it) or where the term reads an array that is
  zero outside its range at exactly that position along an axis of exactly that range
  (``δ^l`` is zero outside its range: there is no such output; a padded input is zero
  outside by the record's :attr:`~symbp.layers.IndexForm.outside`). A guard is never
  dropped because of a constant factor (average pooling's ``1/k²``).

Of the indices a delta could be collapsed over, the engine takes the one whose guard it
can drop, then an index of the output (the chain rule's sum), then one with coefficient
±1. For a convolution's input gradient that collapses the output position and keeps the
kernel position: the sum runs over the ``kh·kw`` kernel positions that touched each
input, not over the whole output map (the cost of evaluating it).

The derivation never substitutes sizes, so its cost does not depend on them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import sympy as sp

from ..layers.base import IndexForm, Layer
from . import notation as nt

Limit = tuple[sp.Symbol, sp.Expr, sp.Expr]

#: The generic element's indices before they get their display names.
_GENERIC = tuple(sp.Symbol(f"g_{d}", integer=True, nonnegative=True) for d in range(8))
#: Display names of a generic element of feature maps (channel, row, column).
MAP_NAMES = ("c", "y", "x")


@dataclass
class _Term:
    """One product of ``factors`` under ``conditions``, summed over ``limits``."""

    limits: list[Limit]
    factors: list[sp.Expr]
    conditions: list[sp.Basic] = field(default_factory=list)

    def times(self, other: _Term) -> _Term:
        return _Term(
            self.limits + other.limits,
            self.factors + other.factors,
            self.conditions + other.conditions,
        )

    def expr(self) -> sp.Expr:
        body = sp.Mul(*self.factors)
        conditions = [c for c in self.conditions if c is not sp.true]
        if conditions:
            body = sp.Piecewise((body, sp.And(*conditions)), (0, True))
        return sp.Sum(body, *self.limits) if self.limits else body


def _terms(expr: sp.Expr) -> list[_Term]:
    """``expr`` as a list of products, nested sums flattened into one list of limits."""
    out: list[_Term] = []
    for term in sp.Add.make_args(sp.expand(expr)):
        out.extend(_product(term))
    return out


def _product(term: sp.Expr) -> list[_Term]:
    if isinstance(term, sp.Sum):
        limits = [(v, lo, hi) for v, lo, hi in term.limits]
        return [_Term(limits + t.limits, t.factors, t.conditions) for t in _terms(term.function)]
    if isinstance(term, sp.Mul):
        parts: list[_Term] = [_Term([], [])]
        for factor in term.args:
            options = (
                _terms(factor) if isinstance(factor, sp.Sum | sp.Add) else [_Term([], [factor])]
            )
            parts = [p.times(o) for p in parts for o in options]
        return parts
    return [_Term([], [term])]


def _linear(expr: sp.Expr, var: sp.Symbol) -> tuple[sp.Expr, sp.Expr] | None:
    """``(α, β)`` with ``expr = α·var + β`` (``α`` free of ``var``), else ``None``."""
    expr = sp.expand(expr)
    alpha = sp.expand(sp.diff(expr, var))
    if alpha == 0 or alpha.has(var):
        return None
    beta = sp.expand(expr - alpha * var)
    if beta.has(var):
        return None
    return alpha, beta


def _extremes(
    expr: sp.Expr, ranges: Mapping[sp.Symbol, tuple[sp.Expr, sp.Expr]]
) -> tuple[sp.Expr, sp.Expr] | None:
    """The least and greatest value of ``expr`` over the ranged indices, if linear in them."""
    low = high = sp.expand(expr)
    for var in expr.free_symbols & set(ranges):
        parts = _linear(expr, var)
        if parts is None or any(parts[0].has(other) for other in ranges):
            return None
        alpha = parts[0]
        lo, hi = ranges[var]
        if alpha.is_nonnegative:
            low, high = low.xreplace({var: lo}), high.xreplace({var: hi})
        elif alpha.is_nonpositive:
            low, high = low.xreplace({var: hi}), high.xreplace({var: lo})
        else:
            return None
    return sp.expand(low), sp.expand(high)


def _provable(
    value: sp.Expr, lo: sp.Expr, hi: sp.Expr, ranges: Mapping[sp.Symbol, tuple[sp.Expr, sp.Expr]]
) -> bool:
    """Whether ``lo ≤ value ≤ hi`` holds for every value of the ranged indices."""
    extremes = _extremes(value, ranges)
    if extremes is None:
        return False
    low, high = extremes
    return bool(sp.expand(low - lo).is_nonnegative) and bool(sp.expand(hi - high).is_nonnegative)


def _zero_read(
    factors: Iterable[sp.Expr],
    value: sp.Expr,
    lo: sp.Expr,
    hi: sp.Expr,
    zero_outside: Mapping[sp.IndexedBase, sp.Expr],
    shapes: Mapping[sp.IndexedBase, tuple[sp.Expr, ...]],
) -> bool:
    """Whether a factor reads a zero-outside array at ``value`` along an axis ranging ``lo..hi``."""
    for f in factors:
        if not isinstance(f, sp.Indexed) or zero_outside.get(f.base) != 0 or f.base not in shapes:
            continue
        for index, size in zip(f.indices, shapes[f.base], strict=False):
            if lo == 0 and sp.expand(size - 1 - hi) == 0 and sp.expand(index - value) == 0:
                return True
    return False


def _collapse_term(
    term: _Term,
    ranges: Mapping[sp.Symbol, tuple[sp.Expr, sp.Expr]],
    zero_outside: Mapping[sp.IndexedBase, sp.Expr],
    shapes: Mapping[sp.IndexedBase, tuple[sp.Expr, ...]],
    outer: frozenset[sp.Symbol],
) -> _Term | None:
    """Collapse every delta of ``term`` over one of its summation indices, one at a time."""
    while True:
        best: tuple[tuple[int, int, int], sp.Expr, Limit, sp.Expr, sp.Expr, bool] | None = None
        for kd in (f for f in term.factors if isinstance(f, sp.KroneckerDelta)):
            difference = kd.args[0] - kd.args[1]
            for limit in term.limits:
                var, lo, hi = limit
                parts = _linear(difference, var)
                if parts is None or any(parts[0].has(v) for v, _, _ in term.limits):
                    continue
                num, den = -parts[1], parts[0]
                if den.could_extract_minus_sign():
                    num, den = -num, -den
                value = num / den
                rest = [f.xreplace({var: value}) for f in term.factors if f is not kd]
                known = dict(ranges) | {v: (a, b) for v, a, b in term.limits if v != var}
                droppable = _provable(value, lo, hi, known) or _zero_read(
                    rest, value, lo, hi, zero_outside, shapes
                )
                key = (int(not droppable), int(var not in outer), int(den != 1))
                if best is None or key < best[0]:
                    best = (key, kd, limit, num, den, droppable)
        if best is None:
            return term
        _, kd, (var, lo, hi), num, den, droppable = best
        value = num / den
        conditions = [c.xreplace({var: value}) for c in term.conditions]
        if den != 1:
            conditions.append(sp.Eq(sp.Mod(num, den), 0))
        if not droppable:
            conditions += [sp.Le(lo, value), sp.Le(value, hi)]
        if any(c is sp.false for c in conditions):
            return None
        term = _Term(
            [lim for lim in term.limits if lim[0] != var],
            [f.xreplace({var: value}) for f in term.factors if f is not kd],
            [c for c in conditions if c is not sp.true],
        )


def collapse_sums(
    expr: sp.Expr,
    ranges: Mapping[sp.Symbol, tuple[sp.Expr, sp.Expr]],
    zero_outside: Mapping[sp.IndexedBase, sp.Expr],
    shapes: Mapping[sp.IndexedBase, tuple[sp.Expr, ...]],
    outer: Iterable[sp.Symbol] = (),
) -> sp.Expr:
    """``expr`` with every Kronecker delta inside a (multi-index) sum collapsed.

    ``ranges`` gives the inclusive range of each free index (a generic element's);
    ``zero_outside`` the arrays whose reads outside their ``shapes`` give zero; ``outer``
    the indices of the chain rule's sum, collapsed in preference to a kernel's.
    """
    keep = frozenset(outer)
    terms = []
    for term in _terms(expr):
        done = _collapse_term(term, ranges, zero_outside, shapes, keep)
        if done is not None:
            terms.append(done.expr())
    return sp.Add(*terms)


@dataclass(frozen=True)
class LayerDerivation:
    """What the engine derived for textbook layer ``l`` from the record's forward.

    ``forward`` is the record's form; ``evaluated`` its right-hand side with the deltas a
    kind writes into its forward (flatten's) collapsed, as the evaluator computes it.
    ``gradients`` maps ``"W"``, ``"b"`` (where the layer has them) and ``"input"`` to
    ``∂L/∂W^l``, ``∂L/∂b^l`` and ``∂L/∂a^{l-1}`` as index forms: ``out`` is ``dW^l``,
    ``db^l`` or ``da^{l-1}``, ``index`` the generic element, ``rhs`` the collapsed sum in
    ``δ^l`` (which reads zero outside its range), ``outside`` what each read outside
    gives.
    """

    layer: Layer
    l: int
    forward: IndexForm
    evaluated: sp.Expr
    gradients: Mapping[str, IndexForm]
    shapes: Mapping[sp.IndexedBase, tuple[sp.Expr, ...]]


def gradient_base(name: str, l: int) -> sp.IndexedBase:
    """``dW^l``, ``db^l`` or ``da^{l-1}`` (``name``: ``W``, ``b`` or ``input``)."""
    if name == "input":
        return sp.IndexedBase(f"da^{l - 1}", real=True)
    return sp.IndexedBase(f"d{name.lower() if name == 'b' else name}^{l}", real=True)


def infer_shapes(form: IndexForm) -> dict[sp.IndexedBase, tuple[sp.Expr, ...]]:
    """The form's symbolic shapes, completed from the sums' limits where it gives none.

    An axis read at a bare summation index ranging ``0..n − 1`` has size ``n``; the output's
    axes, and any axis no limit names, get a fresh size symbol ``N_{base,d}``.
    """
    shapes = dict(form.shapes)
    limits: dict[sp.Symbol, sp.Expr] = {}
    for s in form.rhs.atoms(sp.Sum):
        for var, lo, hi in s.limits:
            if lo == 0:
                limits[var] = hi + 1
    reads: dict[sp.IndexedBase, list[sp.Expr | None]] = {}
    for read in form.rhs.atoms(sp.Indexed):
        axes = reads.setdefault(read.base, [None] * len(read.indices))
        for d, index in enumerate(read.indices):
            if axes[d] is None and index in limits:
                axes[d] = limits[index]
    reads.setdefault(form.out, [None] * len(form.index))
    for base, axes in reads.items():
        if base in shapes:
            continue
        shapes[base] = tuple(
            size
            if size is not None
            else sp.Symbol(f"N_{{{base},{d}}}", integer=True, positive=True)
            for d, size in enumerate(axes)
        )
    return shapes


def _names(
    read_indices: Sequence[sp.Expr] | None, rank: int, bound: set[str]
) -> tuple[sp.Symbol, ...]:
    """Display names of a generic element: the forward's own letters where it reads the
    array at plain indices, else channel/row/column, else ``g_d``; never a bound name."""
    if read_indices is not None and all(isinstance(x, sp.Symbol) for x in read_indices):
        names = [str(x) for x in read_indices]
    elif rank == 3:
        names = list(MAP_NAMES)
    else:
        names = [f"g_{d}" for d in range(rank)]
    out = []
    for name in names:
        while name in bound:
            name += "'"
        out.append(sp.Symbol(name, integer=True, nonnegative=True))
    return tuple(out)


def _bound_names(expr: sp.Expr) -> set[str]:
    return {str(v) for s in expr.atoms(sp.Sum) for v, _, _ in s.limits}


def derive_gradients(
    form: IndexForm, l: int, parameters: Sequence[str]
) -> tuple[dict[str, IndexForm], dict[sp.IndexedBase, tuple[sp.Expr, ...]]]:
    """``∂L/∂X`` for each named parameter (``W``, ``b``) of ``form`` and for its input, and
    the symbolic shapes (completed by :func:`infer_shapes`, ``δ^l`` added)."""
    shapes = infer_shapes(form)
    delta = nt.delta(l)
    out_shape = shapes[form.out]
    shapes[delta] = out_shape
    zero_outside = {base: value for base, value in form.outside.items() if value == 0}
    zero_outside[delta] = sp.Integer(0)
    outer = [(idx, sp.Integer(0), n - 1) for idx, n in zip(form.index, out_shape, strict=True)]
    targets = {"W": nt.weight(l), "b": nt.bias(l)}
    wanted = [(name, targets[name]) for name in parameters]
    wanted.append(("input", nt.activation(l - 1)))
    gradients: dict[str, IndexForm] = {}
    for name, base in wanted:
        rank = len(shapes[base])
        generic = _GENERIC[:rank]
        local = sp.diff(form.rhs, base[generic])
        total = sp.Sum(delta[form.index] * local, *outer)
        ranges = {g: (sp.Integer(0), n - 1) for g, n in zip(generic, shapes[base], strict=True)}
        rhs = collapse_sums(total, ranges, zero_outside, shapes, form.index)
        reads = [r.indices for r in form.rhs.atoms(sp.Indexed) if r.base == base]
        names = _names(reads[0] if len(reads) == 1 else None, rank, _bound_names(rhs))
        gradients[name] = IndexForm(
            gradient_base(name, l),
            names,
            rhs.xreplace(dict(zip(generic, names, strict=True))),
            sizes=form.sizes,
            outside=dict(form.outside) | {delta: sp.Integer(0)},
            shapes=shapes,
        )
    return gradients, shapes


def derive_layer(layer: Layer, l: int) -> LayerDerivation:
    """The derivation of ``layer`` as textbook layer ``l``: its parameters are the
    arrays ``W^l`` / ``b^l`` its forward reads (:mod:`.notation`'s names)."""
    form = layer.forward(l)
    parameters = [name for name in ("W", "b") if form.rhs.has(_parameter(name, l))]
    gradients, shapes = derive_gradients(form, l, parameters)
    zero_outside = {base: value for base, value in form.outside.items() if value == 0}
    return LayerDerivation(
        layer=layer,
        l=l,
        forward=form,
        evaluated=collapse_sums(form.rhs, {}, zero_outside, shapes),
        gradients=gradients,
        shapes=shapes,
    )


def _parameter(name: str, l: int) -> sp.IndexedBase:
    return nt.weight(l) if name == "W" else nt.bias(l)
