"""The feature-map diagram of conv networks (issue 28, item 4), measured in its output.

The SVG is read back as the browser would draw it (rectangles, texts of 13 px with
characters about 0.55 em wide), independently of the layout's own estimates: no two
texts overlap, no text lies on a block, every block and text is inside the drawing, and
the stacks show the shapes and the arrows the kernels and strides. The TikZ draws the
same rectangles (in cm) and fits the page at its scale.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest

import symbp
from symbp.render.map_diagram import MAX_SQUARES, MAX_WIDTH, map_layout
from symbp.render.templating import render, svg

ROOT = Path(__file__).resolve().parent.parent
CONV = ["conv_1x5x5", "conv_stride2_pad1", "digits_conv_8x8"]
#: The SVG's font size (px) by class, and a character's width as a fraction of it.
FONT_PX = {"caption": 13.0}
CHAR_EM = 0.55
PX_PER_CM = 60

Box = tuple[float, float, float, float]  # x0, y0, x1, y1


def _deep() -> dict[str, Any]:
    """Two conv + pool stages, three channels in, two dense layers: wider than the page."""
    return {
        "name": "deep-conv",
        "input": [3, 16, 16],
        "layers": [
            {"conv": 6, "kernel": 3, "stride": 1, "padding": 1, "activation": "relu"},
            {"pool": "max", "size": 2},
            {"conv": 12, "kernel": 3, "stride": 1, "padding": 1, "activation": "tanh"},
            {"pool": "avg", "size": 2},
            "flatten",
            {"dense": 32, "activation": "relu"},
            {"dense": 10, "activation": "softmax"},
        ],
        "loss": "cross_entropy",
        "optimizer": {"name": "sgd", "learning_rate": 0.1},
        "init": {"name": "xavier_uniform", "seed": 0},
    }


def _specs() -> dict[str, symbp.Spec]:
    specs = {stem: symbp.load(ROOT / "examples" / f"{stem}.yaml") for stem in CONV}
    specs["deep"] = symbp.load(_deep())
    return specs


SPECS = _specs()


def _svg(spec: symbp.Spec) -> str:
    return str(svg(map_layout(spec.input_shape, spec.network)))


def _attrs(tag: str) -> dict[str, str]:
    return dict(re.findall(r'([\w-]+)="([^"]*)"', tag))


def svg_parts(source: str) -> tuple[Box, list[Box], list[tuple[str, Box]]]:
    """The viewBox, the rectangles and each text's box, as the SVG draws them."""
    x, y, w, h = (float(v) for v in _attrs(source[: source.index(">")])["viewBox"].split())
    rects = []
    for tag in re.findall(r"<rect [^>]*/>", source):
        a = _attrs(tag)
        x0, y0 = float(a["x"]), float(a["y"])
        rects.append((x0, y0, x0 + float(a["width"]), y0 + float(a["height"])))
    texts = []
    for tag, text in re.findall(r"(<text [^>]*>)([^<]*)</text>", source):
        a = _attrs(tag)
        size = FONT_PX[a["class"]]
        cx, cy, half = float(a["x"]), float(a["y"]), len(text) * CHAR_EM * size / 2
        assert a["text-anchor"] == "middle" and a["dominant-baseline"] == "central"
        texts.append((text, (cx - half, cy - size / 2, cx + half, cy + size / 2)))
    return (x, y, x + w, y + h), rects, texts


def overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def inside(box: Box, frame: Box) -> bool:
    return frame[0] <= box[0] and frame[1] <= box[1] and box[2] <= frame[2] and box[3] <= frame[3]


def test_the_measure_finds_overlaps_and_boxes_outside() -> None:
    assert overlap((0, 0, 10, 10), (9, 9, 20, 20))
    assert not overlap((0, 0, 10, 10), (10, 0, 20, 10))
    assert not inside((-1, 0, 5, 5), (0, 0, 10, 10))
    source = (
        '<svg viewBox="0.0 0.0 100.0 50.0"><rect x="1" y="2" width="3" height="4"/>'
        '<text class="caption" x="20" y="10" text-anchor="middle" '
        'dominant-baseline="central">ab</text></svg>'
    )
    frame, rects, texts = svg_parts(source)
    assert frame == (0.0, 0.0, 100.0, 50.0) and rects == [(1.0, 2.0, 4.0, 6.0)]
    assert texts == [("ab", (20 - 7.15, 10 - 6.5, 20 + 7.15, 10 + 6.5))]


@pytest.mark.parametrize("name", sorted(SPECS))
def test_no_text_overlaps_and_everything_is_inside(name: str) -> None:
    frame, rects, texts = svg_parts(_svg(SPECS[name]))
    found = []
    for n, (text, box) in enumerate(texts):
        found += [f"{text} on {other}" for other, b in texts[n + 1 :] if overlap(box, b)]
        found += [f"{text} on a block {r}" for r in rects if overlap(box, r)]
        found += [] if inside(box, frame) else [f"{text} outside {frame}: {box}"]
    found += [f"block {r} outside {frame}" for r in rects if not inside(r, frame)]
    assert found == []


@pytest.mark.parametrize("name", sorted(SPECS))
def test_blocks_of_different_quantities_do_not_overlap(name: str) -> None:
    """Only the squares of one stack overlap (each set back behind the one before)."""
    d = map_layout(SPECS[name].input_shape, SPECS[name].network)
    spans = [(b.x, b.right) for b in d.blocks]
    assert spans == sorted(spans)
    for (_, right), (left, _) in itertools.pairwise(spans):
        assert right < left
    for a in d.arrows:  # each arrow runs between two blocks, through none
        assert all(a.x1 < x0 or right < a.x0 for x0, right in spans)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_stacks_show_shapes_and_arrows_show_kernels_and_strides(name: str) -> None:
    spec = SPECS[name]
    _frame, rects, texts = svg_parts(_svg(spec))
    words = [t for t, _ in texts]
    shapes = [spec.input_shape, *(b for b in _shapes(spec))]
    for shape in shapes:
        assert "×".join(str(n) for n in shape) in words
    squares = sum(min(s[0], MAX_SQUARES) if len(s) == 3 else 1 for s in shapes)
    assert len(rects) == squares
    for layer in spec.network:
        if layer.kind == "conv":
            kh, kw = layer.kernel
            assert f"conv {kh}×{kw}, {layer.activation.title}" in words
            assert f"stride {layer.stride}, pad {layer.padding}" in words
        if layer.kind == "pool":
            assert f"{layer.mode} pool {layer.size}×{layer.size}" in words
            assert f"stride {layer.stride}" in words
    assert words.count("flatten") == 1


def _shapes(spec: symbp.Spec) -> list[tuple[int, ...]]:
    from symbp.symbolic.network_plan import shapes_of

    return list(shapes_of(spec.input_shape, spec.network))[1:]


def test_the_digits_net_draws_its_stacks_and_vectors() -> None:
    _frame, rects, texts = svg_parts(_svg(SPECS["digits_conv_8x8"]))
    words = [t for t, _ in texts]
    names = ["a⁰", "a¹", "a²", "a³", "a⁴"]
    shapes = ["1×8×8", "8×6×6", "8×3×3", "72", "10"]
    assert words[:10] == [w for pair in zip(names, shapes, strict=True) for w in pair]
    assert len(rects) == 1 + 4 + 4 + 1 + 1  # 8 channels drawn as 4 squares each


@pytest.mark.parametrize("name", sorted(SPECS))
def test_tikz_draws_the_same_blocks_and_fits_the_page(name: str) -> None:
    spec = SPECS[name]
    d = map_layout(spec.input_shape, spec.network)
    tex = render("tex", "conv_document.tex.j2", doc=_one_diagram(d))
    scale = float(re.search(r"scale=([\d.]+)", tex).group(1))  # type: ignore[union-attr]
    rects = [
        tuple(float(v) for v in m)
        for m in re.findall(
            r"\\draw\[\w+\] \(([-\d.]+), ([-\d.]+)\) rectangle \(([-\d.]+), ([-\d.]+)\)", tex
        )
    ]
    _frame, svg_rects, _texts = svg_parts(_svg(spec))
    assert len(rects) == len(svg_rects)
    for r, s in zip(rects, svg_rects, strict=True):
        assert r == pytest.approx(tuple(v / PX_PER_CM for v in s), abs=0.006)
    assert d.width * scale <= MAX_WIDTH
    assert (scale < 1) == (d.width > MAX_WIDTH)
    assert scale >= (0.99 if name != "deep" else 0.5)


def _one_diagram(d: Any) -> Any:
    """A conv document holding only ``d`` (for the TikZ)."""
    from symbp.render.conv_pieces import ConvDocument, Piece, Section

    return ConvDocument(
        "n", "t", None, None, None, "0", "0", "full", (Section("s", (Piece("diagram", d),)),)
    )


@pytest.mark.parametrize("stem", CONV)
def test_shipped_conv_documents_carry_the_diagram(stem: str) -> None:
    for suffix in ("", "_handout"):
        docs = ROOT / "docs"
        assert "\\begin{tikzpicture}" in (docs / f"{stem}{suffix}.tex").read_text()
        for fmt in ("html", "md"):
            assert '<svg class="diagram maps"' in (docs / f"{stem}{suffix}.{fmt}").read_text()
