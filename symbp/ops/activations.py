"""Activation functions.

An :class:`Activation` holds the formula ``f(x)`` and a SymPy ``Function`` class
whose ``fdiff`` returns the textbook derivative (``σ(x)(1-σ(x))``,
``1 - tanh(x)^2``), so derivations stay in teaching form instead of
``Subs(Derivative(...))``. For a custom formula the derivative comes from
``sympy.diff`` of the formula.

Conventions: ``relu'(0) = 0`` and ``leaky_relu'(0) = alpha`` (as PyTorch).
``softmax`` is the one vector activation: ``a_i = exp(z_i) / sum_k exp(z_k)``,
allowed on the output layer only; its Jacobian is ``a_i (δ_ij - a_j)``.

Each built-in record states the values it takes (:attr:`Activation.output_range`:
sigmoid and softmax ``(0, 1)``, softmax's summing to 1, tanh ``(-1, 1)``, ReLU
``[0, inf)``, identity and leaky ReLU every real); a formula's are unknown.

To add an activation, add a builder to :data:`ACTIVATIONS`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import cast

import mpmath
import sympy as sp

from ..errors import quote
from . import bounded, ranges
from .shortest import shortest_form
from .stable import LOG_NORMALISER, softplus
from .symbols import A, X


class ElementwiseFunction(sp.Function):
    """Base of the activation functions: numeric values come from ``formula``."""

    nargs = 1
    formula: sp.Expr = X
    derivative_formula: sp.Expr = sp.Integer(1)
    #: The function's name in plain-text (Unicode) formulas, where not its class name (``σ``).
    pretty_name: str | None = None

    @classmethod
    def eval(cls, arg: sp.Expr) -> sp.Expr | None:
        if arg.is_Rational:
            value = bounded.evaluate(cls.formula, arg, 60, lambda: cls._described(arg))
            if value.is_Rational:
                return value
        return None

    @classmethod
    def _described(cls, arg: sp.Expr) -> str:
        """``activation f_1(x) = x**x at x = 10000``, for :class:`~.bounded.OutOfRange`."""
        return (
            f"activation {cls.__name__}(x) = {quote(str(cls.formula))} at x = {bounded.shown(arg)}"
        )

    def _eval_is_real(self) -> bool | None:
        """Real where the argument is and the formula is real on the reals (σ, ReLU, ...)."""
        return True if self.args[0].is_real and self.formula.is_real else None

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        if argindex != 1:
            raise sp.ArgumentIndexError(self, argindex)
        return self.derivative_at(self.args[0])

    @classmethod
    def derivative_at(cls, arg: sp.Expr) -> sp.Expr:
        return cls.derivative_formula.xreplace({X: arg})

    def _eval_evalf(self, prec: int) -> sp.Expr | None:
        arg = self.args[0].evalf(mpmath.libmp.prec_to_dps(prec))
        if not arg.is_number:
            return None
        dps = mpmath.libmp.prec_to_dps(prec)
        value = bounded.evaluate(self.formula, arg, dps, lambda: self._described(arg))
        return value.evalf(dps)

    def _eval_rewrite_as_formula(self, arg: sp.Expr, **kwargs: object) -> sp.Expr:
        return self.formula.xreplace({X: arg})


def _function_class(
    name: str,
    formula: sp.Expr,
    derivative: Callable[[type], sp.Expr] | None,
    latex: str,
    pretty: str | None = None,
) -> type[ElementwiseFunction]:
    """A new ``ElementwiseFunction`` subclass; ``derivative(cls)`` gives f'(X) using cls."""
    # type() builds the class so that SymPy's metaclass registers it under ``name``.
    cls = cast(
        "type[ElementwiseFunction]",
        type(
            name,
            (ElementwiseFunction,),
            {"formula": formula, "_latex_name": latex, "pretty_name": pretty},
        ),
    )
    cls.derivative_formula = derivative(cls) if derivative else sp.diff(formula, X)
    cls._latex = lambda self, printer, exp=None: _latex_call(latex, self, printer, exp)
    return cls


def _latex_call(name: str, fn: sp.Function, printer: object, exp: object = None) -> str:
    inner = printer._print(fn.args[0])  # type: ignore[attr-defined]
    head = name if exp is None else f"{name}^{{{exp}}}"
    return rf"{head}\left({inner}\right)"


@dataclass(frozen=True)
class Activation:
    """One activation function.

    ``function`` is the SymPy function class (call it on a SymPy expression);
    ``formula`` is ``f(X)``; ``derivative`` is ``f'(X)``; ``derivative_from_output``
    is ``f'`` written in the output ``A = f(x)`` where that is the textbook form
    (``A(1-A)`` for sigmoid) and ``None`` otherwise. ``params`` records the
    options the spec gave (e.g. ``alpha``); ``key`` identifies the activation in
    caches and hashes.
    """

    name: str
    label: str
    formula: sp.Expr
    function: Callable[[sp.Expr], sp.Expr]
    derivative: sp.Expr
    derivative_from_output: sp.Expr | None = None
    params: Mapping[str, Fraction] = field(default_factory=dict)
    elementwise: bool = True
    output_only: bool = False
    source: str | None = None
    #: The values ``f`` takes on the reals (:mod:`.ranges`: sigmoid ``(0, 1)``, ReLU
    #: ``[0, inf)``); ``None``: unknown (a formula). A normalised activation's are those
    #: of one output of a layer of more than one.
    output_range: sp.Set | None = None
    #: The sum of a layer's outputs where it is fixed (softmax: 1), else ``None``.
    output_total: sp.Expr | None = None
    #: ``log f(X)`` written overflow-free in ``X`` (the pre-activation), where the
    #: kernels compute a loss's ``log a`` that way: sigmoid ``-softplus(-X)``, softmax
    #: ``X - log Σ`` (:data:`~.stable.LOG_NORMALISER`); ``None``: ``log`` of the value.
    log_output: sp.Expr | None = None
    #: ``log(1 - f(X))`` written the same way (sigmoid ``-softplus(X)``), else ``None``.
    log_complement: sp.Expr | None = None
    #: PyTorch's spelling: the ``torch.nn`` module's name and its keyword arguments
    #: (``("LeakyReLU", {"negative_slope": alpha})``); ``None``: none (a formula).
    torch_module: tuple[str, Mapping[str, object]] | None = None
    #: The record's builder with its numeric options (:attr:`params`) as SymPy expressions
    #: (a module-level function, so records compare by value): what
    #: :meth:`with_numbers` calls; ``None``: the record has no numeric options.
    numbers_builder: Callable[..., Activation] | None = None

    def with_numbers(self, numbers: Mapping[str, sp.Expr]) -> Activation:
        """This activation with each numeric option (``alpha``) written as the expression
        ``numbers[name]`` instead of its value: a kernel's run-time variable, so that one
        compiled kernel serves every value (:mod:`symbp.codegen.hyper`). The record itself
        where it has no numeric options."""
        if self.numbers_builder is None or not self.params:
            return self
        return self.numbers_builder(**{name: numbers[name] for name in sorted(self.params)})

    def __call__(self, z: sp.Expr) -> sp.Expr:
        return self.function(z)

    def output_values(self, n: int) -> sp.Set | None:
        """The values one output of a layer of ``n`` takes (``None``: unknown).

        A layer of one output whose sum is fixed takes only that sum (softmax of one
        output is 1); otherwise :attr:`output_range`.
        """
        if n == 1 and self.output_total is not None:
            return sp.FiniteSet(self.output_total)
        return self.output_range

    def layer_value(self, z: sp.IndexedBase, index: sp.Expr, k: sp.Symbol, n: sp.Expr) -> sp.Expr:
        """``a_index`` in the pre-activations ``z`` of a layer of ``n`` values.

        Element-wise: ``f(z_index)``; a normalised activation (not element-wise) is its
        numerator ``g`` (:attr:`formula`) over the layer's sum:
        ``g(z_index) / Σ_{k=0}^{n-1} g(z_k)``.
        """
        if self.elementwise:
            return self(z[index])
        return self.formula.xreplace({X: z[index]}) / self.normaliser(z, k, n)

    def normaliser(self, z: sp.IndexedBase, k: sp.Symbol, n: sp.Expr) -> sp.Expr:
        """``Σ_{k=0}^{n-1} g(z_k)``: a normalised activation's denominator."""
        return sp.Sum(self.formula.xreplace({X: z[k]}), (k, 0, n - 1))

    def in_outputs(
        self, expr: sp.Expr, z: sp.IndexedBase, a: sp.IndexedBase, norm: sp.Symbol
    ) -> sp.Expr:
        """``expr`` with a normalised activation's sums written ``norm`` and its numerators
        ``g(c·z_x) = g(z_x)^c`` as ``(a_x · norm)^c`` (the numerator ``exp`` is the one
        normalised activation; its ``g(c x) = g(x)^c`` is what lets δ be written in ``a``).
        """
        g = self.formula.func

        def is_normaliser(e: sp.Expr) -> bool:
            return isinstance(e, sp.Sum) and e.function == self.formula.xreplace(
                {X: z[e.limits[0][0]]}
            )

        def is_numerator(e: sp.Expr) -> bool:
            if not isinstance(e, g) or len(e.args) != 1:
                return False
            rest = e.args[0].as_coeff_Mul()[1]
            return isinstance(rest, sp.Indexed) and rest.base == z

        def as_output(e: sp.Expr) -> sp.Expr:
            coeff, rest = e.args[0].as_coeff_Mul()
            return (a[rest.indices] * norm) ** coeff

        return expr.replace(is_normaliser, lambda e: norm).replace(is_numerator, as_output)

    @functools.cached_property
    def derivative_shortest(self) -> sp.Expr:
        """``f'(X)`` in its shortest form (:func:`~.shortest.shortest_form`), for the documents.

        The kernels and the evaluator keep :attr:`derivative` (the form they were
        checked in); both forms are equal for every real ``X``.
        """
        if not self.elementwise or self.source is None:
            return self.derivative
        return shortest_form(self.derivative)

    @property
    def title(self) -> str:
        """The activation's name in words, as the textbooks write it (``leaky ReLU``)."""
        return TITLES.get(self.name, self.name.replace("_", " "))

    def derivative_at(self, z: sp.Expr) -> sp.Expr:
        """``f'(z)``, written with ``f`` itself where that is the textbook form."""
        return self.derivative.xreplace({X: z}) if self.elementwise else sp.nan

    @property
    def spec_value(self) -> str | dict[str, object]:
        """The activation as the spec writes it: a name, ``{name, options}`` or ``{formula}``."""
        if self.source is not None:
            return {"formula": self.source}
        if not self.params:
            return self.name
        return {"name": self.name, **{k: v for k, v in sorted(self.params.items())}}

    @property
    def key(self) -> str:
        opts = ",".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        if self.source is not None:
            return f"formula({self.source})"
        return f"{self.name}({opts})" if opts else self.name


def _record(
    name: str,
    label: str,
    formula: sp.Expr,
    derivative: Callable[[type], sp.Expr] | None = None,
    from_output: sp.Expr | None = None,
    output_range: sp.Set | None = None,
    params: Mapping[str, Fraction] | None = None,
    source: str | None = None,
    cls_name: str | None = None,
    log_output: sp.Expr | None = None,
    log_complement: sp.Expr | None = None,
    torch_module: tuple[str, Mapping[str, object]] | None = None,
    pretty: str | None = None,
    numbers_builder: Callable[..., Activation] | None = None,
) -> Activation:
    cls = _function_class(cls_name or name, formula, derivative, label, pretty)
    return Activation(
        name=name,
        label=label,
        formula=formula,
        function=cls,
        derivative=cls.derivative_formula,
        derivative_from_output=from_output,
        params=dict(params or {}),
        source=source,
        output_range=output_range,
        log_output=log_output,
        log_complement=log_complement,
        torch_module=torch_module,
        numbers_builder=numbers_builder,
    )


def sigmoid() -> Activation:
    return _record(
        "sigmoid",
        r"\sigma",
        1 / (1 + sp.exp(-X)),
        derivative=lambda f: f(X) * (1 - f(X)),
        from_output=A * (1 - A),
        log_output=-softplus(-X),
        log_complement=-softplus(X),
        torch_module=("Sigmoid", {}),
        pretty="σ",
        output_range=ranges.UNIT,
    )


def tanh() -> Activation:
    return Activation(
        name="tanh",
        label=r"\tanh",
        formula=sp.tanh(X),
        function=sp.tanh,
        derivative=1 - sp.tanh(X) ** 2,
        derivative_from_output=1 - A**2,
        torch_module=("Tanh", {}),
        output_range=sp.Interval.open(-1, 1),
    )


def relu() -> Activation:
    return _record(
        "relu",
        r"\operatorname{ReLU}",
        sp.Max(0, X),
        derivative=lambda f: sp.Heaviside(X, 0),
        torch_module=("ReLU", {}),
        output_range=ranges.NON_NEGATIVE,
    )


def leaky_relu(alpha: Fraction = Fraction(1, 100)) -> Activation:
    a = sp.Rational(alpha.numerator, alpha.denominator)
    return _record(
        "leaky_relu",
        r"\operatorname{LeakyReLU}",
        sp.Piecewise((X, X > 0), (a * X, True)),
        derivative=lambda f: sp.Piecewise((1, X > 0), (a, True)),
        # alpha x for x <= 0 is >= 0 where alpha <= 0: then the values are ReLU's
        output_range=ranges.REALS if alpha > 0 else ranges.NON_NEGATIVE,
        params={"alpha": alpha},
        cls_name=f"leaky_relu_{alpha.numerator}_{alpha.denominator}",
        torch_module=("LeakyReLU", {"negative_slope": float(alpha)}),
        numbers_builder=leaky_relu_with,
    )


@functools.cache
def leaky_relu_with(alpha: sp.Expr) -> Activation:
    """Leaky ReLU with the slope ``alpha`` an expression (a kernel's symbol ``act_alpha``):
    the same formula and derivative as :func:`leaky_relu`'s, ``alpha`` not a number."""
    return _record(
        "leaky_relu",
        r"\operatorname{LeakyReLU}",
        sp.Piecewise((X, X > 0), (alpha * X, True)),
        derivative=lambda f: sp.Piecewise((1, X > 0), (alpha, True)),
        cls_name=f"leaky_relu_{alpha}",
    )


def identity() -> Activation:
    return Activation(
        name="identity",
        label=r"\operatorname{id}",
        formula=X,
        function=lambda z: z,
        derivative=sp.Integer(1),
        derivative_from_output=sp.Integer(1),
        torch_module=("Identity", {}),
        output_range=ranges.REALS,
    )


class _SoftmaxPlaceholder(sp.Function):
    """Stands for one softmax output in printed derivations; never evaluated element-wise."""

    nargs = 1


def softmax() -> Activation:
    return Activation(
        name="softmax",
        label=r"\operatorname{softmax}",
        formula=sp.exp(X),  # numerator; the normaliser is the sum over the layer
        function=_SoftmaxPlaceholder,
        derivative=sp.nan,
        elementwise=False,
        output_only=True,
        log_output=X - LOG_NORMALISER,
        torch_module=("Softmax", {"dim": -1}),
        output_range=ranges.UNIT,
        output_total=sp.Integer(1),
    )


@functools.cache
def custom(formula: sp.Expr, source: str, index: int) -> Activation:
    """An activation given as a formula in ``x``; its derivative is ``sympy.diff``."""
    return _record(
        "formula",
        rf"f_{{{index}}}",
        formula,
        source=source,
        cls_name=f"f_{index}",
    )


#: Built-in activations by spec name: name -> (builder, accepted options).
#: Names in words where the spec's name is not how the textbooks write it.
TITLES = {"relu": "ReLU", "leaky_relu": "leaky ReLU"}

ACTIVATIONS: dict[str, tuple[Callable[..., Activation], tuple[str, ...]]] = {
    "sigmoid": (sigmoid, ()),
    "tanh": (tanh, ()),
    "relu": (relu, ()),
    "leaky_relu": (leaky_relu, ("alpha",)),
    "identity": (identity, ()),
    "linear": (identity, ()),
    "softmax": (softmax, ()),
}


def make_activation(name: str, options: Mapping[str, Fraction]) -> Activation:
    """The built-in activation ``name`` with ``options`` (already validated).

    Records are cached, so every spec that names the same activation shares one
    SymPy function class and expressions from different loads compare equal.
    """
    return _cached(name, tuple(sorted(options.items())))


@functools.cache
def _cached(name: str, options: tuple[tuple[str, Fraction], ...]) -> Activation:
    builder, _ = ACTIVATIONS[name]
    return builder(**dict(options))
