"""Exercises a teacher hands out as they are (issue 31, items 2, 3, 5 and 6 for exercises).

- every convention the answers depend on is on every sheet, key and quiz item; the list
  is derived here from the spec's records (activation options, loss, optimiser
  hyper-parameters with their defaults, weight decay, schedule constants, update rule);
- a careful student, simulated here in plain NumPy (float64, every intermediate rounded
  to the asked 4 decimals), is within the stated tolerance on every question of the
  shipped exercise and of a teacher's 4-3-3 leaky-ReLU/softmax/cross-entropy net with
  momentum, weight decay and a step schedule; the old one-unit tolerance would fail them;
- no sheet, key or quiz text holds a 0-based spec name or the word "confirmed";
- ``moodle_calculated.xml`` is Moodle's calculated-question format with one dataset item
  per student carrying that student's numbers and exact answers;
- the key's rubric lists the intermediate values, each recomputed here.
"""

from __future__ import annotations

import csv
import html
import io
import re
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import yaml

from symbp.cli import main
from symbp.escape import tex_escape
from symbp.exercises import plan
from symbp.exercises.conventions import ACTIVATION_WORDS, OPTION_SYMBOLS, number
from symbp.exercises.moodle import moodle_calculated
from symbp.exercises.quiz import gift, moodle_xml
from symbp.exercises.sheets import sheet_tex
from symbp.ops.batches import plan_of
from symbp.spec import Spec

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "examples" / "exercises_2_2_1.yaml"
ALPHA, MU, LAMBDA, ETA, GAMMA, STEP = 0.1, 0.8, 0.01, 0.5, 0.5, 1
TEACHER = f"""\
name: teacher-4-3-3
layers: [4, 3, 3]
activations: [{{name: leaky_relu, alpha: {ALPHA}}}, softmax]
loss: cross_entropy
optimizer:
  name: momentum
  learning_rate: {ETA}
  momentum: {MU}
  weight_decay: {LAMBDA}
  schedule: {{name: step, gamma: {GAMMA}, step_size: {STEP}}}
params:
  W: [[[0.1, 0.2, -0.3, 0.4], [0.5, -0.2, 0.1, 0.3], [-0.4, 0.2, 0.6, -0.1]],
      [[0.1, 0.2, -0.3], [0.3, -0.5, 0.2], [-0.2, 0.4, 0.1]]]
  b: [[0.1, 0, 0.2], [0, 0.1, 0]]
example: {{x: [0.1, 0.5, 0.2, 0.9], t: [0, 1, 0]}}
exercise: {{answer_decimals: 4, count: 3, seed: 5}}
"""
TEACHER_ASKS = [
    "a[2][1]", "loss", "delta[1][0]", "delta[0][2]", "grad_W[1][0][0]", "grad_W[0][0][0]",
    "grad_b[0][1]", "W[0][0][0]@1", "W[1][1][1]@2", "b[0][0]@2", "loss@1", "loss@2",
]  # fmt: skip
SHIPPED_ASKS = ["a[2][0]", "loss", "delta[1][0]", "delta[0][1]", "grad_W[1][0][0]",
                "grad_W[0][0][1]", "W[0][1][0]@1", "loss@1", "b[1][0]@2"]  # fmt: skip
NESTEROV = """\
name: teacher-2-2-2
layers: [2, 2, 2]
activations: [relu, identity]
loss: mse
optimizer: {name: nesterov, learning_rate: 0.1, momentum: 0.9, weight_decay: 0.05}
params:
  W: [[[0.3, -0.2], [0.5, 0.4]], [[0.6, -0.1], [0.2, 0.7]]]
  b: [[0.1, -0.3], [0, 0.2]]
examples:
  - {x: [0.5, 0.8], t: [1, 0]}
  - {x: [0.9, 0.1], t: [0, 1]}
exercise: {count: 3, seed: 2}
"""
NESTEROV_ASKS = ["a[2][1]", "loss", "delta[0][0]", "grad_W[0][0][0]", "grad_b[1][1]",
                 "W[0][1][1]@1", "W[1][0][0]@2", "loss@1"]  # fmt: skip
D = 4
UNIT = Fraction(1, 10**D)
SPEC_NAME = re.compile(r"\b(?:a|z|delta|grad_W|grad_b|W|b)\[\d+\]")


@pytest.fixture(scope="module")
def teacher(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("teacher") / "teacher.yaml"
    path.write_text(TEACHER, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def sets(teacher: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    nesterov = tmp_path_factory.mktemp("nesterov") / "nesterov.yaml"
    nesterov.write_text(NESTEROV, encoding="utf-8")
    return {
        "shipped": plan(SHIPPED),
        "shipped-more": plan(SHIPPED, ask=SHIPPED_ASKS),
        "teacher": plan(teacher, ask=TEACHER_ASKS),
        "nesterov": plan(nesterov, ask=NESTEROV_ASKS),
    }


# --- item 2: every convention, derived from the records --------------------------------


def expected_conventions(spec: Spec) -> list[str]:
    """What the answers depend on, read off the spec's records (not symbp's sheet code)."""
    out = [spec.loss.scaling]
    if spec.loss.name in ("bce", "cross_entropy"):
        out.append("natural logarithm ln")
    for act in spec.activations:
        out.append(ACTIVATION_WORDS[act.name] if act.source is None else act.source)
        out += [f"{OPTION_SYMBOLS[k]} = {number(v)}" for k, v in act.params.items()]
    opt = spec.optimizer
    out.append(opt.optimizer.label)
    out.append(opt.optimizer.rule)
    out.append(f"η{'₀' if opt.schedule.rule else ''} = {number(opt.learning_rate)}")
    out += [f"{OPTION_SYMBOLS[k]} = {number(v)}" for k, v in opt.options.items()]
    if opt.weight_decay:
        out.append(f"λ = {number(opt.weight_decay)}")
    if opt.schedule.rule:
        out.append(opt.schedule.rule)
        out += [f"{OPTION_SYMBOLS[k]} = {number(v)}" for k, v in opt.schedule_options.items()]
    m = len(spec.examples)
    out.append("full-batch step" if plan_of(spec).batch >= m else "minibatch")
    if m > 1:
        out += [f"mean of the per-example losses over the {m} examples", "the example it names"]
    return out


def missing(text: str, spec: Spec, tex: bool = False) -> list[str]:
    flat = " ".join(text.split())
    return [
        c for c in expected_conventions(spec) if (tex_escape(c) if tex else c) not in flat
    ]  # fmt: skip


def _quiz_texts(exercises) -> list[str]:  # type: ignore[no-untyped-def]
    """Every question text of moodle.xml, gift.txt and moodle_calculated.xml, unescaped."""
    texts = []
    for source in (moodle_xml(exercises), moodle_calculated(exercises)):
        root = ET.fromstring(source)
        for q in root.iter("question"):
            if q.get("type") in ("numerical", "calculated"):
                texts.append(html.unescape(q.findtext("questiontext/text") or ""))
    for line in gift(exercises).splitlines():
        if line.startswith("::"):
            texts.append(html.unescape(re.sub(r"\\(.)", r"\1", line)))
    return texts


def test_the_teacher_spec_states_alpha_gamma_and_the_step_size(sets) -> None:  # type: ignore[no-untyped-def]
    spec = sets["teacher"].spec
    expected = expected_conventions(spec)
    phrases = ["α = 0.1", "μ = 0.8", "λ = 0.01", "γ = 0.5", "s = 1", "η₀ = 0.5"]
    phrases += ["natural logarithm ln", "leaky ReLU, z for z > 0 and α z otherwise"]
    for phrase in phrases:
        assert phrase in expected
    adam = expected_conventions(_with_optimizer("adam"))
    assert "β₁ = 0.9" in adam and "β₂ = 0.999" in adam and "ε = 10⁻⁸" in adam


def _with_optimizer(name: str) -> Spec:
    from symbp.spec import load

    data = yaml.safe_load(SHIPPED.read_text())
    data["optimizer"] = {"name": name, "learning_rate": 0.1}
    return load(data)


@pytest.mark.parametrize("which", ["shipped", "teacher", "nesterov"])
def test_every_convention_is_on_every_sheet_key_and_quiz_item(sets, which: str) -> None:  # type: ignore[no-untyped-def]
    exercises = sets[which]
    spec = exercises.spec
    for v in exercises.variants:
        assert missing(sheet_tex(exercises, [v]), spec, tex=True) == []
        key = sheet_tex(exercises, [v], key=True, solutions=["part1.pdf"])
        assert missing(key, spec, tex=True) == []
    texts = _quiz_texts(exercises)
    per_student = len(exercises.variants) * len(exercises.questions)
    assert len(texts) == 2 * per_student + len(exercises.questions)
    for text in texts:
        assert missing(text, spec) == [], text[:200]


def test_the_check_fails_when_a_convention_is_left_out(sets) -> None:  # type: ignore[no-untyped-def]
    exercises = sets["teacher"]
    text = _quiz_texts(exercises)[0]
    assert missing(text.replace("α = 0.1", "α"), exercises.spec) == ["α = 0.1"]
    assert missing(text.replace("γ = 0.5", ""), exercises.spec) == ["γ = 0.5"]


# --- item 5: student-facing words only -------------------------------------------------


@pytest.mark.parametrize("which", ["shipped-more", "teacher", "nesterov"])
def test_no_spec_name_or_verdict_reaches_a_sheet_key_or_quiz(sets, which: str) -> None:  # type: ignore[no-untyped-def]
    exercises = sets[which]
    texts = [sheet_tex(exercises, exercises.variants),
             sheet_tex(exercises, exercises.variants[:1], key=True, solutions=["part1.pdf"]),
             moodle_xml(exercises), gift(exercises), moodle_calculated(exercises)]  # fmt: skip
    for text in texts:
        assert not SPEC_NAME.search(text), SPEC_NAME.search(text)
        assert "confirmed" not in text.lower() and "symbp doc" not in text
        assert "leaky_relu" not in text and "sgd" not in text and "half_sse" not in text
    if which == "shipped-more":  # W[0][1][0]@1 is named as the textbook names it
        assert "w¹₂₁ after 1 update" in moodle_xml(exercises)


# --- item 3: fair tolerances and the careful student -----------------------------------


def r(v):  # type: ignore[no-untyped-def]
    """The careful student writes every value down with 4 decimals."""
    return np.round(v, D)


def _sigmoid(z):  # type: ignore[no-untyped-def]
    return 1.0 / (1.0 + np.exp(-z))


def careful_shipped(data: dict, steps: int) -> list[dict]:  # type: ignore[type-arg]
    """2-2-1 sigmoid, ½·SSE, gradient descent η = 0.5: the student's values per step."""
    W = [np.array(w, dtype=float) for w in data["params"]["W"]]
    b = [np.array(v, dtype=float) for v in data["params"]["b"]]
    x = np.array(data["example"]["x"], dtype=float)
    t = np.array(data["example"]["t"], dtype=float)
    out = []
    for _ in range(steps + 1):
        z1 = r(W[0] @ x + b[0])
        a1 = r(_sigmoid(z1))
        z2 = r(W[1] @ a1 + b[1])
        y = r(_sigmoid(z2))
        loss = r(0.5 * np.sum((y - t) ** 2))
        d2 = r((y - t) * y * (1 - y))
        d1 = r((W[1].T @ d2) * a1 * (1 - a1))
        gW = [r(np.outer(d1, x)), r(np.outer(d2, a1))]
        gb = [d1, d2]
        out.append({"a[2][0]": y[0], "loss": loss, "delta[1][0]": d2[0], "delta[0][1]": d1[1],
                    "grad_W[1][0][0]": gW[1][0, 0], "grad_W[0][0][1]": gW[0][0, 1],
                    "W[0][1][0]": W[0][1, 0], "b[1][0]": b[1][0]})  # fmt: skip
        W = [r(W[i] - 0.5 * gW[i]) for i in range(2)]
        b = [r(b[i] - 0.5 * gb[i]) for i in range(2)]
    return out


def careful_teacher(data: dict, steps: int) -> list[dict]:  # type: ignore[type-arg]
    """4-3-3 leaky ReLU (α)/softmax, cross-entropy, momentum μ with weight decay λ and
    η = η₀ γ^⌊epoch/s⌋ (one update per epoch): the student's values per step."""
    W = [np.array(w, dtype=float) for w in data["params"]["W"]]
    b = [np.array(v, dtype=float) for v in data["params"]["b"]]
    vW = [np.zeros_like(w) for w in W]
    vb = [np.zeros_like(v) for v in b]
    x = np.array(data["example"]["x"], dtype=float)
    t = np.array(data["example"]["t"], dtype=float)
    out = []
    for k in range(steps + 1):
        z1 = r(W[0] @ x + b[0])
        a1 = r(np.where(z1 > 0, z1, ALPHA * z1))
        z2 = r(W[1] @ a1 + b[1])
        e = np.exp(z2)
        y = r(e / e.sum())
        loss = r(-np.sum(t * np.log(y)))
        d2 = r(y - t)
        d1 = r((W[1].T @ d2) * np.where(z1 > 0, 1.0, ALPHA))
        gW = [r(np.outer(d1, x)), r(np.outer(d2, a1))]
        gb = [d1, d2]
        out.append({"a[2][1]": y[1], "loss": loss, "delta[1][0]": d2[0], "delta[0][2]": d1[2],
                    "grad_W[1][0][0]": gW[1][0, 0], "grad_W[0][0][0]": gW[0][0, 0],
                    "grad_b[0][1]": gb[0][1], "W[0][0][0]": W[0][0, 0], "W[1][1][1]": W[1][1, 1],
                    "b[0][0]": b[0][0]})  # fmt: skip
        eta = ETA * GAMMA ** (k // STEP)
        for i in range(2):
            vW[i] = r(MU * vW[i] + gW[i] + LAMBDA * W[i])
            vb[i] = r(MU * vb[i] + gb[i] + LAMBDA * b[i])
            W[i] = r(W[i] - eta * vW[i])
            b[i] = r(b[i] - eta * vb[i])
    return out


def careful_nesterov(data: dict, steps: int) -> list[dict]:  # type: ignore[type-arg]
    """2-2-2 ReLU/identity, MSE over 2 outputs, E the mean over 2 examples, Nesterov
    (μ = 0.9, η = 0.1) with weight decay λ = 0.05: the student's values per step."""
    W = [np.array(w, dtype=float) for w in data["params"]["W"]]
    b = [np.array(v, dtype=float) for v in data["params"]["b"]]
    vW = [np.zeros_like(w) for w in W]
    vb = [np.zeros_like(v) for v in b]
    examples = [(np.array(e["x"], dtype=float), np.array(e["t"], dtype=float))
                for e in data["examples"]]  # fmt: skip
    out = []
    for _ in range(steps + 1):
        per = []
        for x, t in examples:
            z1 = r(W[0] @ x + b[0])
            a1 = r(np.maximum(z1, 0))
            y = r(W[1] @ a1 + b[1])
            loss = r(np.mean((y - t) ** 2))
            d2 = r(2 / 2 * (y - t))
            d1 = r((W[1].T @ d2) * (z1 > 0))
            per.append((y, loss, d1, d2, [r(np.outer(d1, x)), r(np.outer(d2, a1))], [d1, d2]))
        gW = [r(sum(p[4][i] for p in per) / 2) for i in range(2)]
        gb = [r(sum(p[5][i] for p in per) / 2) for i in range(2)]
        y, _, d1, _, _, _ = per[0]
        out.append({"a[2][1]": y[1], "loss": r((per[0][1] + per[1][1]) / 2), "delta[0][0]": d1[0],
                    "grad_W[0][0][0]": gW[0][0, 0], "grad_b[1][1]": gb[1][1],
                    "W[0][1][1]": W[0][1, 1], "W[1][0][0]": W[1][0, 0]})  # fmt: skip
        for i in range(2):
            g = gW[i] + 0.05 * W[i]
            vW[i] = r(0.9 * vW[i] + g)
            W[i] = r(W[i] - 0.1 * (g + 0.9 * vW[i]))
            g = gb[i] + 0.05 * b[i]
            vb[i] = r(0.9 * vb[i] + g)
            b[i] = r(b[i] - 0.1 * (g + 0.9 * vb[i]))
    return out


def _distances(exercises, careful):  # type: ignore[no-untyped-def]
    """(|student − exact|, tolerance) of every question of every student."""
    out = []
    steps = max(q.step for q in exercises.questions)
    for v in exercises.variants:
        values = careful(v.data, steps)
        for a in v.answers:
            student = values[a.question.step][a.question.name]
            exact = float(a.full)
            out.append((abs(round(float(student), D) - exact), float(a.tolerance), a.question))
    return out


@pytest.mark.parametrize(
    ("which", "careful"),
    [("shipped", careful_shipped), ("shipped-more", careful_shipped),
     ("teacher", careful_teacher), ("nesterov", careful_nesterov)],
)  # fmt: skip
def test_a_careful_student_is_within_tolerance_on_every_question(sets, which, careful) -> None:  # type: ignore[no-untyped-def]
    exercises = sets[which]
    found = _distances(exercises, careful)
    assert len(found) == len(exercises.variants) * len(exercises.questions)
    for distance, tolerance, q in found:
        assert distance <= tolerance + 1e-12, (q.ask, distance, tolerance)
    for v in exercises.variants:  # whole units of the 4th decimal, never below one
        for a in v.answers:
            assert a.tolerance >= UNIT and (a.tolerance / UNIT).denominator == 1


def test_one_unit_would_fail_the_careful_student_on_the_cross_entropy_loss(sets) -> None:  # type: ignore[no-untyped-def]
    """The issue's case: ln amplifies the rounding of ŷ, so the loss needs more than one unit."""
    exercises = sets["teacher"]
    losses = [(d, t) for d, t, q in _distances(exercises, careful_teacher) if q.name == "loss"]
    assert any(d > float(UNIT) + 1e-12 for d, _ in losses)
    assert all(d <= t + 1e-12 for d, t in losses)
    assert all(t > float(UNIT) for _, t in losses)


def test_the_sheet_states_each_tolerance(sets) -> None:  # type: ignore[no-untyped-def]
    exercises = sets["teacher"]
    v = exercises.variants[0]
    tex = " ".join(sheet_tex(exercises, [v]).split())
    assert "how far rounding every intermediate value to 4 decimal places can move" in tex
    for a in v.answers:
        assert a.bounded and f"(tolerance ±{a.tolerance_text})" in tex


def test_answers_csv_and_the_quiz_carry_the_fair_tolerance(teacher: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["exercises", str(teacher), "--no-pdf", "--ask", "loss", "--ask",
                 "W[1][1][1]@2", "-o", str(out)]) == 0  # fmt: skip
    rows = list(csv.DictReader(io.StringIO((out / "answers.csv").read_text())))
    by_student = {(r["student"], r["question"]): r["tolerance"] for r in rows}
    root = ET.parse(out / "moodle.xml").getroot()
    for q in root.findall("question[@type='numerical']"):
        student, label = (q.findtext("name/text") or "").split()[:2]
        assert q.findtext("answer/tolerance") == by_student[(student, label)]
    gift_tolerances = re.findall(r"\{#-?[\d.]+:([\d.]+)\}", (out / "gift.txt").read_text())
    assert gift_tolerances == [r["tolerance"] for r in rows]


# --- item 6: Moodle calculated questions and the rubric --------------------------------


def test_moodle_calculated_has_one_dataset_item_per_student(teacher: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    asks = [arg for a in TEACHER_ASKS[:4] for arg in ("--ask", a)]
    assert main(["exercises", str(teacher), "--no-pdf", "-o", str(out), *asks]) == 0
    rows = list(csv.DictReader(io.StringIO((out / "answers.csv").read_text())))
    students = sorted({r["student"] for r in rows})
    variants = [yaml.safe_load((out / "variants" / f"{s}.yaml").read_text()) for s in students]
    root = ET.parse(out / "moodle_calculated.xml").getroot()
    assert root.tag == "quiz"
    assert len(root.findall("question[@type='category']")) == 1
    questions = root.findall("question[@type='calculated']")
    assert [q.findtext("name/text", "").split()[1] for q in questions] == ["Q1", "Q2", "Q3", "Q4"]
    for q in questions:
        label = q.findtext("name/text", "").split()[1]
        assert q.findtext("synchronize") == "1"
        answer = q.find("answer")
        assert answer is not None and answer.get("fraction") == "100"
        assert answer.findtext("text") == f"{{{label}}}"
        assert answer.findtext("tolerancetype") == "2"
        mine = [r for r in rows if r["question"] == label]
        assert answer.findtext("tolerance") == max((r["tolerance"] for r in mine), key=Fraction)
        definitions = {d.findtext("name/text"): d for d in q.iter("dataset_definition")}
        used = set(re.findall(r"\{(\w+)\}", q.findtext("questiontext/text", "")))
        assert used | {label} == set(definitions)
        assert len(used) == 4 * 3 + 3 + 3 * 3 + 3 + 4 + 3  # weights, biases, x, t
        for name, d in definitions.items():
            assert d.findtext("status/text") == "shared" and d.findtext("type") == "calculated"
            items = d.findall("dataset_items/dataset_item")
            assert d.findtext("itemcount") == d.findtext("number_of_items") == str(len(students))
            assert [i.findtext("number") for i in items] == [str(n) for n in range(1, 4)]
            values = [i.findtext("value") for i in items]
            if name == label:  # symbp's exact answers, student by student
                assert values == [r["value"] for r in mine]
            else:
                assert [float(v or "nan") for v in values] == [
                    _number(data, name) for data in variants
                ]


def _number(data: dict, name: str) -> float:  # type: ignore[type-arg]
    """The variant's number a wildcard names (``w2_1_3``, ``b1_2``, ``x4``, ``t2``)."""
    kind, idx = name[0], [int(i) - 1 for i in re.findall(r"\d+", name)]
    if kind == "w":
        return float(data["params"]["W"][idx[0]][idx[1]][idx[2]])
    if kind == "b":
        return float(data["params"]["b"][idx[0]][idx[1]])
    return float(data["example"][kind][idx[0]])


def test_the_key_has_a_rubric_of_the_intermediate_values(sets) -> None:  # type: ignore[no-untyped-def]
    exercises = sets["shipped"]  # Q1 ŷ, Q2 δ²₁, Q3 ∂E/∂w²₁₁
    v = exercises.variants[0]
    key = " ".join(sheet_tex(exercises, [v], key=True, solutions=["part1.pdf"]).split())
    assert "Marking rubric" not in sheet_tex(exercises, [v])
    values = careful_shipped(v.data, 0)[0]
    x = np.array(v.data["example"]["x"], dtype=float)
    W = [np.array(w, dtype=float) for w in v.data["params"]["W"]]
    a1 = _sigmoid(W[0] @ x + np.array(v.data["params"]["b"][0], dtype=float))
    exact_y = _sigmoid(W[1] @ a1 + float(v.data["params"]["b"][1][0]))[0]
    exact_d2 = (exact_y - 1) * exact_y * (1 - exact_y)
    assert f"Q1 (4 marks) & $a^{{1}}_{{1}} = {a1[0]:.4f}$ & 0 & 1" in key
    assert f"$a^{{1}}_{{2}} = {a1[1]:.4f}$ & 0 & 1" in key
    assert f"Q3 (5 marks) & $\\hat{{y}} = {exact_y:.4f}$ & 0 & 1" in key
    assert (
        f"$\\delta^{{2}}_{{1}} = {exact_d2:.4f}$ & 0 & 1 & \\\\ & $a^{{1}}_{{1}} = {a1[0]:.4f}$"
        in key
    )
    assert (
        f"$\\partial E/\\partial w^{{2}}_{{11}} = {exact_d2 * a1[0]:.4f}$ & 0 & 2 & the answer"
        in key
    )
    assert abs(values["a[2][0]"] - exact_y) < 1e-4


def test_the_self_check_is_in_the_teachers_report_only(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["exercises", str(SHIPPED), "--no-pdf", "-o", str(out)]) == 0
    report = (out / "teacher_report.txt").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO((out / "answers.csv").read_text())))
    assert "not for students" in report
    assert report.count(" confirmed\n") == len(rows) == 12
    assert "symbp verify: 12 of 12 answers confirmed." in report
    for row in rows:  # the 0-based names live here (and in answers.csv), with each tolerance
        line = f"{row['question']}  {row['quantity']:<20}"
        assert (
            line in report and f"{row['printed']:>12}  ±{row['tolerance']:<8} confirmed" in report
        )
    for name in ("moodle.xml", "gift.txt", "moodle_calculated.xml"):
        assert "confirmed" not in (out / name).read_text(encoding="utf-8")


def test_the_interval_arithmetic_encloses_and_refuses_the_unbounded() -> None:
    import sympy as sp
    from mpmath import iv

    from symbp.exercises.intervals import IntervalEnv, ends, point, rounded

    x = sp.Symbol("x")
    env = IntervalEnv({}, {x: iv.mpf(["-0.25", "0.5"])})
    leaky = sp.Piecewise((x, x > 0), (x / 10, True))
    # both branches may apply; each is taken over the whole interval (an enclosure)
    assert ends(env.value(leaky)) == (Fraction(-1, 4), Fraction(1, 2))
    env.scalars[x] = iv.mpf(["0.25", "0.5"])
    assert ends(env.value(leaky)) == (Fraction(1, 4), Fraction(1, 2))  # only x > 0
    env.scalars[x] = iv.mpf(["-0.25", "0.5"])
    assert ends(env.value(sp.Abs(x))) == (0, Fraction(1, 2))
    lo, hi = ends(env.value(1 / (1 + sp.exp(-x))))  # the sigmoid, increasing
    assert abs(lo - Fraction(0.437823499114202)) < Fraction(1, 10**14)
    assert abs(hi - Fraction(0.622459331201855)) < Fraction(1, 10**14)
    with pytest.raises(ValueError, match="negative"):  # mpmath's ComplexResult
        ends(env.value(sp.log(x)))  # ln of an interval reaching below 0
    env.scalars[x] = iv.mpf(["0", "0.5"])
    with pytest.raises(ArithmeticError, match="not bounded"):
        ends(env.value(sp.log(x)))  # ln of an interval reaching 0 (the variant is redrawn)
    half = Fraction(1, 20000)
    saved, iv.dps = iv.dps, 40  # student_steps works at 40 digits
    try:
        exact = point(Fraction(3, 25))  # 0.12 in binary: an enclosure, kept as it is
        assert rounded(exact, 4) is exact and rounded(exact, 1) is not exact
    finally:
        iv.dps = saved
    assert ends(rounded(iv.mpf(1) / 3, 4))[0] < Fraction(1, 3) - half + Fraction(1, 10**30)
    assert ends(rounded(iv.mpf(1) / 3, 4))[1] > Fraction(1, 3) + half - Fraction(1, 10**30)


def test_adam_answers_that_rounding_cannot_bound_ask_for_every_digit(tmp_path: Path) -> None:
    """Adam's second moment v = (1 − β₂) g² rounds to 0 at 4 decimals, and then the step
    η m̂ / (√v̂ + ε) has no bound: such answers keep one unit and the sheet asks for every
    digit of the values on the way (the draw is not refused)."""
    spec = tmp_path / "adam.yaml"
    spec.write_text(SHIPPED.read_text().replace("{name: sgd, learning_rate: 0.5}",
                                                "{name: adam, learning_rate: 0.1}"))  # fmt: skip
    exercises = plan(spec, count=2, ask=["a[2][0]", "W[0][0][0]@1"])
    for v in exercises.variants:
        forward, updated = v.answers
        assert forward.bounded and not updated.bounded and updated.tolerance == UNIT
        tex = " ".join(sheet_tex(exercises, [v]).split())
        assert tex.count("keep every digit of the values on the way for this one") == 1
    for text in _quiz_texts(exercises):
        assert ("keep every digit" in text) == ("w¹₁₁, this weight, after 1 update" in text)
