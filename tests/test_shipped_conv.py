"""The shipped conv examples (issue 28, item 9): documents under ``docs/`` for each, a
module under ``generated/`` exactly where the generated trainer takes the network
(:func:`symbp.stages.trainer_takes`, the one answer ``python -m symbp.regenerate`` asks)."""

from __future__ import annotations

from pathlib import Path

import pytest

import symbp
import symbp.render
from symbp.codegen import shipped_outputs as module_outputs
from symbp.regenerate import example_specs
from symbp.stages import trainer_takes

ROOT = Path(__file__).resolve().parent.parent
CONV = ["conv_1x5x5", "conv_stride2_pad1", "digits_conv_8x8"]


def test_the_conv_examples_are_shipped_with_their_documents() -> None:
    specs = {p.stem: symbp.load(p) for p in example_specs(ROOT)}
    conv = [s for s, spec in specs.items() if not spec.dense_only and spec.recurrence is None]
    assert conv == CONV
    for stem in CONV:
        for suffix in ("", "_handout"):
            for fmt in ("tex", "html", "md"):
                text = (ROOT / "docs" / f"{stem}{suffix}.{fmt}").read_text(encoding="utf-8")
                assert f"(spec hash {specs[stem].hash})" in text[:400]


def test_a_module_ships_exactly_where_the_trainer_takes_the_network() -> None:
    paths = example_specs(ROOT)
    modules = module_outputs(paths)
    for path in paths:
        takes = trainer_takes(symbp.load(path))
        assert (f"generated/{path.stem}.py" in modules) == takes, path.stem
        assert (ROOT / "generated" / f"{path.stem}.py").exists() == takes, path.stem
    assert trainer_takes(symbp.load(ROOT / "examples" / "koech_3_4_1.yaml"))


def test_the_conv_examples_have_the_shapes_the_issue_names() -> None:
    stride2 = symbp.load(ROOT / "examples" / "conv_stride2_pad1.yaml")
    conv = stride2.network[0]
    assert (stride2.input_shape[0], conv.stride, conv.padding) == (2, 2, 1)
    digits = symbp.load(ROOT / "examples" / "digits_conv_8x8.yaml")
    assert digits.input_shape == (1, 8, 8)
    assert [layer.kind for layer in digits.network] == ["conv", "pool", "flatten", "dense"]
    assert (digits.network[0].channels, digits.network[0].kernel) == (8, (3, 3))
    assert digits.loss.name == "cross_entropy"


def test_a_kind_without_a_presentation_is_refused_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each layer record's presentation is looked up in one table per pass; a kind that
    has none yet (a new record) is refused in one line, not drawn as something else."""
    from symbp.errors import SpecError
    from symbp.layers import Pool
    from symbp.render import conv_forward

    monkeypatch.delitem(conv_forward.FORWARD, Pool)
    with pytest.raises(SpecError, match=r"documents of pool layers are not available yet$"):
        symbp.render.render_document(ROOT / "examples" / "conv_1x5x5.yaml", format="md")


def test_the_digits_document_works_one_position_and_summarises_the_channels() -> None:
    """8 channels of 6x6: summary tables; the worked position's window, cut out of the
    summarised 8x8 input, and its sum, checked against the spec's own numbers."""
    import numpy as np

    spec = symbp.load(ROOT / "examples" / "digits_conv_8x8.yaml")
    text = (ROOT / "docs" / "digits_conv_8x8.md").read_text(encoding="utf-8")
    x = np.array(spec.data["example"]["x"], dtype=float)[0]
    w = np.array(spec.data["params"]["W"][0][0][0], dtype=float)
    window = x[0:3, 0:3]
    rows = r" \\ ".join(" & ".join(f"{v:.3g}" for v in row) for row in window)
    assert (
        r"a^{0}[0]\ \text{rows 0–2, columns 0–2} = \begin{bmatrix} " + rows + r" \end{bmatrix}"
    ) in text
    z = float((w * window).sum()) + spec.data["params"]["b"][0][0]
    assert f" &= {z:.3g} \\quad \\text{{(terms with a factor 0 left out)}}" in text
    assert text.count("*Each channel of 6×6 in summary*") >= 3  # z, a and δ of layer 1
    assert "| $a^{1}[7]$ |" in text


def test_an_excerpt_boxes_only_the_cells_a_strided_sum_reads() -> None:
    from symbp.render.conv_pieces import excerpts

    fmap = [[r * 10 + q for q in range(8)] for r in range(8)]
    strided = excerpts("a", [fmap], 3, {0: {(0, 0), (0, 2), (2, 0), (2, 2)}})
    assert [p.content for p in strided] == [
        r"a[0]\ \text{rows 0–2, columns 0–2} = \begin{bmatrix} \boxed{0} & 1 & \boxed{2} \\ "
        r"10 & 11 & 12 \\ \boxed{20} & 21 & \boxed{22} \end{bmatrix}"
    ]
    whole = excerpts("a", [fmap], 3, {0: {(1, 1), (1, 2)}})
    assert [p.content for p in whole] == [
        r"a[0]\ \text{rows 1–1, columns 1–2} = \begin{bmatrix} 11 & 12 \end{bmatrix}"
    ]
