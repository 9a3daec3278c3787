"""What the derivation documents say: worked numbers, chains, tiers, escaping, marks, Jupyter.

Expected strings are written by hand from the textbook examples (seed 000's
(2.0)(0.1) + (3.0)(0.5) + (4.0)(0.9) = 5.3, seed 001's 3-4-1 walk-through).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

import symbp
from symbp.cli import main
from symbp.errors import SymbpError
from symbp.render import render_document, show, write_document
from symbp.render.escape import md_escape, safe_filename, tex_escape
from symbp.render.mathtex import display_number, tex_number
from symbp.render.model import build
from symbp.render.worked import chain_factor_values

ROOT = Path(__file__).resolve().parent.parent
SEED000 = ROOT / "examples" / "seed000_forward.yaml"
SEED001 = ROOT / "examples" / "koech_3_4_1.yaml"


@pytest.fixture(scope="module")
def seed000_tex() -> str:
    return render_document(SEED000, format="tex", steps=1)


@pytest.fixture(scope="module")
def seed001_tex() -> str:
    return render_document(SEED001, format="tex", steps=6)


@pytest.fixture(scope="module")
def seed001_chains_tex() -> str:
    """The gradients as chains of factors (``symbp doc --chains``)."""
    return render_document(SEED001, format="tex", steps=6, chains=True)


def test_seed000_forward_pass_term_by_term(seed000_tex: str) -> None:
    flat = " ".join(seed000_tex.split())
    assert (
        r"&= \left(2\right)\left(0.1\right) + \left(3\right)\left(0.5\right)"
        r" + \left(4\right)\left(0.9\right) + \left(-2\right)"
    ) in flat
    assert r"&= 5.3 + \left(-2\right)" in flat
    assert r"&= 3.3" in flat
    assert r"&= \sigma\left(3.3\right)" in flat
    assert r"&= \frac{1}{1 + e^{- 3.3}}" in flat
    assert r"&= 0.964" in flat


def test_seed000_loss_scaling_is_stated(seed000_tex: str) -> None:
    assert "the sum of squared errors over the outputs (no factor 1/2)" in seed000_tex
    assert r"E &= \frac{1}{m} \sum_{e=1}^{m} L_{e}" in seed000_tex


def test_seed001_output_delta_derived_from_the_formulas(seed001_tex: str) -> None:
    flat = " ".join(seed001_tex.split())
    # sigma' from the formula, then the textbook form a(1 - a).
    assert r"\frac{e^{- x}}{\left(1 + e^{- x}\right)^{2}}" in flat
    assert r"&= a \left(1 - a\right)" in flat
    # BCE's derivative, and delta^2 collapsing to a - t.
    assert r"\frac{1 - t}{1 - y} - \frac{t}{y}" in flat  # textbook order: positive term first
    assert r"&= a^{2}_{j} - t_{j}" in flat
    # The hidden delta recursion in index form, 1-based sums.
    assert r"\delta^{1}_{j} &= \left(1 - a^{1}_{j}\right) a^{1}_{j} \sum_{i=1}^{n_{2}}" in flat


def test_seed001_chain_for_w2_11(seed001_chains_tex: str) -> None:
    flat = " ".join(seed001_chains_tex.split())
    head = (
        r"\frac{\partial E}{\partial w^{2}_{11}} &= \frac{\partial E}{\partial \hat{y}} \cdot "
        r"\frac{\partial \hat{y}}{\partial z^{2}_{1}} \cdot "
        r"\frac{\partial z^{2}_{1}}{\partial w^{2}_{11}}"
    )
    start = flat.index(head)
    chain = flat[start : flat.index(r"\end{align*}", start)]
    assert r"\hat{y} \left(1 - \hat{y}\right) \cdot a^{1}_{1}" in chain
    # the factors carry the digits it takes for their product to give -0.405 as printed
    assert r"0.5209 \cdot \left(1 - 0.5209\right) \cdot 0.8452" in chain
    assert r"\left(-1.920\right) \cdot \left(0.2496\right) \cdot \left(0.8452\right)" in chain
    assert chain.rstrip().endswith("&= -0.405")


def test_seed001_hidden_chain_has_five_factors(seed001_chains_tex: str) -> None:
    flat = " ".join(seed001_chains_tex.split())
    head = r"\frac{\partial E}{\partial w^{1}_{43}} &= "
    chain = flat[flat.index(head) :]
    chain = chain[: chain.index(r"\end{align*}")]
    assert chain.count(r"\frac{\partial") == 1 + 5
    assert r"\cdot x_{3}" in chain
    assert r"\cdot 10" in chain  # x_3 = 10


def _aligned(flat: str, head: str) -> str:
    start = flat.index(head)
    return flat[start : flat.index(r"\end{align*}", start)]


def test_seed001_gradients_reuse_the_worked_deltas(seed001_tex: str) -> None:
    """Without --chains every gradient is δ times the weight's input, δ worked above it."""
    flat = " ".join(seed001_tex.split())
    out = _aligned(flat, r"\delta^{2}_{1} &= ")
    assert r"&= 0.521 - 1" in out and out.rstrip().endswith("&= -0.479")
    grad = _aligned(flat, r"\frac{\partial E}{\partial w^{2}_{11}} &= ")
    assert r"\delta^{2}_{1} a^{1}_{1}" in grad and r"\left(-0.479\right)\left(0.845\right)" in grad
    # δ¹₁ = (δ²₁ w²₁₁) σ'(z¹₁): the back-propagated term, σ' = a(1 - a) with a = 0.845
    hidden = _aligned(flat, r"\delta^{2}_{1} w^{2}_{11} &= ")
    assert r"\left(-0.479\right)\left(0.0881\right)" in hidden
    assert r"\sigma'\left(z^{1}_{1}\right) &= a^{1}_{1} \left(1 - a^{1}_{1}\right)" in hidden
    assert r"&= 0.845 \cdot \left(1 - 0.845\right)" in hidden
    assert hidden.rstrip().endswith("&= -0.00552")
    assert r"\frac{\partial E}{\partial w^{1}_{11}} &= \delta^{1}_{1} x_{1}" in flat


def test_chain_factors_multiply_to_the_exact_gradient() -> None:
    """Every chain's factor values (explicit model) reproduce the evaluator's gradient."""
    spec = symbp.load(SEED001)
    derivation = symbp.derive(spec)
    step = symbp.evaluate(spec, 0).steps[0]
    values = derivation.explicit.values(step)
    for chain in derivation.explicit.chains.values():
        total = sp.Add(*(sp.Mul(*path) for path in chain_factor_values(chain, values)))
        l = chain.layer - 1
        if chain.kind == "w":
            expected = step.grad_W[l][chain.indices[0]][chain.indices[1]]
        else:
            expected = step.grad_b[l][chain.indices[0]]
        assert abs(total - expected) < sp.Float("1e-40"), chain.parameter


def test_parameter_count_and_updates(seed001_tex: str) -> None:
    assert r"4 \cdot 3 + 4 + 1 \cdot 4 + 1 = 21" in seed001_tex
    assert "of which 21 are trainable" in seed001_tex
    flat = " ".join(seed001_tex.split())
    # w^2_11 <- w^2_11 - eta dE/dw^2_11 = 0.0881 - 0.5 (-0.405) = 0.291
    rule = r"w^{2}_{11} &\leftarrow w^{2}_{11} - \eta \frac{\partial E}{\partial w^{2}_{11}}"
    assert rule in flat
    assert r"&= 0.0881 - 0.5 \cdot \left(-0.405\right)" in flat
    assert r"&= 0.291" in flat


def test_large_net_is_layer_generic_only() -> None:
    spec = {"name": "mnist", "layers": [784, 256, 10], "activations": ["relu", "softmax"],
            "loss": "cross_entropy"}  # fmt: skip
    doc = build(symbp.load(spec), steps=1)
    assert doc.tier == "generic" and not doc.has_numbers
    assert doc.backward_worked == () and doc.forward_worked == ()
    text = render_document(spec, format="tex")
    assert len(text) < 20_000
    assert r"256 \cdot 784 + 256 + 10 \cdot 256 + 10 = 203530" in text
    assert r"z^{1}_{j} &= b^{1}_{j} + \sum_{k=1}^{n_{0}} a^{0}_{k} w^{1}_{jk}" in text
    assert r"a^{2}_{j} - t_{j}" in text  # softmax + cross-entropy
    assert "one-hot" in text


def test_mid_size_net_gets_examples_and_tables_not_every_chain() -> None:
    spec = {"layers": [6, 8, 3], "init": {"name": "xavier_uniform", "seed": 1},
            "example": {"x": [1, 0, 1, 0, 1, 0], "t": [1, 0, 0]}}  # fmt: skip
    doc = build(symbp.load(spec), steps=1)
    assert doc.tier == "examples"  # 83 parameters
    kinds = [[item.kind for item in section.items] for section in doc.backward_worked]
    assert kinds == [["delta", "w", "b"]] * 2  # first neuron's δ, first weight and bias
    # layer 1 (6 inputs): a gradient table per neuron; layer 2 (8 inputs, wide): one
    # parameter a row with its gradient, in the backward pass, and the forward pass lists
    # every neuron's z and a without the weights
    first, second = doc.forward_worked
    out_grads, hidden_grads = (s.table for s in doc.backward_worked)
    assert out_grads is not None and out_grads.caption == "Layer 2: parameters and gradients"
    assert len(out_grads.rows) == 3 * 8 + 3
    assert hidden_grads is not None and hidden_grads.key == "gradients1"
    assert "the table lists all" in doc.backward_worked[0].note
    assert first.table is not None and len(first.table.rows) == 8  # with the weights
    assert second.table is not None and len(second.table.rows) == 3
    assert (
        second.table.caption == "Layer 2 (output): every neuron's bias, weighted input and output"
    )


def test_stats_above_table_limit() -> None:
    spec = {"layers": [16, 32, 4], "init": {"name": "xavier_uniform", "seed": 1},
            "example": {"x": [0.5] * 16, "t": [0, 1, 0, 1]}}  # fmt: skip
    doc = build(symbp.load(spec), steps=0)
    assert doc.tier == "generic" and doc.has_numbers
    assert doc.statistics is not None and len(doc.statistics.rows) == 2


def test_custom_formulas_are_differentiated_in_the_document() -> None:
    spec = {"layers": [1, 1], "activations": [{"formula": "x**2/(1+x**2)"}],
            "loss": {"formula": "(y-t)**4"}, "params": {"W": [[[2]]], "b": [[0]]},
            "example": {"x": [1], "t": [0]}}  # fmt: skip
    text = " ".join(render_document(spec, format="tex").split())
    # d/dx x^2/(1+x^2) = 2x/(x^2+1) - 2x^3/(x^2+1)^2 = 2x/(x^2+1)^2 (shortest form);
    # d/dy (y-t)^4 = 4 (y-t)^3
    assert r"&= \frac{2 x}{\left(x^{2} + 1\right)^{2}} && \text{(simplified)}" in text
    assert r"4 \left(y - t\right)^{3}" in text
    # z = 2, a = 4/5 exactly: shown exactly.
    assert r"&= 0.8" in text


def test_numbers_are_shown_exactly_or_rounded() -> None:
    assert display_number(sp.Rational(33, 10)) == "3.3"
    assert display_number(sp.Integer(-2)) == "-2"
    assert display_number(sp.Rational(1, 3)) == "0.333"
    assert display_number(sp.Float("0.24", 60)) == "0.240"
    assert display_number(sp.Float("0.52088767", 60)) == "0.521"
    assert display_number(sp.Rational(123456, 1000), 4) == "123.5"
    assert tex_number(sp.Float("-1.234e-5", 60)) == r"-1.23 \times 10^{-5}"


def test_escaping() -> None:
    assert tex_escape(r"\input{x}") == r"\textbackslash{}input\{x\}"
    assert tex_escape("50% & $5 #1 a_b") == r"50\% \& \$5 \#1 a\_\allowbreak{}b"
    assert tex_escape("x.yaml 0.5 1/2 a/b") == r"x.\allowbreak{}yaml 0.5 1/2 a/\allowbreak{}b"
    assert tex_escape("--") == "-{}-"
    assert tex_escape("✓") == "[U+2713]"
    assert md_escape("<script>*x*</script>") == r"&lt;script&gt;\*x\*&lt;/script&gt;"
    assert safe_filename("../../etc/passwd") == "etc_passwd"
    assert safe_filename("///") == "network"


def test_html_and_markdown_escape_spec_text(tmp_path: Path) -> None:
    spec = {
        "name": "<script>alert(1)</script>",
        "title": r"\input{/etc/passwd} <b>",
        "layers": [1, 1],
        "params": {"W": [[[1]]]},
        "example": {"x": [1], "t": [1]},
    }
    html = write_document(spec, format="html", out=tmp_path / "a.html").read_text()
    assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert r"\input{/etc/passwd} &lt;b&gt;" in html
    md = write_document(spec, format="md", out=tmp_path / "a.md").read_text()
    assert "<script" not in md and "<b>" not in md


def test_default_output_is_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    spec = {"name": "../up/and away", "layers": [1, 1]}
    path = write_document(spec, format="md")
    assert path == tmp_path / "up_and_away.md" and path.exists()


def test_marks_are_shown_next_to_their_numbers(tmp_path: Path) -> None:
    marks = {
        ("a[2][0]", 1): "confirmed",
        ("grad_W[1][0][0]", 0): "not confirmed: printed -0.41",
        ("loss", 0): "unclear",
        ("z[7][7]", 0): "confirmed",
    }
    html = write_document(SEED001, format="html", steps=2, marks=marks, out=tmp_path / "m.html")
    text = html.read_text()
    assert 'title="a[2][0] at step 1: confirmed">✓</sup>' in text
    assert 'title="grad_W[1][0][0] at step 0: not confirmed: printed -0.41">✗</sup>' in text
    assert 'title="loss at step 0: unclear">?</sup>' in text
    assert "(not in a table)" in text  # z[7][7] has no cell
    # The ✓ sits in the trajectory row of step 1, right after 0.648.
    row = text[text.index("<tr><td>1</td>", text.index("The loss and the output")) :]
    row = row[: row.index("</tr>")]
    assert "<mn>0.648</mn>" in row and "✓" in row
    tex = render_document(SEED001, format="tex", steps=2, marks=marks)
    assert r"$0.648$\symbpok{}" in tex and r"$-0.405$\symbpbad{}" in tex


def test_bad_marks_and_arguments_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(SymbpError, match="marks"):
        render_document(SEED000, marks={"a[1][0]": "confirmed"})  # type: ignore[dict-item]
    with pytest.raises(SymbpError, match="format"):
        write_document(SEED000, format="docx", out=tmp_path / "x")
    with pytest.raises(SymbpError, match="steps"):
        write_document(SEED000, format="md", steps=-1, out=tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_cli_doc_writes_each_text_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for fmt in ("tex", "html", "md"):
        out = tmp_path / f"doc.{fmt}"
        assert main(["doc", str(SEED000), "--format", fmt, "--steps", "2", "-o", str(out)]) == 0
        assert capsys.readouterr().out.strip() == str(out)
        assert "5.3" in out.read_text()
    assert main(["doc", str(tmp_path / "missing.yaml"), "--format", "md"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_jupyter_display() -> None:
    derivation = symbp.derive(SEED001)
    latex = derivation._repr_latex_()
    assert latex.startswith("$$\\begin{aligned}")
    assert r"\delta^{2}_{j} &= a^{2}_{j} - t_{j}" in latex
    assert "<math" in derivation._repr_html_()
    shown = show(symbp.evaluate(SEED001, 1))
    assert "0.647828" in shown._repr_latex_() and "<math" in shown._repr_html_()


def test_symbolic_package_does_not_import_rendering() -> None:
    code = (
        "import sys, symbp.symbolic.derivation, symbp.symbolic.evaluate;"
        "print(sorted(m for m in sys.modules if m.startswith('symbp.render')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert out.stdout.strip() == "[]"
