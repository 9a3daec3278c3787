"""Conv nets through the trainer's and the estimators' API: ``fit`` takes X as
(n, C, H, W) or flattened (n, C·H·W); ``params`` gives conv kernels (out, in, kh, kw) and
``None`` for layers without parameters; save/load and pickling keep every number; the
scikit-learn estimators train conv specs; the stages not built for conv nets (ONNX
export, ``export-spec``, NumPy serving) refuse with one line."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from conv_kernel_cases import CASES, inputs, spec_of

import symbp
from symbp import serving
from symbp.codegen.export import trained_spec_yaml
from symbp.errors import DataError, SpecError


def test_params_shapes_and_the_spec_numbers() -> None:
    data = spec_of(CASES[2])  # conv, conv, flatten, dense, dense
    trainer = symbp.compile(data)
    W, b = trainer.params
    assert [None if w is None else w.shape for w in W] == [
        (2, 2, 3, 3),
        (3, 2, 2, 2),
        None,
        (3, 12),
        (1, 3),
    ]
    assert [None if v is None else v.shape for v in b] == [(2,), (3,), None, (3,), (1,)]
    want = np.array(data["params"]["W"][1], dtype=object).astype(np.float64)
    np.testing.assert_array_equal(W[1], want)
    with pytest.raises(DataError, match=r"params\.W\[2\]: expected None"):
        trainer.params = ([*W[:2], np.zeros(3), *W[3:]], b)
    with pytest.raises(DataError, match=r"params\.W\[0\]: expected an array of numbers of shape"):
        trainer.params = ([np.zeros((2, 2, 3)), *W[1:]], b)


def test_drawn_parameters_use_each_layers_fans() -> None:
    data = spec_of(CASES[0])
    del data["params"]
    data["init"] = {"name": "he_uniform", "seed": 5}
    trainer = symbp.compile(data)
    W, b = trainer.params
    assert W[0].shape == (2, 1, 2, 2) and W[3].shape == (1, 8)
    assert np.abs(W[0]).max() <= np.sqrt(6 / 4)  # fan_in = C*kh*kw = 4
    assert np.abs(W[3]).max() <= np.sqrt(6 / 8)
    assert W[0].std() > 0 and b[0].tolist() == [0.0, 0.0]
    again = symbp.compile(data).params[0]
    np.testing.assert_array_equal(again[0], W[0])  # seeded


def test_save_load_and_pickle_keep_every_number(tmp_path: Path) -> None:
    data = spec_of(CASES[1], optimizer={"name": "adam", "learning_rate": 0.01})
    trainer = symbp.compile(data)
    X, T = inputs(data)
    trainer.fit(X, T, epochs=2, batch_size=2)
    path = trainer.save(tmp_path / "conv.npz")
    for copy in (symbp.load_trainer(path), pickle.loads(pickle.dumps(trainer))):
        assert copy.steps_done == trainer.steps_done == 4
        np.testing.assert_array_equal(copy.predict(X), trainer.predict(X))
        state = copy.optimizer_state()
        assert sorted(state) == ["state_m", "state_v"]
        first = state["state_m"][0]
        assert first[1] is None and first[0].shape == (3, 2, 3, 3)
    loaded = symbp.load_trainer(path)
    for t in (loaded, trainer):  # Adam's state came along: the next steps agree too
        t.fit(X, T, epochs=1, batch_size=2, shuffle=False)
    np.testing.assert_array_equal(loaded.predict(X), trainer.predict(X))


def test_estimators_train_conv_specs_on_maps_or_rows() -> None:
    pytest.importorskip("sklearn", reason="the estimators need scikit-learn")
    from sklearn.datasets import load_digits

    digits = load_digits()
    X, y = digits.data[:400] / 16, digits.target[:400]
    spec = {
        "name": "digits-conv-small",
        "input": [1, 8, 8],
        "layers": [
            {"conv": 4, "kernel": 3, "activation": "relu"},
            {"pool": "max", "size": 2},
            "flatten",
            {"dense": 10, "activation": "softmax"},
        ],
        "loss": "cross_entropy",
        "optimizer": {"name": "adam", "learning_rate": 0.01},
        "init": {"name": "he_uniform", "seed": 1},
    }
    rows = symbp.SymbpClassifier(spec, epochs=15, batch_size=32, tol=None).fit(X[:300], y[:300])
    maps = symbp.SymbpClassifier(spec, epochs=15, batch_size=32, tol=None)
    maps.fit(X[:300].reshape(-1, 1, 8, 8), y[:300])
    np.testing.assert_array_equal(
        maps.predict_proba(X[300:].reshape(-1, 1, 8, 8)), rows.predict_proba(X[300:])
    )
    assert rows.score(X[300:], y[300:]) >= 0.8
    # maps must be shaped as the spec's input: channels first, not merely the right count
    with pytest.raises(
        ValueError, match=r"expected examples of shape \(1, 8, 8\) .*shape \(8, 8, 1\)"
    ):
        maps.predict(X[300:].reshape(-1, 8, 8, 1))
    with pytest.raises(
        ValueError, match=r"or rows of 64 values, found examples of shape \(8, 1, 8\)"
    ):
        symbp.SymbpClassifier(spec, epochs=1).fit(X[:50].reshape(-1, 8, 1, 8), y[:50])
    regressor = symbp.SymbpRegressor(
        {**spec, "layers": [*spec["layers"][:3], {"dense": 1}], "loss": "mse"},
        epochs=5,
        tol=None,
    )
    regressor.fit(X[:300], y[:300] / 9)
    assert regressor.predict(X[300:]).shape == (100,)


def test_stages_not_built_for_conv_refuse_with_one_line(tmp_path: Path) -> None:
    data = spec_of(CASES[0])
    trainer = symbp.compile(data)
    path = trainer.save(tmp_path / "conv.npz")
    every = "derive, eval, verify, doc, check, exercises, compile and train are"
    with pytest.raises(SpecError, match=f"ONNX exports of conv/pool/flatten layers .*; {every}"):
        trainer.to_onnx(tmp_path / "x.onnx")
    with pytest.raises(SpecError, match="exported specs of conv/pool/flatten layers"):
        trained_spec_yaml(path)
    with pytest.raises(DataError, match="serving predicts networks of dense layers"):
        serving.load_model(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["conv.npz"]


DIGITS_CONV = """\
name: digits-conv-cli
input: [1, 8, 8]
layers:
  - {conv: 4, kernel: 3, activation: relu}
  - {pool: max, size: 2}
  - flatten
  - {dense: 10, activation: softmax}
loss: cross_entropy
optimizer: {name: adam, learning_rate: 0.01}
init: {name: he_uniform, seed: 2}
training: {epochs: 2, batch_size: 32}
"""


def test_compile_and_train_commands_take_conv_specs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from symbp.cli import main

    spec = tmp_path / "digits_conv.yaml"
    spec.write_text(DIGITS_CONV, encoding="utf-8")
    assert main(["compile", str(spec), "-o", str(tmp_path / "mod")]) == 0
    module = (tmp_path / "mod" / "digits_conv_cli.py").read_text(encoding="utf-8")
    assert "# layer 1: z_1 = conv(a_0, W_1) + b_1, a_1 = relu(z_1)" in module
    assert '("W", 1, 0, (4, 1, 3, 3)),' in module
    capsys.readouterr()
    code = main(["train", str(spec), "--data", "digits", "-o", str(tmp_path / "run")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "test accuracy" in out
    files = sorted(p.name for p in (tmp_path / "run").iterdir() if not p.name.startswith("."))
    assert "params.npz" in files and "metrics.json" in files and "sensitivity.csv" not in files
    trained = symbp.load_trainer(tmp_path / "run")
    assert trained.params[0][0].shape == (4, 1, 3, 3) and trained.epochs_done == 2


def test_regenerate_emits_conv_modules_deterministically() -> None:
    """``python -m symbp.regenerate`` renders ``generated/<example>.py`` for every
    ``examples/*.yaml`` through ``codegen.shipped_outputs``: conv examples included."""
    from symbp.codegen import shipped_outputs

    spec = Path(__file__).resolve().parent / "data" / "conv_1x5x5.yaml"
    first = shipped_outputs([spec])
    # the example's module, then the piecewise kernel's built-in pieces (every dtype)
    assert list(first) == [
        "generated/conv_1x5x5.py",
        "symbp/codegen/builtin/pieces_float64.py",
        "symbp/codegen/builtin/pieces_float32.py",
    ]
    text = first["generated/conv_1x5x5.py"]
    assert text.startswith("# Generated by symbp ")
    assert "    python -m symbp.regenerate\n" in text
    assert "Layer 2: a_2 = max-pool 2x2 of a_1 (stride 2), 2x2x2." in text
    assert shipped_outputs([spec]) == first
