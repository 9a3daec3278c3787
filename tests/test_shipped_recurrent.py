"""The shipped recurrent examples (issue 29, item 9): their documents under ``docs/`` in
both styles and every format, and a module under ``generated/`` exactly where the
generated trainer takes the network (:func:`symbp.stages.trainer_takes`), so that the
regeneration after the recurrent trainer lands adds theirs."""

from __future__ import annotations

from pathlib import Path

import symbp
from symbp.codegen import shipped_outputs as module_outputs
from symbp.regenerate import example_specs
from symbp.stages import trainer_takes

ROOT = Path(__file__).resolve().parent.parent
RECURRENT = ["elman_3step", "elman_bptt2", "lstm_2step_1unit"]


def test_the_recurrent_examples_are_shipped_with_their_documents() -> None:
    specs = {p.stem: symbp.load(p) for p in example_specs(ROOT)}
    assert sorted(s for s, spec in specs.items() if spec.recurrence is not None) == RECURRENT
    for stem in RECURRENT:
        for suffix in ("", "_handout"):
            for fmt in ("tex", "html", "md"):
                text = (ROOT / "docs" / f"{stem}{suffix}.{fmt}").read_text(encoding="utf-8")
                assert f"(spec hash {specs[stem].hash})" in text[:400]
                assert "The network unrolled over time" in text


def test_the_examples_are_what_their_names_say() -> None:
    elman = symbp.load(ROOT / "examples" / "elman_3step.yaml")
    data = symbp.load(ROOT / "tests" / "data" / "elman_3step.yaml")
    assert (elman.W, elman.b, elman.recurrence) == (data.W, data.b, data.recurrence)
    lstm = symbp.load(ROOT / "examples" / "lstm_2step_1unit.yaml")
    assert lstm.recurrence is not None and lstm.recurrence.steps == 2
    assert repr(lstm.network[0]) == "Recurrent(1, lstm)"
    cut = symbp.load(ROOT / "examples" / "elman_bptt2.yaml")
    assert cut.recurrence is not None and cut.recurrence.bptt == 2
    assert cut.recurrence.steps == 4 and cut.optimizer.clip_norm is not None


def test_no_recurrent_module_ships_until_the_trainer_takes_recurrent_nets() -> None:
    paths = [ROOT / "examples" / f"{stem}.yaml" for stem in RECURRENT]
    modules = module_outputs(paths)
    for path in paths:
        takes = trainer_takes(symbp.load(path))
        assert (f"generated/{path.stem}.py" in modules) == takes
        assert (ROOT / "generated" / f"{path.stem}.py").exists() == takes
