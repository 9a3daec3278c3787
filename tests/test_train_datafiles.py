"""Data files end to end: integer class labels in CSV/NPZ train a multiclass net,
open sizes are sized from the file, ``--classes``, and the CSV reader's edge cases."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_iris

from symbp.cli import _parser, main
from symbp.errors import DataError
from symbp.train.cli import run_train
from symbp.train.data import load_data
from symbp.train.prepare import spec_for_data

SOFTMAX = {
    "name": "iris-softmax",
    "layers": [4, 8, 3],
    "activations": ["tanh", "softmax"],
    "loss": "cross_entropy",
    "optimizer": {"name": "adam", "learning_rate": 0.05},
    "init": {"name": "xavier_uniform", "seed": 1},
    "training": {"epochs": 40, "batch_size": 16, "shuffle": True},
}


def _iris_csv(path: Path) -> Path:
    X, y = load_iris(return_X_y=True)
    rows = ["sepal_length,sepal_width,petal_length,petal_width,species"]
    rows += [",".join(f"{v:g}" for v in x) + f",{int(c)}" for x, c in zip(X, y, strict=True)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _iris_args(spec: Path, csv: Path, out: Path) -> list[str]:
    return ["train", str(spec), "--data", str(csv), "--target", "species", "--standardize",
            "-o", str(out)]  # fmt: skip


def _metrics(out: Path) -> dict:
    return json.loads((out / "metrics.json").read_text(encoding="utf-8"))


def test_integer_labelled_csv_trains_a_softmax_net(tmp_path, write_spec, capsys) -> None:
    csv = _iris_csv(tmp_path / "iris.csv")
    data = load_data(csv, target="species")
    assert data.X.shape == (150, 4) and data.integer_targets and not data.labels
    out = tmp_path / "run"
    spec = write_spec(SOFTMAX)
    code = main(_iris_args(spec, csv, out))
    assert code == 0, capsys.readouterr().err
    metrics = _metrics(out)
    assert metrics["task"] == "classification" and metrics["classes"] == ["0", "1", "2"]
    assert metrics["test"]["accuracy"] > 0.8
    assert (metrics["examples"]["train"], metrics["examples"]["test"]) == (104, 23)


def test_open_sizes_are_sized_from_the_file(tmp_path, write_spec, capsys) -> None:
    csv = _iris_csv(tmp_path / "iris.csv")
    out = tmp_path / "run"
    spec = write_spec({**SOFTMAX, "layers": [None, 8, None]})
    code = main(_iris_args(spec, csv, out))
    assert code == 0, capsys.readouterr().err
    metrics = _metrics(out)
    assert metrics["layers"] == [4, 8, 3] and metrics["test"]["accuracy"] > 0.8


def test_npz_with_X_and_y_and_the_classes_flag(tmp_path, write_spec, capsys) -> None:
    X, y = load_iris(return_X_y=True)
    npz = tmp_path / "iris.npz"
    np.savez(npz, X=X, y=y)
    # a sigmoid output with half_sse: integer targets are numbers unless --classes
    sigmoid = {
        **SOFTMAX,
        "activations": ["tanh", "sigmoid"],
        "loss": "half_sse",
        "optimizer": {"name": "adam", "learning_rate": 0.05},
    }
    spec, data = spec_for_data(sigmoid, load_data(npz))
    assert not data.labels
    spec, data = spec_for_data(sigmoid, load_data(npz), classes=True)
    assert data.labels and list(data.classes) == [0, 1, 2] and spec.layers == (4, 8, 3)
    out = tmp_path / "run"
    args = _parser().parse_args(
        ["train", str(write_spec(sigmoid)), "--data", str(npz), "--standardize", "-o", str(out)]
    )
    args.classes = True  # the --classes flag, as symbp.cli parses it
    assert run_train(args) == 0
    metrics = _metrics(out)
    assert metrics["classes"] == ["0", "1", "2"] and metrics["test"]["accuracy"] > 0.8
    # without --classes the 0/1/2 targets are one real column: three output units don't fit
    args.classes = False
    args.out = tmp_path / "run2"
    with pytest.raises(DataError, match="1 target column; the spec's output layer expects 3"):
        run_train(args)


def test_classes_needs_whole_numbers(tmp_path) -> None:
    csv = tmp_path / "r.csv"
    csv.write_text("a,t\n1,0.5\n2,1\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"r\.csv: class labels must be whole numbers; found 0\.5"):
        spec_for_data(SOFTMAX, load_data(csv, target="t"), classes=True)


def test_csv_reader_quotes_bom_blank_lines(tmp_path) -> None:
    csv = tmp_path / "q.csv"
    csv.write_text('\ufeff"width, cm",b,kind\n1.5,"2",x\n\n-3e2,4,"y"\n', encoding="utf-8")
    data = load_data(csv, target="kind")
    assert data.feature_names == ("width, cm", "b")
    np.testing.assert_array_equal(data.X, [[1.5, 2.0], [-300.0, 4.0]])
    assert data.labels and data.y.tolist() == ["x", "y"]
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n\n3,inf\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad\.csv:4: column 'b': non-numeric cell 'inf'"):
        load_data(bad, target="a")
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("a,b\n1,2\n\n3\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"ragged\.csv:4: found 1 cells; the header has 2"):
        load_data(ragged, target="a")
    # a quoted cell over two lines counts both; Python's float() would read 1_000
    for name, text, message in (
        (
            "m.csv",
            'a,label\n1,"two\nlines 🙂"\nx,y\n',
            r"m\.csv:4: column 'a': non-numeric cell 'x'",
        ),
        ("u.csv", "a,label\n1_000,1\n", r"u\.csv:2: column 'a': non-numeric cell '1_000'"),
    ):
        (tmp_path / name).write_text(text, encoding="utf-8")
        with pytest.raises(DataError, match=message):
            load_data(tmp_path / name, target="label")
