"""``symbp exercises`` of recurrent nets (issue 29 item 7): per-student BPTT exercises whose
keys are the exact engine's values and agree with PyTorch float64 autograd on each
student's own numbers (full BPTT and BPTT(2) by detach); byte-identical text outputs for
the same seed; the sheet code rebuilds a student; the variant specs verify; the quiz and
the sheets state the conventions; sheets and keys as PDF; one-line refusals."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from exercise_files import exercises_cli, needs_tex, pdf_names, pdf_text, text_file_names

import symbp
from symbp.cli import main
from symbp.exercises import make_exercises, plan, plan_one
from symbp.exercises.output import text_outputs
from symbp.symbolic.recurrent_run import run_recurrent

DATA = Path(__file__).parent / "data"
ELMAN = DATA / "elman_3step.yaml"
LSTM = DATA / "lstm_3step.yaml"
ELMAN_ASKS = (
    "h[0][0] at t=1",
    "h[0][0] at t=2",
    "h[0][0] at t=3",
    "loss at t=1",
    "loss at t=2",
    "loss at t=3",
    "loss",
    "delta_h[0][0] at t=1",
    "delta_h[0][0] at t=2",
    "delta_h[0][0] at t=3",
    "grad_W[0][0][0]",
    "grad_U[0][0][0]",
    "grad_b[0][0]",
    "grad_W[1][0][0]",
    "grad_b[1][0]",
    "W[0][0][0]",
    "U[0][0][0]",
)


def _data(path: Path, **change: Any) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.update(change)
    return data  # type: ignore[no-any-return]


def _spec_file(tmp_path: Path, data: dict[str, Any], name: str = "rnn.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def elman() -> Any:
    return plan(ELMAN, count=3, seed=11)


@pytest.fixture(scope="module")
def lstm() -> Any:
    return plan(LSTM, count=2, seed=4)


def _answers(variant: Any) -> dict[str, float]:
    return {a.question.ask: float(a.value) for a in variant.answers}


def test_default_questions_cover_every_step_and_every_gradient(elman: Any, lstm: Any) -> None:
    assert elman.asks == ELMAN_ASKS
    assert lstm.asks[:10] == (
        "h[0][0] at t=1",
        "h[0][0] at t=2",
        "h[0][0] at t=3",
        "c[0][0] at t=1",
        "c[0][0] at t=2",
        "c[0][0] at t=3",
        "gate_i[0][0] at t=1",
        "gate_f[0][0] at t=1",
        "gate_g[0][0] at t=1",
        "gate_o[0][0] at t=1",
    )
    assert lstm.asks[10:] == ELMAN_ASKS[3:]


def test_students_get_their_own_numbers_in_the_spec_s_shapes(elman: Any) -> None:
    first, second, third = (v.data["params"] for v in elman.variants)
    assert first["W"] != second["W"] != third["W"]
    assert np.asarray(first["U"][0], dtype=float).shape == (3, 3)
    assert first["U"][1] is None
    x = np.asarray(elman.variants[0].data["example"]["x"], dtype=float)
    assert x.shape == (3, 2)  # one row per step
    drawn = np.concatenate([np.ravel(np.asarray(first[k][0], dtype=float)) for k in "WUb"])
    assert all(-1 <= v <= 1 and round(v * 10) == v * 10 for v in drawn)  # the default range


def test_the_keys_are_the_exact_engine_s_values(elman: Any) -> None:
    for variant in elman.variants:
        got = _answers(variant)
        run = run_recurrent(variant.spec, 1).steps
        for t in (1, 2, 3):
            row = run[0].arrays(t)
            assert got[f"h[0][0] at t={t}"] == float(row["h[0]"][0])
            assert got[f"loss at t={t}"] == float(row["loss"])
            assert got[f"delta_h[0][0] at t={t}"] == float(row["delta_h[0]"][0])
        whole = run[0].arrays()
        assert got["grad_U[0][0][0]"] == float(whole["grad_U[0]"][0][0])
        assert got["U[0][0][0]"] == float(run[1].arrays()["U[0]"][0][0])
        # E is the sum of the steps' losses, and ∂E/∂h_T the head's own term (identity, SSE)
        assert got["loss"] == pytest.approx(sum(got[f"loss at t={t}"] for t in (1, 2, 3)))
        W1 = [float(v) for v in variant.data["params"]["W"][1][0]]
        y3 = float(run[0].arrays(3)["a[2]"][0])
        t3 = float(variant.data["example"]["t"][2][0])
        assert got["delta_h[0][0] at t=3"] == pytest.approx(W1[0] * (y3 - t3), rel=1e-14)


def _torch_check(variant: Any, bptt: int | None) -> None:
    from recurrent_torch import torch_reference

    ref = torch_reference(variant.spec, bptt)
    got = _answers(variant)
    lr = float(variant.spec.optimizer.learning_rate)
    for t in (1, 2, 3):
        assert got[f"h[0][0] at t={t}"] == pytest.approx(ref["h"][t - 1][0], rel=1e-12)
        if ref["c"]:
            assert got[f"c[0][0] at t={t}"] == pytest.approx(ref["c"][t - 1][0], rel=1e-12)
    assert got["loss"] == pytest.approx(ref["loss"], rel=1e-12)
    for name in ("grad_W[0][0][0]", "grad_U[0][0][0]", "grad_W[1][0][0]"):
        assert got[name] == pytest.approx(ref[name[:9]][0][0], rel=1e-12, abs=1e-15)
    for name in ("grad_b[0][0]", "grad_b[1][0]"):
        assert got[name] == pytest.approx(ref[name[:9]][0], rel=1e-12, abs=1e-15)
    W0 = float(variant.data["params"]["W"][0][0][0])
    U0 = float(variant.data["params"]["U"][0][0][0])
    assert got["W[0][0][0]"] == pytest.approx(W0 - lr * ref["grad_W[0]"][0][0], rel=1e-12)
    assert got["U[0][0][0]"] == pytest.approx(U0 - lr * ref["grad_U[0]"][0][0], rel=1e-12)


@pytest.mark.extras
def test_the_keys_agree_with_pytorch_on_each_students_numbers(elman: Any, lstm: Any) -> None:
    pytest.importorskip("torch", reason="the keys are compared with PyTorch autograd")
    for variant in (*elman.variants, *lstm.variants):
        _torch_check(variant, None)


@pytest.mark.extras
def test_truncated_bptt_keys_agree_with_pytorch_detach(tmp_path: Path) -> None:
    pytest.importorskip("torch", reason="the keys are compared with PyTorch autograd")
    spec = _spec_file(tmp_path, _data(ELMAN, training={"bptt": 2}))
    made = plan(spec, count=2, seed=3)
    for variant in made.variants:
        _torch_check(variant, 2)
    full = plan(ELMAN, count=1, seed=3).variants[0]
    assert full.data["params"] == made.variants[0].data["params"]  # same draw, other key
    cut, whole = _answers(made.variants[0]), _answers(full)
    assert abs(whole["grad_W[0][0][0]"] - cut["grad_W[0][0][0]"]) > 1e-3
    assert abs(whole["delta_h[0][0] at t=1"] - cut["delta_h[0][0] at t=1"]) > 1e-3
    # U's step-1 term reads h_0 = 0, so the truncation leaves grad_U alone here
    assert whole["grad_U[0][0][0]"] == cut["grad_U[0][0][0]"]


def test_same_seed_gives_byte_identical_text_outputs(elman: Any) -> None:
    first, second = text_outputs(elman), text_outputs(plan(ELMAN, count=3, seed=11))
    assert first == second
    assert sorted(first) == text_file_names(3)
    rows = list(csv.reader(io.StringIO(first["answers.csv"])))
    assert rows[2][:4] == ["s01", "Q2", "h[0][0] at t=2", "0"]
    assert rows[16][:4] == ["s01", "Q16", "W[0][0][0]", "1"]
    assert float(rows[2][4]) == pytest.approx(_answers(elman.variants[0])["h[0][0] at t=2"])
    assert text_outputs(plan(ELMAN, count=3, seed=12))["answers.csv"] != first["answers.csv"]


def test_the_quiz_states_the_numbers_and_the_conventions(tmp_path: Path) -> None:
    spec = _spec_file(tmp_path, _data(ELMAN, training={"bptt": 2}))
    made = plan(spec, count=1, seed=2)
    files = text_outputs(made)
    variant = made.variants[0]
    answer = variant.answers[8]
    assert answer.question.ask == "delta_h[0][0] at t=2"
    assert "::s01 Q9 delta_h[0][0] at t\\=2::[html]" in files["gift.txt"]  # GIFT escapes =
    assert f"{{#{answer.full}:0.0001}}" in files["gift.txt"]
    xml = files["moodle.xml"]
    assert "b = bias_ih + bias_hh" in xml
    assert "E = L_1 + … + L_3 (summed over the steps, not averaged)" in xml
    assert "bptt 2: the loss L_t flows back to steps t−2+1..t only" in xml
    assert "z = Uh_h + Wx_h + b_h; h = tanh(z)" in xml
    x = variant.data["example"]["x"]
    assert f"example 0: x = [[{float(x[0][0]):g}, {float(x[0][1]):g}], [" in xml


def test_the_sheet_code_rebuilds_the_student(lstm: Any) -> None:
    variant = lstm.variants[1]
    again = plan_one(LSTM, variant.code.text).variants[0]
    assert again.data == variant.data
    assert [a.full for a in again.answers] == [a.full for a in variant.answers]


def test_variant_specs_verify_with_time(elman: Any, tmp_path: Path, capsys: Any) -> None:
    text = text_outputs(elman)["variants/s02.yaml"]
    claims = yaml.safe_load(text)["claims"]
    assert claims[1] == {
        "of": "h[0][0]",
        "step": 0,
        "time": 2,
        "printed": elman.variants[1].answers[1].printed,
        "note": f"Q2 of exercise {elman.variants[1].code.text}",
    }
    path = tmp_path / "s02.yaml"
    path.write_text(text, encoding="utf-8")
    assert main(["verify", str(path)]) == 0
    assert "17 claims: 17 confirmed, 0 truncated, 0 mismatch — PASS" in capsys.readouterr().out


def test_a_last_step_net_asks_the_last_loss_only(tmp_path: Path) -> None:
    data = _data(ELMAN, output="last_step", example={"x": [[1, 0], [0, 1], [1, 1]], "t": [0.9]})
    made = plan(_spec_file(tmp_path, data), count=1, seed=0)
    assert [a for a in made.asks if a.startswith("loss")] == ["loss at t=3", "loss"]
    assert made.variants[0].data["example"]["t"] == [symbp.load(data).examples[0].t[0]]
    got = _answers(made.variants[0])
    assert got["loss at t=3"] == got["loss"]


def test_a_question_that_is_zero_for_every_draw_is_refused(tmp_path: Path, capsys: Any) -> None:
    data = _data(
        ELMAN,
        output="last_step",
        training={"bptt": 2},
        example={"x": [[1, 0], [0, 1], [1, 1]], "t": [0.9]},
    )
    spec = _spec_file(tmp_path, data)
    made = plan(spec, count=1, seed=0)
    assert [a for a in made.asks if a.startswith("delta_h")] == [
        "delta_h[0][0] at t=2",
        "delta_h[0][0] at t=3",
    ]
    for ask, why in [
        ("delta_h[0][0] at t=1", "the loss of step 3 flows back to steps 2..3 only"),
        ("grad_W[1][0][0] at t=2", "output: last_step, so only step 3 has a loss"),
    ]:
        out = tmp_path / "ex"
        assert main(["exercises", str(spec), "--ask", ask, "-o", str(out), "--no-pdf"]) == 2
        err = capsys.readouterr().err
        assert err == (
            f"symbp exercises: error: ask: {ask.split(' at')[0]} at t={ask[-1]} is 0 for every "
            f"draw ({why}); ask another quantity\n"
        )
        assert not out.exists()


BAD = [
    ("h[0][0]", "h[0] is a quantity of one time step: ask it with at t=1 to t=3"),
    ("W[0][0][0] at t=1", "W[0] is not a quantity of one time step: leave out at t="),
    ("h[0][0] at t=4", "expected a time step from 1 to 3 after 'at t=', found '4'"),
    ("a[0][1] at t=2", "a[0][1] is an input, printed on the sheet"),
    ("U[0][0][0]@0", "U[0][0][0] at step 0 is printed on the sheet; ask it after an update"),
    ("h0[0][0]", "h0[0][0] is not asked on sheets"),
    ("update_U[0][0][0]", "update_U[0][0][0] is not asked on sheets"),
    ("gate_i[0][0] at t=1", "unknown quantity 'gate_i[0][0]'"),
    ("h[0][0]@x at t=1", "expected a step from 0 to"),
    ("h[0][0] at t=²", "expected a time step from 1 to 3 after 'at t=', found '²'"),
    ("U[0][0][0]@²", "expected a step from 0 to"),
    ("U[0][0][0]@" + "9" * 5000, "expected QUANTITY[@STEP][ at t=T], found"),
    ("grad_U[0][0][0] at t=1", "is 0 for every draw (its term reads h_0, which is 0)"),
]


@pytest.mark.parametrize(("ask", "message"), BAD, ids=[a[:40] for a, _ in BAD])
def test_bad_questions_are_one_line_and_write_nothing(
    ask: str, message: str, tmp_path: Path, capsys: Any
) -> None:
    out = tmp_path / "ex"
    args = [str(ELMAN), "--count", "2", "--ask", ask, "-o", str(out), "--no-pdf"]
    code, printed, err = exercises_cli(args, capsys)
    assert (code, printed, len(err.splitlines())) == (2, "", 1)
    assert err.startswith("symbp exercises: error: ask: ")
    assert message in err
    assert not out.exists()


@needs_tex
def test_sheets_and_keys_as_pdf(tmp_path: Path) -> None:
    out = tmp_path / "ex"
    asks = ["h[0][1] at t=2", "c[0][0] at t=3", "delta_h[0][1] at t=1", "U[0][2][1]@1"]
    made = make_exercises(LSTM, out, count=1, seed=5, ask=asks)
    assert pdf_names(out) == ["key.pdf", "key/s01.pdf", "sheets.pdf", "sheets/s01.pdf"]
    sheet, key = pdf_text(out / "sheets/s01.pdf"), pdf_text(out / "key/s01.pdf")
    variant = made.variants[0]
    answer = variant.answers[2]
    assert "sheet code " + variant.code.text in sheet
    assert "b = bias_ih + bias_hh" in sheet
    assert answer.printed not in sheet.split("Questions.")[1]  # the sheet never shows it
    assert f"delta_h[0][1] at t=1 = {answer.printed}" in key
    assert "Backward pass: the recursion from the last step down" in key
    # the worked solution prints every step's ∂E/∂h_t: the asked one among them
    step1 = key.split("Step t = 1.")[-1]
    h_row = next(line for line in step1.splitlines() if line.startswith("delta_h[0] = ["))
    assert float(h_row.split("[")[2].split(",")[1].rstrip("]")) == pytest.approx(
        float(answer.value), rel=1e-5
    )
    assert "The parameters after 1 update" in key
