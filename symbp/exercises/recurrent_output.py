"""How the exercises of a recurrent network (per-student BPTT exercises) are worded.

The files are those of every network of layer records (:mod:`.map_sheet`), from the
variants of :mod:`.recurrent`; this module gives their words (:data:`RECURRENT`):

- ``variants/ID.yaml``: each student's spec whose claims (with ``time:``) are the
  answers (``symbp verify variants/ID.yaml`` confirms them);
- ``answers.csv`` (the question column names the time step: ``h[0][0] at t=2``),
  ``moodle.xml`` and ``gift.txt`` (:mod:`.map_quiz`, with this module's question text);
- ``sheets/ID.pdf``, ``key/ID.pdf``, ``sheets.pdf`` and ``key.pdf``: the sheet
  (``templates/conv_exercise_sheet.tex.j2``) lists the layers, the numbers (``W[0]``,
  ``U[0]``, ``b[0]``, the dense layers', the initial states, the input ``x_t`` and target
  of every step), the conventions and the questions; the key boxes the answers and
  appends the worked solution (:func:`solution_tex`,
  ``templates/recurrent_exercise_solution.tex.j2``): every step's forward values, the
  backward recursion ``∂E/∂h_t`` from the last step down with every step's gradient
  terms, the gradients as sums over the steps and the update, all from the exact run.

The conventions (:func:`conventions`) state the cell's formulas in PyTorch's gate order,
that ``b`` is ``bias_ih + bias_hh`` (the cell record's note), how ``E`` is formed from
the steps' losses (summed over the steps, or the last step's), the truncation
(``bptt``), the loss, optimiser, update rule and batches (:mod:`.conventions`) and the
0-based names.
"""

from __future__ import annotations

from typing import Any

from ..layers import Recurrent
from ..render.escape import Tex
from ..render.network_text import _rows
from ..render.templating import render
from ..spec import Spec
from ..symbolic.recurrent import derive_cell
from ..symbolic.recurrent_run import run_recurrent
from ..symbolic.shifted_text import text as formula_text
from .conventions import conventions as record_conventions
from .map_sheet import Numbers, SheetKind, matrices, plain, tex_matrix
from .plan import ExerciseSet
from .recurrent import TimedQuestion, base_kind, default_asks, parse_asks
from .variants import Answer, Variant

#: How the sheet names the quantities (the names of ``symbp eval --json``).
NAMES = (
    "Names and indices count from 0, as symbp eval names them; time steps count from 1 "
    "(t = 1..T). W[0], U[0], b[0] are the recurrent layer's input weights, recurrent weights "
    "and bias, W[l][j][k] of a dense layer the weight into neuron j from k; h[0] at t is "
    "h_t, c[0] at t the cell state c_t, gate_i[0] … the gates; loss at t is L_t, loss the "
    "cost E; delta_h[0] at t = ∂E/∂h_t (every later step's loss included, as truncation "
    "allows); grad_W[l] = ∂E/∂W[l], grad_U[0] = ∂E/∂U[0], grad_b[l] = ∂E/∂b[l] (sums over "
    "the steps); W[0][j][k] after 1 update is the weight after one step of the optimiser."
)
_WORDS = {
    "h": "the hidden state of unit {j} at step {t}",
    "c": "the cell state of unit {j} at step {t}",
    "z": "the value before the activation of unit {j} at step {t}",
    "a": "this output of the dense layers at step {t}",
    "delta": "∂L_t/∂z of this dense neuron at step {t}",
    "delta_h": "∂E/∂h_t of unit {j} at step {t}, through every later step",
    "delta_c": "∂E/∂c_t of unit {j} at step {t}, through every later step",
    "loss": "the loss L_t of step {t}",
    "grad_W": "the gradient of the cost E with respect to this weight",
    "grad_U": "the gradient of the cost E with respect to this recurrent weight",
    "grad_b": "the gradient of the cost E with respect to this bias",
    "W": "this weight",
    "U": "this recurrent weight",
    "b": "this bias",
}


def _layer(spec: Spec) -> Recurrent:
    layer = spec.network[0]
    assert isinstance(layer, Recurrent)
    return layer


def conventions(spec: Spec) -> tuple[str, ...]:
    """The conventions of ``spec``'s answers (see the module docstring)."""
    rec = spec.recurrence
    assert rec is not None
    layer = _layer(spec)
    cell = derive_cell(layer.cell, layer.unit_activation)
    formulas = "; ".join(f"{k} = {formula_text(v)}" for k, v in cell.formulas.items())
    gates = ", ".join(layer.cell.gates)
    n = layer.size
    states = " and ".join(f"{s}_0 = {s}0" for s in layer.cell.states)
    cell_text = (
        f"The {layer.cell.name} cell of unit j at step t (gates in PyTorch's order {gates}; "
        f"block g of the rows of W[0], U[0] and b[0] is gate g, rows g·{n}+j): {formulas}; "
        f"Wx_g = Σ_k W[0][g·{n}+j][k]·x_t[k], Uh_g = Σ_m U[0][g·{n}+j][m]·h_(t-1)[m], "
        f"b_g = b[0][g·{n}+j]; {states} (the initial states printed). "
        f"{layer.cell.bias_note}."
    )
    if rec.output == "every_step":
        cost = (
            f"The dense layers read h_t at every step; each step t has a loss L_t, and the "
            f"cost of the sequence is their sum E = L_1 + … + L_{rec.steps} (summed over the "
            "steps, not averaged)."
        )
    else:
        cost = (
            f"The dense layers read h_t at every step; only the last step has a target, so "
            f"E = L_{rec.steps}."
        )
    if rec.bptt is None:
        truncation = (
            "Full backpropagation through time: ∂E/∂h_t = ∂L_t/∂h_t + (∂h_(t+1)/∂h_t)^T "
            "∂E/∂h_(t+1), with ∂E/∂h_(T+1) = 0; each weight's gradient is the sum over the "
            "steps of its terms."
        )
    else:
        k = rec.bptt
        truncation = (
            f"Truncated backpropagation through time, bptt {k}: the loss L_t flows back to "
            f"steps t−{k}+1..t only (the states before step t−{k}+1 are constants for L_t); "
            "∂E/∂h_t sums what reaches step t, and each weight's gradient is the sum over the "
            "steps of its terms."
        )
    kept = [c.text for c in record_conventions(spec) if c.key != "activations"]
    return (cell_text, cost, truncation, *kept, NAMES)


def describe(answer: Answer, spec: Spec) -> str:
    """What the question asks, in words."""
    q = answer.question
    assert isinstance(q, TimedQuestion)
    kind = base_kind(q.quantity)
    j = q.quantity.indices[-1] if q.quantity.indices else 0
    words = _WORDS.get(kind, "gate {g} of unit {j} at step {t}" if kind.startswith("gate_") else "")
    text = words.format(j=j, t=q.time, g=kind.removeprefix("gate_"))
    if q.time is not None and kind.startswith("grad_"):
        text = f"step {q.time}'s term of {text}"
    if kind == "loss" and q.time is None:
        text = "the cost E of the sequence"
    if len(spec.examples) > 1 and q.time is not None:  # as eval names them: the batch's
        mean = kind == "loss" or kind.startswith("grad_")  # mean, else its first example
        text += " (the mean over the examples)" if mean else " for the first example"
    if q.step == 0:
        return f"{text}, for the given parameters"
    return f"{text}, after {q.step} update{'s' if q.step != 1 else ''}"


def numbers(variant: Variant) -> Numbers:
    """The student's numbers as small matrices, by group: each layer's ``W``, ``U``, ``b``,
    the initial states, then each example's ``x_t`` (one row per step) and targets."""
    params = variant.data["params"]
    spec = variant.spec
    rec = spec.recurrence
    assert rec is not None
    rows: list[tuple[str, tuple[Tex, ...]]] = []
    for l in range(len(params["W"])):
        parts: list[Tex] = []
        for name in ("W", "U", "b"):
            value = params[name][l]
            if value is not None:
                parts += [tex_matrix(n, m) for n, m in matrices(f"{name}[{l}]", value)]
        rows.append((f"layer {l}", tuple(parts)))
    initial = rec.initial[0] or {}
    rows.append(
        ("initial state", tuple(tex_matrix(f"{s}0[0]", [list(v)]) for s, v in initial.items()))
    )
    examples = variant.data.get("examples") or [variant.data["example"]]
    for e, ex in enumerate(examples):
        t = ex["t"]
        parts = [
            tex_matrix("x (row t = x_t)", ex["x"]),
            tex_matrix("t (row t = target of step t)" if rec.output == "every_step"
                        else "t (target of the last step)", t if isinstance(t[0], list) else [t]),
        ]  # fmt: skip
        rows.append((f"example {e}" if len(examples) > 1 else "the sequence", tuple(parts)))
    return tuple(rows)


def _lines(arrays: dict[str, Any], keep: Any, digits: int) -> list[str]:
    out: list[str] = []
    for name, value in arrays.items():
        if keep(name):
            out.extend(_rows(name, value, digits))
    return out


def solution_tex(exercises: ExerciseSet, variant: Variant) -> str:
    """The LaTeX of ``variant``'s worked solution (see the module docstring)."""
    spec = variant.spec
    rec = spec.recurrence
    assert rec is not None
    digits = min(max(6, exercises.settings.answer_decimals + 2), 15)
    K = max(1, *(a.question.step for a in variant.answers))
    run = run_recurrent(spec, K)
    step = run.steps[0]
    T = rec.steps

    def forward(name: str) -> bool:
        return not name.startswith(("grad_", "delta")) and name != "a[0]"

    def backward(name: str) -> bool:
        return name.startswith(("delta", "grad_"))

    def parameter(name: str) -> bool:
        return name.split("[")[0] in ("W", "U", "b")

    times = [
        (t, _lines(step.arrays(t), forward, digits), _lines(step.arrays(t), backward, digits))
        for t in range(1, T + 1)
    ]
    whole = step.arrays()
    sums = _lines(whole, lambda n: n.startswith("grad_") or n == "loss", digits)
    updates = [(k, _lines(run.steps[k].arrays(), parameter, digits)) for k in range(1, K + 1)]
    return render(
        "tex",
        "recurrent_exercise_solution.tex.j2",
        title=f"Worked solution: {exercises.spec.title or exercises.spec.name}",
        student=variant.student.id,
        code=variant.code.text,
        conventions=conventions(spec),
        times=times,
        reversed_times=list(reversed(times)),
        sums=sums,
        updates=updates,
        steps=T,
        digits=digits,
        spec_file=exercises.spec_file,
        spec_hash=exercises.spec.hash,
    )


def numbers_text(variant: Variant) -> list[str]:
    """The student's numbers as lines of text (the quiz's): each layer's ``W``, ``U``,
    ``b``, the initial states, then each example's ``x`` (``x_1, x_2, …``) and ``t``."""
    params = variant.data["params"]
    lines = []
    for l in range(len(params["W"])):
        parts = [f"{n}[{l}] = {plain(params[n][l])}" for n in ("W", "U", "b")
                 if params[n][l] is not None]  # fmt: skip
        lines.append(", ".join(parts))
    rec = variant.spec.recurrence
    assert rec is not None
    for s, v in (rec.initial[0] or {}).items():
        lines.append(f"{s}0[0] = {plain(list(v))}")
    for e, ex in enumerate(variant.data.get("examples") or [variant.data["example"]]):
        lines.append(f"example {e}: x = {plain(ex['x'])} (x_1, x_2, …), t = {plain(ex['t'])}")
    return lines


def shape(spec: Spec) -> str:
    """The input's shape: ``3 steps x 2 features``."""
    rec = spec.recurrence
    assert rec is not None
    return f"{rec.steps} steps x {spec.input_shape[0]} features"


def solution_pdf(exercises: ExerciseSet, variant: Variant, engine: str | None = None) -> bytes:
    """The worked solution of ``variant`` (:func:`solution_tex`) as PDF bytes."""
    from .sheets import _pdf

    return _pdf(solution_tex(exercises, variant), None, engine)


#: How the exercises of a recurrent net are worded (:mod:`.map_sheet`).
RECURRENT = SheetKind(  # the fields' order
    describe, conventions, numbers, numbers_text, shape, default_asks, parse_asks, solution_pdf
)
