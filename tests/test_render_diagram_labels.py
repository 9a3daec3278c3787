"""Diagram labels without collisions (issue 31, item 4), measured in the output.

The label boxes are estimated here from what the TikZ and the SVG print (the
label's text, the font's character width), independently of the layout code:
no two edge labels of a diagram overlap, none lies on a neuron or a bias unit,
and in SVG each label has a white box painted over the edges, so no edge line
runs through its text.
"""

from __future__ import annotations

import re

import pytest

#: ``\scriptsize`` characters (cm) and the height of a label, for the TikZ boxes.
TEX_CHAR_CM, TEX_HEIGHT_CM = 0.13, 0.30
#: ``\tiny`` (in a diagram drawn smaller) against ``\scriptsize``.
TINY = 5 / 7
#: The SVG labels' characters at 11 px (the font size), as a fraction of the font size.
SVG_CHAR_EM, SVG_FONT_PX = 0.55, 11.0

Box = tuple[float, float, float, float]  # centre x, centre y, width, height
Circle = tuple[float, float, float]


def overlap(a: Box, b: Box) -> bool:
    return abs(a[0] - b[0]) < (a[2] + b[2]) / 2 and abs(a[1] - b[1]) < (a[3] + b[3]) / 2


def meets(box: Box, circle: Circle) -> bool:
    x, y, w, h = box
    cx, cy, r = circle
    nx = min(max(cx, x - w / 2), x + w / 2)
    ny = min(max(cy, y - h / 2), y + h / 2)
    return (nx - cx) ** 2 + (ny - cy) ** 2 < r * r


def collisions(boxes: list[tuple[str, Box]], circles: list[Circle]) -> list[str]:
    found = []
    for n, (text, box) in enumerate(boxes):
        found += [f"{text} on {other}" for other, b in boxes[n + 1 :] if overlap(box, b)]
        found += [f"{text} on a neuron at {c[:2]}" for c in circles if meets(box, c)]
    return found


def tex_label_width(tex: str) -> int:
    """Printed characters of a label's LaTeX (``-0.0477``, ``w^{2}_{11}``)."""
    text = re.sub(r"\\times", "x", tex)
    text = re.sub(r"\\left|\\right|\\hat|[{}^_ $]", "", text)
    return len(text)


_TIKZ = re.compile(r"\\begin\{tikzpicture\}(.*?)\\end\{tikzpicture\}", re.S)
_TIKZ_NODE = re.compile(
    r"\\node\[(input|hidden|output|bias)[^\]]*\] \(\w+\) at \(([-\d.]+), ([-\d.]+)\)"
)
_TIKZ_LABEL = re.compile(r"\\node\[weight\] at \(([-\d.]+), ([-\d.]+)\) \{\$(.*)\$\};")


def tikz_collisions(source: str) -> list[str]:
    found = []
    for picture in _TIKZ.findall(source):
        scale = float(re.search(r"x=([\d.]+)cm", picture).group(1))  # type: ignore[union-attr]
        size = TINY if r"weight/.style={font=\tiny" in picture else 1.0
        circles = [
            (float(x), float(y), 0.3 if kind == "bias" else 0.5)
            for kind, x, y in _TIKZ_NODE.findall(picture)
        ]
        # The font does not scale with the picture: in its units a label is 1/scale as big.
        boxes = [
            (
                tex,
                (
                    float(x),
                    float(y),
                    tex_label_width(tex) * TEX_CHAR_CM * size / scale,
                    TEX_HEIGHT_CM * size / scale,
                ),
            )
            for x, y, tex in _TIKZ_LABEL.findall(picture)
        ]
        found += collisions(boxes, circles)
    return found


_SVG = re.compile(r"<svg\b.*?</svg>", re.S)
_NUM = r"(-?[\d.]+)"


def svg_collisions(markup: str) -> list[str]:
    found = []
    for svg in _SVG.findall(markup):
        circles = [
            (float(x), float(y), float(r))
            for x, y, r in re.findall(rf'<circle cx="{_NUM}" cy="{_NUM}" r="{_NUM}"', svg)
        ]
        rects = [
            tuple(map(float, m))
            for m in re.findall(
                rf'<rect class="label" x="{_NUM}" y="{_NUM}" width="{_NUM}" height="{_NUM}"', svg
            )
        ]
        texts = re.findall(
            rf'<text class="weight" x="{_NUM}" y="{_NUM}"([^>]*)>([^<]*)</text>', svg
        )
        if texts and svg.rfind("<line") > svg.find('<rect class="label"'):
            found.append("an edge is drawn over the labels' boxes")
        boxes = []
        for x, y, attributes, text in texts:
            cx, cy = float(x), float(y)
            font = re.search(r"font-size:([\d.]+)px", attributes)
            px = float(font.group(1)) if font else SVG_FONT_PX
            width, height = len(text) * SVG_CHAR_EM * px, px
            under = [
                r for r in rects
                if r[0] <= cx - width / 2 and cx + width / 2 <= r[0] + r[2]
                and r[1] <= cy - height / 2 and cy + height / 2 <= r[1] + r[3]
            ]  # fmt: skip
            if not under:
                found.append(f"{text}: no box under it, an edge may run through it")
            boxes.append((text, (cx, cy, width, height)))
        found += collisions(boxes, circles)
    return found


def test_the_measure_finds_the_collision_of_issue_31() -> None:
    """Adam 2-2-1's diagram before: the labels of w^1_12 and b^1_2 printed as "−0.3−0.1"."""
    before = (
        "\\begin{tikzpicture}[x=1.00cm, y=-1.00cm]\n"
        "\\node[hidden] (n1x1) at (5.60, 1.90) {$a$};\n"
        "\\node[weight] at (4.20, 0.48) {$-0.3$};\n"
        "\\node[weight] at (4.48, 0.57) {$-0.1$};\n"
        "\\end{tikzpicture}"
    )
    assert tikz_collisions(before) == ["-0.3 on -0.1"]
    assert not tikz_collisions(before.replace("(4.48, 0.57)", "(4.76, 0.90)"))
    svg = (
        '<svg><line x1="0"/><rect class="label" x="0.0" y="-8.0" width="40.0" height="16"/>'
        '<text class="weight" x="20.0" y="0.0" dominant-baseline="middle">-0.3</text>'
        '<text class="weight" x="80.0" y="0.0" dominant-baseline="middle">-0.1</text></svg>'
    )
    assert svg_collisions(svg) == ["-0.1: no box under it, an edge may run through it"]


def test_tikz_labels_do_not_collide(shipped_documents: dict[str, str]) -> None:
    seen = 0
    bad = {}
    for rel, source in shipped_documents.items():
        if not rel.endswith(".tex"):
            continue
        seen += len(_TIKZ_LABEL.findall(source))
        if found := tikz_collisions(source):
            bad[rel] = found
    assert seen > 200
    assert not bad, bad


@pytest.mark.parametrize("kind", ["html", "md"])
def test_svg_labels_do_not_collide_and_sit_on_boxes(
    shipped_documents: dict[str, str], kind: str
) -> None:
    seen = 0
    bad = {}
    for rel, source in shipped_documents.items():
        if not rel.endswith(f".{kind}"):
            continue
        seen += source.count('<text class="weight"')
        if found := svg_collisions(source):
            bad[rel] = found
    assert seen > 200
    assert not bad, bad


def test_exercise_sheets_labels_do_not_collide() -> None:
    """The students' sheets draw the same diagram (``docs/exercises/*/sheets.tex``)."""
    from pathlib import Path

    sheets = sorted(Path(__file__).resolve().parent.parent.glob("docs/exercises/*/sheets.tex"))
    assert sheets
    for path in sheets:
        source = path.read_text(encoding="utf-8")
        assert _TIKZ_LABEL.findall(source), path
        assert not tikz_collisions(source), (path.name, tikz_collisions(source))
