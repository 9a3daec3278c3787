"""Every example and every update worked (issue 31, item 1), and the three further views
of the backward pass (item 6: gradient check, matrix form with numbers, one neuron as a
computational graph).

The teacher's two specs of the issue: a 2-2-2 ReLU/MSE net with Nesterov momentum,
weight decay and two examples (example 2 has a dead hidden ReLU, z¹₁ = −0.7), and a
4-3-3 leaky-ReLU/softmax net with a step schedule. The expected numbers are worked by
hand in the comments, or recomputed here with NumPy in float64.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess

import numpy as np
import pytest
import sympy as sp

from symbp.render import render_document
from symbp.render.document import write_document

RELU_NESTEROV = {
    "name": "relu-nesterov-2-2-2",
    "layers": [2, 2, 2],
    "activations": ["relu", "relu"],
    "loss": "mse",
    "optimizer": {"name": "nesterov", "learning_rate": 0.5, "momentum": 0.9, "weight_decay": 0.01},
    "params": {
        "W": [[[0.5, -0.3], [-0.2, 0.6]], [[0.4, 0.7], [-0.5, 0.3]]],
        "b": [[0.1, 0.1], [0.2, 0.1]],
    },
    "examples": [{"x": [1.0, 0.5], "t": [1, 0]}, {"x": [-1.0, 1.0], "t": [0, 1]}],
}

LEAKY_STEP = {
    "name": "leaky-softmax-4-3-3",
    "layers": [4, 3, 3],
    "activations": [{"name": "leaky_relu", "alpha": 0.1}, "softmax"],
    "loss": "cross_entropy",
    "optimizer": {
        "name": "sgd",
        "learning_rate": 0.5,
        "schedule": {"name": "step", "gamma": 0.5, "step_size": 2},
    },
    "init": {"name": "xavier_uniform", "seed": 3},
    "examples": [{"x": [0.5, -0.2, 0.1, 0.8], "t": [0, 1, 0]}],
}


def _section(text: str, start: str, end: str) -> str:
    i = text.index(start)
    return text[i : text.index(end, i + len(start))]


@pytest.fixture(scope="module")
def relu_tex() -> str:
    return render_document(RELU_NESTEROV, format="tex", steps=3)


def test_example_2_forward_pass_loss_and_deltas_are_worked(relu_tex: str) -> None:
    part = _section(relu_tex, r"\subsection{Example 2}", r"\subsection{The gradients of E")
    # z¹₁ = (−1)(0.5) + (1)(−0.3) + 0.1 = −0.8 + 0.1 = −0.7: the dead ReLU, a¹₁ = 0.
    assert (
        r"&= \left(-1\right)\left(0.5\right) + \left(1\right)\left(-0.3\right) + 0.1 \\"
        "\n"
        r" &= \left(-0.8\right) + 0.1 \\"
        "\n"
        r" &= -0.7 \\"
    ) in part
    assert r"&= \max\left(0, \left(-0.7\right)\right) \\" "\n" r" &= 0" in part
    # z¹₂ = 0.2 + 0.6 + 0.1 = 0.9; ŷ₁ = 0.9·0.7 + 0.2 = 0.83; ŷ₂ = 0.9·0.3 + 0.1 = 0.37.
    assert r" &= 0.63 + 0.2 \\" "\n" r" &= 0.83 \\" in part
    assert r" &= 0.27 + 0.1 \\" "\n" r" &= 0.37 \\" in part
    # L₂ = ½(0.83² + 0.63²) = 0.5429.
    assert r"L_{2} &= " in part and r" &= 0.543" in part
    # δ²₁ = 0.83 − 0 = 0.83, δ²₂ = 0.37 − 1 = −0.63.
    assert r"\delta^{2}_{1} &= " in part and r" &= 0.83" in part
    assert r" &= -0.63" in part
    # δ¹₂ = (0.83·0.7 + (−0.63)·0.3) · 1 = 0.392; δ¹₁ = 0 (the dead unit).
    assert r"\left(0.83\right)\left(0.7\right) + \left(-0.63\right)\left(0.3\right)" in part
    assert r" &= 0.392" in part
    # ∂L₂/∂w²₁₂ = δ²₁ a¹₂ = (0.83)(0.9) = 0.747.
    assert (
        r"\frac{\partial L_{2}}{\partial w^{2}_{12}} &= \delta^{2}_{1} a^{1}_{2} \\"
        "\n"
        r" &= \left(0.83\right)\left(0.9\right) \\"
        "\n"
        r" &= 0.747"
    ) in part


def test_each_gradient_is_shown_as_the_batch_mean(relu_tex: str) -> None:
    part = _section(relu_tex, r"\subsection{The gradients of E", r"\subsection{")
    # ∂E/∂w²₁₂ = ½(∂L₁/∂w²₁₂ + ∂L₂/∂w²₁₂) = ½((−0.48)(0.2) + 0.747) = ½(−0.096 + 0.747).
    assert (
        r"\frac{\partial E}{\partial w^{2}_{12}} &= \frac{1}{2}\left("
        r"\frac{\partial L_{1}}{\partial w^{2}_{12}} + \frac{\partial L_{2}}{\partial w^{2}_{12}}"
        r"\right) \\"
        "\n"
        r" &= \frac{1}{2}\left(\left(-0.096\right) + 0.747\right) \\"
        "\n"
        r" &= 0.326"
    ) in part
    # ∂E/∂w¹₁₁: example 1's δ¹₁ = −0.48·0.4 = −0.192 times x₁ = 1; example 2's unit is dead.
    assert r"\frac{1}{2}\left(\left(-0.192\right) + 0\right) \\" "\n" r" &= -0.096" in part
    # Every one of the 12 parameters (every parameter is worked in a net this small).
    assert part.count(r"\frac{\partial E}{\partial") == 12


def _numpy_trajectory(steps: int) -> list[tuple[list[np.ndarray], list[np.ndarray]]]:
    """The parameters after each update, recomputed in float64 (PyTorch's Nesterov SGD)."""
    spec = RELU_NESTEROV
    W = [np.array(w, float) for w in spec["params"]["W"]]  # type: ignore[index]
    b = [np.array(v, float) for v in spec["params"]["b"]]  # type: ignore[index]
    X = np.array([e["x"] for e in spec["examples"]], float)  # type: ignore[union-attr]
    T = np.array([e["t"] for e in spec["examples"]], float)  # type: ignore[union-attr]
    lr, mu, lam = 0.5, 0.9, 0.01
    vW = [np.zeros_like(w) for w in W]
    vb = [np.zeros_like(v) for v in b]
    out = [([w.copy() for w in W], [v.copy() for v in b])]
    for _ in range(steps):
        gW = [np.zeros_like(w) for w in W]
        gb = [np.zeros_like(v) for v in b]
        for x, t in zip(X, T, strict=True):
            z1 = W[0] @ x + b[0]
            a1 = np.maximum(z1, 0)
            z2 = W[1] @ a1 + b[1]
            a2 = np.maximum(z2, 0)
            d2 = (2 / 2) * (a2 - t) * (z2 > 0)
            d1 = (W[1].T @ d2) * (z1 > 0)
            gW[1] += np.outer(d2, a1) / 2
            gb[1] += d2 / 2
            gW[0] += np.outer(d1, x) / 2
            gb[0] += d1 / 2
        for params, grads, vel in ((W, gW, vW), (b, gb, vb)):
            for i in range(2):
                g = grads[i] + lam * params[i]
                vel[i] = mu * vel[i] + g
                params[i] = params[i] - lr * (g + mu * vel[i])
        out.append(([w.copy() for w in W], [v.copy() for v in b]))
    return out


def _table_rows(text: str, caption: str) -> list[list[float]]:
    """The numbers of a LaTeX longtable's rows ``$j = …$`` after ``caption`` (its
    ``\\bottomrule`` is in its foot, before the rows; rows end with ``\\\\*``)."""
    body = _section(text, caption, r"\end{longtable}")
    rows = []
    for line in body.splitlines():
        if line.startswith("$j = "):
            cells = line.rstrip().removesuffix("*").rstrip(" \\").split(" & ")[1:]
            rows.append(
                [float(c.strip("$").replace(r"\times 10^{", "e").rstrip("}")) for c in cells]
            )
    return rows


@pytest.mark.parametrize("update", [1, 2, 3])
def test_a_parameter_table_follows_every_update(relu_tex: str, update: int) -> None:
    expected = _numpy_trajectory(3)[update]
    which = "the first update" if update == 1 else f"update {update}"
    for l in (1, 2):
        rows = _table_rows(relu_tex, f"Layer {l}: parameters after {which}")
        assert len(rows) == 2
        for j, row in enumerate(rows):
            true = [*expected[0][l - 1][j], expected[1][l - 1][j]]
            for shown, value in zip(row, true, strict=True):
                # printed to at least 3 significant digits
                assert abs(shown - value) <= 0.5e-2 * abs(value) + 1e-12, (l, j, shown, value)


def test_later_updates_table_each_examples_forward_and_backward_pass(relu_tex: str) -> None:
    part = _section(relu_tex, r"\subsection{Update 2}", r"\subsection{Update 3}")
    # At the parameters after update 1: both examples' values, E as their mean, E's gradients.
    for caption in (
        "Example 1, layer 2 (output), at step 1",
        "Example 1, layer 1 (hidden), at step 1",
        "Example 2, layer 2 (output), at step 1",
        "Example 2, layer 1 (hidden), at step 1",
        "Layer 2: gradients of E (step 1)",
        "Layer 1: gradients of E (step 1)",
    ):
        assert caption in part
    W, b = _numpy_trajectory(1)[1]
    losses = []
    for x, t in (([1.0, 0.5], [1, 0]), ([-1.0, 1.0], [0, 1])):
        a1 = np.maximum(W[0] @ np.array(x) + b[0], 0)
        a2 = np.maximum(W[1] @ a1 + b[1], 0)
        losses.append(float(np.mean((a2 - np.array(t)) ** 2)))
    shown = re.search(
        r"E &= \\frac\{1\}\{2\}\\left\(([-\d.]+) \+ ([-\d.]+)\\right\) \\\\\n &= ([-\d.]+)", part
    )
    assert shown is not None
    for text, value in zip(shown.groups(), [*losses, sum(losses) / 2], strict=True):
        assert math.isclose(float(text), value, rel_tol=5e-3)


def test_the_step_schedules_eta_is_worked_after_the_drop() -> None:
    text = render_document(LEAKY_STEP, format="md", steps=5)
    # η = η₀ γ^⌊epoch/step_size⌋: 0.5 · 0.5^⌊2/2⌋ = 0.25 (update 3), 0.5 · 0.5^⌊4/2⌋ = 0.125.
    update3 = _section(text, "### 5.2 Update 3", "### 5.3")
    assert (
        r" &= 0.5 \cdot 0.5^{\left\lfloor{\tfrac{2}{2}}\right\rfloor}"
        r" && \text{(epoch 2, update 3)} \\"
        "\n"
        r" &= 0.25"
    ) in update3
    update5 = _section(text, "### 5.4 Update 5", "## 6")
    assert r"0.5 \cdot 0.5^{\left\lfloor{\tfrac{4}{2}}\right\rfloor}" in update5
    assert r" &= 0.125" in update5
    # η is worked only where it changes: not at updates 2 and 4.
    assert "The learning rate" not in _section(text, "### 5.1 Update 2", "### 5.2")
    assert "The learning rate" not in _section(text, "### 5.3 Update 4", "### 5.4")
    assert "parameters after update 5 (learning rate 0.125)" in update5


def test_the_handout_works_example_1_and_tables_the_others() -> None:
    text = render_document(RELU_NESTEROV, format="md", steps=2, style="handout")
    part = _section(text, "### 4.2 Example 2", "### 4.3")
    assert "**Neuron" not in part and "**The error signal" not in part
    assert r" &= 0.543" in part  # its loss, worked
    # The table of example 2's hidden layer: z, a, δ and the gradients of L₂ (dead unit: 0).
    assert "| $j = 1$ | $-0.7$ | $0$ | $0$ | $0$ | $0$ | $0$ |" in part
    assert "| $j = 2$ | $0.9$ | $0.9$ | $0.392$ | $-0.392$ | $0.392$ | $0.392$ |" in part
    assert "The gradients of E: means over the examples" in text
    assert "Update 2" not in text  # the later updates are the answer key's


def test_gradient_check_sets_the_central_difference_beside_backprop(relu_tex: str) -> None:
    part = _section(relu_tex, r"\subsection{Checking a gradient numerically}", r"\section{")
    # E(w¹₁₁ ± h), h = 10⁻⁴: only example 1 moves (example 2's unit is dead); E is
    # piecewise quadratic, so the central difference is exact: −0.096.
    w = RELU_NESTEROV["params"]["W"]  # type: ignore[index]

    def cost(w11: float) -> float:
        total = 0.0
        for x, t in (([1.0, 0.5], [1, 0]), ([-1.0, 1.0], [0, 1])):
            W1 = np.array(w[0], float)
            W1[0, 0] = w11
            a1 = np.maximum(W1 @ np.array(x) + np.array([0.1, 0.1]), 0)
            a2 = np.maximum(np.array(w[1], float) @ a1 + np.array([0.2, 0.1]), 0)
            total += float(np.mean((a2 - np.array(t)) ** 2)) / 2
        return total

    plus, minus = cost(0.5001), cost(0.4999)
    assert f"E\\left(0.5001\\right) \\\\\n &= {plus:.10f}" in part
    assert f"E\\left(0.4999\\right) \\\\\n &= {minus:.10f}" in part
    assert math.isclose((plus - minus) / 0.0002, -0.096, abs_tol=1e-9)
    assert r" &= -0.096 \\" in part
    assert r"\frac{\partial E}{\partial w^{1}_{11}} &= -0.096 && \text{(back-propagation)}" in part
    assert r"\text{difference} &= 0" in part


def test_the_matrix_form_is_worked_with_numbers(relu_tex: str) -> None:
    part = _section(relu_tex, r"\subsection{The matrix form with numbers}", r"\subsection{")
    # (W²)ᵀ δ² = [[0.4, −0.5], [0.7, 0.3]] (−0.48, 0) = (−0.192, −0.336).
    assert (
        r"\begin{pmatrix} 0.4 & -0.5 \\ 0.7 & 0.3 \end{pmatrix} "
        r"\begin{pmatrix} -0.48 \\ 0 \end{pmatrix} \\"
        "\n"
        r" &= \begin{pmatrix} -0.192 \\ -0.336 \end{pmatrix}"
    ) in part
    # δ¹ (xᵀ): the outer product with x = (1, 0.5).
    assert (
        r" &= \begin{pmatrix} -0.192 \\ -0.336 \end{pmatrix} "
        r"\begin{pmatrix} 1 & 0.5 \end{pmatrix} \\"
        "\n"
        r" &= \begin{pmatrix} -0.192 & -0.096 \\ -0.336 & -0.168 \end{pmatrix}"
    ) in part


def test_the_softmax_matrix_form_subtracts_the_target() -> None:
    text = render_document(LEAKY_STEP, format="html", steps=1)
    assert "4.4 The matrix form with numbers" in text
    assert "<mtable>" in text  # the vectors and matrices as MathML tables


def test_one_neuron_as_a_computational_graph(relu_tex: str) -> None:
    part = _section(relu_tex, r"\subsection{One neuron as a computational graph}", r"\subsection{")
    # Output neuron 1 of example 1: ŷ₁ = 0.52, ∂L/∂ŷ₁ = 0.52 − 1 = −0.48, ReLU' = 1;
    # the multiply gate w²₁₁ a¹₁ = 0.4 · 0.45 = 0.18 passes on −0.48 · 0.45 = −0.216.
    assert (
        r"$\operatorname{ReLU}$ & $\hat{y}_{1} = f\left(z^{2}_{1}\right)$ & $0.52$ & $1$ & $-0.48$"
        in part
    )
    assert (
        r"$\times$ & $p_{1} = w^{2}_{11} a^{1}_{1}$ & $0.18$ & $0.45$ & $-0.48$ & "
        r"$\partial L / \partial w^{2}_{11} = -0.216$"
    ) in part
    assert r" &= \left(-0.48\right) \cdot 1 \cdot \left(0.45\right) \\" "\n" r" &= -0.216" in part


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="needs pdflatex (TeX Live)")
def test_full_pdf_works_example_2(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = write_document(RELU_NESTEROV, format="pdf", steps=2, out=tmp_path / "r.pdf")
    text = subprocess.run(
        ["pdftotext", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    example2 = text[text.index("Example 2 has the input") :]
    assert "x = (-1, 1)" in example2
    for number in ("0.543", "0.392", "0.747", "0.326", "0.3290404004"):
        assert number in example2


# --- the cloze handout (issue 31, item 6) ---------------------------------------------

_BLANK = re.compile(r"\\underline\{\\qquad\\qquad\\qquad\}_\{\((\d+)\)\}")
_BOXED = re.compile(r"\\boxed\{([^{}]+)\}_\{\((\d+)\)\}")
_REFERENCE = re.compile(r"\\left\[(\d+)\\right\]")
_CLOZE_LINES = re.compile(r"^(\*\*Fill in|\*\*Key\.).*\n\n?", re.M)


def test_cloze_sheet_and_key_agree_with_the_handout() -> None:
    handout = render_document(RELU_NESTEROV, format="md", steps=1, style="handout")
    sheet = render_document(RELU_NESTEROV, format="md", steps=1, style="cloze")
    key = render_document(RELU_NESTEROV, format="md", steps=1, style="cloze", key=True)
    answers = {int(n): value for value, n in _BOXED.findall(key)}
    assert len(answers) >= 8 and sorted(answers) == list(range(1, len(answers) + 1))
    assert sorted(int(n) for n in _BLANK.findall(sheet)) == sorted(answers)
    # The key without its boxes, and the sheet with every blank and [n] filled in from
    # the key, are the handout itself.
    assert _CLOZE_LINES.sub("", _BOXED.sub(lambda m: m.group(1), key)) == handout
    filled = _BLANK.sub(lambda m: answers[int(m.group(1))], sheet)
    filled = _REFERENCE.sub(lambda m: answers[int(m.group(1))], filled)
    assert _CLOZE_LINES.sub("", filled) == handout
    # Blank 1 is the first computed number: z¹₁ = 0.35 + 0.1 = 0.45 (every 3rd from it).
    assert answers[1] == "0.45"
    assert r" &= 0.35 + 0.1 \\" "\n" r" &= \underline{\qquad\qquad\qquad}_{(1)} \\" in sheet
    assert r"\operatorname{ReLU}\left(\left[1\right]\right)" in sheet  # no blank given away
    assert "0.45" not in sheet.split("## 3 The loss")[0].split("### 2.1")[1]


def test_cloze_blanks_what_exercise_ask_names() -> None:
    spec = {**RELU_NESTEROV, "exercise": {"ask": ["a[2][0]", "loss", "grad_W[1][0][0]"]}}
    key = render_document(spec, format="tex", steps=1, style="cloze", key=True)
    sheet = render_document(spec, format="tex", steps=1, style="cloze")
    answers = {int(n): value for value, n in _BOXED.findall(key)}
    # ŷ₁ = 0.52, E = ½(0.115 + 0.543) = 0.329, ∂E/∂w²₁₁ = ½((−0.48)(0.45) + 0) = −0.108.
    assert set(answers.values()) == {"0.52", "0.329", "-0.108"}
    assert len(_BLANK.findall(sheet)) == 3


def test_cloze_bad_input_is_one_line_and_writes_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import sys

    import yaml

    spec = tmp_path / "net.yaml"
    spec.write_text(yaml.safe_dump(RELU_NESTEROV))
    run = [sys.executable, "-m", "symbp", "doc", str(spec), "--style", "cloze"]
    bad = subprocess.run([*run, "--blank-every", "0", "-o", str(tmp_path / "c.md")],
                         capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "blank" in bad.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.yaml"]
    ok = subprocess.run([*run, "--blank-every", "5", "-o", str(tmp_path / "c.md")],
                        capture_output=True, text=True)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.md", "c_key.md", "net.yaml"]
    sheet = (tmp_path / "c.md").read_text()
    key = (tmp_path / "c_key.md").read_text()
    assert len(_BLANK.findall(sheet)) == len(_BOXED.findall(key)) > 0


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="needs pdflatex (TeX Live)")
def test_cloze_pdf_and_its_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = write_document(
        RELU_NESTEROV, format="pdf", steps=1, style="cloze", out=tmp_path / "c.pdf"
    )
    texts = {
        p.name: subprocess.run(["pdftotext", str(p), "-"], capture_output=True, text=True).stdout
        for p in (out, tmp_path / "c_key.pdf")
    }
    assert "Fill in the numbered blanks" in texts["c.pdf"]
    assert "Each numbered blank of the sheet, filled in and boxed" in texts["c_key.pdf"]
    assert "0.45" in texts["c_key.pdf"] and "[1]" in texts["c.pdf"]


def test_every_format_has_the_added_parts() -> None:
    html = render_document(RELU_NESTEROV, format="html", steps=2)
    for heading in (
        "4.4 Example 2",
        "4.5 The gradients of E: means over the examples",
        "4.6 The matrix form with numbers",
        "4.7 One neuron as a computational graph",
        "4.8 Checking a gradient numerically",
        "5.1 Update 2",
    ):
        assert f"<h3>{heading}</h3>" in html
    assert "<mn>0.543</mn>" in html and "<mn>0.392</mn>" in html


def test_wide_layers_list_every_parameter_after_every_update() -> None:
    text = render_document("examples/midsize_12_8_3.yaml", format="md", steps=3)
    for update in (2, 3):
        caption = (
            f"*Layer 1 at step {update - 1}: parameters and gradients, and after update {update}*"
        )
        table = _section(text, caption, "\n\n*")
        # 8 neurons of 12 weights and a bias each
        assert len(re.findall(r"^\| \$[wb]\^\{1\}", table, re.M)) == 8 * 13


def test_many_examples_are_capped_but_the_means_cover_all() -> None:
    spec = {
        "name": "many",
        "layers": [2, 2, 1],
        "activations": ["sigmoid", "sigmoid"],
        "loss": "mse",
        "optimizer": {"name": "sgd", "learning_rate": 0.5},
        "params": {"W": [[[0.1, 0.2], [0.3, 0.4]], [[0.5, 0.6]]], "b": [[0, 0], [0]]},
        "examples": [{"x": [i / 10, 1 - i / 10], "t": [i % 2]} for i in range(15)],
    }
    text = render_document(spec, format="md", steps=1)
    headings = re.findall(r"^### 4\.\d+ Example (\d+)$", text, re.M)
    assert headings == [str(e) for e in range(2, 13)]
    mean = _section(text, "The gradients of E: means over the examples", "### 4.")
    assert "the first 12 examples have their own subsections above" in mean
    assert r"\frac{1}{15}\sum_{e} \frac{\partial L_{e}}{\partial w^{2}_{11}}" in mean


def test_the_neuron_is_drawn_as_gates_with_values_and_gradients(relu_tex: str) -> None:
    part = _section(relu_tex, r"\subsection{One neuron as a computational graph}", r"\subsection{")
    # Output neuron 1: inputs a¹₁ = 0.45, a¹₂ = 0.2 into the gates ×0.4 and ×0.7; back along
    # each input edge δ w: (−0.48)(0.4) = −0.192 and (−0.48)(0.7) = −0.336.
    assert r"\node[gate] (mul0) at (3.00, 0.00) {$\times 0.4$};" in part
    assert (
        r"\draw[->, gray!70!black] (in0) -- node[value, pos=0.50] {$0.45$} "
        r"node[grad, pos=0.50] {$-0.192$} (mul0);"
    ) in part
    assert r"node[grad, pos=0.50] {$-0.336$} (mul1);" in part
    # The products 0.18 and 0.14 into the add gate; z = 0.52 and δ = −0.48 out of it.
    assert r"(mul0) -- node[value, pos=0.22] {$0.18$} (add);" in part
    assert r"(mul1) -- node[value, pos=0.22] {$0.14$} (add);" in part
    assert r"(add) -- node[value, pos=0.50] {$0.52$} node[grad, pos=0.50] {$-0.48$} (act);" in part
    html = render_document(RELU_NESTEROV, format="html", steps=1)
    assert 'aria-label="one neuron as a computational graph"' in html
    assert ">× 0.7</text>" in html and ">−0.336<" not in html and ">-0.336</text>" in html


def test_gate_labels_keep_apart() -> None:
    from symbp.render.gates import gate_graph

    graph = gate_graph(
        inputs=[(f"x{k}", f"x{k}", 1) for k in range(6)],  # type: ignore[misc]
        weights=[1] * 6,
        bias=("b", "b", 0),  # type: ignore[arg-type]
        z=1,
        activation=("f", "f"),  # type: ignore[arg-type]
        output=("a", "a", 1),  # type: ignore[arg-type]
        delta=1,
        upstream=1,
        input_gradients=[1] * 6,
        digits=3,
    )
    points = [(e.label_x, e.label_y) for e in graph.edges]
    for i, (x0, y0) in enumerate(points):
        for x1, y1 in points[i + 1 :]:
            # a label is about 1 cm wide and 0.35 cm high (\scriptsize, three digits)
            assert abs(x0 - x1) >= 1.0 or abs(y0 - y1) >= 0.7, (x0, y0, x1, y1)


def test_cloze_without_o_never_replaces_a_users_key_file(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from symbp.errors import SymbpError

    monkeypatch.chdir(tmp_path)
    mine = tmp_path / "relu-nesterov-2-2-2_key.md"
    mine.write_text("my notes\n")
    with pytest.raises(SymbpError, match=r"relu-nesterov-2-2-2_key\.md exists"):
        write_document(RELU_NESTEROV, format="md", style="cloze")
    assert mine.read_text() == "my notes\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["relu-nesterov-2-2-2_key.md"]
    mine.unlink()
    sheet = write_document(RELU_NESTEROV, format="md", style="cloze")
    assert sheet.name == "relu-nesterov-2-2-2.md"
    assert (tmp_path / "relu-nesterov-2-2-2_key.md").read_text().count(r"\boxed{") > 0


def test_the_cost_points_to_the_other_examples_losses(relu_tex: str) -> None:
    loss = _section(relu_tex, r"\section{The loss}", r"\section{The backward pass}")
    # E = ½(L₁ + L₂) = ½(0.115 + 0.543): L₂ is worked in the subsection of example 2.
    assert (
        r"E &= \frac{1}{2}\left(0.115 + 0.543\right) && "
        r"\text{(each further example's loss is worked in its own subsection below)}"
    ) in loss


def test_gate_boxes_fit_their_labels_and_edges_meet_their_boxes() -> None:
    from symbp.render.gates import GATE_CHAR_PX, GATE_HALF_HEIGHT, SVG_UNIT_PX, gate_graph
    from symbp.render.templating import svg

    graph = gate_graph(
        inputs=[("x_1", "x₁", 1), ("x_2", "x₂", 2)],  # type: ignore[list-item]
        weights=[sp.Rational(-123, 1000), 1],
        bias=("b", "b", 0),  # type: ignore[arg-type]
        z=1,
        activation=(r"\text{leaky ReLU}", "leaky ReLU"),  # type: ignore[arg-type]
        output=("a", "a", 1),  # type: ignore[arg-type]
        delta=1,
        upstream=1,
        input_gradients=[1, 1],
        digits=3,
    )
    for node in graph.nodes:
        if node.kind not in ("input", "output", "bias"):
            assert 2 * node.half_width * SVG_UNIT_PX >= len(node.text) * GATE_CHAR_PX
    act = next(n for n in graph.nodes if n.kind == "activation")
    assert act.text == "leaky ReLU" and 2 * act.half_width * SVG_UNIT_PX > 43
    for edge in graph.edges:
        for node, (x, y) in ((edge.src, edge.start), (edge.dst, edge.end)):
            if node.kind in ("input", "output", "bias"):
                assert ((x - node.x) ** 2 + (y - node.y) ** 2) ** 0.5 == pytest.approx(0.45)
            else:  # on the box's outline: one coordinate at its edge, the other inside
                on_side = abs(abs(x - node.x) - node.half_width) < 1e-9
                on_top = abs(abs(y - node.y) - GATE_HALF_HEIGHT) < 1e-9
                assert on_side or on_top
                assert abs(x - node.x) <= node.half_width + 1e-9
                assert abs(y - node.y) <= GATE_HALF_HEIGHT + 1e-9
    width = f'width="{2 * act.half_width * SVG_UNIT_PX:.1f}"'
    assert width in svg(graph)
