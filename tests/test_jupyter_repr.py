"""Jupyter display of the records: ``_repr_html_`` tables and one-line ``repr``s.

Expected numbers are the worked examples' own: seed 001 (koech-3-4-1) starts at
E = 0.652221 with ŷ = 0.520888 and has ŷ = 0.647828 after one update; seed 000's
neuron has z = 3.3 and a = σ(3.3) = 0.964429.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import symbp
from symbp.render.jupyter import (
    MAX_ROWS,
    evaluation_html,
    run_result_repr,
    run_result_repr_html,
    spec_repr,
    spec_repr_html,
)
from symbp.train import load_data, prepare, train
from symbp.train.runner import RunResult

ROOT = Path(__file__).resolve().parent.parent
SEED001 = ROOT / "examples" / "koech_3_4_1.yaml"
SEED000_CLAIMS = ROOT / "examples" / "seed000_forward_claims.yaml"
SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def _cells(html: str) -> list[str]:
    """The text of every table cell, in order."""
    return re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", html)


def _hostile_spec() -> symbp.Spec:
    data = symbp.load(SEED001).data
    return symbp.load({**data, "name": SCRIPT, "title": f"title {SCRIPT}", "source": "a & b"})


def test_spec_repr_is_one_line_with_the_network() -> None:
    text = spec_repr(symbp.load(SEED001))
    assert text == (
        "Spec('koech-3-4-1', layers=3-4-1, activations=(sigmoid, sigmoid), loss=bce, "
        "optimiser=sgd lr=0.5)"
    )


def test_spec_html_table_and_escaping() -> None:
    html = spec_repr_html(symbp.load(SEED001))
    cells = _cells(html)
    pairs = dict(zip(cells[::2], cells[1::2], strict=True))
    assert pairs["name"] == "koech-3-4-1"
    assert pairs["layers"] == "3-4-1 (21 parameters)"
    assert pairs["activations"] == "sigmoid, sigmoid"
    assert pairs["optimiser"] == "sgd (learning rate 0.5)"
    assert pairs["examples"] == "1"

    hostile = spec_repr_html(_hostile_spec())
    assert "<script>" not in hostile
    assert ESCAPED in hostile and "a &amp; b" in hostile
    assert spec_repr(_hostile_spec()).startswith(f"Spec({SCRIPT!r}, layers=3-4-1")


def test_evaluation_html_and_repr() -> None:
    evaluation = symbp.evaluate(SEED001, 3)
    html = evaluation._repr_html_()
    assert html == evaluation_html(evaluation)
    assert "koech-3-4-1 (3-4-1): worked example, 3 update(s), exact arithmetic" in html
    rows = re.findall(r"<tr>(.*?)</tr>", html)
    assert len(rows) == 1 + 4  # header, steps 0..3
    assert _cells(rows[1]) == ["0", "0", "0.652221", "(0.520888)"]
    assert _cells(rows[2])[0] == "1" and _cells(rows[2])[3] == "(0.647828)"
    text = repr(evaluation)
    assert "\n" not in text and len(text) < 200
    assert text.startswith("Evaluation('koech-3-4-1', layers=3-4-1, updates=3, arithmetic=exact")
    assert "loss 0.652221 at step 0" in text


def test_evaluation_html_escapes_and_clips_long_runs() -> None:
    evaluation = symbp.evaluate(_hostile_spec(), MAX_ROWS + 5)
    html = evaluation._repr_html_()
    assert "<script>" not in html and ESCAPED in html
    rows = re.findall(r"<tr>(.*?)</tr>", html)
    assert len(rows) == 1 + MAX_ROWS
    assert _cells(rows[-2]) == ["…"] * 4
    assert _cells(rows[-1])[0] == str(MAX_ROWS + 5)  # the last step is kept


def test_batched_evaluation_shows_the_schedule() -> None:
    spec = {
        "name": "batched",
        "layers": [1, 1],
        "activations": "identity",
        "loss": "mse",
        "optimizer": {"name": "sgd", "learning_rate": 0.1},
        "params": {"W": [[[1]]], "b": [[0]]},
        "examples": [{"x": [1], "t": [0]}, {"x": [2], "t": [0]}, {"x": [3], "t": [1]}],
        "training": {"batch_size": 2, "shuffle": False, "epochs": 1},
    }
    html = symbp.evaluate(spec, 2)._repr_html_()
    assert "batch 2, 2 step(s) per epoch" in html
    rows = re.findall(r"<tr>(.*?)</tr>", html)
    assert _cells(rows[0]) == ["step", "epoch", "rows", "E", "ŷ (example 0)"]
    # step 0 uses rows 0 and 1: E = ((1 - 0)² + (2 - 0)²) / 2 = 2.5 (mse, mean)
    assert _cells(rows[1])[:4] == ["0", "0", "0 1", "2.5"]
    assert _cells(rows[2])[2] == "2"


def test_verify_report_html_and_repr() -> None:
    report = symbp.verify(SEED000_CLAIMS)
    assert repr(report) == (
        "<Report seed000-forward-claims: 2 claims: 2 confirmed, 0 truncated, 0 mismatch — PASS>"
    )
    html = report._repr_html_()
    assert html.startswith('<div class="symbp-verify">') and html.endswith("</div>")
    assert "<html" not in html and "<body" not in html
    assert html.count('<tr class="confirmed">') == 2
    cells = _cells(html)
    assert "z[0][0]" in cells and "a[1][0]" in cells
    assert "3.3" in cells and "0.96" in cells
    # the page keeps its own document structure around the same body
    page = report.render("html")
    assert page.startswith("<!DOCTYPE html>") and "<tbody>" in page


def test_verify_report_html_escapes_the_spec_text() -> None:
    data = symbp.load(SEED000_CLAIMS).data
    report = symbp.verify({**data, "name": SCRIPT, "title": None})
    html = report._repr_html_()
    assert "<script>" not in html and ESCAPED in html
    assert SCRIPT in repr(report)


IRIS = {
    "name": f"iris {SCRIPT}",
    "layers": [4, 6, 3],
    "activations": ["tanh", "softmax"],
    "loss": "cross_entropy",
    "optimizer": {"name": "sgd", "learning_rate": 0.1},
    "init": {"name": "xavier_uniform", "seed": 1},
    "training": {"epochs": 3, "batch_size": 8, "shuffle": True, "seed": 0},
}


@pytest.fixture(scope="module")
def run() -> RunResult:
    spec = symbp.load(IRIS)
    data = prepare(load_data("iris"), spec, standardize=True, seed=0)
    return train(spec, data, progress=False, plots_enabled=False)


def test_run_result_repr(run: RunResult) -> None:
    text = run_result_repr(run)
    assert "\n" not in text
    assert text.startswith(f"RunResult({IRIS['name']!r}, data='iris', epochs=3/3, test accuracy=")
    score = float(text.rsplit("=", 1)[1].rstrip(")"))
    assert score == pytest.approx(run.test_score, rel=1e-5)


def test_run_result_html(run: RunResult) -> None:
    html = run_result_repr_html(run)
    assert "<script>" not in html and ESCAPED in html
    tables = re.findall(r"<table>.*?</table>", html)
    assert len(tables) == 2
    facts = _cells(tables[0])
    pairs = dict(zip(facts[::2], facts[1::2], strict=True))
    assert pairs["epochs"] == "3 of 3, 13 iteration(s) of batch 8 each"
    assert float(pairs["test accuracy"]) == pytest.approx(run.test["accuracy"], rel=1e-5)
    rows = re.findall(r"<tr>(.*?)</tr>", tables[1])
    assert _cells(rows[0]) == ["epoch", "train loss", "train accuracy", "val loss", "val accuracy"]
    assert len(rows) == 1 + 4  # epochs 0..3
    last = _cells(rows[-1])
    assert last[0] == "3"
    assert float(last[1]) == pytest.approx(run.rows[-1]["train_loss"], rel=1e-5)
    assert float(last[4]) == pytest.approx(run.rows[-1]["val_accuracy"], rel=1e-5)


def test_spec_displays_itself() -> None:
    spec = symbp.load(SEED001)
    assert repr(spec) == spec_repr(spec)
    assert spec._repr_html_() == spec_repr_html(spec)


def test_run_result_displays_itself(run: RunResult) -> None:
    assert repr(run) == run_result_repr(run)
    assert run._repr_html_() == run_result_repr_html(run)


def test_progress_bar_in_a_notebook_without_widgets_prints_plain_lines(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """rich warns ("install ipywidgets") in a notebook without widgets; the bar falls back."""
    import io
    import sys
    import warnings

    from rich.console import Console

    from symbp.train.progress import PLAIN_LINES, EpochBar

    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    out = io.StringIO()
    console = Console(force_jupyter=True, file=out)
    total = 3 * PLAIN_LINES
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with EpochBar(total, "net", console=console) as bar:
            for epoch in range(1, total + 1):
                bar.update(epoch, 0.25, "accuracy 1.0000")
    lines = out.getvalue().splitlines()
    assert len(lines) == PLAIN_LINES
    assert lines[0] == "net epoch 3/60 loss 0.2500 accuracy 1.0000"
    assert lines[-1] == f"net epoch {total}/{total} loss 0.2500 accuracy 1.0000"
