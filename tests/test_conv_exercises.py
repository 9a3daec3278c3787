"""``symbp exercises`` of a conv net (issue 28 item 7): per-student numbers drawn from the
seed and the student's ID, answers from the exact engine, checked here against an
independent NumPy loop of the net (tests/conv_numpy.py) on each student's own numbers;
byte-identical text outputs for the same seed; the sheet code rebuilds a student; the
variant specs verify; sheets and keys as PDF; one-line refusals of bad questions."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conv_numpy import numpy_net
from exercise_files import exercises_cli, needs_tex, pdf_names, pdf_text, text_file_names

from symbp.cli import main
from symbp.exercises import make_exercises, plan, plan_one
from symbp.exercises.output import text_outputs

SPEC = Path(__file__).parent / "data" / "conv_1x5x5.yaml"
ASKS = [
    "z[0][1][2][3]",
    "a[2][1][0][1]",
    "a[4][0]",
    "loss",
    "grad_W[0][1][0][1][0]",
    "grad_b[0][0]",
    "grad_x[0][2][2]",
    "delta[0][0][1][1]",
    "W[0][1][0][0][1]@1",
]


def _floats(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, list):
        return [_floats(v) for v in value]
    return float(value)


def _expected(variant: Any) -> list[float]:
    """The asked values of ``variant``'s numbers by the NumPy loop (η = 0.1, SGD)."""
    W = _floats(variant.data["params"]["W"])
    b = _floats(variant.data["params"]["b"])
    ex = variant.data["example"]
    r = numpy_net(W, b, _floats(ex["x"]), float(ex["t"][0]))
    y = r["grad_bd"][0] + float(ex["t"][0])  # BCE after a sigmoid: δ = y − t
    return [
        r["z1"][1, 2, 3],
        r["a2"][1, 0, 1],
        y,
        r["loss"],
        r["grad_K"][1, 0, 1, 0],
        r["grad_bk"][0],
        r["grad_x"][0, 2, 2],
        r["delta1"][0, 1, 1],
        W[0][1][0][0][1] - 0.1 * r["grad_K"][1, 0, 0, 1],
    ]


@pytest.fixture(scope="module")
def exercises() -> Any:
    return plan(SPEC, count=3, seed=5, ask=ASKS)


def test_answers_equal_an_independent_numpy_loop_on_each_students_numbers(exercises: Any) -> None:
    assert [v.student.id for v in exercises.variants] == ["s01", "s02", "s03"]
    for variant in exercises.variants:
        got = [float(a.value) for a in variant.answers]
        assert got == pytest.approx(_expected(variant), rel=1e-12, abs=1e-15)
        for a in variant.answers:  # the printed answer is the exact value to 4 decimals
            assert (
                a.printed == f"{float(a.value):.4f}"
                or abs(float(a.printed) - float(a.value)) < 5e-5
            )
            assert a.printed.strip("-0.")  # never 0 at the printed decimals


def test_students_get_different_numbers_of_the_spec_s_shapes(exercises: Any) -> None:
    kernels = [v.data["params"]["W"][0] for v in exercises.variants]
    assert kernels[0] != kernels[1] != kernels[2]
    x = exercises.variants[0].data["example"]["x"]
    assert np.asarray(_floats(x)).shape == (1, 5, 5)
    assert np.asarray(_floats(kernels[0])).shape == (2, 1, 2, 2)
    assert exercises.variants[0].data["params"]["W"][1] is None
    drawn = np.asarray(_floats(kernels[0])).reshape(-1)
    assert all(-1 <= v <= 1 and round(v * 10) == v * 10 for v in drawn)  # the default range


def test_same_seed_gives_byte_identical_text_outputs(exercises: Any) -> None:
    again = plan(SPEC, count=3, seed=5, ask=ASKS)
    first, second = text_outputs(exercises), text_outputs(again)
    assert first == second
    assert sorted(first) == text_file_names(3)
    rows = list(csv.reader(io.StringIO(first["answers.csv"])))
    assert rows[0] == ["student", "question", "quantity", "step", "value", "tolerance", "printed"]
    assert rows[9][:4] == ["s01", "Q9", "W[0][1][0][0][1]", "1"]
    assert float(rows[9][4]) == pytest.approx(_expected(exercises.variants[0])[8], rel=1e-13)
    other = text_outputs(plan(SPEC, count=3, seed=6, ask=ASKS))
    assert other["answers.csv"] != first["answers.csv"]


def test_quiz_items_state_the_numbers_conventions_and_answer(exercises: Any) -> None:
    files = text_outputs(exercises)
    variant = exercises.variants[1]
    answer = variant.answers[6]
    gift = files["gift.txt"]
    assert "::s02 Q7 grad_x[0][2][2]::[html]" in gift
    assert f"{{#{answer.full}:0.0001}}" in gift
    xml = files["moodle.xml"]
    assert "Convolution is cross-correlation" in xml
    assert "the first in reading order" in xml  # max-pool ties
    assert "Flatten orders the values by (channel, row, column)" in xml
    row = ", ".join(format(float(v), "g") for v in variant.data["params"]["W"][0][0][0][0])
    assert f"W[0] = [[[[{row}], [" in xml  # the student's own kernel, as the spec holds it


def test_the_sheet_code_rebuilds_the_student(exercises: Any) -> None:
    variant = exercises.variants[2]
    again = plan_one(SPEC, variant.code.text, ask=ASKS).variants[0]
    assert again.data == variant.data
    assert [a.full for a in again.answers] == [a.full for a in variant.answers]


def test_variant_specs_verify(exercises: Any, tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "s01.yaml"
    path.write_text(text_outputs(exercises)["variants/s01.yaml"], encoding="utf-8")
    assert main(["verify", str(path)]) == 0
    assert "9 claims: 9 confirmed, 0 truncated, 0 mismatch — PASS" in capsys.readouterr().out


def test_default_questions_are_read_off_the_records() -> None:
    made = plan(SPEC, count=1, seed=0)
    assert made.asks == (
        "z[0][0][0][0]",
        "a[2][0][0][0]",
        "a[4][0]",
        "loss",
        "grad_W[0][0][0][0][0]",
        "grad_b[0][0]",
        "grad_x[0][2][2]",
        "W[0][0][0][0][0]",
    )


@pytest.mark.parametrize(
    ("ask", "message"),
    [
        ("grad_W[1][0][0]", "ask: layer 1 (pool) has no parameters: grad_W[1] is null"),
        ("a[0][0][1][1]", "ask: a[0][0][1][1] is an input, printed on the sheet; ask another"),
        (
            "W[0][0][0][0][0]@0",
            "ask: W[0][0][0][0][0] at step 0 is printed on the sheet; ask it after an update, "
            "e.g. W[0][0][0][0][0]@1",
        ),
        ("grad_x[0][5][0]", "ask: grad_x: index 2 is 5, outside 0..4 (grad_x[0..0][0..4][0..4])"),
        ("update_W[0][0][0][0][0]", "ask: update_W[0][0][0][0][0] is not asked on sheets"),
        ("loss@x", "ask: expected a step from 0 to"),
        ("loss@²", "ask: expected a step from 0 to"),
    ],
)
def test_bad_questions_are_one_line_and_write_nothing(
    ask: str, message: str, tmp_path: Path, capsys: Any
) -> None:
    out = tmp_path / "ex"
    args = [str(SPEC), "--count", "2", "--ask", ask, "-o", str(out), "--no-pdf"]
    code, printed, err = exercises_cli(args, capsys)
    assert (code, printed, len(err.splitlines())) == (2, "", 1)
    assert err.startswith(f"symbp exercises: error: {message}")
    assert not out.exists()


def test_a_fixed_kernel_without_params_is_refused(tmp_path: Path, capsys: Any) -> None:
    spec = tmp_path / "noparams.yaml"
    text = SPEC.read_text(encoding="utf-8")
    start = text.index("params:")
    end = text.index("example:")
    spec.write_text(text[:start] + text[end:] + "exercise: {W: fixed}\n", encoding="utf-8")
    code = main(["exercises", str(spec), "-o", str(tmp_path / "ex"), "--no-pdf"])
    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        "symbp exercises: error: exercise.W: fixed, but the spec gives no params to keep; "
        "give params or a range\n"
    )
    assert not (tmp_path / "ex").exists()


@needs_tex
def test_sheets_and_keys_as_pdf(tmp_path: Path) -> None:
    out = tmp_path / "ex"
    made = make_exercises(SPEC, out, count=1, seed=5, ask=ASKS[:3])
    assert pdf_names(out) == ["key.pdf", "key/s01.pdf", "sheets.pdf", "sheets/s01.pdf"]
    sheet, key = pdf_text(out / "sheets/s01.pdf"), pdf_text(out / "key/s01.pdf")
    variant = made.variants[0]
    answer = variant.answers[1]
    assert "sheet code " + variant.code.text in sheet
    assert "Convolution is cross-correlation" in sheet
    assert answer.printed not in sheet.split("Questions.")[1]  # the sheet never shows it
    assert f"a[2][1][0][1] = {answer.printed}" in key
    assert "Answer key" in key
    assert key.count("\f") > sheet.count("\f")  # the worked document follows the key page
