"""The fast evaluation of a batch: every example at once, in arrays.

The reference (:mod:`.reference`) interprets the generic formulas one SymPy number
at a time; for a batch of hundreds of examples that is minutes a step. This runner
evaluates the same network in its matrix form (the form the documents state):

    z^l = a^{l-1} (W^l)ᵀ + b^l,   a^l = f_l(z^l)          (one row per example)
    δ^L = scale · ∂ℓ/∂a^L ⊙ f_L'(z^L)   (normalised: δ^L = a ⊙ (g − Σ_i g_i a_i))
    δ^l = (δ^{l+1} W^{l+1}) ⊙ f_l'(z^l),   ∂L/∂W^l = (δ^l)ᵀ a^{l-1},   ∂L/∂x = δ^1 W^1

with ``f_l``, ``f_l'``, ``ℓ`` and ``∂ℓ/∂y`` taken from the spec's activation and
loss records (the symbolic model's own formulas, lambdified). Three arithmetics:

- ``exact``: mpmath numbers at :data:`~.instantiate.PRECISION` significant digits
  in NumPy object arrays (rationals become 60-digit floats; the reference keeps
  them rational, so exact evaluation uses this runner only for batches of at least
  :data:`FAST_ROWS` rows, or when asked to);
- ``float64`` / ``float32``: IEEE arithmetic in that format, as NumPy computes it
  (sums in index order; softmax and its cross-entropy through the log-sum-exp, as
  the kernels do). Updates are applied exactly by :class:`.updates.Updater` and the
  new parameters rounded to the format, so the optimiser's state is exact while the
  parameters are those of a float trainer.

Values come back as SymPy numbers, so every record is the same whatever the runner.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from ..errors import quote
from ..ops.bounded import OutOfRange
from ..ops.stable import LOG_Y
from ..ops.symbols import T, X, Y
from ..spec import Spec
from .generic import GenericModel
from .instantiate import PRECISION
from .records import ExampleValues, Matrix, Vector
from .updates import Updater

#: Exact evaluation takes this runner for batches of at least this many rows.
FAST_ROWS = 32
#: ... and for runs of more than this many steps (rationals grow with every update).
FAST_STEPS = 20

_DTYPES = {"float64": np.float64, "float32": np.float32}


class Unsupported(Exception):
    """A formula this runner cannot lambdify (the reference then evaluates it)."""


def _plain(expr: sp.Expr, activation: Any) -> sp.Expr:
    """``expr`` with the activation's own function class replaced by its formula."""
    function = getattr(activation, "function", None)
    if function is None or not isinstance(function, type):
        return expr
    return expr.replace(function, lambda arg: activation.formula.xreplace({X: arg}))


class VectorisedRunner:
    """Steps on whole batches in arrays (see the module docstring)."""

    def __init__(self, spec: Spec, model: GenericModel, arithmetic: str) -> None:
        self.spec = spec
        self.model = model
        self.arithmetic = arithmetic
        self.updater = Updater(spec)
        self.exact = arithmetic == "exact"
        self.dtype = None if self.exact else _DTYPES[arithmetic]
        try:
            self._compile()
            self.supported = True
        except Unsupported:
            self.supported = False

    # -- formulas -------------------------------------------------------------------

    def _lambdify(self, args: tuple[sp.Symbol, ...], expr: sp.Expr) -> Callable[..., Any]:
        if expr.has(sp.nan, sp.zoo, sp.Derivative, sp.Subs, sp.Function("f")):
            raise Unsupported(str(expr))
        try:
            if self.exact:
                scalar = sp.lambdify(args, expr, modules="mpmath")
                return np.frompyfunc(scalar, len(args), 1)
            return sp.lambdify(args, expr, modules="numpy")
        except Exception as exc:
            raise Unsupported(str(expr)) from exc

    def _compile(self) -> None:
        spec = self.spec
        self.f: list[Callable[..., Any] | None] = []
        self.f_prime: list[Callable[..., Any] | None] = []
        for activation in spec.activations:
            if not activation.elementwise:
                if activation.formula != sp.exp(X):  # normalised numerators: exp only
                    raise Unsupported(activation.name)
                self.f.append(None)
                self.f_prime.append(None)
                continue
            self.f.append(self._lambdify((X,), _plain(activation.formula, activation)))
            self.f_prime.append(self._lambdify((X,), _plain(activation.derivative, activation)))
        # exact: float64 estimates of f and f', so that no mpmath power or exponential
        # beyond 10^308 is computed (x**x**x at 10^4 would not end)
        self.estimates: list[tuple[Callable[..., Any], Callable[..., Any]] | None] = [
            (
                sp.lambdify((X,), _plain(a.formula, a), modules="numpy"),
                sp.lambdify((X,), _plain(a.derivative, a), modules="numpy"),
            )
            if self.exact and a.elementwise
            else None
            for a in spec.activations
        ]
        loss = spec.loss
        self.term = self._lambdify((Y, T), loss.term)
        self.term_prime = self._lambdify((Y, T), loss.derivative)
        self.scale = loss.output_scale(spec.layers[-1])
        # a normalised output with a loss that reads it through log y (cross-entropy):
        # the loss from log a = z − max − log Σ exp, δ = c − a Σ c with c = ∂ℓ/∂log y
        log_term = None if spec.activations[-1].elementwise else loss.log_term
        self.log_term = None if log_term is None else self._lambdify((LOG_Y, T), log_term)
        self.log_coefficient = (
            None if log_term is None else self._lambdify((T,), sp.diff(log_term, LOG_Y))
        )

    # -- numbers ------------------------------------------------------------------

    def _array(self, values: Any) -> np.ndarray[Any, Any]:
        if self.exact:
            with mpmath.workdps(PRECISION):
                return np.array(
                    [[mpmath.mpf(sp.Float(v, PRECISION)._mpf_) for v in row] for row in values]
                    if values and isinstance(values[0], tuple)
                    else [mpmath.mpf(sp.Float(v, PRECISION)._mpf_) for v in values],
                    dtype=object,
                )
        if values and isinstance(values[0], tuple):
            return np.array([[float(v) for v in row] for row in values], dtype=self.dtype)
        return np.array([float(v) for v in values], dtype=self.dtype)

    def _number(self, value: Any) -> sp.Expr:
        if self.exact:
            return sp.Float(value, PRECISION)
        return sp.Float(float(value))

    def _tuple(self, arr: Any) -> Any:
        if not isinstance(arr, np.ndarray):
            return self._number(arr)
        if arr.ndim == 0:
            return self._number(arr[()])
        return tuple(self._tuple(row) for row in arr)

    def _round(self, value: sp.Expr) -> sp.Expr:
        """``value`` rounded to the arithmetic's format (exact: as it is)."""
        if self.exact:
            return value
        return sp.Float(float(self.dtype(float(value))))  # type: ignore[misc]

    # -- the runner's interface (see evaluate.py) ------------------------------------

    def start(self, W: tuple[Matrix, ...], b: tuple[Vector, ...]) -> tuple[Any, Any]:
        return self._map(W, self._round), self._map(b, self._round)

    def _map(self, item: Any, change: Callable[[sp.Expr], sp.Expr]) -> Any:
        if isinstance(item, tuple):
            return tuple(self._map(v, change) for v in item)
        return change(item)

    def _data(self, rows: Sequence[int]) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        examples = [self.spec.examples[r] for r in rows]
        return self._array([e.x for e in examples]), self._array([e.t for e in examples])

    def _values(
        self, W: tuple[Matrix, ...], b: tuple[Vector, ...], rows: Sequence[int]
    ) -> list[ExampleValues]:
        """Every row's values at ``(W, b)``, computed together."""
        with mpmath.workdps(PRECISION), np.errstate(over="ignore", under="ignore"):
            return self._compute(W, b, rows)

    def _compute(
        self, W: tuple[Matrix, ...], b: tuple[Vector, ...], rows: Sequence[int]
    ) -> list[ExampleValues]:
        spec = self.spec
        L = spec.depth
        Ws = [self._array(w) for w in W]
        bs = [self._array(v) for v in b]
        x, t = self._data(rows)
        acts, zs = [x], []
        network = spec.network
        for l in range(L):
            z = network[l].values(acts[-1], Ws[l], bs[l])
            zs.append(z)
            self._in_range(l, z)
            acts.append(self._softmax(z) if self.f[l] is None else self._apply(self.f[l], z))
        a_out = acts[-1]
        losses = self._loss(zs[-1], a_out, t)
        deltas: list[Any] = [None] * L
        deltas[L - 1] = self._output_delta(zs[-1], a_out, t)
        for l in range(L - 2, -1, -1):
            back = network[l + 1].input_gradient(deltas[l + 1], Ws[l + 1])
            deltas[l] = back * self._apply(self.f_prime[l], zs[l])
        grad_x = network[0].input_gradient(deltas[0], Ws[0])
        out = []
        for s in range(len(rows)):
            out.append(
                ExampleValues(
                    z=tuple(self._tuple(z[s]) for z in zs),
                    a=tuple(self._tuple(a[s]) for a in acts),
                    delta=tuple(self._tuple(d[s]) for d in deltas),
                    loss=self._number(losses[s]),
                    grad_W=tuple(
                        self._tuple(network[l].weight_gradient(deltas[l][s], acts[l][s]))
                        for l in range(L)
                    ),
                    grad_b=tuple(self._tuple(d[s]) for d in deltas),
                    grad_x=self._tuple(grad_x[s]),
                )
            )
        return out

    def _in_range(self, l: int, z: np.ndarray[Any, Any]) -> None:
        """Exact: raise :class:`~symbp.ops.bounded.OutOfRange` naming layer ``l + 1``'s
        activation where ``z``, ``f(z)`` or ``f'(z)`` is beyond 10^308 (a float64
        estimate, computed before the 60-digit values)."""
        pair = self.estimates[l] if self.exact else None
        if pair is None:
            return
        with np.errstate(all="ignore"):
            approx = np.array([[float(v) for v in row] for row in z], dtype=np.float64)
            for fn in pair:
                values = np.asarray(fn(approx), dtype=np.float64)
                if np.isinf(approx).any() or np.isinf(values).any():
                    activation = self.spec.activations[l]
                    form = activation.source or activation.name
                    raise OutOfRange(
                        f"activation of layer {l + 1} ({quote(form)}): a value at "
                        f"x = {float(approx.flat[int(np.argmax(np.abs(approx)))]):.6g} is beyond "
                        "10^308 in magnitude (the float64 range): the network diverges there; "
                        "use smaller inputs, weights or learning rate, or a bounded activation"
                    )

    def _apply(self, fn: Callable[..., Any] | None, z: np.ndarray[Any, Any]) -> Any:
        assert fn is not None
        out = fn(z)
        if self.exact:
            return np.asarray(out, dtype=object)
        return np.broadcast_to(np.asarray(out, dtype=self.dtype), z.shape).copy()

    def _shifted(self, z: np.ndarray[Any, Any]) -> tuple[Any, Any]:
        """``z − max`` per row and the log of the row's sum of exponentials of it."""
        top = np.array([max(row) for row in z], dtype=z.dtype)[:, None]
        shifted = z - top
        exp = self._exp(shifted)
        total = np.array([sum(row[1:], row[0]) for row in exp], dtype=z.dtype)[:, None]
        return shifted, self._log(total)

    def _exp(self, z: np.ndarray[Any, Any]) -> Any:
        return np.frompyfunc(mpmath.exp, 1, 1)(z) if self.exact else np.exp(z)

    def _log(self, z: np.ndarray[Any, Any]) -> Any:
        return np.frompyfunc(mpmath.log, 1, 1)(z) if self.exact else np.log(z)

    def _softmax(self, z: np.ndarray[Any, Any]) -> Any:
        shifted, log_total = self._shifted(z)
        return self._exp(shifted - log_total)

    def _loss(self, z_out: Any, a_out: Any, t: Any) -> Any:
        if self.log_term is not None:  # ℓ(log a) with log a = z − max − log Σ exp: finite
            shifted, log_total = self._shifted(z_out)
            terms = self._terms(self.log_term, shifted - log_total, t)
        else:
            terms = self._terms(self.term, a_out, t)
        return np.array([self._reduce(row) for row in terms], dtype=terms.dtype)

    def _scalar(self, value: Any) -> Any:
        number = sp.Float(sp.nsimplify(value), PRECISION) if not isinstance(value, str) else None
        if number is None:
            raise Unsupported(str(value))
        return mpmath.mpf(number._mpf_) if self.exact else float(number)

    def _terms(self, fn: Callable[..., Any], a: Any, t: Any) -> Any:
        out = fn(a, t)
        if self.exact:
            return np.asarray(out, dtype=object)
        return np.broadcast_to(np.asarray(out, dtype=self.dtype), a.shape).copy()

    def _reduce(self, row: Any) -> Any:
        total = sum(row[1:], row[0])
        return total / len(row) if self.spec.loss.reduction == "mean" else total

    def _output_delta(self, z_out: Any, a_out: Any, t: Any) -> Any:
        scale = self._scalar(self.scale)
        if self.log_coefficient is not None:
            # a ⊙ (g − Σ_i g_i a_i) with g = c/a: c − a Σ_i c_i, without dividing by a
            out = self.log_coefficient(t)
            c = np.asarray(out, dtype=object if self.exact else self.dtype)
            c_sum = np.array([sum(row[1:], row[0]) for row in c], dtype=c.dtype)[:, None]
            return (c - a_out * c_sum) * scale
        g = self._terms(self.term_prime, a_out, t) * scale
        if self.f[-1] is None:  # softmax's Jacobian a_i(δ_ij − a_j), applied to g
            inner = np.array([sum(row[1:], row[0]) for row in g * a_out], dtype=g.dtype)
            return a_out * (g - inner[:, None])
        return g * self._apply(self.f_prime[-1], z_out)

    def one(self, W: tuple[Matrix, ...], b: tuple[Vector, ...]) -> Callable[[int], ExampleValues]:
        def compute(row: int) -> ExampleValues:
            return self._values(W, b, [row])[0]

        return compute

    def batch(self, W: tuple[Matrix, ...], b: tuple[Vector, ...], rows: tuple[int, ...]) -> Any:
        values = self._values(W, b, rows)
        known = dict(zip(rows, values, strict=True))
        return (
            known,
            self.mean([v.loss for v in values]),
            self._mean_tree([v.grad_W for v in values]),
            self._mean_tree([v.grad_b for v in values]),
            self._mean_tree([v.grad_x for v in values]),
        )

    def _mean_tree(self, items: list[Any]) -> Any:
        if isinstance(items[0], tuple):
            return tuple(self._mean_tree(list(parts)) for parts in zip(*items, strict=True))
        return self.mean(items)

    def mean(self, values: Sequence[sp.Expr]) -> sp.Expr:
        if self.exact:
            with mpmath.workdps(PRECISION):
                terms = [mpmath.mpf(sp.Float(v, PRECISION)._mpf_) for v in values]
                return sp.Float(sum(terms[1:], terms[0]) / len(terms), PRECISION)
        arr = np.array([float(v) for v in values], dtype=self.dtype)
        total = arr[0]
        for v in arr[1:]:  # in order, as the kernels accumulate
            total = total + v
        return sp.Float(float(total / self.dtype(len(arr))))  # type: ignore[misc]

    def rate(self, epoch: int) -> sp.Expr:
        return self._round(self.updater.rate(epoch))

    def apply(self, index: int, epoch: int, W: Any, b: Any, grad_W: Any, grad_b: Any) -> Any:
        new_W, new_b = self.updater.apply(index, W, b, grad_W, grad_b, epoch=epoch)
        if self.exact:
            return self._map(new_W, self._exact), self._map(new_b, self._exact)
        return self._map(new_W, self._round), self._map(new_b, self._round)

    def _exact(self, value: sp.Expr) -> sp.Expr:
        return value if value.is_Rational else sp.Float(value, PRECISION)

    def minus(self, new: Any, old: Any) -> Any:
        if isinstance(new, tuple):
            return tuple(self.minus(n, o) for n, o in zip(new, old, strict=True))
        difference = new - old
        return self._number(difference) if not self.exact else sp.Float(difference, PRECISION)
