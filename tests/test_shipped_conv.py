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
    assert [stem for stem, spec in specs.items() if not spec.dense_only] == CONV
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
