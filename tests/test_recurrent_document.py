"""Documents of recurrent networks (issue 29, item 4): ``symbp doc`` of a recurrent spec.

Every number checked here comes from the exact engine's own output (``symbp eval``'s
:class:`~symbp.symbolic.recurrent_run.RecurrentRun`) or is computed independently with
NumPy from it (the head's local term ``W²ᵀ(y − t)``, the Elman cell's Jacobian
``diag(1 − h²) U``), never from the document's own pieces.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import symbp
from symbp.cli import main
from symbp.render import render_document, write_document
from symbp.render.mathtex import plain_number
from symbp.render.unrolled_diagram import MAX_DRAWN, drawn_steps, unrolled_layout
from symbp.symbolic.recurrent_eval import Convention
from symbp.symbolic.recurrent_run import run_recurrent

ROOT = Path(__file__).resolve().parent.parent
ELMAN = ROOT / "tests" / "data" / "elman_3step.yaml"
LSTM = ROOT / "tests" / "data" / "lstm_3step.yaml"
BPTT2 = ROOT / "examples" / "elman_bptt2.yaml"
LSTM_2STEP = ROOT / "examples" / "lstm_2step_1unit.yaml"


def _vector(values: Any) -> str:
    """A vector as the documents print it in the text: ``(a, b, c)``, 3 digits."""
    return "(" + ", ".join(plain_number(v) for v in values) + ")"


def _floats(values: Any) -> np.ndarray:
    return np.array([float(v) for v in values])


def _pdf_text(spec: Path, tmp_path: Path, style: str = "full") -> str:
    if shutil.which("pdflatex") is None or shutil.which("pdftotext") is None:
        pytest.skip("TeX Live (pdflatex) and pdftotext are needed to read the PDF")
    pdf = write_document(spec, format="pdf", out=tmp_path / "doc.pdf", style=style)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text.replace("\u2212", "-")


def test_the_elman_pdf_works_dE_dh_with_numbers_at_every_step(tmp_path: Path) -> None:
    """Issue 29's done-when: the PDF of the Elman example shows ∂E/∂h_t worked with numbers
    at every step: the local term, the recurrent term and their sum, each as the exact
    engine gives it (∂E/∂h_t from ``eval``; the local term W²ᵀ δ_t from ``eval``'s δ)."""
    text = _pdf_text(ELMAN, tmp_path)
    backward = text[text.index("The backward pass through time\n") :]
    backward = backward[: backward.index("The weight gradients")]
    step = run_recurrent(symbp.load(ELMAN), 0).steps[0]
    head = np.array([[float(v) for v in row] for row in step.params["W"][1]])
    blocks = re.split(r"Step t = (\d):", backward)[1:]
    worked = {int(t): block for t, block in zip(blocks[::2], blocks[1::2], strict=True)}
    assert sorted(worked) == [1, 2, 3]
    for t in (1, 2, 3):
        row = step.arrays(t)
        total = row["delta_h[0]"]
        local = head.T @ _floats(row["delta[1]"])
        block = worked[t]
        assert f"= {_vector(total)}" in block, (t, block)
        if t < 3:
            recurrent = _floats(total) - local
            assert f"= {_vector(local)} + {_vector(recurrent)}" in block, (t, block)
            assert "the local term plus the recurrent term" in block
        else:
            assert np.allclose(local, _floats(total), atol=1e-15)
            assert "the last step" in block


def test_the_elman_document_tables_each_weights_per_step_terms_and_their_sum() -> None:
    """grad_U's row u¹₀,₁: its term at each step and the sum, as eval gives them."""
    md = render_document(ELMAN, format="md")
    step = run_recurrent(symbp.load(ELMAN), 0).steps[0]
    terms = [plain_number(step.arrays(t)["grad_U[0]"][0][1]) for t in (1, 2, 3)]
    total = plain_number(step.arrays()["grad_U[0]"][0][1])
    cells = " | ".join(f"${v}$" for v in (*terms, total))
    assert f"| $u^{{1}}_{{0,1}}$ | {cells} |" in md


def test_the_elman_jacobian_norms_are_those_of_the_products_of_the_cells_jacobians() -> None:
    """‖∂h_3/∂h_0‖ is the Frobenius norm of J_3 J_2 J_1, J_t = diag(1 − h_t²) U (NumPy)."""
    md = render_document(ELMAN, format="md")
    step = run_recurrent(symbp.load(ELMAN), 0).steps[0]
    U = np.array([[float(v) for v in row] for row in step.params["U"][0]])
    J = [np.diag(1 - _floats(step.arrays(t)["h[0]"]) ** 2) @ U for t in (1, 2, 3)]
    table = md[md.index("*The norm of") :].split("\n\n\n")[0]
    assert f"| $h_{{0}}$ | ${plain_number(np.linalg.norm(J[0]))}$ |" in table
    assert f"${plain_number(np.linalg.norm(J[2] @ J[1] @ J[0]))}$ |" in table
    assert f"| $h_{{2}}$ |  |  | ${plain_number(np.linalg.norm(J[2]))}$ |" in table


def test_the_lstm_document_shows_every_gate_the_cell_state_and_dE_dc() -> None:
    md = render_document(LSTM, format="md")
    step = run_recurrent(symbp.load(LSTM), 0).steps[0]
    for t in (1, 2, 3):
        row = step.arrays(t)
        for name, shown in (("gate_i", "i"), ("gate_f", "f"), ("gate_g", "g"), ("gate_o", "o"),
                            ("c", "c"), ("h", "h")):  # fmt: skip
            values = ", ".join(plain_number(v) for v in row[f"{name}[0]"])
            assert f"{shown}_{{{t}}} = \\left({values}\\right)" in md, (t, name)
        dc = ", ".join(plain_number(v) for v in row["delta_c[0]"])
        dh = ", ".join(plain_number(v) for v in row["delta_h[0]"])
        assert f"&= \\left({dc}\\right)" in md, t
        assert f"&= \\left({dh}\\right)" in md, t


def test_truncation_lists_the_dropped_terms_and_the_dropped_sums() -> None:
    """BPTT(2) over 4 steps: the "dropped" column of ∂E/∂u¹ is full BPTT's gradient minus
    the truncated one (two exact runs), and the step-4 loss is dropped at h_1 and h_2."""
    spec = symbp.load(BPTT2)
    md = render_document(spec, format="md")
    cut = run_recurrent(spec, 0).steps[0].arrays()["grad_U[0]"]
    full = run_recurrent(spec, 0, convention=lambda c: Convention(bptt=None)).steps[0]
    lost = full.arrays()["grad_U[0]"]
    for j in range(2):
        for m in range(2):
            want = f"${plain_number(cut[j][m])}$ | ${plain_number(lost[j][m] - cut[j][m])}$ |"
            line = next(x for x in md.splitlines() if x.startswith(f"| $u^{{1}}_{{{j},{m}}}$"))
            assert line.endswith(want), (line, want)
    assert md.count("Dropped by the truncation") == 2  # at h_2 (from L_4) and h_1 (L_3, L_4)
    assert "truncated BPTT(2)" in md


def test_clipping_states_the_norm_and_the_scale_of_the_exact_run() -> None:
    spec = symbp.load(BPTT2)
    md = render_document(spec, format="html")
    update = run_recurrent(spec, 1).steps[0].update
    assert update is not None and update.scale is not None and update.grad_norm is not None
    assert update.scale < 1
    assert f"|g| = {plain_number(update.grad_norm)}" in md
    assert f"multiplied by {plain_number(update.scale)} before the update" in md
    assert "No clipping is set" in render_document(ELMAN, format="html")


def test_the_handout_keeps_the_forward_pass_and_leaves_the_backward_to_the_key() -> None:
    full = render_document(ELMAN, format="html")
    handout = render_document(ELMAN, format="html", style="handout")
    assert "the local term plus the recurrent term" in full
    assert "the local term plus the recurrent term" not in handout
    assert "The local partial derivatives" not in handout
    for t in (1, 2, 3):
        assert f"Step t = {t}:" in handout
    assert "Handout; every step is worked in the answer key." in handout


@pytest.mark.parametrize("fmt", ["tex", "html", "md"])
def test_the_unrolled_network_is_drawn_in_every_format(fmt: str) -> None:
    text = render_document(LSTM_2STEP, format=fmt)
    if fmt == "tex":
        assert r"\begin{tikzpicture}" in text and "$h_{1}, c_{1}$" in text
        assert "$U^{1}$" in text and "$L_{2}$" in text
    else:
        assert '<svg class="diagram unrolled"' in text
        assert ">h₁, c₁</text>" in text and ">U¹</text>" in text and ">L₂</text>" in text


def test_the_unrolled_layout_stays_inside_its_drawing() -> None:
    d = unrolled_layout(3, ("h",), 1, (True, True, True))
    assert len(d.boxes) == 1 + 3 * 4  # h0; x_t, h_t, y_t, L_t per step
    assert len(d.edges) == 3 * 4  # W, U, the head, the target per step
    for b in d.boxes:
        assert b.x - b.w / 2 >= 0 and b.x + b.w / 2 <= d.width
        assert b.y - b.h / 2 >= 0 and b.y + b.h / 2 <= d.height
    last = unrolled_layout(3, ("h",), 1, (False, False, True))
    assert len(last.boxes) == 1 + 3 * 2 + 2  # a loss at the last step only
    assert drawn_steps(12) == [*range(1, MAX_DRAWN - 1), None, 12]
    long = unrolled_layout(12, ("h",), 2, (True,) * 12)
    assert len(long.dots) == 1 and long.scale <= 1


def test_symbp_doc_writes_a_recurrent_document_and_refuses_marks_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "elman.md"
    assert main(["doc", str(ELMAN), "-o", str(out)]) == 0
    assert "The backward pass through time" in out.read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["doc", str(ELMAN), "--style", "cloze", "-o", str(tmp_path / "c.md")]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "cloze sheets in documents of recurrent" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elman.md"]


def _big_spec(n: int = 12, steps: int = 8, features: int = 3) -> dict[str, Any]:
    """An Elman net too wide and too long to show whole: 12 units, 8 steps, BPTT(3)."""

    def w(rows: int, cols: int, k: int) -> list[list[float]]:
        return [[((i * 7 + j * 3 + k) % 11 - 5) / 20 for j in range(cols)] for i in range(rows)]

    return {
        "name": "big",
        "input": {"steps": steps, "features": features},
        "layers": [{"recurrent": n, "cell": "elman"}, {"dense": 2, "activation": "identity"}],
        "output": "every_step",
        "loss": "half_sse",
        "optimizer": {"name": "sgd", "learning_rate": 0.1, "clip_norm": 0.5},
        "training": {"bptt": 3},
        "params": {
            "W": [w(n, features, 1), w(2, n, 2)],
            "U": [w(n, n, 3), None],
            "b": [[0.1] * n, [0.0, 0.1]],
        },
        "example": {
            "x": [[(t + k) % 3 - 1 for k in range(features)] for t in range(steps)],
            "t": [[t / 10, -t / 10] for t in range(steps)],
        },
    }


def test_a_wide_long_net_is_cut_to_the_page_and_nothing_overflows(tmp_path: Path) -> None:
    """12 units and 8 steps: vectors show their first 8 values, the tables the first steps,
    "…" and the last, the 12×12 Jacobians only their norms; the PDF has no overfull box."""
    from symbp.render.pdf import build_pdf, overfull_boxes

    spec = symbp.load(_big_spec())
    md = render_document(spec, format="md")
    assert "| t = 1 | t = 2 | t = 3 | … | t = 8 |" in md
    assert r", \ldots\right)" in md
    assert r"\begin{bmatrix}" not in md.split("The backward pass through time")[1]
    if shutil.which("pdflatex") is None:
        pytest.skip("TeX Live (pdflatex) is needed for the overfull-box check")
    log = tmp_path / "big.log"
    build_pdf(render_document(spec, format="tex"), tmp_path / "big.pdf", log_out=log)
    boxes = overfull_boxes(log.read_text(encoding="utf-8", errors="replace"))
    assert [b for b in boxes if b[0] > 1.0] == []


def test_a_recurrent_spec_with_claims_gets_its_document_without_marks(tmp_path: Path) -> None:
    """Verdict marks are placed in documents of feed-forward nets only so far: ``symbp doc``
    of a recurrent spec with claims writes the document (no marks) instead of refusing."""
    import yaml

    data = yaml.safe_load(ELMAN.read_text(encoding="utf-8"))
    data["claims"] = [{"of": "h[0][0]", "time": 1, "printed": "0.537"}]
    path = tmp_path / "claims.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    out = tmp_path / "claims.md"
    assert main(["doc", str(path), "-o", str(out), "-q"]) == 0
    text = out.read_text(encoding="utf-8")
    assert "The backward pass through time" in text and "✓" not in text
