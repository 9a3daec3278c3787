"""``symbp check TEXT --spec SPEC``: a text's numbers named without a claims file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import symbp
from symbp.cli import main
from symbp.verify import scan as scanmod
from symbp.verify.scan import ScanReport, find_numbers, read_text, scan

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def _seeds() -> Path:
    """The seed texts: ``$SYMBP_SEEDS``, else ``../shared/seeds`` (or ``../../shared/seeds``)."""
    if os.environ.get("SYMBP_SEEDS"):
        return Path(os.environ["SYMBP_SEEDS"])
    for base in (ROOT.parent, ROOT.parent.parent):
        if (base / "shared" / "seeds").is_dir():
            return base / "shared" / "seeds"
    return ROOT.parent / "shared" / "seeds"


SEEDS = _seeds()
SEED_001 = SEEDS / "001_e6b18ec2e9a2c533.txt"
SEED_000 = SEEDS / "000_d558c9a7f3d12146.txt"
KOECH = EXAMPLES / "koech_3_4_1.yaml"
SEED000_SPEC = EXAMPLES / "seed000_forward.yaml"
TRAJECTORY = ["0.521", "0.648", "0.758", "0.836", "0.881", "0.908", "0.925"]
# The passages the tests need, quoted from the seeds (the whole texts are not in the
# repository; the tests on the whole files run where ../shared/seeds is present).
EXCERPT_001 = (
    "A ahead go yields an output of 0.521 (Supply: Writer).\n"
    "t=1 is the reality label, yhat=0.521 is the output of the mannequin.\n"
    "We’ll use ϵ=0.5 (arbitrary selection).\n"
    "Working a ahead go with these up to date parameters yields a mannequin prediction, "
    "yhat of 0.648, up from 0.521. Which means that a mannequin is studying — shifting near "
    "the true worth of 1 after two iterations of coaching. Different iterations yield 0.758, "
    "0.836, 0.881, 0.908, 0.925, …\n"
)
EXCERPT_000 = (
    "The first step is to sum each input times each input’s associated weight: "
    "(2.0)(0.1) + (3.0)(0.5) + (4.0)(0.9) = 5.3. Next the bias value is added: "
    "5.3 + (-2.0) = 3.3. The third step is to feed the result of step two to an activation "
    "function: 1.0 / (1.0 + Exp(-3.3)) = 0.96.\n\nSimilarly, y1 = 0.62.\n"
)


@pytest.fixture(scope="module")
def koech() -> symbp.Spec:
    return symbp.load(KOECH)


def _text(which: str, excerpt: str, whole: Path) -> str:
    if which == "excerpt":
        return excerpt
    if not whole.is_file():
        pytest.skip(f"the whole seed text is not here ({whole}); the excerpt case ran")
    return read_text(whole)


@pytest.fixture(scope="module", params=["excerpt", "whole"])
def seed001(request: pytest.FixtureRequest, koech: symbp.Spec) -> ScanReport:
    return scan(koech, _text(request.param, EXCERPT_001, SEED_001), format="text")


def _identified(report: ScanReport) -> list[tuple[str, str | None, int | None, str]]:
    """Every number as (text, quantity, step, verdict), in text order."""
    out = []
    for r in report.results:
        e = r.identified
        out.append((r.found.text, e.quantity.name if e else None, e.step if e else None, r.verdict))
    return out


def test_seed001_trajectory_identified(seed001: ScanReport) -> None:
    found = _identified(seed001)
    # "yhat of 0.648, up from 0.521 ... Different iterations yield 0.758, 0.836, 0.881, ..."
    assert found[-7:] == [
        ("0.648", "a[2][0]", 1, "confirmed"),
        ("0.521", "a[2][0]", 0, "confirmed"),
        ("0.758", "a[2][0]", 2, "confirmed"),
        ("0.836", "a[2][0]", 3, "confirmed"),
        ("0.881", "a[2][0]", 4, "confirmed"),
        ("0.908", "a[2][0]", 5, "confirmed"),
        ("0.925", "a[2][0]", 6, "confirmed"),
    ]
    # every other number: ŷ = 0.521 before training, and ϵ = 0.5 (equal to the rate exactly)
    assert {f for f in found[:-7] if f[0] == "0.521"} == {("0.521", "a[2][0]", 0, "confirmed")}
    assert [f for f in found if f[0] == "0.5"] == [("0.5", "learning_rate", 0, "confirmed")]
    assert seed001.steps == 6  # no training: in the spec
    # 0.908 is a hidden activation too (a[1][0] at step 1 = 0.90794...): listed, not chosen
    r908 = next(r for r in seed001.results if r.found.text == "0.908")
    assert [m.label for m in r908.matches] == ["a[2][0] at step 5", "a[1][0] at step 1"]
    assert float(r908.matches[0].value) == pytest.approx(0.9076967662849986, abs=1e-15)
    assert seed001.counts()["confirmed"] == len(found)


@pytest.mark.parametrize("which", ["excerpt", "whole"])
def test_seed001_json_via_cli(
    which: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = SEED_001
    if which == "excerpt":
        path = tmp_path / "seed001.txt"
        path.write_text(EXCERPT_001, encoding="utf-8")
    elif not path.is_file():
        pytest.skip(f"the whole seed text is not here ({path}); the excerpt case ran")
    assert main(["check", str(path), "--spec", str(KOECH), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["spec"] == "koech-3-4-1" and data["steps"] == 6 and data["text"] == str(path)
    run = [(n["text"], n["quantity"], n["step"], n["verdict"]) for n in data["numbers"][-7:]]
    assert [r[0] for r in run] == ["0.648", "0.521", *TRAJECTORY[2:]]
    assert run[0] == ("0.648", "a[2][0]", 1, "confirmed")
    assert [r[2] for r in run[2:]] == [2, 3, 4, 5, 6]
    assert {r[1] for r in run} == {"a[2][0]"}
    assert data["numbers"][-1]["exact"] == pytest.approx(0.9250534346783922, abs=1e-15)
    total = 11 if which == "whole" else 10
    assert data["counts"] == {"confirmed": total, "truncated": 0, "near": 0, "unmatched": 0}


@pytest.mark.parametrize("which", ["excerpt", "whole"])
def test_seed000_forward_pass(which: str) -> None:
    text = _text(which, EXCERPT_000, SEED_000)
    report = scan(symbp.load(SEED000_SPEC), text, format="text")
    named = {
        (t, e.label if e else None, v)
        for t, v, e in ((r.found.text, r.verdict, r.identified) for r in report.results)
    }
    # (2.0)(0.1) + (3.0)(0.5) + (4.0)(0.9) = 5.3; 5.3 + (-2.0) = 3.3; 1/(1+Exp(-3.3)) = 0.96
    for expected in [
        ("2.0", "a[0][0] at step 0", "confirmed"),
        ("0.1", "W[0][0][0] at step 0", "confirmed"),
        ("3.0", "a[0][1] at step 0", "confirmed"),
        ("0.5", "W[0][0][1] at step 0", "confirmed"),
        ("4.0", "a[0][2] at step 0", "confirmed"),
        ("0.9", "W[0][0][2] at step 0", "confirmed"),
        ("-2.0", "b[0][0] at step 0", "confirmed"),
        ("3.3", "z[0][0] at step 0", "confirmed"),
        ("0.96", "a[1][0] at step 0", "confirmed"),
        ("-3.3", "z[0][0] at step 0", "near"),  # Exp(-3.3): the other sign
        ("5.3", None, "unmatched"),  # Σ w·x before the bias is no quantity symbp names
    ]:
        assert expected in named, expected
    minus = next(r for r in report.results if r.found.text == "-3.3")
    assert minus.convention == "the other sign"
    # y1 = 0.62 belongs to the lost second node
    assert [r.verdict for r in report.results if r.found.text == "0.62"] == ["unmatched"]


def test_near_miss_and_truncated(koech: symbp.Spec) -> None:
    report = scan(koech, "the output is 0.522, or 0.520 truncated, or -0.521", steps=2)
    near, truncated, sign = report.results
    assert (near.verdict, near.identified.label) == ("near", "a[2][0] at step 0")  # type: ignore[union-attr]
    assert near.convention == "within 2 units of the last printed digit"  # 0.520888... vs 0.522
    assert near.matches == ()
    # 0.520888... truncates (does not round) to 0.520
    assert truncated.verdict == "truncated" and truncated.identified.quantity.name == "a[2][0]"  # type: ignore[union-attr]
    assert truncated.convention == "truncated, not rounded"
    assert sign.verdict == "near" and sign.convention == "the other sign"
    # far from everything: 12.345 at steps 0..2 of a sigmoid net
    assert scan(koech, "12.345", steps=2).results[0].verdict == "unmatched"


def test_annotated_copy_escapes_and_is_deterministic(tmp_path: Path) -> None:
    text = tmp_path / "post.txt"
    text.write_text("<script>alert(1)</script> yhat = 0.521 & 7.77\n", encoding="utf-8")
    outs = []
    for run in range(2):
        out = tmp_path / f"annotated{run}.html"
        assert main(["check", str(text), "--spec", str(KOECH), "-q", "-o", str(out)]) == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    page = outs[0].decode("utf-8")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<mark class="confirmed" title="a[2][0] at step 0: confirmed (exact 0.520888' in page
    assert '<mark class="unmatched" title="7.77: unmatched' in page
    assert "&amp; " in page


def test_html_input_only_text_nodes(koech: symbp.Spec, tmp_path: Path) -> None:
    page = (
        "<html><head><title>0.25</title><style>p{margin:0.5em}</style></head><body>"
        '<img width="0.5"><p title="0.9">ŷ = 0.521 &amp; 0.648</p>'
        "<script>var x = 0.7;</script><!-- 0.3 --></body></html>"
    )
    found = find_numbers(page, "html")
    assert [f.text for f in found] == ["0.521", "0.648"]
    assert [page[f.start : f.end] for f in found] == ["0.521", "0.648"]
    report = scan(koech, page, format="html", steps=1)
    annotated = report.annotated_html(page)
    # the page keeps its markup; only the text's numbers are marked
    assert '<img width="0.5">' in annotated and "<script>var x = 0.7;</script>" in annotated
    assert annotated.count("<mark") == 2
    assert 'title="a[2][0] at step 1: confirmed' in annotated
    assert annotated.index("<style>mark.") > annotated.index("<head>")


def test_latex_comments_and_number_forms() -> None:
    tex = "% w = 0.5 in a comment\n$\\hat y = 0.521$, v1.2.3, 2024, 1.2e-05, 5.3-2.0, (−0.4)\n"
    assert [f.text for f in find_numbers(tex, "tex")] == ["0.521", "1.2e-05", "5.3", "2.0", "−0.4"]
    assert find_numbers(tex, "text")[0].text == "0.5"  # not a comment in plain text
    f = find_numbers(tex, "tex")[0]
    assert (f.line, f.column) == (2, 11)  # 1-based: "$\\hat y = " is 10 characters


def test_missing_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "a.html"
    missing = tmp_path / "nope.txt"
    assert main(["check", str(missing), "--spec", str(KOECH), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{missing}: file not found" in err
    assert not out.exists()


def test_bad_spec_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "t.md"
    text.write_text("0.5\n", encoding="utf-8")
    spec = tmp_path / "bad.yaml"
    spec.write_text("layers: [2, 1]\nloss: nonsense\n", encoding="utf-8")
    assert main(["check", str(text), "--spec", str(spec)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "loss" in err and "Traceback" not in err


def test_oversize_text_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * (scanmod.MAX_TEXT_BYTES + 1))
    assert main(["check", str(big), "--spec", str(KOECH)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(big) in err and f"{scanmod.MAX_TEXT_BYTES} bytes" in err


def test_too_many_numbers_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scanmod, "MAX_NUMBERS", 3)
    text = tmp_path / "many.txt"
    text.write_text("0.1 0.2 0.3 0.4\n", encoding="utf-8")
    assert main(["check", str(text), "--spec", str(KOECH)]) == 2
    err = capsys.readouterr().err
    assert "more than 3 decimal numbers" in err and str(text) in err


def test_steps_bounded(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = tmp_path / "t.txt"
    text.write_text("0.521\n", encoding="utf-8")
    assert main(["check", str(text), "--spec", str(KOECH), "--steps", "51"]) == 2
    assert "at most 50 steps" in capsys.readouterr().err
    assert main(["check", str(text), "--spec", str(KOECH), "--steps", "0", "-q"]) == 0
    assert capsys.readouterr().out.startswith("1 decimal numbers: 1 confirmed")


def test_text_report_lists_unmatched_only_with_all(
    koech: symbp.Spec, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = tmp_path / "t.txt"
    text.write_text("0.521 and 12.345\n", encoding="utf-8")
    assert main(["check", str(text), "--spec", str(KOECH), "--steps", "1"]) == 0
    out = capsys.readouterr().out
    assert "a[2][0] at step 0: confirmed" in out and "12.345" not in out
    assert main(["check", str(text), "--spec", str(KOECH), "--steps", "1", "--all"]) == 0
    assert "12.345: unmatched" in capsys.readouterr().out


def test_stdout_is_no_annotated_copy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "t.txt"
    text.write_text("0.521\n", encoding="utf-8")
    assert main(["check", str(text), "--spec", str(KOECH), "-o", "-"]) == 2
    err = capsys.readouterr().err
    assert err == "symbp check: error: -o: give the annotated copy a file name (.html)\n"


def test_spec_without_example_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "t.txt"
    text.write_text("0.521\n", encoding="utf-8")
    spec = EXAMPLES / "digits_64_64_10.yaml"  # training: but no worked example
    assert main(["check", str(text), "--spec", str(spec)]) == 2
    err = capsys.readouterr().err
    assert err == (
        "symbp check: error: example: the spec has no example: add example: {x: [...], t: [...]}\n"
    )


def test_training_steps_and_examples_named() -> None:
    spec = symbp.load(
        {
            "name": "two",
            "layers": [2, 1],
            "activations": "sigmoid",
            "loss": "half_sse",
            "optimizer": {"name": "sgd", "learning_rate": 0.1},
            "params": {"W": [[[0.5, -0.4]]], "b": [[0.1]]},
            "examples": [{"x": [1, 2], "t": [1]}, {"x": [0, 1], "t": [0]}],
            "training": {"epochs": 2, "batch_size": 1},
        }
    )
    # ŷ of example 1 = σ(-0.4 + 0.1) = 0.425557...; its loss ½(0.425557)² = 0.0905496
    report = scan(spec, "0.4256 and 0.09055 and 0.4502")
    assert report.steps == 4  # 2 epochs × 2 steps of one row
    labels = [r.identified.label for r in report.results]  # type: ignore[union-attr]
    assert labels == [
        "a[1][0] at step 0, example 1",
        "loss at step 0, example 1",
        "a[1][0] at step 0, example 0",
    ]
