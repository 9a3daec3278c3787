"""Data sources, their errors, and fitting data to a spec (no trainer needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import symbp
from symbp.errors import DataError
from symbp.train.data import load_data
from symbp.train.prepare import encode_targets, prepare


def _spec(layers: list[int], activations: list[str], loss: str) -> symbp.Spec:
    return symbp.load({"layers": layers, "activations": activations, "loss": loss})


def test_sklearn_sets_have_their_published_shapes() -> None:
    # scikit-learn's documentation: digits 1797x64 (10 classes), iris 150x4 (3),
    # breast_cancer 569x30 (2), wine 178x13 (3).
    for name, n, d, k in (
        ("digits", 1797, 64, 10),
        ("iris", 150, 4, 3),
        ("breast_cancer", 569, 30, 2),
        ("wine", 178, 13, 3),
    ):
        data = load_data(name)
        assert data.X.shape == (n, d), name
        assert data.labels and len(data.classes) == k, name
    diabetes = load_data("diabetes")
    assert diabetes.X.shape == (442, 10) and diabetes.y.shape == (442, 1) and not diabetes.labels


def test_csv_target_by_name_numeric_and_labels(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a,kind,b\n1,x,2.5\n3,y,-4\n5,x,6e1\n", encoding="utf-8")
    data = load_data(path, target="kind")
    assert data.feature_names == ("a", "b")
    np.testing.assert_array_equal(data.X, [[1, 2.5], [3, -4], [5, 60]])
    assert data.labels and list(data.y) == ["x", "y", "x"]
    # with "a" as the target, the label column "kind" becomes a (non-numeric) feature
    with pytest.raises(DataError, match=r"d\.csv:2: column 'kind': non-numeric cell 'x'"):
        load_data(path, target="a")
    numeric = tmp_path / "n.csv"
    numeric.write_text("x1,x2,y\n1,2,0.5\n3,4,1.5\n", encoding="utf-8")
    data = load_data(numeric, target="y")
    assert not data.labels and data.y.tolist() == [[0.5], [1.5]]


def test_npz_source(tmp_path: Path) -> None:
    path = tmp_path / "d.npz"
    np.savez(path, X=np.arange(6.0).reshape(3, 2), T=np.array([1.0, 0.0, 1.0]))
    data = load_data(path)
    assert data.X.shape == (3, 2) and data.y.shape == (3, 1)
    # y as well as T: integer labels stay numbers until the spec or --classes asks
    labelled = tmp_path / "y.npz"
    np.savez(labelled, X=np.arange(6.0).reshape(3, 2), y=np.array([2, 0, 1]))
    data = load_data(labelled)
    assert not data.labels and data.integer_targets and data.y.tolist() == [[2], [0], [1]]
    classes = data.as_labels()
    assert classes.labels and classes.y.dtype == np.int64 and list(classes.classes) == [0, 1, 2]
    bad = tmp_path / "bad.npz"
    np.savez(bad, X=np.zeros((3, 2)), t=np.zeros(3))
    with pytest.raises(DataError, match=r"expected arrays X and y \(or X and T\); found X, t$"):
        load_data(bad)
    both = tmp_path / "both.npz"
    np.savez(both, X=np.zeros((3, 2)), y=np.zeros(3), T=np.zeros(3))
    with pytest.raises(DataError, match="found T, X, y; give y or T, not both"):
        load_data(both)
    assert load_data(path).integer_targets  # T = 1, 0, 1
    real = tmp_path / "real.npz"
    np.savez(real, X=np.zeros((3, 2)), T=np.array([1.0, 0.5, 2.0]))
    assert not load_data(real).integer_targets
    with pytest.raises(DataError, match=r"class labels must be whole numbers; found 0\.5"):
        load_data(real).as_labels()


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        ("nope", None, "unknown data source 'nope'; expected digits, iris"),
        ("missing.csv", "y", "missing.csv: no such file"),
        ("missing.npz", None, "missing.npz: no such file"),
        ("digits", "y", "--target applies to CSV files only"),
    ],
)
def test_bad_sources(source: str, target: str | None, message: str) -> None:
    with pytest.raises(DataError, match=message.replace(".", r"\.")):
        load_data(source, target=target)


def test_csv_errors(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a,b,c\n1,2,3\n4,,6\n", encoding="utf-8")
    with pytest.raises(DataError, match="no column named 'y'; the header has a, b, c"):
        load_data(path, target="y")
    with pytest.raises(DataError, match="name the target column with --target"):
        load_data(path)
    with pytest.raises(DataError, match=r"d\.csv:3: column 'b': non-numeric cell ''"):
        load_data(path, target="c")
    ragged = tmp_path / "r.csv"
    ragged.write_text("a,b\n1,2\n3\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"r\.csv:3: found 1 cells; the header has 2 columns"):
        load_data(ragged, target="b")


def test_prepare_checks_the_spec() -> None:
    iris = load_data("iris")
    with pytest.raises(DataError, match=r"iris: 4 features per example; .* input layer expects 3"):
        prepare(iris, _spec([3, 3], ["softmax"], "cross_entropy"))
    with pytest.raises(DataError, match="iris: 3 classes; the spec's output layer has 4 units"):
        prepare(iris, _spec([4, 4], ["softmax"], "cross_entropy"))
    with pytest.raises(DataError, match="iris: 3 classes; the spec's one-unit output layer"):
        prepare(iris, _spec([4, 1], ["sigmoid"], "bce"))
    with pytest.raises(DataError, match="pass --one-hot to encode the 3 classes"):
        prepare(iris, _spec([4, 3], ["softmax"], "cross_entropy"), one_hot=False)
    diabetes = load_data("diabetes")
    with pytest.raises(DataError, match=r"targets range over \[25, 346\]; .* loss bce"):
        prepare(diabetes, _spec([10, 1], ["sigmoid"], "bce"))
    with pytest.raises(DataError, match="fractions 1; expected less than 1"):
        prepare(
            iris, _spec([4, 3], ["softmax"], "cross_entropy"), val_fraction=0.5, test_fraction=0.5
        )


def test_split_is_seeded_stratified_and_standardised_on_train() -> None:
    spec = _spec([4, 3], ["softmax"], "cross_entropy")
    a = prepare(load_data("iris"), spec, standardize=True, seed=3)
    b = prepare(load_data("iris"), spec, standardize=True, seed=3)
    c = prepare(load_data("iris"), spec, standardize=True, seed=4)
    assert (len(a.train), len(a.val), len(a.test)) == (104, 23, 23)
    np.testing.assert_array_equal(a.test.X, b.test.X)
    assert not np.array_equal(a.test.X, c.test.X)
    np.testing.assert_allclose(a.train.X.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(a.train.X.std(axis=0), 1, atol=1e-12)
    # stratified: each class is a third of the test split (50 of each in iris)
    counts = a.test.T.sum(axis=0)
    assert counts.max() - counts.min() <= 1
    assert a.task == "classification" and list(a.classes) == [0, 1, 2]
    # every row one-hot
    np.testing.assert_array_equal(a.train.T.sum(axis=1), 1)


def test_encode_targets_binary_and_sign() -> None:
    classes = np.array(["no", "yes"])
    y = np.array(["yes", "no", "yes"])
    assert encode_targets(y, classes, 1, one_hot=False, sign=False).ravel().tolist() == [1, 0, 1]
    assert encode_targets(y, classes, 1, one_hot=False, sign=True).ravel().tolist() == [1, -1, 1]
    assert encode_targets(y, classes, 2, one_hot=True, sign=False).tolist() == [
        [0, 1],
        [1, 0],
        [0, 1],
    ]


def test_csv_values_are_read_exactly(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    X = rng.normal(size=(40, 3)) * 10.0 ** rng.integers(-300, 300, size=(40, 3))
    rows = [",".join(repr(float(v)) for v in row) + f",{i % 3}" for i, row in enumerate(X)]
    lines = ["a,b,c,y", *rows]
    path = tmp_path / "exact.csv"
    path.write_text("\ufeff" + "\n".join(lines) + "\n\n", encoding="utf-8")
    data = load_data(path, target="y")
    np.testing.assert_array_equal(data.X, X)  # float() of repr() is exact
    assert data.y[:, 0].tolist() == [i % 3 for i in range(40)]


def test_data_files_are_read_within_the_stated_limits(tmp_path: Path, monkeypatch) -> None:
    """Caps of :mod:`symbp.limits`, lowered here so that the files stay small."""
    import symbp.train.data as data_module
    from symbp.limits import MAX_CELL_CHARS

    long_cell = tmp_path / "long.csv"
    long_cell.write_text(f"a,y\n1,0\n{'9' * (MAX_CELL_CHARS + 1)},1\n", encoding="utf-8")
    with pytest.raises(DataError, match=rf"long\.csv:3: a cell of {MAX_CELL_CHARS + 1} char"):
        load_data(long_cell, target="y")
    rows = tmp_path / "rows.csv"
    rows.write_text("a,b,y\n" + "1,2,0\n" * 6, encoding="utf-8")
    monkeypatch.setattr(data_module, "MAX_DATA_ROWS", 5)
    with pytest.raises(DataError, match=r"rows\.csv: more than 5 data rows of 2 features"):
        load_data(rows, target="y")
    monkeypatch.setattr(data_module, "MAX_DATA_ROWS", 100)
    monkeypatch.setattr(data_module, "MAX_DATA_VALUES", 8)  # 4 rows of 2 features
    with pytest.raises(DataError, match=r"more than 4 data rows of 2 features"):
        load_data(rows, target="y")
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(f"x{i}" for i in range(10)) + ",y\n" + "1," * 10 + "0\n")
    with pytest.raises(DataError, match=r"wide\.csv: 10 feature columns; expected at most 8"):
        load_data(wide, target="y")
    labels = tmp_path / "labels.csv"
    labels.write_text("a,y\n" + "1,class-with-a-long-name\n" * 3, encoding="utf-8")
    with pytest.raises(DataError, match=r"class labels of up to 22 characters in 3 rows"):
        load_data(labels, target="y")
    monkeypatch.setattr(data_module, "MAX_DATA_BYTES", 20)  # rows.csv has 42
    with pytest.raises(DataError, match=r"rows\.csv: the file is larger than 20 bytes"):
        load_data(rows, target="y")
    # an .npz member is sized from its header: 4,000 zeros compress to a few bytes
    bomb = tmp_path / "bomb.npz"
    np.savez_compressed(bomb, X=np.zeros((1000, 4)), y=np.zeros(1000))
    monkeypatch.setattr(data_module, "MAX_DATA_BYTES", 2**20)
    monkeypatch.setattr(data_module, "MAX_DATA_VALUES", 3999)
    with pytest.raises(DataError, match=r"bomb\.npz: array X has shape \(1000, 4\) of float64"):
        load_data(bomb)
    monkeypatch.setattr(data_module, "MAX_DATA_BYTES", 100)
    with pytest.raises(DataError, match=r"bomb\.npz: the file has \d+ bytes; expected at most 100"):
        load_data(bomb)
    monkeypatch.setattr(data_module, "MAX_DATA_BYTES", 2**20)
    monkeypatch.setattr(data_module, "MAX_DATA_VALUES", 4000)
    assert load_data(bomb).X.shape == (1000, 4)
