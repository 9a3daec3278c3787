"""Feature maps, kernels and worked positions as LaTeX math (symbp.render.maps).

The pieces of a conv document: each is checked as text, compiled by pdflatex, and
converted to MathML as the HTML document converts it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sympy as sp

from symbp.render.escape import Tex
from symbp.render.maps import Term, grid, rot180, rotation, window, worked_sum
from symbp.render.templating import mathml

R = sp.Rational
KERNEL = [[1, -2, 0], [R(1, 2), 3, -1]]


def test_grid_boxes_and_underlines_cells() -> None:
    text = grid([[1, R(-2)], [R(1, 2), R(1, 3)]], boxed={(0, 1), (1, 1)}, marked={(1, 1)})
    assert text == (
        r"\begin{bmatrix} 1 & \boxed{-2} \\ 0.5 & \boxed{\underline{0.333}} \end{bmatrix}"
    )


def test_rot180_reverses_rows_and_columns() -> None:
    assert rot180(KERNEL) == [[-1, 3, R(1, 2)], [0, -2, 1]]
    assert rot180(rot180(KERNEL)) == KERNEL
    for u in range(2):
        for v in range(3):
            assert rot180(KERNEL)[u][v] == KERNEL[1 - u][2 - v]


def test_rotation_shows_the_kernel_before_and_after() -> None:
    text = rotation(Tex(r"W^{1}_{0,0}"), KERNEL)
    before, after = text.split(r"\xrightarrow{\text{rot}\,180^\circ}")
    assert r"\begin{bmatrix} 1 & -2 & 0 \\ 0.5 & 3 & -1 \end{bmatrix}" in before
    assert r"\begin{bmatrix} -1 & 3 & 0.5 \\ 0 & -2 & 1 \end{bmatrix}" in after


def test_window_is_the_cells_one_kernel_position_covers() -> None:
    assert window(1, 2, 2, 2) == {(1, 2), (1, 3), (2, 2), (2, 3)}


def test_worked_sum_writes_names_numbers_and_value() -> None:
    terms = [
        Term(Tex("w_{00}"), 1, Tex("a_{00}"), R(1, 2)),
        Term(Tex("w_{01}"), -2, Tex("a_{01}"), 3),
    ]
    value = 1 * R(1, 2) + (-2) * 3 + R(1, 4)
    block = worked_sum(Tex("z_{0}"), terms, value, bias=(Tex("b"), R(1, 4)))
    assert [str(row.rhs) for row in block.rows] == [
        r"w_{00}\, a_{00} + w_{01}\, a_{01} + b",
        r"1 \cdot 0.5 + \left(-2\right) \cdot 3 + 0.25",
        "-5.25",
    ]
    assert block.rows[0].lhs == "z_{0}"


def test_large_maps_are_refused_cell_by_cell() -> None:
    with pytest.raises(ValueError, match="13×13 is too large"):
        grid([[0] * 13] * 13)


def test_pieces_convert_to_mathml() -> None:
    out = mathml(rotation(Tex("W"), KERNEL))
    assert out.count("<mtable>") == 2 and "180" in out
    assert '<menclose notation="box">' in mathml(grid([[1, 2]], boxed={(0, 0)}))


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="TeX Live (pdflatex) is needed")
def test_pieces_compile_with_pdflatex(tmp_path: Path) -> None:
    from symbp.render.pdf import build_pdf

    block = worked_sum(Tex("z"), [Term(Tex("w"), 2, Tex("a"), 3)], 6)
    body = "\n".join(
        [
            rf"\[ {rotation(Tex('W'), KERNEL)} \]",
            rf"\[ {grid([[1, 2], [3, 4]], boxed={(0, 0)}, marked={(1, 1)})} \]",
            r"\begin{align*}",
            r" \\ ".join(f"{row.lhs or ''} &= {row.rhs}" for row in block.rows),
            r"\end{align*}",
        ]
    )
    source = (
        "\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\usepackage{xcolor}\n"
        f"\\begin{{document}}\n{body}\n\\end{{document}}\n"
    )
    pdf = build_pdf(source, tmp_path / "maps.pdf")
    assert pdf.read_bytes().startswith(b"%PDF")


def test_as_number_takes_numbers_and_never_parses_text() -> None:
    from symbp.render.maps import as_number

    assert as_number(3) == sp.Integer(3) and as_number(R(1, 3)) == R(1, 3)
    assert as_number(0.5) == sp.Float(0.5)
    for bad in ("1+1", "__import__('os')", True, None):
        with pytest.raises(TypeError, match="expected a number"):
            as_number(bad)  # type: ignore[arg-type]
