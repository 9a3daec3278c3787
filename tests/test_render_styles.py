"""Styles (handout, full), the diagram (biases, routes, compression), the text's names
and marked claims.

Seed 001's 3-4-1 handout with one step is at most four pages and carries ŷ = 0.521
before and 0.648 after the update; the route of ∂E/∂w²₁₁ is the one edge a¹₁ → ŷ,
that of ∂E/∂w¹₁₁ the edges x₁ → a¹₁ → ŷ. Mazur's 2-2-2 example speaks Mazur's names
(w5 for w²₁₁, out_h1 for a¹₁, E_total for E).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

import symbp
from symbp.cli import main
from symbp.errors import SpecError, SymbpError
from symbp.render import render_document
from symbp.render.diagram import layout, route
from symbp.render.model import build
from symbp.render.notation import name_tex
from symbp.render.styles import apply_style

ROOT = Path(__file__).resolve().parent.parent
KOECH = ROOT / "examples" / "koech_3_4_1.yaml"
KOECH_CLAIMS = ROOT / "examples" / "koech_3_4_1_claims.yaml"
MAZUR = ROOT / "examples" / "mazur_2_2_2_claims.yaml"
NEEDS_TEX = pytest.mark.skipif(
    shutil.which("pdflatex") is None or shutil.which("pdftotext") is None,
    reason="TeX Live and poppler-utils are needed for PDF tests",
)


@pytest.fixture(scope="module")
def koech() -> symbp.Spec:
    return symbp.load(KOECH)


@pytest.fixture(scope="module")
def handout_tex() -> str:
    return render_document(KOECH, format="tex", steps=1, style="handout")


@NEEDS_TEX
def test_handout_pdf_is_four_pages_with_the_trajectory(tmp_path: Path) -> None:
    out = tmp_path / "handout.pdf"
    args = ["doc", str(KOECH), "--style", "handout", "--steps", "1", "--format", "pdf"]
    assert main([*args, "-o", str(out)]) == 0
    info = subprocess.run(["pdfinfo", str(out)], capture_output=True, text=True, check=True)
    pages = int(re.search(r"Pages:\s+(\d+)", info.stdout).group(1))
    assert pages <= 4
    text = subprocess.run(
        ["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    trajectory = " ".join(text[text.index("Training over 1 step") :].split())
    assert re.search(r"0 0\.652 0\.521 1 0\.434 0\.648", trajectory), trajectory
    assert "Notation" not in text  # the notation table is the answer key's


def test_one_model_two_styles(koech: symbp.Spec, handout_tex: str) -> None:
    doc = build(koech, steps=1)
    full, handout = apply_style(doc, "full"), apply_style(doc, "handout")
    assert handout.trajectory == full.trajectory and handout.inputs == full.inputs
    # every δ and gradient in the answer key (5 neurons, 21 parameters); one δ and the
    # weight that reuses it per layer in the handout
    assert [len(s.items) for s in full.backward_worked] == [1 + 5, 4 + 16]
    assert [[i.kind for i in s.items] for s in handout.backward_worked] == [["delta", "w"]] * 2
    assert [[i.kind for i in s.items] for s in handout.forward_worked] == [["neuron"]] * 2
    # the delta tables and the updates tables stay
    assert all(s.table is not None for s in handout.backward_worked + handout.update_worked)
    assert handout.notation == () and handout.recursion == () and handout.structure is None
    full_tex = render_document(koech, format="tex", steps=1)
    assert r"\subsection*{Notation}" in full_tex and "Notation" not in handout_tex
    for value in ("0.521", "0.648", "-0.479", "-0.00552", "-0.405", "0.291", "-0.0387"):
        assert value in handout_tex and value in full_tex, value


def test_style_is_checked_everywhere(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SymbpError, match="style: expected one of full, handout"):
        render_document(KOECH, format="md", style="poster")
    with pytest.raises(SymbpError, match="style"):
        symbp.document(KOECH, format="md", style="poster", out=tmp_path / "x.md")
    with pytest.raises(SystemExit) as info:
        main(["doc", str(KOECH), "--style", "poster"])
    assert info.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_diagram_draws_biases_and_routes(koech: symbp.Spec, handout_tex: str) -> None:
    d = layout(koech, [[[1] * 3] * 4, [[2] * 4]], 3, [[0] * 4, [0]])
    bias_nodes = [n.id for n in d.nodes if n.kind == "bias"]
    assert bias_nodes == ["b1", "b2"]
    assert sum(e.bias for e in d.edges) == 5  # one bias edge into each of the 5 neurons
    output = route(d, "w", 2, (0, 0))
    assert [(e.src, e.dst) for e in output.edges if e.highlight] == [("n1x0", "n2x0")]
    hidden = route(d, "w", 1, (0, 0))
    lit = [(e.src, e.dst) for e in hidden.edges if e.highlight]
    assert lit == [("n0x0", "n1x0"), ("n1x0", "n2x0")]
    assert all(e.text is None for e in hidden.edges if not e.highlight)
    bias = route(d, "b", 1, (2,))
    assert [(e.src, e.dst) for e in bias.edges if e.highlight] == [("b1", "n1x2"), ("n1x2", "n2x0")]
    # in the LaTeX: TikZ with dashed bias edges; the handout draws the hidden weight's
    # route (through the whole net) in its section, the answer key every worked route
    assert handout_tex.count(r"\begin{tikzpicture}") == 2
    full_tex = render_document(koech, format="tex", steps=1)
    # ... and one neuron as a computational graph of gates, a picture of its own
    assert full_tex.count(r"\begin{tikzpicture}") == 4
    assert full_tex.count("gate/.style") == 1
    assert r"(b1) -- (n1x0)" in handout_tex and "dashed" in handout_tex
    assert r"\draw[->, red!70!black, line width=1.4pt] (n1x0) -- (n2x0);" in handout_tex


def test_wide_layers_are_compressed() -> None:
    spec = symbp.load({"layers": [12, 9, 2]})
    d = layout(spec)
    shown = [sorted(int(n.id.split("x")[1]) for n in d.nodes if n.layer == l and n.kind != "bias")
             for l in range(3)]  # fmt: skip
    assert shown == [[0, 1, 2, 10, 11], [0, 1, 2, 7, 8], [0, 1]]
    assert len(d.ellipses) == 2


def test_markdown_and_html_draw_inline_svg() -> None:
    md = render_document(KOECH, format="md", steps=1, style="handout")
    html = render_document(KOECH, format="html", steps=1, style="handout")
    for text in (md, html):
        assert text.count("<svg ") == 2  # the network and the hidden weight's route
        urls = set(re.findall(r"https?://[^\"' ]+", text))
        assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1998/Math/MathML"}
        assert 'class="lit"' in text and "stroke-dasharray" in text
    # Markdown keeps each SVG one HTML block: no blank line inside
    for block in re.findall(r"<svg .*?</svg>", md, re.S):
        assert "\n\n" not in block


def test_names_are_the_texts_notation() -> None:
    tex = render_document(MAZUR, format="tex", steps=1)
    assert r"\frac{\partial E_{\mathit{total}}}{\partial w_{5}}" in tex
    assert r"\mathit{net}_{h1} &= i_{1} w_{1} + i_{2} w_{2} + b^{1}_{1}" in tex
    assert r"w_{5} & w^{2}_{11} & \texttt{W[1][0][0]} \\" in tex  # the names table
    md = render_document(MAZUR, format="md", steps=1, style="handout")
    assert r"\mathit{out}_{h1}" in md and ">out_h1</text>" in md  # math and diagram
    assert name_tex("w5") == "w_{5}" and name_tex("delta_o1") == r"\delta_{o1}"
    report = symbp.verify(MAZUR)  # the claims use the names too
    assert [r.name for r in report.results[:2]] == ["z[0][0]", "a[1][0]"]
    assert report.results[0].quantity_text == "net_h1 (z[0][0])"


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ({"w-5": "W[0][0][0]"}, "a name is a letter"),
        ({"\\input{x}": "loss"}, "a name is a letter"),
        ({"a_b_c": "loss"}, "a name is a letter"),
        ({"w5": "W[3][0][0]"}, "does not exist"),
        ({"w5": "W[0][0]"}, "takes 3 indices"),
        ({"w5": "weights"}, "expected a quantity"),
        ({"u": "loss", "v": "loss"}, "named twice"),
    ],
)
def test_bad_names_are_refused(names: dict, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        symbp.load({"layers": [2, 1], "names": names})


def test_doc_marks_the_claims_of_a_verification_file(tmp_path: Path) -> None:
    out = tmp_path / "claims.md"
    assert main(["doc", str(KOECH_CLAIMS), "--format", "md", "-o", str(out)]) == 0
    md = out.read_text()
    # the trajectory's numbers confirmed in place, the loss a mismatch with its cause
    assert md.count('<sup title="confirmed">✓</sup>') >= 11
    assert '<sup title="mismatch: the logarithm to base 2 instead of e (ln)">✗</sup>' in md
    assert "| 6 | $0.0779$ | $0.925$<sup" in md  # the claims' last step is covered
    assert main(["doc", str(KOECH_CLAIMS), "--format", "md", "--no-marks", "-o", str(out)]) == 0
    assert "<sup" not in out.read_text()
    marks = symbp.verify(KOECH_CLAIMS).marks()
    assert marks[("loss", 0)].startswith("mismatch: ")
    assert render_document(KOECH_CLAIMS, format="md", steps=6, marks=marks) == md
