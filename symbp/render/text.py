"""Terminal output: the derivation in Unicode (or raw LaTeX) and worked-example tables."""

from __future__ import annotations

import io
from collections.abc import Callable

import sympy as sp
from rich.console import Console
from rich.table import Table

from ..escape import terminal_text, tex_comment
from ..ops.symbols import A, T, X, Y
from ..symbolic import notation as nt
from ..symbolic.derivation import Derivation
from ..symbolic.evaluate import Evaluation
from .printers import fmt_number, latex, pretty, pretty_join

_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def derivation_text(derivation: Derivation, *, as_latex: bool = False) -> str:
    """The derivation as text: network, forward pass, loss, derivatives, chains.

    Prose (the spec's name, the records' keys) is escaped for its context: a
    ``%`` comment of one line in LaTeX (:func:`~symbp.escape.tex_comment`), the
    terminal otherwise (:func:`~symbp.escape.terminal_text`). The math lines come
    from SymPy's printers.
    """
    show: Callable[[sp.Basic], str] = latex if as_latex else pretty
    spec, generic = derivation.spec, derivation.generic
    out: list[str] = []

    def section(title: str) -> None:
        out.append("")
        out.append(f"== {terminal_text(title)}" if not as_latex else f"% == {tex_comment(title)}")

    def note(text: str) -> None:
        """A line of prose: a LaTeX comment in --latex output (which holds only math)."""
        out.append(f"% {tex_comment(text)}" if as_latex else terminal_text(text))

    def eq(lhs: sp.Basic, rhs: sp.Basic) -> None:
        out.append(show(sp.Eq(lhs, rhs, evaluate=False)))

    section(f"Network {spec.name}")
    note(
        f"layers {list(spec.layers)} (layer 0 is the input x = a⁰, layer {spec.depth} "
        f"the output ŷ = a{str(spec.depth).translate(_SUP)}); {spec.n_params} parameters, "
        f"{spec.n_trainable} trainable"
    )
    note(
        "activations: "
        + ", ".join(f"layer {l + 1}: {a.key}" for l, a in enumerate(spec.activations))
    )
    note(f"loss: {spec.loss.key}, {spec.loss.scaling}; over m examples E = (1/m) Σ L")
    section("Forward pass (layer-generic, 0-based indices)")
    for f in generic.layers:
        out.append(show(f.z))
        out.append(show(f.a))
    section("Loss")
    out.append(show(generic.loss))
    out.append(show(generic.cost))
    section("Element-wise derivatives")
    seen: set[str] = set()
    for l, act in enumerate(spec.activations, start=1):
        if act.key in seen or not act.elementwise:
            continue
        seen.add(act.key)
        fx = sp.Function("f")(X)
        note(f"layer {l}: {act.key}")
        out.append("   " + show(sp.Eq(fx, act.formula, evaluate=False)))
        deriv = sp.Eq(sp.Derivative(fx, X), act.derivative, evaluate=False)
        out.append("   " + show(deriv))
        if act.derivative_from_output is not None:
            textbook = act.derivative_from_output.xreplace({A: sp.Symbol("a")})
            where = "   % with a = f(x)" if as_latex else "   (with a = f(x))"
            out.append("   = " + show(textbook) + where)
    ell = sp.Function("ell" if as_latex else "ℓ")(Y, T)
    note(f"loss: {spec.loss.key}")
    out.append("   " + show(sp.Eq(ell, spec.loss.term, evaluate=False)))
    out.append("   " + show(sp.Eq(sp.Derivative(ell, Y), spec.loss.derivative, evaluate=False)))
    section("Backward pass (delta recursion)")
    for f in reversed(generic.layers):
        if f.layer == spec.depth and generic.output_chain is not None:
            out.append(show(sp.Eq(nt.delta(f.layer)[nt.j], generic.output_chain, evaluate=False)))
            out.append("   = " + show(f.delta_textbook.rhs))
        else:
            out.append(show(f.delta_textbook))
        for assumption in f.assumptions:
            note(f"   (assuming {assumption})")
    for f in generic.layers:
        out.append(show(f.grad_W) + "    " + show(f.grad_b))
    section("Chain rule for every parameter (explicit view)")
    if derivation.explicit is None:
        note(f"(skipped: {derivation.explicit_refusal})")
    else:
        for chain in derivation.explicit.chains.values():
            lhs = sp.Derivative(derivation.explicit.loss_symbol, chain.parameter, evaluate=False)
            out.append(
                _chain_line(
                    show,
                    as_latex,
                    [lhs, "="],
                    [[f.derivative for f in path] for path in chain.paths],
                )
            )
            out.append(
                _chain_line(
                    show, as_latex, ["    ="], [[f.expr for f in path] for path in chain.paths]
                )
            )
    return "\n".join(out).strip() + "\n"


def _chain_line(
    show: Callable[[sp.Basic], str],
    as_latex: bool,
    head: list[sp.Basic | str],
    paths: list[list[sp.Basic]],
) -> str:
    """``head`` followed by the sum over paths of the product of factors."""
    parts: list[sp.Basic | str] = list(head)
    for n, path in enumerate(paths):
        if n:
            parts.append(" + ")
        for m, factor in enumerate(path):
            if m:
                parts.append(r" \cdot " if as_latex else " · ")
            parts.append(factor)
    if not as_latex:
        return pretty_join([" " + p + " " if p == "=" else p for p in parts])
    return " ".join(
        p
        if isinstance(p, str)
        else (
            rf"\left({show(p)}\right)"
            if isinstance(p, sp.Add) or (p.is_Mul and p.could_extract_minus_sign())
            else show(p)
        )
        for p in parts
    )


def evaluation_text(evaluation: Evaluation, *, digits: int = 6, width: int = 110) -> str:
    """The worked example as tables: forward values, loss, gradients, updates, trajectory."""
    spec = evaluation.spec
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=False, color_system=None)
    n = lambda v: fmt_number(v, digits)  # noqa: E731
    for step in evaluation.steps:
        console.rule(f"step {step.index}: parameters after {step.index} update(s)")
        forward = Table(title="forward pass (first example)", title_justify="left")
        for col in ("layer", "neuron", "z", "a"):
            forward.add_column(col, justify="right")
        for j, value in enumerate(step.a[0]):
            forward.add_row("0 (input)", str(j), "", n(value))
        for l in range(1, spec.depth + 1):
            for j in range(spec.layers[l]):
                forward.add_row(str(l), str(j), n(step.z[l - 1][j]), n(step.a[l][j]))
        console.print(forward)
        console.print(f"loss E = {n(step.loss)}")
        params = Table(title="parameters and gradients", title_justify="left")
        for col in ("parameter", "value", "dE/dθ"):
            params.add_column(col, justify="right")
        for l in range(spec.depth):
            for r, row in enumerate(step.W[l]):
                for c, value in enumerate(row):
                    params.add_row(f"W[{l}][{r}][{c}]", n(value), n(step.grad_W[l][r][c]))
            for r, value in enumerate(step.b[l]):
                params.add_row(f"b[{l}][{r}]", n(value), n(step.grad_b[l][r]))
        console.print(params)
    trajectory = Table(title="trajectory", title_justify="left")
    trajectory.add_column("step", justify="right")
    trajectory.add_column("loss E", justify="right")
    for j in range(spec.layers[-1]):
        trajectory.add_column(f"ŷ[{j}]", justify="right")
    for step in evaluation.steps:
        trajectory.add_row(str(step.index), n(step.loss), *(n(v) for v in step.output))
    console.rule("trajectory")
    console.print(trajectory)
    frozen = ", ".join(f"{k}[{l}]" for k, l in sorted(spec.frozen)) or "none"
    console.print(
        f"optimizer {spec.optimizer.name}, learning rate "
        f"{n(spec.optimizer.learning_rate)}; frozen: {frozen}; "
        f"{len(spec.examples)} example(s), full-batch steps"
    )
    return buffer.getvalue()


def _equation_json(equation: sp.Eq) -> dict[str, str]:
    return {
        "lhs": sp.sstr(equation.lhs),
        "rhs": sp.sstr(equation.rhs),
        "latex": latex(sp.Eq(equation.lhs, equation.rhs, evaluate=False)),
    }


def derivation_json(derivation: Derivation) -> dict[str, object]:
    """The derivation for scripts (``symbp derive --json``).

    ``generic``: per layer (textbook numbering, 1 = first hidden) the equations
    ``z``, ``a``, ``delta`` (exact), ``delta_textbook`` (as a text prints it, with its
    ``assumptions``), ``grad_W``, ``grad_b``, each as ``lhs``/``rhs`` (SymPy's plain text) and
    as ``latex``; then the loss and the cost. ``chains``: every parameter's chain of
    factors (``paths`` of ``[∂numerator/∂denominator, expression]`` pairs) when the
    network is small enough to have them, else ``null`` with the reason.
    """
    spec, generic = derivation.spec, derivation.generic
    layers = []
    for f in generic.layers:
        item: dict[str, object] = {"layer": f.layer, "activation": f.activation.name}
        for name in ("z", "a", "delta", "delta_textbook", "grad_W", "grad_b"):
            item[name] = _equation_json(getattr(f, name))
        item["assumptions"] = list(f.assumptions)
        layers.append(item)
    out: dict[str, object] = {
        "spec": spec.name,
        "layers": list(spec.layers),
        "generic": {
            "layers": layers,
            "loss": _equation_json(generic.loss),
            "cost": _equation_json(generic.cost),
        },
    }
    explicit = derivation.explicit
    if explicit is None:
        out["chains"] = None
        out["chains_refused"] = derivation.explicit_refusal
        return out
    chains = []
    for parameter in explicit.parameters:
        chain = explicit.chains[parameter]
        chains.append(
            {
                "parameter": sp.sstr(parameter),
                "kind": chain.kind,
                "layer": chain.layer,
                "indices": list(chain.indices),
                "paths": [
                    [[sp.sstr(f.derivative), sp.sstr(f.expr)] for f in p] for p in chain.paths
                ],
                "gradient": sp.sstr(chain.expr),
            }
        )
    out["chains"] = chains
    return out
