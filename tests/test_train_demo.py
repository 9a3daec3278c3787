"""``symbp demo`` end to end (run once for the module)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from pathlib import Path

import pytest

from symbp.cli import main
from symbp.train.demo import ARTICLE_TRAJECTORY, tex_available


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    out = tmp_path_factory.mktemp("demo") / "symbp-demo"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["demo", "-o", str(out)])
    return code, stdout.getvalue(), out


def test_demo_succeeds_and_reaches_the_accuracy(demo) -> None:
    code, stdout, out = demo
    assert code == 0, stdout
    meta = json.loads((out / "digits" / "metrics.json").read_text())
    assert meta["test"]["accuracy"] >= 0.95
    assert f"digits test accuracy: {meta['test']['accuracy']:.4f}" in stdout
    assert (out / "summary.txt").read_text() == stdout


def test_demo_writes_every_output(demo) -> None:
    _, _, out = demo
    expected = [
        "koech_3_4_1/derivation.txt",
        "koech_3_4_1/koech_3_4_1.html",
        "koech_3_4_1/verify.md",
        "koech_3_4_1/training.csv",
        "digits/params.npz",
        "digits/metrics.csv",
        "digits/loss.png",
        "digits/accuracy.png",
        "digits/gradient_norms.png",
        "digits/feature_sensitivity.png",
        "summary.txt",
    ]
    if tex_available():
        expected.append("koech_3_4_1/koech_3_4_1.pdf")
    for rel in expected:
        assert (out / rel).is_file() and (out / rel).stat().st_size > 0, rel


def test_demo_trains_the_worked_example_along_the_article(demo) -> None:
    _, _, out = demo
    with (out / "koech_3_4_1" / "training.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [round(float(r["yhat_kernel"]), 3) for r in rows] == list(ARTICLE_TRAJECTORY)
    for r in rows:
        assert float(r["yhat_kernel"]) == pytest.approx(float(r["yhat_exact"]), abs=1e-12)


def test_demo_calls_the_misprint_it_finds_by_its_name(demo) -> None:
    _, stdout, _ = demo
    lines = stdout.splitlines()
    verify = next(line for line in lines if line.strip().startswith("verify claims"))
    assert verify.endswith(
        "1 mismatch (1 explained) — misprint found (explained); see the report"
    ), verify
    assert "FAIL" not in stdout
    assert lines[-1] == "all steps succeeded"


def test_demo_outputs_name_no_install_path(demo) -> None:
    _, _, out = demo
    root = str(Path(__file__).resolve().parent.parent)
    for rel in ("koech_3_4_1/verify.md", "digits/metrics.json", "koech_3_4_1/koech_3_4_1.html"):
        text = (out / rel).read_text(encoding="utf-8")
        assert root not in text and "site-packages" not in text, rel
    # Markdown-escaped, as every spec text in the report is (symbp.escape.md_escape)
    verify_md = (out / "koech_3_4_1/verify.md").read_text()
    assert "- spec: koech\\_3\\_4\\_1\\_claims.yaml\n" in verify_md
    meta = json.loads((out / "digits" / "metrics.json").read_text())
    assert meta["spec_path"] == "digits_64_64_10.yaml"


def test_demo_trains_the_conv_net_to_the_accuracy(demo) -> None:
    """Issue 28: the digits conv net (conv 1->8 3x3 + relu, max-pool 2, flatten, dense 10
    + softmax) trained by the generated kernel on a stratified 80/20 split reaches 97%."""
    code, stdout, out = demo
    assert code == 0, stdout
    meta = json.loads((out / "digits_conv" / "metrics.json").read_text())
    assert meta["test"]["accuracy"] >= 0.97
    assert f"digits conv net test accuracy: {meta['test']['accuracy']:.4f} (reached" in stdout
    for name in ("params.npz", "metrics.csv", "loss.png", "accuracy.png"):
        assert (out / "digits_conv" / name).stat().st_size > 0
