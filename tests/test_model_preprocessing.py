"""The spec's ``preprocessing`` field and a trainer that applies it (issue 26 item 1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import symbp
from symbp.codegen.persist import trainer_arrays
from symbp.spec.dump import to_yaml
from symbp.spec.preprocessing import Preprocessing, Standardize, network_spec
from symbp.train import rundir
from symbp.yamlio import parse_yaml

SPEC = {
    "name": "pre-3-4-3",
    "layers": [3, 4, 3],
    "activations": ["tanh", "softmax"],
    "loss": "cross_entropy",
    "optimizer": {"name": "sgd", "learning_rate": 0.1},
    "init": {"name": "xavier_uniform", "seed": 4},
}
PRE = {
    "standardize": {
        "mean": [1.5, -2.0, 0.1],
        "scale": [2.0, 0.5, 0.3333333333333333],
        "var": [4.0, 0.25, 0.1111111111111111],
        "n_samples_seen": 20,
    },
    "labels": ["cat", "dog", "eel"],
}


def _X() -> np.ndarray:
    return np.random.default_rng(1).normal(size=(12, 3)) * 3 + 1


def test_the_field_loads_dumps_and_reads_back_exactly() -> None:
    spec = symbp.load({**SPEC, "preprocessing": PRE})
    assert spec.preprocessing == Preprocessing(
        Standardize((1.5, -2.0, 0.1), (2.0, 0.5, 1 / 3), (4.0, 0.25, 1 / 9), 20),
        ("cat", "dog", "eel"),
    )
    text = to_yaml(spec)
    assert "preprocessing:" in text
    again = symbp.load(parse_yaml(text, name="t")[0])
    assert again == spec and again.hash == spec.hash
    assert symbp.load(spec.to_data()) == spec
    assert spec.hash != network_spec(spec).hash
    # whole-number labels stay whole numbers
    ints = symbp.load({**SPEC, "preprocessing": {"labels": [3, 1, 2]}})
    assert ints.preprocessing is not None and ints.preprocessing.labels == (3, 1, 2)
    assert ints.preprocessing.standardize is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([1], "preprocessing: expected a mapping, found list"),
        ({"scaling": {}}, "preprocessing.scaling: unknown field; expected standardize, labels"),
        (
            {"standardize": {"mean": [0, 0], "scale": [1, 1, 1]}},
            "preprocessing.standardize.mean: expected 3 numbers (one per input feature), found 2",
        ),
        (
            {"standardize": {"mean": [0, 0, 0], "scale": [1, 0, 1]}},
            "preprocessing.standardize.scale[1]: expected a positive number, found 0.0",
        ),
        (
            {"standardize": {"mean": [0, 0, 0]}},
            "preprocessing.standardize.scale: required field is missing",
        ),
        (
            {"standardize": {"mean": [0, "x", 0], "scale": [1, 1, 1]}},
            "preprocessing.standardize.mean[1]: expected a number, found 'x'",
        ),
        (
            {"standardize": {"mean": [0, 0, 0], "scale": [1, 1, 1], "var": [1, -1, 1]}},
            "preprocessing.standardize.var[1]: expected a non-negative number, found -1.0",
        ),
        (
            {"standardize": {"mean": [0, 0, 0], "scale": [1, 1, 1], "n_samples_seen": 0}},
            "preprocessing.standardize.n_samples_seen: expected a count >= 1, found 0",
        ),
        (
            {"labels": ["a", "b"]},
            "preprocessing.labels: expected 3 labels (one per output unit), found 2",
        ),
        (
            {"labels": ["a", "a", "b"]},
            "preprocessing.labels: expected distinct labels, found one twice",
        ),
        (
            {"labels": [1, "a", "b"]},
            "preprocessing.labels: expected labels all whole numbers or all texts, found both",
        ),
        (
            {"labels": [True, 1, 2]},
            "preprocessing.labels[0]: expected a whole number or a text label",
        ),
        (
            {"labels": [0.5, 1, 2]},
            "preprocessing.labels[0]: expected a whole number or a text label",
        ),
        (
            {"labels": ["a", "b", "x" * 201]},
            "preprocessing.labels[2]: expected a label of 1 to 200 characters, found 201",
        ),
    ],
)
def test_bad_preprocessing_is_one_line_naming_the_field(value: object, message: str) -> None:
    with pytest.raises(symbp.SpecError) as err:
        symbp.load({**SPEC, "preprocessing": value})
    assert str(err.value) == message


def test_bad_preprocessing_in_a_file_is_exit_2_with_its_line(tmp_path: Path, capsys) -> None:
    from symbp.cli import main

    path = tmp_path / "bad.yaml"
    path.write_text(
        "layers: [2, 2]\nactivations: softmax\nloss: cross_entropy\n"
        "preprocessing:\n  labels: [a]\n",
        encoding="utf-8",
    )
    assert main(["derive", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith(
        "bad.yaml:5: preprocessing.labels: expected 2 labels (one per output unit), found 1"
    )
    assert "Traceback" not in err


def test_a_trainer_applies_its_preprocessing_to_every_input() -> None:
    spec = symbp.load({**SPEC, "preprocessing": PRE})
    model, net = symbp.compile(spec), symbp.compile(SPEC)
    assert model.module_path == net.module_path  # the network's module, shared
    assert model.preprocessing == spec.preprocessing and net.preprocessing is None
    X = _X()
    mean, scale = np.array([1.5, -2.0, 0.1]), np.array([2.0, 0.5, 1 / 3])
    Z = (X - mean) / scale
    np.testing.assert_array_equal(model.predict(X), net.predict(Z))
    np.testing.assert_array_equal(model.predict_proba(X), net.predict(Z))
    expected = np.array(["cat", "dog", "eel"])[np.argmax(net.predict(Z), axis=1)]
    np.testing.assert_array_equal(model.predict_classes(X), expected)
    np.testing.assert_array_equal(net.predict_classes(Z), np.argmax(net.predict(Z), axis=1))
    T = np.eye(3)[np.arange(12) % 3]
    assert model.loss(X, T) == net.loss(Z, T)
    for a, b in zip(model.gradients(X, T)[0], net.gradients(Z, T)[0], strict=True):
        np.testing.assert_array_equal(a, b)
    model.fit(X, T, epochs=3, batch_size=4)
    net.fit(Z, T, epochs=3, batch_size=4)
    np.testing.assert_array_equal(model.params[0][0], net.params[0][0])
    # with_preprocessing copies the state; None gives the network back
    back = model.with_preprocessing(None)
    assert back.preprocessing is None and back.steps_done == model.steps_done == 9
    np.testing.assert_array_equal(back.predict(Z), model.predict(X))


def test_one_unit_outputs_map_to_two_labels_by_the_losss_threshold() -> None:
    spec = {
        "layers": [2, 3, 1],
        "activations": ["tanh", "sigmoid"],
        "loss": "bce",
        "init": {"name": "xavier_uniform", "seed": 1},
        "preprocessing": {"labels": ["no", "yes"]},
    }
    trainer = symbp.compile(spec)
    X = np.random.default_rng(2).normal(size=(30, 2)) * 4
    y = trainer.predict(X)[:, 0]
    np.testing.assert_array_equal(trainer.predict_classes(X), np.where(y >= 0.5, "yes", "no"))
    hinge = symbp.compile({**spec, "activations": ["tanh", "tanh"], "loss": "hinge"})
    y = hinge.predict(X)[:, 0]
    np.testing.assert_array_equal(hinge.predict_classes(X), np.where(y > 0, "yes", "no"))


def test_a_run_saved_before_the_field_loads_with_its_scaling_and_labels(tmp_path: Path) -> None:
    net = symbp.compile(SPEC)
    W, b = net.params
    mean, scale = np.array([1.0, 2.0, 3.0]), np.array([0.5, 4.0, 1.0])
    # an older run folder: the spec without preprocessing, the arrays beside it
    (tmp_path / "params.npz").write_bytes(
        rundir.params_npz(W, b, mean=mean, scale=scale, classes=np.array([0, 1, 2]), trainer=net)
    )
    loaded = symbp.load_trainer(tmp_path)
    assert loaded.preprocessing == Preprocessing(
        Standardize((1.0, 2.0, 3.0), (0.5, 4.0, 1.0)), (0, 1, 2)
    )
    X = _X()
    np.testing.assert_array_equal(loaded.predict(X), net.predict((X - mean) / scale))
    assert loaded.predict_classes(X).dtype.kind == "i"


def test_saved_arrays_hold_the_serving_table() -> None:
    trainer = symbp.compile({**SPEC, "preprocessing": PRE})
    arrays = trainer_arrays(trainer)
    assert arrays["activation_code"].tolist() == ["numpy.tanh(x)", "numpy.exp(x)"]
    assert arrays["activation_normalized"].tolist() == [False, True]
    assert arrays["labels"].tolist() == ["cat", "dog", "eel"]
    np.testing.assert_array_equal(arrays["x_scale"], [2.0, 0.5, 1 / 3])
    assert arrays["n_samples_seen"] == 20
    assert arrays["class_threshold"].size == 0
