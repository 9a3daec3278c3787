"""Mid-size and wide documents keep their promises (issue 31, item 4).

- a mid-size net (the ``examples`` tier) lists every neuron's z and a in the
  forward pass, also for a layer with more than 6 inputs (whose weights are then
  listed one a row with their gradients in the backward pass);
- a 64-input example's data table is transposed (a row per input), so no input is
  cut off;
- no section of any document is empty.
"""

from __future__ import annotations

import random
import re

import pytest
import sympy as sp

import symbp
from symbp.render import render_document
from symbp.render.mathtex import tex_number

_HEADING = re.compile(r"^\\(section|subsection|subsubsection)\*?\{(.*)\}$")
_LEVEL = {"section": 1, "subsection": 2, "subsubsection": 3}
_FILLER = re.compile(r"^(\\needspace\{.*\}|\\end\{document\}|)$")


def empty_sections(source: str) -> list[str]:
    """Headings of a LaTeX document followed by nothing but a heading of the same or a
    higher level (or the end of the document)."""
    lines = [x.strip() for x in source[source.index(r"\begin{document}") :].splitlines()]
    found = []
    for n, line in enumerate(lines):
        heading = _HEADING.match(line)
        if not heading:
            continue
        level = _LEVEL[heading.group(1)]
        for after in lines[n + 1 :]:
            if _FILLER.match(after):
                continue
            following = _HEADING.match(after)
            if following and _LEVEL[following.group(1)] <= level:
                found.append(heading.group(2))
            break
        else:
            found.append(heading.group(2))
    return found


def _table(source: str, caption: str) -> str:
    start = source.index(rf"\caption*{{{caption}")
    return source[start : source.index(r"\end{longtable}", start)]


def test_the_empty_section_check() -> None:
    doc = "\\begin{document}\n\\section{A}\n\\needspace{2\\baselineskip}\n\\section{B}\ntext\n"
    assert empty_sections(doc) == ["A"]
    assert empty_sections(doc + "\\subsection{C}\n\\end{document}") == ["A", "C"]
    assert not empty_sections("\\begin{document}\n\\section{A}\n\\subsection{B}\nx\n")


def test_no_shipped_document_has_an_empty_section(shipped_documents: dict[str, str]) -> None:
    bad = {
        rel: found
        for rel, source in shipped_documents.items()
        if rel.endswith(".tex") and (found := empty_sections(source))
    }
    assert not bad, bad


def test_midsize_lists_every_neurons_z_and_a(shipped_documents: dict[str, str]) -> None:
    source = shipped_documents["docs/midsize_12_8_3.tex"]
    evaluation = symbp.evaluate(symbp.load("examples/midsize_12_8_3.yaml"), 1)
    step = evaluation.steps[0]
    # layer 1 has 12 inputs: its neuron table has no weight columns, but every neuron
    table = _table(source, "Layer 1 (hidden): every neuron's bias, weighted input and output")
    for j in range(8):
        z, a = tex_number(step.z[0][j]), tex_number(step.a[1][j])
        b = tex_number(step.b[0][j])
        assert f"$j = {j + 1}$ & ${b}$ & ${z}$ & ${a}$ \\\\" in table, j
    # ... and its weights are listed one a row with their gradients in the backward pass
    backward = source[source.index(r"\subsection{The gradients, output layer first}") :]
    params = _table(backward, "Layer 1: parameters and gradients")
    assert params.count("$w^{1}_{") == 8 * 12 and params.count("$b^{1}_{") == 8
    grad = tex_number(step.grad_W[0][7][11])
    assert f"$w^{{1}}_{{8,12}}$ & ${tex_number(step.W[0][7][11])}$ & ${grad}$" in params
    assert "the table lists all" in source
    assert "parameter table in the forward pass" not in source


@pytest.fixture(scope="module")
def wide_spec() -> dict:
    rng = random.Random(2)
    return {
        "name": "wide-64-5-2",
        "layers": [64, 5, 2],
        "activations": ["tanh", "softmax"],
        "loss": "cross_entropy",
        "optimizer": {"name": "sgd", "learning_rate": 0.1},
        "init": {"name": "xavier_uniform", "seed": 0},
        "example": {"x": [round(rng.uniform(0, 1), 2) for _ in range(64)], "t": [0, 1]},
    }


@pytest.mark.parametrize("style", ["full", "handout"])
def test_a_64_input_example_shows_all_its_data_and_no_empty_section(
    wide_spec: dict, style: str
) -> None:
    source = render_document(wide_spec, format="tex", style=style)
    data = _table(source, "The training data (a column per example)")
    header = data[data.index(r"\toprule") : data.index(r"\endfirsthead")]
    assert "example 1" in header and "x_{" not in header
    for k, x in enumerate(wide_spec["example"]["x"]):
        assert f"$x_{{{k + 1}}}$ & ${tex_number(sp.Rational(str(x)), 6)}$ \\\\" in data, k
    assert "$t_{1}$ & $0$" in data and "$t_{2}$ & $1$" in data
    assert not empty_sections(source)
    if style == "handout":  # nothing is worked: the handout keeps the derivation
        assert r"\subsection{The error signals (delta recursion)}" in source


def test_the_digits_handout_has_its_derivation(shipped_documents: dict[str, str]) -> None:
    """No numbers at all: the handout shows the layer-generic derivation, not empty sections."""
    source = shipped_documents["docs/digits_64_64_10_handout.tex"]
    assert r"\subsection{The error signals (delta recursion)}" in source
    assert r"a^{1}_{j} &= \tanh{\left(z^{1}_{j} \right)}" in source
