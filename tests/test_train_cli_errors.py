"""``symbp train`` on bad input: one line on stderr, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from symbp.cli import main

ROOT = Path(__file__).resolve().parent.parent
DIGITS = ROOT / "examples" / "digits_64_64_10.yaml"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    csv_ok = tmp_path / "ok.csv"
    csv_ok.write_text("f1,f2,label\n1,2,a\n3,4,b\n5,6,a\n", encoding="utf-8")
    csv_bad = tmp_path / "bad.csv"
    csv_bad.write_text("f1,f2,label\n1,2,a\n3,four,b\n", encoding="utf-8")
    npz = tmp_path / "three.npz"
    np.savez(npz, X=np.zeros((4, 3)), T=np.zeros((4, 10)))
    return {"ok_csv": csv_ok, "bad_csv": csv_bad, "three_npz": npz}


@pytest.mark.parametrize(
    ("data", "extra", "message"),
    [
        ("{missing}", [], "missing.npz: no such file"),
        ("fashion_mnist", [], "unknown data source 'fashion_mnist'; expected digits, iris,"),
        (
            "{ok_csv}",
            ["--target", "class"],
            "no column named 'class'; the header has f1, f2, label",
        ),
        ("{bad_csv}", ["--target", "label"], "bad.csv:3: column 'f2': non-numeric cell 'four'"),
        ("iris", [], "iris: 4 features per example; the spec's input layer expects 64"),
        ("{three_npz}", [], "three.npz: 3 features per example; the spec's input layer expects 64"),
    ],
)
def test_bad_data(
    data: str,
    extra: list[str],
    message: str,
    files: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = data.format(missing=tmp_path / "missing.npz", **files)
    out = tmp_path / "run"
    code = main(["train", str(DIGITS), "--data", source, *extra, "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("symbp train: error: ") and err.count("\n") == 1
    assert message in err
    assert not out.exists()


def test_classes_do_not_match_output_layer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "wine.yaml"
    spec.write_text(
        "layers: [13, 8, 4]\nactivations: [tanh, softmax]\nloss: cross_entropy\n", encoding="utf-8"
    )
    out = tmp_path / "run"
    code = main(["train", str(spec), "--data", "wine", "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        "symbp train: error: wine: 3 classes; the spec's output layer has 4 units "
        "(one-hot needs one unit per class)\n"
    )
    assert not out.exists()


def test_missing_spec_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["train", str(tmp_path / "none.yaml"), "--data", "iris"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("symbp train: error: ") and err.count("\n") == 1
    assert "none.yaml" in err
