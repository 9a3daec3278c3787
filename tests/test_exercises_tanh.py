"""Exercises on a tanh network: the interval arithmetic of the fair tolerances takes tanh.

``tanh`` is SymPy's own function (no formula of a record to go through), so the interval
arithmetic samples it at the interval's ends; ``tanh`` of a rational stays unevaluated
and used to end ``symbp exercises`` in ``TypeError: cannot create mpf from tanh(…)``.
"""

from __future__ import annotations

import csv
from fractions import Fraction
from pathlib import Path

import sympy as sp
import yaml
from mpmath import iv

import symbp
from symbp.cli import main
from symbp.exercises.intervals import IntervalEnv, ends

SPEC = {
    "name": "tanh-softmax-hinge",
    "layers": [2, 2, 2],
    "activations": ["tanh", "softmax"],
    "loss": "hinge",
    "optimizer": {"name": "sgd", "learning_rate": 0.5},
    "params": {
        "W": [[[0.1, -0.2], [0.3, 0.4]], [[0.5, -0.6], [-0.7, 0.8]]],
        "b": [[0.1, -0.1], [0.2, -0.2]],
    },
    "example": {"x": [0.5, -0.5], "t": [1, -1]},
}


def test_tanh_of_an_interval_is_enclosed_by_its_values_at_the_ends() -> None:
    x = sp.Symbol("x")
    saved, iv.dps = iv.dps, 40  # student_steps works at 40 digits
    try:
        env = IntervalEnv({}, {x: iv.mpf(["-0.25", "0.5"])})
        lo, hi = ends(env.value(sp.tanh(x)))
    finally:
        iv.dps = saved
    low = Fraction(str(sp.N(sp.tanh(sp.Rational(-1, 4)), 60)))
    high = Fraction(str(sp.N(sp.tanh(sp.Rational(1, 2)), 60)))
    assert lo <= low and high <= hi  # an enclosure
    assert low - lo < Fraction(1, 10**28) and hi - high < Fraction(1, 10**28)  # a tight one


def test_symbp_exercises_on_a_tanh_softmax_hinge_network(tmp_path: Path, capsys) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(SPEC, sort_keys=False), encoding="utf-8")
    out = tmp_path / "out"
    code = main(["exercises", "-q", str(spec), "--count", "2", "--no-pdf", "-o", str(out)])
    _, err = capsys.readouterr()
    assert code == 0, err
    rows = list(csv.DictReader((out / "answers.csv").open(encoding="utf-8")))
    assert sorted({r["student"] for r in rows}) == ["s01", "s02"]
    losses = [r for r in rows if r["quantity"] == "loss"]
    assert len(losses) == 2
    for row in losses:  # each key's loss is the exact loss of that student's variant
        variant = symbp.load(out / "variants" / f"{row['student']}.yaml")
        exact = symbp.evaluate(variant).steps[0].loss
        assert abs(float(row["value"]) - float(exact)) <= 1e-12
