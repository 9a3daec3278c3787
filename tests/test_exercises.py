"""``symbp exercises`` without TeX (``--no-pdf``): variants, answers, quiz files, determinism.

The main case is the issue's: a 2-2-1 sigmoid net, ``--count 4 --seed 11 --ask a[2][0]
--ask delta[1][0] --ask grad_W[1][0][0]``. Every answer is recomputed here in plain
float64 NumPy from the variant file as PyYAML reads it (not through symbp), and every
variant is checked by ``symbp verify``. The sheets and keys (PDF) are tested in
``test_exercises_pdf.py``.
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import yaml

from symbp.cli import main
from symbp.exercises import plan, shipped_outputs
from symbp.exercises.draw import Stream, student_entropy
from symbp.exercises.sheets import sheet_tex
from symbp.regenerate import example_specs
from symbp.verify import verify

ROOT = Path(__file__).resolve().parent.parent
ASKS = ["--ask", "a[2][0]", "--ask", "delta[1][0]", "--ask", "grad_W[1][0][0]"]
SPEC = """\
name: ex-2-2-1
layers: [2, 2, 1]
activations: sigmoid
loss: half_sse
optimizer: {name: sgd, learning_rate: 0.5}
params:
  W: [[[0.1, -0.2], [0.4, 0.3]], [[0.5, -0.6]]]
  b: [[0.1, -0.1], [0.2]]
example: {x: [0.5, 0.8], t: [1]}
"""


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spec") / "ex.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def _run(spec: Path, out: Path, *extra: str) -> int:
    return main(["exercises", str(spec), "--no-pdf", "-o", str(out), *extra])


@pytest.fixture(scope="module")
def runs(spec_file: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The issue's command, twice, into two folders."""
    out = []
    for name in ("first", "second"):
        folder = tmp_path_factory.mktemp(name) / "out"
        assert _run(spec_file, folder, "--count", "4", "--seed", "11", *ASKS) == 0
        out.append(folder)
    return out[0], out[1]


def _rows(folder: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((folder / "answers.csv").read_text())))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _numpy_answers(variant: Path) -> dict[str, float]:
    """The three answers of a 2-2-1 sigmoid/½SSE variant in float64, from the file itself."""
    data = yaml.safe_load(variant.read_text())
    W0, W1 = (np.array(w, dtype=np.float64) for w in data["params"]["W"])
    b0, b1 = (np.array(b, dtype=np.float64) for b in data["params"]["b"])
    x = np.array(data["example"]["x"], dtype=np.float64)
    t = np.array(data["example"]["t"], dtype=np.float64)
    z1 = W0 @ x + b0
    a1 = _sigmoid(z1)
    z2 = W1 @ a1 + b1
    y = _sigmoid(z2)
    delta2 = (y - t) * y * (1 - y)
    assert np.all(np.abs(z1) <= 4) and np.all(np.abs(z2) <= 4)  # no saturated unit
    return {
        "a[2][0]": float(y[0]),
        "delta[1][0]": float(delta2[0]),
        "grad_W[1][0][0]": float(delta2[0] * a1[0]),
    }


def test_four_distinct_variants_with_every_file(runs: tuple[Path, Path]) -> None:
    out, _ = runs
    names = sorted(p.name for p in (out / "variants").iterdir())
    assert names == ["s01.yaml", "s02.yaml", "s03.yaml", "s04.yaml"]
    assert {p.name for p in out.iterdir()} == {
        "variants",
        "answers.csv",
        "moodle.xml",
        "gift.txt",
        "moodle_calculated.xml",
        "teacher_report.txt",
        ".symbp-manifest.json",
    }
    numbers = set()
    for path in (out / "variants").iterdir():
        data = yaml.safe_load(path.read_text())
        numbers.add(repr((data["params"], data["example"])))
        # one decimal, weights in [-1, 1], inputs in [0, 1] (the defaults)
        for w in np.ravel(np.concatenate([np.ravel(m) for m in data["params"]["W"]])):
            assert -1 <= w <= 1 and round(w * 10) == pytest.approx(w * 10)
        assert all(0 <= v <= 1 for v in data["example"]["x"])
    assert len(numbers) == 4


def test_answers_equal_an_independent_float64_computation(runs: tuple[Path, Path]) -> None:
    out, _ = runs
    rows = _rows(out)
    assert len(rows) == 12
    assert list(rows[0]) == ["student", "question", "quantity", "step", "value", "tolerance",
                             "printed"]  # fmt: skip
    for row in rows:
        expected = _numpy_answers(out / "variants" / f"{row['student']}.yaml")[row["quantity"]]
        value = float(row["value"])
        assert value == pytest.approx(expected, rel=1e-12, abs=1e-15)
        assert row["printed"] == f"{expected:.4f}"
        assert float(row["printed"]) != 0 and row["step"] == "0"
        # a fair tolerance: whole units of the 4th decimal, at least one (test_exercises_fair)
        units = Fraction(row["tolerance"]) / Fraction(1, 10**4)
        assert units.denominator == 1 and 1 <= units <= 10
    assert [r["question"] for r in rows[:3]] == ["Q1", "Q2", "Q3"]


def test_verify_confirms_every_variant(runs: tuple[Path, Path]) -> None:
    out, _ = runs
    for path in sorted((out / "variants").iterdir()):
        report = verify(path)
        assert report.passed and len(report.results) == 3
        assert all(r.verdict == "confirmed" for r in report.results)
        assert main(["verify", str(path)]) == 0


def test_moodle_xml_is_a_quiz_of_numerical_questions_with_the_same_values(
    runs: tuple[Path, Path],
) -> None:
    out, _ = runs
    root = ET.parse(out / "moodle.xml").getroot()
    assert root.tag == "quiz"
    questions = root.findall("question[@type='numerical']")
    assert len(questions) == 12
    assert len(root.findall("question[@type='category']")) == 4
    rows = _rows(out)
    symbols = {"a[2][0]": "ŷ", "delta[1][0]": "δ²₁", "grad_W[1][0][0]": "∂E/∂w²₁₁"}
    for q, row in zip(questions, rows, strict=True):
        name = f"{row['student']} {row['question']} {symbols[row['quantity']]}"
        assert q.findtext("name/text") == name
        answer = q.find("answer")
        assert answer is not None and answer.get("fraction") == "100"
        assert float(answer.findtext("text") or "nan") == float(row["value"])
        assert answer.findtext("tolerance") == row["tolerance"]
        text = q.findtext("questiontext/text") or ""
        assert "<p>" in text and "<script" not in text
        assert row["printed"] not in text  # the question does not give the answer away


def test_gift_has_one_numerical_question_per_answer(runs: tuple[Path, Path]) -> None:
    out, _ = runs
    text = (out / "gift.txt").read_text()
    found = re.findall(r"^::(\S+) (Q\d) (\S+)::\[html\].*\{#(-?[\d.]+):([\d.]+)\}$", text, re.M)
    rows = _rows(out)
    symbols = {"a[2][0]": "ŷ", "delta[1][0]": "δ²₁", "grad_W[1][0][0]": "∂E/∂w²₁₁"}
    assert [(s, q, n, float(v), t) for s, q, n, v, t in found] == [
        (r["student"], r["question"], symbols[r["quantity"]], float(r["value"]), r["tolerance"])
        for r in rows
    ]
    assert text.count("$CATEGORY:") == 4


def test_a_second_run_is_byte_identical(runs: tuple[Path, Path]) -> None:
    first, second = runs
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert len(files) == 10  # 4 variants, answers, moodle, gift, calculated, report, manifest
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel


def test_another_seed_gives_other_numbers(spec_file: Path, tmp_path: Path, runs) -> None:  # type: ignore[no-untyped-def]
    assert _run(spec_file, tmp_path / "o", "--count", "4", "--seed", "12", *ASKS) == 0
    assert (tmp_path / "o" / "answers.csv").read_bytes() != (runs[0] / "answers.csv").read_bytes()


def test_the_stream_is_fixed() -> None:
    """PCG64's raw outputs from SeedSequence are stable across NumPy releases; so are ours."""
    assert student_entropy(11, "s01")[0] == 11 and len(student_entropy(11, "s01")) == 9
    stream = Stream(11, "s01")
    assert [stream.raw() for _ in range(2)] == [12900093686668276329, 6809904083216243485]
    stream = Stream(11, "s01")
    assert [stream.integer(-10, 10) for _ in range(8)] == [-7, -3, 8, 3, -7, 6, 6, 8]
    assert Stream(11, "s02").raw() != Stream(11, "s01").raw()


def test_regenerate_from_the_code_rebuilds_the_same_variant(
    spec_file: Path, runs: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, _ = runs
    variant = (out / "variants" / "s03.yaml").read_text()
    code = re.search(r"sheet code (\S+)\)", variant).group(1)  # type: ignore[union-attr]
    assert re.fullmatch(r"s03/11/[0-9a-f]{4}", code)
    target = tmp_path / "regen"
    assert main(["exercises", str(spec_file), "--regenerate", code, *ASKS, "--no-pdf",
                 "-o", str(target)]) == 0  # fmt: skip
    assert (target / "variants" / "s03.yaml").read_text() == variant
    # the code checks the questions and the spec: other questions are refused
    assert main(["exercises", str(spec_file), "--regenerate", code, "--no-pdf",
                 "-o", str(tmp_path / "x")]) == 2  # fmt: skip
    assert "does not belong" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_repeated_draws_are_skipped_and_the_skip_is_in_the_code(tmp_path: Path) -> None:
    """Two inputs from {0, 0.1}: four possible variants, so students must skip repeats."""
    spec = tmp_path / "tiny.yaml"
    spec.write_text(
        SPEC + "exercise: {W: fixed, b: fixed, x: {range: [0, 0.1], decimals: 1},"
        " max_draws: 200, ask: ['a[2][0]']}\n"
    )
    made = plan(spec, count=4, seed=3)
    xs = {tuple(v.data["example"]["x"]) for v in made.variants}
    assert len(xs) == 4
    skipped = [v for v in made.variants if "+" in v.code.text]
    assert skipped
    from symbp.exercises import plan_one

    again = plan_one(spec, skipped[0].code.text)
    assert again.variants[0].data == skipped[0].data
    with pytest.raises(Exception, match="repeated an earlier student's"):
        plan(spec, count=5, seed=3)


def test_the_default_questions(spec_file: Path) -> None:
    made = plan(spec_file, count=1, seed=0)
    assert made.asks == ("a[2][0]", "loss", "grad_W[1][0][0]", "grad_W[0][0][0]", "W[0][0][0]")
    assert [q.step for q in made.questions] == [0, 0, 0, 0, 1]
    report = verify(made.variants[0].spec)
    assert report.passed


def test_roster_ids_and_names(spec_file: Path, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text('ID,Name\nab12,"O\'Brien, \\input{x} & co"\nzz-9,Zoë\n', encoding="utf-8")
    made = plan(spec_file, seed=1, students=roster)
    assert [v.student.id for v in made.variants] == ["ab12", "zz-9"]
    tex = sheet_tex(made, made.variants)
    assert r"\textbackslash{}input\{x\} \& co" in tex and r"\input{x}" not in tex
    assert "Zoë" in tex


@pytest.mark.parametrize(
    ("extra", "roster", "message"),
    [
        (["--ask", "a[3][0]"], None, "ask: a[3][0]: layer 3 does not exist"),
        (["--ask", "grad_W[1][2][0]"], None, "index 2 is out of range"),
        (["--ask", "W[1][0][0]@0"], None, "printed on the sheet"),
        (["--ask", "spin"], None, "unknown quantity 'spin'"),
        ([], "name,email\nA,a@b\n", "no ID column"),
        ([], "id\nok\nok\n", "appears twice"),
        ([], "id\nbad id\n", "expected a student ID"),
        (["--count", "3"], "id\na\nb\n", "count: 3 asked, but the roster"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(
    spec_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    roster: str | None,
    message: str,
) -> None:
    if roster is not None:
        (tmp_path / "r.csv").write_text(roster)
        extra = [*extra, "--students", str(tmp_path / "r.csv")]
    assert _run(spec_file, tmp_path / "out", *extra) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == (["r.csv"] if roster else [])


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ("{W: {range: [5, 6], decimals: 1}, max_draws: 30}", "no draw of 30 satisfied"),
        ("{W: {range: [-1, 1.25], decimals: 1}}", "exercise.W.range: the ends must be multiples"),
        ("{W: {range: [1, -1]}}", "expected low <= high"),
        ("{x: {range: [0, 1], decimals: 9}}", "exercise.x.decimals: expected 0 to 6"),
        ("{t: {range: [0, 2], decimals: 1}}", None),
        ("{colour: red}", "exercise.colour: unknown field"),
        ("{ask: ['z[5][0]']}", "exercise.ask[0]: z[5][0]"),
    ],
)
def test_bad_exercise_blocks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], block: str, message: str | None
) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC.replace("half_sse", "bce" if message is None else "half_sse")
                    + f"exercise: {block}\n")  # fmt: skip
    assert _run(spec, tmp_path / "out", "--count", "2") == 2
    err = capsys.readouterr().err
    expected = "exercise.t.range: bce needs targets in [0, 1]" if message is None else message
    assert expected in err, err
    assert not (tmp_path / "out").exists()


def test_without_tex_nothing_is_written(
    spec_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert main(["exercises", str(spec_file), "--count", "1", "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "no TeX engine (pdflatex)" in err and "or pass --no-pdf" in err
    assert not (tmp_path / "out").exists()


def test_large_nets_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "big.yaml"
    spec.write_text("layers: [8, 8, 2]\nexample: {x: [0, 0, 0, 0, 0, 0, 0, 0], t: [0, 0]}\n")
    assert _run(spec, tmp_path / "out", "--count", "1") == 2
    assert (
        "layers: exercises are worked by hand, for nets of at most 60 parameters; this one "
        "has 90" in capsys.readouterr().err
    )
    assert not (tmp_path / "out").exists()


def test_an_unrelated_existing_folder_is_not_replaced(spec_file: Path, tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    assert _run(spec_file, tmp_path, "--count", "1") == 2
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_shipped_exercise_outputs_match_the_code() -> None:
    shipped = shipped_outputs(example_specs(ROOT))
    assert "docs/exercises/exercises_2_2_1/answers.csv" in shipped
    assert "docs/exercises/exercises_2_2_1/variants/s04.yaml" in shipped
    drifted = [rel for rel, text in shipped.items() if (ROOT / rel).read_text() != text]
    assert not drifted, f"regenerate with `python -m symbp.regenerate`: {drifted}"
    for name in ("sheets.pdf", "key.pdf"):  # committed, not drift-checked
        assert (ROOT / "docs/exercises/exercises_2_2_1" / name).read_bytes().startswith(b"%PDF")


def test_the_worked_key_boxes_each_asked_number(tmp_path: Path) -> None:
    """A key's derivation (``solution_pdf`` marks) boxes the asked numbers in every format."""
    from symbp.render import write_document

    spec = ROOT / "examples" / "exercises_2_2_1.yaml"
    marks = {("a[2][0]", 0): "confirmed answer to Q1", ("loss", 0): "confirmed"}
    tex = write_document(spec, format="tex", out=tmp_path / "k.tex", marks=marks).read_text()
    html = write_document(spec, format="html", out=tmp_path / "k.html", marks=marks).read_text()
    md = write_document(spec, format="md", out=tmp_path / "k.md", marks=marks).read_text()
    boxed = tex.count(r"\symbpanswer{$")  # each table that shows a[2][0] boxes it
    assert boxed >= 1 and html.count('<span class="answer">') == boxed
    assert md.count("**$0.525$**") == boxed  # a[2][0] = sigmoid(0.0982) = 0.5245...
    plain = write_document(spec, format="tex", out=tmp_path / "p.tex").read_text()
    assert r"\symbpanswer{$" not in plain


def test_epoch_loss_can_be_asked(spec_file: Path, tmp_path: Path) -> None:
    """``--ask epoch_loss@2``: full batch, one example: epoch 2's loss is the cost after one
    update, checked against plain NumPy (½SSE, learning rate 0.5)."""
    out = tmp_path / "out"
    assert _run(spec_file, out, "--count", "2", "--seed", "5", "--ask", "epoch_loss@2") == 0
    for row in _rows(out):
        data = yaml.safe_load((out / "variants" / f"{row['student']}.yaml").read_text())
        W0, W1 = (np.array(w, dtype=np.float64) for w in data["params"]["W"])
        b0, b1 = (np.array(b, dtype=np.float64) for b in data["params"]["b"])
        x = np.array(data["example"]["x"], dtype=np.float64)
        t = np.array(data["example"]["t"], dtype=np.float64)
        a1 = _sigmoid(W0 @ x + b0)
        y = _sigmoid(W1 @ a1 + b1)
        d2 = (y - t) * y * (1 - y)
        d1 = (W1.T @ d2) * a1 * (1 - a1)
        W1, b1 = W1 - 0.5 * np.outer(d2, a1), b1 - 0.5 * d2
        W0, b0 = W0 - 0.5 * np.outer(d1, x), b0 - 0.5 * d1
        y = _sigmoid(W1 @ _sigmoid(W0 @ x + b0) + b1)
        assert row["quantity"] == "epoch_loss" and row["step"] == "2"
        assert float(row["value"]) == pytest.approx(0.5 * float(np.sum((y - t) ** 2)), rel=1e-12)
    assert main(["verify", str(out / "variants" / "s01.yaml")]) == 0


@pytest.mark.parametrize(
    "ask", ["a[2][0]@²", "W[0][0][0]@" + "9" * 5000, "epoch_loss@²"], ids=["sup", "long", "epoch"]
)
def test_a_step_that_is_no_ascii_whole_number_is_one_line(
    ask: str, spec_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert _run(spec_file, out, "--ask", ask) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert "expected " in err and "Traceback" not in err
    assert not out.exists()
