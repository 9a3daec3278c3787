"""Issue 13: the documents teach past sigmoid nets.

Every number asserted here is recomputed from the exact evaluation (never typed in),
then looked for in the rendered LaTeX as the document rounds it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

import symbp
from symbp.ops.shortest import shortest_form
from symbp.ops.symbols import X
from symbp.render.document import render_document
from symbp.render.mathtex import display_number, tex_number
from symbp.render.model import build
from symbp.render.worked import visible_digits
from symbp.symbolic.explicit import _softmax_jacobian

ROOT = Path(__file__).resolve().parents[1]
MOMENTUM = ROOT / "examples" / "tanh_softmax_momentum_2_3_2.yaml"
ADAM = ROOT / "examples" / "adam_softsign_2_2_1.yaml"
MIDSIZE = ROOT / "examples" / "midsize_12_8_3.yaml"


def _n(value: sp.Expr, digits: int = 3) -> str:
    text = display_number(value, digits)
    return rf"\left({text}\right)" if text.startswith("-") else text


@pytest.fixture(scope="module")
def momentum_tex() -> str:
    return " ".join(render_document(MOMENTUM, format="tex", steps=2).split())


@pytest.fixture(scope="module")
def momentum_eval() -> symbp.Evaluation:
    return symbp.evaluate(symbp.load(MOMENTUM), 2)


def _block(flat: str, head: str) -> str:
    start = flat.index(head)
    return flat[start : flat.index(r"\end{align*}", start)]


def test_hidden_delta_is_the_backpropagated_sum_times_f_prime(
    momentum_tex: str, momentum_eval: symbp.Evaluation
) -> None:
    step = momentum_eval.steps[0]
    ex = step.examples[0]
    d2, W2 = ex.delta[1], step.W[1]
    total = sum(d2[i] * W2[i][0] for i in range(2))
    f_prime = 1 - ex.a[1][0] ** 2  # tanh' from its derived form 1 - a^2
    assert abs(total * f_prime - ex.delta[0][0]) < 1e-40  # the product is δ¹₁
    block = _block(momentum_tex, r"\sum_{i=1}^{2} \delta^{2}_{i} w^{2}_{i1} &= ")
    # the operands carry a fourth digit: (0.342)(0.718) + (-0.342)(-1.04) would give 0.601
    d, w = display_number(d2[0], 4), display_number(W2[0][0], 4)
    assert rf"\left({d}\right)\left({w}\right)" in block
    assert f"&= {display_number(total)} " in block
    assert r"\tanh'\left(z^{1}_{1}\right) &= 1 - \left(a^{1}_{1}\right)^{2}" in block
    assert rf"&= 1 - \left({display_number(ex.a[1][0], 4)}\right)^{{2}}" in block
    assert f"&= {display_number(f_prime)} " in block
    assert rf"\left({display_number(total)}\right)\left({display_number(f_prime)}\right)" in block
    assert block.rstrip().endswith(f"&= {display_number(ex.delta[0][0])}")
    # every hidden weight's gradient reuses its δ: ∂E/∂w¹₁₁ = δ¹₁ x₁
    grad = _block(momentum_tex, r"\frac{\partial E}{\partial w^{1}_{11}} &= ")
    assert r"\delta^{1}_{1} x_{1}" in grad
    assert grad.rstrip().endswith(f"&= {display_number(step.grad_W[0][0][0])}")


def test_momentum_velocity_over_two_updates(
    momentum_tex: str, momentum_eval: symbp.Evaluation
) -> None:
    g0 = momentum_eval.steps[0].grad_W[1][0][0]
    g1 = momentum_eval.steps[1].grad_W[1][0][0]
    assert r"\mu = 0.9" in momentum_tex  # the hyper-parameter is stated
    second = _block(momentum_tex, r"Update 2 of the weight $w^{2}_{11}$.")
    assert r"v &\leftarrow \mu v + \frac{\partial E}{\partial w^{2}_{11}}" in second
    v1 = g0
    v2 = sp.Rational(9, 10) * v1 + g1
    # μ v with the old velocity, operands to 4 digits so that the line adds up as printed
    assert rf"&= 0.9 \cdot {_n(v1, 4)} + {_n(g1, 4)}" in second
    assert f"&= {display_number(v2)} " in second
    w1, w2 = momentum_eval.steps[1].W[1][0][0], momentum_eval.steps[2].W[1][0][0]
    assert abs(w1 - sp.Rational(1, 10) * v2 - w2) < 1e-40
    assert rf"\Delta w^{{2}}_{{11}} &= {display_number(w2, 4)} - {_n(w1, 4)}" in second


def test_softmax_jacobian_is_derived_in_words_and_formula(momentum_tex: str) -> None:
    assert "Jacobian" in momentum_tex and "quotient rule" in momentum_tex
    assert r"\frac{\partial a^{2}_{i}}{\partial z^{2}_{j}}" in momentum_tex
    assert r"&= a^{2}_{i} \left(\delta_{ij} - a^{2}_{j}\right)" in momentum_tex
    # δ^L through the Jacobian, then the one-hot simplification with its assumption stated
    delta = _block(momentum_tex, r"\delta^{2}_{j} &= \frac{\partial L}{\partial z^{2}_{j}}")
    assert r"a^{2}_{i} \left(\delta_{ij} - a^{2}_{j}\right)" in delta
    assert r"a^{2}_{j} \sum_{i=1}^{n_{2}} t_{i} - t_{j}" in delta
    assert r"&= a^{2}_{j} - t_{j} && \text{(assuming the targets of an example sum to 1" in delta


def test_the_printed_jacobian_is_what_sympy_differentiates() -> None:
    zs = sp.symbols("z1:4", real=True)
    acts = sp.symbols("a1:4", positive=True)
    for i in range(3):
        for j in range(3):
            printed = acts[i] * (sp.KroneckerDelta(i, j) - acts[j])
            assert sp.expand(_softmax_jacobian(zs, acts, i, j) - printed) == 0


def test_custom_activation_derivative_is_shortest_and_sign_free() -> None:
    f = X / (1 + sp.Abs(X))
    raw = sp.diff(f, X)
    assert raw.has(sp.sign)
    short = shortest_form(raw)
    assert short == 1 / (1 + sp.Abs(X)) ** 2
    for x in (-3, sp.Rational(-1, 2), sp.Rational(1, 3), 2):
        assert raw.subs(X, x) == short.subs(X, x)
    tex = " ".join(render_document(ADAM, format="tex", steps=2).split())
    assert r"\operatorname{sign}" not in tex
    assert r"&= \frac{1}{\left(\left|{x}\right| + 1\right)^{2}} && \text{(simplified)}" in tex
    # a sigmoid written as a formula keeps exp (simplify's cosh form is refused)
    assert not shortest_form(sp.diff(1 / (1 + sp.exp(-X)), X)).has(sp.cosh)


def test_adam_shows_moments_and_bias_corrections() -> None:
    flat = " ".join(render_document(ADAM, format="tex", steps=2).split())
    evaluation = symbp.evaluate(symbp.load(ADAM), 2)
    g0, g1 = (evaluation.steps[k].grad_W[1][0][0] for k in range(2))
    b1, b2 = sp.Rational(9, 10), sp.Rational(999, 1000)
    m1, v1 = (1 - b1) * g0, (1 - b2) * g0**2
    m2, v2 = b1 * m1 + (1 - b1) * g1, b2 * v1 + (1 - b2) * g1**2
    second = _block(flat, r"Update 2 of the weight $w^{2}_{11}$.")
    assert r"\beta_{1} = 0.9,\ \beta_{2} = 0.999" in flat
    assert r"\hat{m} &\leftarrow \frac{m}{1 - \beta_{1}^{t}}" in second  # t counts updates
    assert f"&= {tex_number(m2)} " in second and f"&= {tex_number(v2)} " in second
    assert r"1 - \left(0.9\right)^{2}" in second  # t = 2 in the bias correction
    assert f"&= {tex_number(m2 / (1 - b1**2))} " in second
    assert f"&= {tex_number(v2 / (1 - b2**2))} " in second


def test_updates_show_the_change_with_visible_digits() -> None:
    # 0.15 - 0.5 * 0.000439 prints as 0.150 -> 0.150 at 3 digits: the table takes 4
    old, new = sp.Rational(15, 100), sp.Rational(15, 100) - sp.Rational(439, 2 * 10**6)
    assert visible_digits([(old, new)], 3) == 4
    assert display_number(old, 3) == "0.15" and display_number(new, 3) == "0.150"
    assert display_number(new, 4) == "0.1498"
    assert visible_digits([(old, old)], 3) == 3  # unchanged parameters ask for nothing
    spec = {"layers": [1, 1], "params": {"W": [[[0.15]]], "b": [[0]]},
            "optimizer": {"name": "sgd", "learning_rate": 0.5},
            "loss": "half_sse", "activations": ["identity"],
            "example": {"x": [0.001], "t": [0.5]}}  # fmt: skip
    doc = build(symbp.load(spec), steps=1)
    (table,) = [s.table for s in doc.update_worked]
    assert "significant digits, so that every change shows" in table.caption
    new_w = symbp.evaluate(symbp.load(spec), 1).steps[1].W[0][0][0]
    assert str(table.rows[0][1].content) == display_number(new_w, 4)
    assert str(table.rows[1][1].content) == display_number(new_w - sp.Rational(15, 100), 3)


def test_every_document_has_the_matrix_form_with_shapes() -> None:
    tex = render_document(MIDSIZE, format="tex")
    assert r"\left(\left(W^{2}\right)^{\top} \boldsymbol{\delta}^{2}\right) \odot" in tex
    assert r"\nabla_{W^{1}} L &= \boldsymbol{\delta}^{1} \left(\mathbf{x}\right)^{\top}" in tex
    assert r"\text{(8 $\times$ 12)}" in tex
    big = render_document({"layers": [784, 256, 10], "activations": ["relu", "softmax"],
                           "loss": "cross_entropy"}, format="tex")  # fmt: skip
    assert r"\text{(256 $\times$ 784)}" in big and r"\mathbf{a}^{2} - \mathbf{t}" in big


def test_mid_size_sections_are_never_empty() -> None:
    doc = build(symbp.load(MIDSIZE), steps=1)
    assert doc.tier == "examples"
    for section in doc.forward_worked + doc.backward_worked:
        assert section.items, section.title
        # the note points at a table that exists (here or in the forward pass)
        assert section.table is not None or "forward pass lists all" in (section.note or "")


def test_chains_option_writes_chains_of_factors(tmp_path: Path) -> None:
    koech = ROOT / "examples" / "koech_3_4_1.yaml"
    out = tmp_path / "k.md"
    subprocess.run(
        [sys.executable, "-m", "symbp", "doc", str(koech), "--chains", "-q", "-o", str(out)],
        check=True,
    )
    text = out.read_text()
    assert r"\frac{\partial E}{\partial \hat{y}} \cdot \frac{\partial \hat{y}}" in text
    plain = render_document(koech, format="md")
    assert r"\frac{\partial E}{\partial \hat{y}} \cdot \frac{\partial \hat{y}}" not in plain
    assert r"\frac{\partial E}{\partial w^{2}_{11}} &= \delta^{2}_{1} a^{1}_{1}" in plain


@pytest.mark.parametrize("name", ["rprop", "nesterov", "momentum", "adam", "sgd"])
def test_every_optimiser_is_worked_with_decay_and_schedule(name: str) -> None:
    """Each optimiser's worked updates end at the evaluation's new value (the trace runs
    the same program), with λ and the schedule's rate formula stated."""
    spec = symbp.load({
        "layers": [2, 2, 1], "activations": "sigmoid", "loss": "half_sse",
        "optimizer": {"name": name, "learning_rate": 0.1, "weight_decay": 0.01,
                      "schedule": {"name": "exponential", "gamma": 0.9}},
        "init": {"name": "xavier_uniform", "seed": 1},
        "example": {"x": [0.5, -1.0], "t": [1]},
    })  # fmt: skip
    evaluation = symbp.evaluate(spec, 2)
    flat = " ".join(render_document(spec, format="tex", steps=2).split())
    flat = flat[flat.index(r"\section{Updating the parameters}") :]
    assert r"\lambda = 0.01" in flat and r"\eta &= \eta_{0} \gamma^{\mathrm{epoch}}" in flat
    updates = 1 if name == "sgd" else 2
    for k in range(1, updates + 1):
        head = "of the weight $w^{2}_{11}$." if updates > 1 else "The weight $w^{2}_{11}$."
        block = _block(flat, f"Update {k} {head}" if updates > 1 else head)
        old, new = (evaluation.steps[i].W[1][0][0] for i in (k - 1, k))
        assert r"\Delta w^{2}_{11} &= " in block
        assert block.rstrip().endswith(f"&= {tex_number(new - old)}")


def test_an_online_schedule_is_shown_as_the_text_trains() -> None:
    data = {
        "layers": [2, 2, 1], "activations": "sigmoid", "loss": "half_sse",
        "params": {"W": [[[0.15, -0.2], [0.25, 0.3]], [[0.4, -0.45]]],
                   "b": [[0.1, -0.1], [0.2]]},
        "examples": [{"x": [0.5, -0.3], "t": [1]}, {"x": [0.1, 0.9], "t": [0]},
                     {"x": [-0.7, 0.2], "t": [1]}],
        "training": {"batch_size": 1, "shuffle": False},
    }  # fmt: skip
    spec = symbp.load(data)
    evaluation = symbp.evaluate(spec, 6)
    table = build(spec, steps=6).trajectory
    assert table is not None and "online" in table.caption
    assert [str(h) for h in table.header[:3]] == ["step", "epoch", "next update's rows"]
    rows = [[str(c.content) for c in row] for row in table.rows]
    assert [r[2] for r in rows] == ["1", "2", "3", "1", "2", "3", "1"]  # rows in order
    assert [r[1] for r in rows] == ["1", "1", "1", "2", "2", "2", "3"]
    mean = sum(evaluation.steps[k].loss for k in range(3)) / 3  # epoch 1's step losses
    assert rows[3][-1] == display_number(mean) and rows[1][-1] == ""
