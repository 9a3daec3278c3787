"""The kernel plan: what a generated trainer computes, lowered from the symbolic model.

The plan is the bridge between :mod:`symbp.symbolic` and the templates. It holds every
element-wise right-hand side as printed code (SymPy ``cse`` + :class:`.NumbaPrinter`)
and the facts the loop structure depends on (layer sizes, which layers run on every
core, which arrays are kept). Nothing here re-derives a gradient: the expressions come from

- the activation of layer ``l``: ``a = f(z)`` is ``GenericModel.layer(l).a``;
- hidden deltas: the local factor of ``δ^l_j = f_l'(…) Σ_i δ^{l+1}_i w^{l+1}_{ij}`` in
  ``GenericModel.layer(l).delta_textbook`` (the sum is the back-propagation product);
- the output delta: ``delta_textbook`` of the output layer for element-wise outputs (the
  shorter of the chain rule and its factored form, e.g. ``a - t`` for sigmoid + BCE); for
  softmax the exact ``delta`` with ``exp(z_k)`` written as ``a_k Σ exp`` and cancelled, so
  that no sum of exponentials is left (``a_j Σ_i t_i - t_j`` for cross-entropy);
- the loss: ``GenericModel.loss``, with ``log a`` of a sigmoid output written
  ``-softplus(-z)`` and ``log(1 - a)`` as ``-softplus(z)`` (printed so that the two
  share one ``log1p``), and ``log a`` of a softmax
  output as ``z - logsumexp(z)``: the same numbers, finite for pre-activations of ±1e4;
- the update: the optimiser's straight-line program with weight decay, and the
  schedule's rate formula (:mod:`.update`).

Kernel conventions (also stated in every generated module): parameters live in one
flat vector, ``W_l`` (shape ``(n_l, n_{l-1})``, row-major, ``W[l-1]`` of the spec) then
``b_l`` for ``l = 1..L``; the weights of every layer that is not small are stored
transposed, as ``WT_l`` of shape ``(n_{l-1}, n_l)``, the operand that the broadcast
product ``a_{l-1} WT_l`` reads row by row (and ``grad_WT_l = a_{l-1}ᵀ delta_l``);
``delta_l[s, j]`` holds ``(1/m) ∂L_s/∂z^l_j`` for the ``m`` rows of a batch, so that
``grad_W_l = delta_lᵀ a_{l-1}`` is the gradient of the batch-mean loss ``E``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import sympy as sp

from ..ops.stable import LOG_NORMALISER
from ..ops.symbols import X
from ..spec import Spec
from ..symbolic import notation as nt
from ..symbolic.generic import GenericModel, derive_generic, pull_out
from . import hyper
from .branch_sums import split_branch_sums
from .hyper import activation_local
from .printer import Block, NumbaPrinter, block, describe, prepare, scalar_symbol
from .update import UpdatePlan, update_plan

#: Layers with at least this many weights run their products on every core.
PARALLEL_MIN_WEIGHTS = 16384
#: Layers with at most this many weights get their products as loops written out in
#: the module (no helper calls, no transposed copies; LLVM unrolls them completely).
SMALL_MAX_WEIGHTS = 64

A_, Z_, T_ = scalar_symbol("a"), scalar_symbol("z"), scalar_symbol("t")
LSE, NORM = scalar_symbol("lse"), scalar_symbol("norm")


@dataclass(frozen=True)
class LayerPlan:
    """Layer ``index`` (1-based): ``z = W a_prev + b``, ``a = f(z)`` and its backward step."""

    index: int
    n_in: int
    n_out: int
    activation: str
    normalised: bool  # a normalised activation (softmax): numerators over their sum
    act: Block  # element-wise: a from z; normalised: the numerator exp(z) of z - max(z)
    dact: Block | None  # hidden layers: the local factor f'(…) from a and z
    needs_z: bool
    parallel: bool
    small: bool
    fold: bool  # WT_l takes a plain gradient step inside back-propagation (see update.fold)
    W_offset: int
    b_offset: int
    frozen_W: bool
    frozen_b: bool
    stored_T: bool  # W_l stored transposed, as WT_l (n_in, n_out): layers not small
    keep_W: bool  # keep a copy W_l = WT_l^T for back-propagation in the broadcast form
    kernel: str  # the template of the layer kind's blocks (its record's kernel_block)
    #: The activation's numeric options read at run time (``("alpha",)``): the blocks
    #: read ``act_<option>``, bound to this layer's number before them (:meth:`bindings`).
    numbers: tuple[str, ...] = ()

    def bindings(self, dtype: str) -> tuple[tuple[str, str], ...]:
        """``(local, code)`` for each of :attr:`numbers`: the blocks' local
        (``act_alpha``) and this layer's run-time number in the kernel's dtype
        (``h_alpha_2``, ``DTYPE(h_alpha_2)`` in float32)."""
        return number_bindings(self.index, self.numbers, dtype)

    @property
    def fused(self) -> bool:
        """The product runs inside the activation's loop (a small element-wise layer):
        z_l stays in a register, stored only where ``needs_z``."""
        return self.small and not self.normalised

    @property
    def weight(self) -> str:
        """Name of the weight array as stored in ``params``: ``W_l`` or ``WT_l``."""
        return f"WT_{self.index}" if self.stored_T else f"W_{self.index}"

    @property
    def n_weights(self) -> int:
        return self.n_in * self.n_out


def number_bindings(
    index: int, numbers: tuple[str, ...], dtype: str
) -> tuple[tuple[str, str], ...]:
    """``(act_<option>, h_<option>_<index>)`` for each option (cast to DTYPE in float32):
    the statements that give layer ``index``'s blocks its activation's numbers."""
    out = []
    for option in numbers:
        source = str(slot_local(option, index))
        out.append(
            (str(activation_local(option)), source if dtype == "float64" else f"DTYPE({source})")
        )
    return tuple(out)


def slot_local(option: str, index: int) -> sp.Symbol:
    """The kernel's float64 local of layer ``index``'s option (``h_alpha_1``)."""
    return scalar_symbol(f"h_{option}_{index}")


def with_number_symbols(spec: Spec) -> Spec:
    """``spec`` with each activation's numeric options written as the blocks' locals
    (``act_alpha``, :meth:`~symbp.ops.activations.Activation.with_numbers`): the spec
    whose derivation the kernel prints when the numbers are run-time arguments."""
    activations = tuple(
        a.with_numbers({o: activation_local(o) for o in a.params}) for a in spec.activations
    )
    if activations == spec.activations:
        return spec
    return dataclasses.replace(spec, activations=activations)


@dataclass(frozen=True)
class OutputPlan:
    """Per-row loss and output delta: sums over the outputs, then element-wise code."""

    reductions: tuple[str, ...]
    reduce: Block  # one output per reduction, from a, z, t (and lse, norm)
    loss: Block  # the row's loss L from the reductions
    delta: Block  # ∂L/∂z_j from a, z, t (index j) and the reductions
    uses_lse: bool
    uses_norm: bool


@dataclass(frozen=True)
class KernelPlan:
    """Everything the templates render for one spec and dtype."""

    spec: Spec
    dtype: str
    layers: tuple[LayerPlan, ...]
    output: OutputPlan
    update: UpdatePlan
    n_params: int
    segments: tuple[tuple[int, int], ...]
    fold_segments: tuple[tuple[int, int], ...]
    runtime: tuple[str, ...]
    #: The layers before the dense ones (conv, pool, flatten: :mod:`.front`), in order.
    front: tuple[Any, ...] = ()
    #: The activations' run-time numbers (:func:`.hyper.activation_slots`), after the
    #: update's in ``HYPER``.
    act_hyper: tuple[Any, ...] = ()

    @property
    def hyper(self) -> tuple[str, ...]:
        """The names of ``HYPER``: the update's numbers, then the activations'."""
        return self.update.hyper + tuple(s.name for s in self.act_hyper)

    @property
    def hyper_locals(self) -> tuple[str, ...]:
        """The kernel's locals of :attr:`hyper` (``h_lr0``, …, ``h_alpha_1``)."""
        return self.update.hyper_locals + tuple(str(s.local) for s in self.act_hyper)

    @property
    def depth(self) -> int:
        """The number of the output layer (the dense layers' count when there is no front)."""
        return self.layers[-1].index

    def below(self, lay: LayerPlan) -> LayerPlan | None:
        """The dense layer below ``lay``, ``None`` for the first (its input is the network's
        input, or the front's flattened features)."""
        at = self.layers.index(lay)
        return self.layers[at - 1] if at > 0 else None

    @property
    def sizes(self) -> tuple[int, ...]:
        return self.spec.layers

    def sums_bias_with_delta(self, lay: LayerPlan) -> bool:
        """Whether grad_b_l is summed in the loop that writes delta_l (the output delta
        loop or the derivative loop) rather than in a loop of its own: a layer that is
        not small (whose gradient loops carry the sum) and whose delta loop runs on one
        core (the output's always does)."""
        return not lay.small and (lay.index == self.depth or not lay.parallel)


def make_plan(
    spec: Spec,
    dtype: str,
    model: GenericModel | None = None,
    *,
    parallel_min_weights: int = PARALLEL_MIN_WEIGHTS,
    run_time_numbers: bool | None = None,
) -> KernelPlan:
    """Lower ``spec``'s derivation to a :class:`KernelPlan` for ``dtype``.

    Layers with at least ``parallel_min_weights`` weights run their products on every core.
    With ``run_time_numbers`` (default: :func:`.hyper.run_time_numbers`) the activations'
    numeric options are read from ``hyper`` (``model``, when given, must be the
    derivation of :func:`with_number_symbols`'s spec); else they are literals.
    """
    numbers = hyper.run_time_numbers(spec) if run_time_numbers is None else run_time_numbers
    source = spec
    spec = with_number_symbols(spec) if numbers else spec
    model = model or derive_generic(spec)
    printer = NumbaPrinter(dtype)
    scalar_printer = NumbaPrinter(dtype, scalar=True)  # the loops of small layers
    sizes = {nt.size(l): sp.Integer(n) for l, n in enumerate(spec.layers)}
    L = spec.depth
    update = update_plan(spec, printer)
    weights = [spec.layers[l - 1] * spec.layers[l] for l in range(1, L + 1)]
    parallel = [n >= parallel_min_weights for n in weights]
    small_layer = [
        n <= SMALL_MAX_WEIGHTS and not par for n, par in zip(weights, parallel, strict=True)
    ]
    output = _output_plan(spec, model, scalar_printer if small_layer[-1] else printer, sizes)
    offsets, offset = [], 0
    for l in range(1, L + 1):
        n_in, n_out = spec.layers[l - 1], spec.layers[l]
        offsets.append((offset, offset + n_in * n_out))
        offset += n_in * n_out + n_out
    layers = []
    for l in range(1, L + 1):
        activation = spec.activations[l - 1]
        formulas = model.layer(l)
        z_l, a_l = nt.preactivation(l), nt.activation(l)
        scalars = {z_l[nt.j]: Z_, a_l[nt.j]: A_, **sizes}
        # a normalised layer's numerators run in one flat loop that vectorises
        elementwise_small = small_layer[l - 1] and activation.elementwise
        act_printer = scalar_printer if elementwise_small else printer
        if activation.elementwise:
            act = block(act_printer, [formulas.a.rhs.xreplace(scalars)], f"f{l}_part")
        else:
            act = block(printer, [activation.formula.xreplace({X: Z_})], f"f{l}_part")
        dact = None
        needs_z = False
        if l < L:
            factor = _hidden_factor(formulas.delta_textbook.rhs, l).xreplace(scalars)
            dact = block(scalar_printer if small_layer[l - 1] else printer, [factor], f"df{l}_part")
            needs_z = _uses(factor, Z_)
        else:
            needs_z = output.uses_z
        frozen_W, frozen_b = ("W", l - 1) in spec.frozen, ("b", l - 1) in spec.frozen
        small = small_layer[l - 1]
        layers.append(
            LayerPlan(
                index=l,
                n_in=spec.layers[l - 1],
                n_out=spec.layers[l],
                activation=activation.name,
                normalised=not activation.elementwise,
                act=act,
                dact=dact,
                needs_z=needs_z,
                parallel=parallel[l - 1],
                small=small,
                fold=not small and update.fold is not None and not frozen_W,
                W_offset=offsets[l - 1][0],
                b_offset=offsets[l - 1][1],
                frozen_W=frozen_W,
                frozen_b=frozen_b,
                stored_T=not small,
                keep_W=not small and l > 1,
                kernel=spec.network[l - 1].kernel_block,
                numbers=tuple(sorted(source.activations[l - 1].params)) if numbers else (),
            )
        )
    trainable, foldable = [], []
    for lay in layers:
        for lo, hi, frozen, folded in (
            (lay.W_offset, lay.b_offset, lay.frozen_W, lay.fold),
            (lay.b_offset, lay.b_offset + lay.n_out, lay.frozen_b, False),
        ):
            if not frozen:
                trainable.append((lo, hi))
                if not folded:
                    foldable.append((lo, hi))
    return KernelPlan(
        spec=source,
        dtype=dtype,
        layers=tuple(layers),
        output=output.plan,
        update=update,
        n_params=offset,
        segments=_merge(trainable),
        fold_segments=_merge(foldable),
        runtime=tuple(sorted(printer.used | scalar_printer.used)),
        act_hyper=hyper.activation_slots(source) if numbers else (),
    )


def _merge(ranges: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if out and out[-1][1] == lo:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return tuple(out)


def _uses(expr: sp.Expr, symbol: sp.Symbol) -> bool:
    return symbol in prepare(expr).free_symbols


def _hidden_factor(delta: sp.Expr, l: int) -> sp.Expr:
    """The local factor of ``δ^l_j = factor · Σ_i δ^{l+1}_i w^{l+1}_{ij}``."""
    sums = [f for f in sp.Mul.make_args(delta) if isinstance(f, sp.Sum)]
    expected = nt.delta(l + 1)[nt.i] * nt.weight(l + 1)[nt.i, nt.j]
    if len(sums) != 1:
        raise ValueError(f"internal error: unexpected hidden delta of layer {l}: {delta}")
    outside = sp.Mul(*(f for f in sp.Mul.make_args(delta) if not isinstance(f, sp.Sum)))
    inside = sp.piecewise_fold(sp.cancel(sums[0].function / expected))
    if inside.has(nt.i) or inside.has(nt.delta(l + 1)) or inside.has(nt.weight(l + 1)):
        raise ValueError(f"internal error: unexpected hidden delta of layer {l}: {delta}")
    return outside * inside


# ---------------------------------------------------------------------------
# Output layer: loss and delta.


@dataclass(frozen=True)
class _Output:
    plan: OutputPlan
    uses_z: bool


def _stable_logs(expr: sp.Expr, spec: Spec, L: int) -> sp.Expr:
    """Write ``log a`` (and ``log(1 - a)``) of the output through ``z``, overflow-free, as
    the output activation's record says (``Activation.log_output``, ``log_complement``)."""
    a, z = nt.activation(L), nt.preactivation(L)
    activation = spec.activations[-1]

    def is_log_of(e: sp.Expr, one_minus: bool) -> bool:
        if not isinstance(e, sp.log):
            return False
        arg = e.args[0]
        if one_minus:
            arg = 1 - arg
        return isinstance(arg, sp.Indexed) and arg.base == a

    def index(e: sp.log, one_minus: bool) -> sp.Expr:
        arg = 1 - e.args[0] if one_minus else e.args[0]
        return arg.indices[0]

    for form, one_minus in ((activation.log_output, False), (activation.log_complement, True)):
        if form is not None:
            expr = expr.replace(
                lambda e, m=one_minus: is_log_of(e, m),
                lambda e, f=form, m=one_minus: f.xreplace({X: z[index(e, m)], LOG_NORMALISER: LSE}),
            )
    return expr


def _normalised_delta(exact: sp.Expr, spec: Spec, L: int) -> sp.Expr:
    """The exact output delta of a normalised activation with every numerator ``g(z_k)``
    written as ``a_k · S`` (:meth:`~symbp.ops.activations.Activation.in_outputs`)."""
    a, z = nt.activation(L), nt.preactivation(L)
    S = sp.Dummy("S", positive=True)
    expr = split_branch_sums(spec.activations[-1].in_outputs(exact, z, a, S))
    expr = expr.replace(
        lambda e: isinstance(e, sp.Sum), lambda e: sp.Sum(sp.cancel(e.function), *e.limits)
    )
    expr = sp.Add(*(sp.cancel(t) for t in sp.Add.make_args(sp.expand(expr))))
    expr = pull_out(expr)
    return expr.xreplace({S: NORM})


def _lower(expr: sp.Expr, L: int, sizes: dict, sums: dict[sp.Expr, sp.Symbol]) -> sp.Expr:
    """Replace each ``Sum`` over the outputs by a reduction symbol (bodies kept in ``sums``)."""
    a, z, t = nt.activation(L), nt.preactivation(L), nt.TARGET

    def scalar(e: sp.Expr, var: sp.Expr) -> sp.Expr:
        return e.xreplace({a[var]: A_, z[var]: Z_, t[var]: T_, **sizes})

    def one(s: sp.Sum) -> sp.Symbol:
        ((var, _, _),) = s.limits
        body = scalar(s.function, var)
        if body.has(sp.Indexed) or body.has(sp.Sum):
            raise ValueError(f"internal error: cannot lower {s}")
        if body not in sums:
            sums[body] = scalar_symbol(f"red_{len(sums)}")
        return sums[body]

    out = expr.replace(lambda e: isinstance(e, sp.Sum), one)
    out = scalar(out, nt.j)
    if out.has(sp.Indexed):
        raise ValueError(f"internal error: cannot lower {expr}")
    return out


def _reduction_names(sums: dict[sp.Expr, sp.Symbol], loss: sp.Expr) -> dict[sp.Symbol, sp.Symbol]:
    """Names for the sums over the outputs: ``row_loss`` for the sum that is the row's
    loss, ``sum_t`` for ``Σ t_i`` (what :func:`describe` says of the summand), else
    ``sum_0, sum_1…``."""
    out: dict[sp.Symbol, sp.Symbol] = {}
    for k, (body, sym) in enumerate(sums.items()):
        said = describe(body)
        name = "row_loss" if loss == sym else (f"sum_{said}" if said else f"sum_{k}")
        out[sym] = scalar_symbol(name)
    return out


def _output_plan(spec: Spec, model: GenericModel, printer: NumbaPrinter, sizes: dict) -> _Output:
    L = spec.depth
    layer = model.layer(L)
    if spec.activations[-1].elementwise and not layer.assumptions:
        delta = layer.delta_textbook.rhs
    elif spec.activations[-1].elementwise:
        delta = layer.delta.rhs
    else:
        delta = _normalised_delta(layer.delta.rhs, spec, L)
    sums: dict[sp.Expr, sp.Symbol] = {}
    loss = _lower(_stable_logs(model.loss.rhs, spec, L), L, sizes, sums)
    delta = _lower(delta, L, sizes, sums)
    names = _reduction_names(sums, loss)
    loss, delta = loss.xreplace(names), delta.xreplace(names)
    sums = {body: names[sym] for body, sym in sums.items()}
    bodies = list(sums)
    reduce = block(printer, bodies, "term_part") if bodies else Block((), ())
    exprs = [*bodies, loss, delta]
    plan = OutputPlan(
        reductions=tuple(str(s) for s in sums.values()),
        reduce=reduce,
        loss=block(printer, [loss], "loss_part"),
        delta=block(printer, [delta], "delta_part"),
        uses_lse=any(_uses(e, LSE) for e in exprs),
        uses_norm=any(_uses(e, NORM) for e in exprs),
    )
    return _Output(plan, any(_uses(e, Z_) for e in exprs))
