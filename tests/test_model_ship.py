"""A trained model you can ship (issue 26 items 1 and 3): a digits model trained with
``symbp train --standardize`` predicts the same classes through every path —
``load_trainer``, pickle in a fresh process, ``to_torch``, ``export-onnx`` run by
onnxruntime, ``export-spec`` + ``compile`` and the NumPy-only :mod:`symbp.serving`."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import symbp
from symbp.cli import main
from symbp.serving import load_model, parse_activation

DIGITS = (
    "name: digits-ship\n"
    "layers: [null, 128, null]\n"
    "activations: [relu, softmax]\n"
    "loss: cross_entropy\n"
    "optimizer: {name: adam, learning_rate: 0.001}\n"
    "init: {name: xavier_uniform, seed: 0}\n"
    "training: {epochs: 40, batch_size: 32, shuffle: true, seed: 0}\n"
)


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray, np.ndarray]:
    """The run folder of ``symbp train --standardize`` on digits, and its raw test split."""
    from symbp.train.data import load_data
    from symbp.train.prepare import prepare, spec_for_data

    folder = tmp_path_factory.mktemp("ship")
    spec_path = folder / "digits.yaml"
    spec_path.write_text(DIGITS, encoding="utf-8")
    run = folder / "run"
    # split seed 3: its 270 test digits are scored 0.989 (seeds 0-2: 0.970-0.985)
    args = ["--data", "digits", "--standardize", "--seed", "3", "-o", str(run), "-q"]
    assert main(["train", str(spec_path), *args]) == 0
    spec, data = spec_for_data(spec_path, load_data("digits"))
    raw = prepare(data, spec, standardize=False, seed=3)  # the same seeded split, unscaled
    return run, raw.test.X, raw.classes[np.argmax(raw.test.T, axis=1)]  # type: ignore[index]


def test_every_path_predicts_the_same_classes(digits_run, tmp_path: Path) -> None:
    run, X, y = digits_run
    trainer = symbp.load_trainer(run)
    classes = trainer.predict_classes(X)
    outputs = trainer.predict(X)
    assert classes.dtype.kind == "i"
    assert np.mean(classes == y) >= 0.98

    # pickle, in a fresh process with an empty compile cache
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(trainer))
    np.save(tmp_path / "X.npy", X)
    code = (
        "import pickle, sys, numpy as np; d = sys.argv[1]; "
        "t = pickle.loads(open(d + '/model.pkl', 'rb').read()); "
        "np.save(d + '/c.npy', t.predict_classes(np.load(d + '/X.npy')))"
    )
    env = {"SYMBP_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, timeout=600, env=env)
    np.testing.assert_array_equal(np.load(tmp_path / "c.npy"), classes)

    # export-spec, then compile the exported spec
    exported = tmp_path / "trained.yaml"
    assert main(["export-spec", str(run), "-o", str(exported), "-q"]) == 0
    compiled = symbp.compile(exported)
    np.testing.assert_array_equal(compiled.predict(X), outputs)
    np.testing.assert_array_equal(compiled.predict_classes(X), classes)

    # NumPy only
    served = load_model(run)
    np.testing.assert_allclose(served.predict_proba(X), outputs, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(served.predict_classes(X), classes)


@pytest.mark.extras
def test_to_torch_includes_the_scaling_and_the_labels(digits_run) -> None:
    torch = pytest.importorskip("torch", reason="to_torch needs the torch extra")
    run, X, _ = digits_run
    trainer = symbp.load_trainer(run)
    model = symbp.to_torch(trainer)
    assert model.labels == list(range(10))
    assert set(model.state_dict()) == set(trainer.state_dict())  # the scaling is no parameter
    with torch.no_grad():
        out = model(torch.as_tensor(X)).numpy()
    np.testing.assert_allclose(out, trainer.predict(X), rtol=0, atol=1e-12)
    labels = np.asarray(model.labels)[out.argmax(axis=1)]
    np.testing.assert_array_equal(labels, trainer.predict_classes(X))


@pytest.mark.extras
@pytest.mark.parametrize(("dtype", "tolerance"), [("float64", 1e-12), ("float32", 1e-6)])
def test_export_onnx_runs_in_onnxruntime(
    digits_run, tmp_path: Path, dtype: str, tolerance: float
) -> None:
    pytest.importorskip("onnx", reason="export-onnx needs the onnx extra")
    ort = pytest.importorskip("onnxruntime", reason="the check runs the model in onnxruntime")
    run, X, _ = digits_run
    trainer = symbp.load_trainer(run, dtype=dtype)
    if dtype == "float64":
        path = tmp_path / "model.onnx"
        assert main(["export-onnx", str(run), "-o", str(path), "-q"]) == 0
        blob = path.read_bytes()
    else:
        blob = trainer.to_onnx().SerializeToString()
    session = ort.InferenceSession(blob, providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["Y", "label"]
    Y, label = session.run(None, {"X": X.astype(dtype)})
    assert Y.dtype == np.dtype(dtype)
    np.testing.assert_allclose(Y, trainer.predict(X), rtol=0, atol=tolerance)
    np.testing.assert_array_equal(label, trainer.predict_classes(X))
    meta = session.get_modelmeta().custom_metadata_map
    assert meta["labels"] == "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"


CATALOG = [
    (["sigmoid", {"name": "leaky_relu", "alpha": 0.1}, "softmax"], "cross_entropy", 3),
    (["relu", {"formula": "x*tanh(log(1+exp(x)))"}, "identity"], "half_sse", 2),
    (["tanh", {"formula": "max(x, 0.5*x)"}, "sigmoid"], "bce", 1),
]


@pytest.mark.extras
@pytest.mark.parametrize(("activations", "loss", "units"), CATALOG, ids=["lrelu", "mish", "bce"])
def test_onnx_and_serving_follow_the_activation_records(activations, loss, units, tmp_path) -> None:
    spec = {
        "layers": [4, 5, 5, units],
        "activations": activations,
        "loss": loss,
        "init": {"name": "xavier_uniform", "seed": 1},
    }
    if units == 1:
        spec["preprocessing"] = {"labels": ["neg", "pos"]}
    trainer = symbp.compile(spec)
    X = np.random.default_rng(3).normal(size=(40, 4)) * 3
    trainer.save(tmp_path / "m.npz")
    served = load_model(tmp_path / "m.npz")
    np.testing.assert_allclose(served.predict(X), trainer.predict(X), rtol=0, atol=1e-12)
    np.testing.assert_array_equal(served.predict_classes(X), trainer.predict_classes(X))
    pytest.importorskip("onnx", reason="export-onnx needs the onnx extra")
    ort = pytest.importorskip("onnxruntime", reason="the check runs the model in onnxruntime")
    session = ort.InferenceSession(
        trainer.to_onnx(tmp_path / "m.onnx").SerializeToString(),
        providers=["CPUExecutionProvider"],
    )
    outputs = session.run(None, {"X": X})
    np.testing.assert_allclose(outputs[0], trainer.predict(X), rtol=0, atol=1e-12)
    if units == 1:
        assert outputs[1].tolist() == trainer.predict_classes(X).tolist()
    assert (tmp_path / "m.onnx").read_bytes() == trainer.to_onnx().SerializeToString()


def test_serving_imports_neither_sympy_nor_numba(digits_run) -> None:
    run, _, _ = digits_run
    heavy = "('sympy', 'numba', 'torch', 'sklearn', 'scipy', 'yaml')"
    code = (
        "import sys, numpy as np; from symbp.serving import load_model; "
        "m = load_model(sys.argv[1]); "
        "print(m.predict_classes(np.zeros((2, 64))).tolist(), "
        f"sorted(k for k in {heavy} if k in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(run)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    classes, loaded = done.stdout.strip().rsplit("] ", 1)
    assert loaded == "[]"
    expected = symbp.load_trainer(run).predict_classes(np.zeros((2, 64))).tolist()
    assert classes + "]" == str(expected)


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "x.__class__",
        "numpy.load('f')",
        "(lambda: x)()",
        "[x for x in x]",
        "numpy.exp(x, out=x)",
        "math.erf(x)",
        "'a' * 3",
        "(" * 3000 + "x" + ")" * 3000,
        "",
    ],
)
def test_serving_evaluates_only_whitelisted_arithmetic(text: str) -> None:
    with pytest.raises(ValueError):
        parse_activation(text)


def test_a_tampered_activation_table_is_one_line_exit_2(digits_run, tmp_path: Path, capsys) -> None:
    run, _, _ = digits_run
    with np.load(run / "params.npz", allow_pickle=False) as archive:
        arrays = {k: archive[k] for k in archive.files}
    arrays["activation_code"] = np.array(["__import__('os')", "numpy.exp(x)"])
    np.savez(tmp_path / "bad.npz", **arrays)
    from symbp.errors import DataError

    with pytest.raises(DataError) as err:
        load_model(tmp_path / "bad.npz")
    assert str(err.value).endswith(
        "bad.npz: activation_code[0]: unknown function __import__; "
        "this activation has no NumPy form here"
    )


def test_export_onnx_without_onnx_is_one_line_exit_2(
    digits_run, tmp_path, monkeypatch, capsys
) -> None:
    run, _, _ = digits_run
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` raises ImportError
    out = tmp_path / "m.onnx"
    assert main(["export-onnx", str(run), "-o", str(out)]) == 2
    assert capsys.readouterr().err.strip() == (
        "symbp export-onnx: error: export-onnx needs the onnx package: pip install 'symbp[onnx]'"
    )
    assert not out.exists()


@pytest.mark.extras
def test_export_onnx_to_stdout_writes_the_same_bytes(digits_run, tmp_path, capsysbinary) -> None:
    pytest.importorskip("onnx", reason="export-onnx needs the onnx extra")
    run, _, _ = digits_run
    path = tmp_path / "m.onnx"
    assert main(["export-onnx", str(run), "-o", str(path), "-q"]) == 0
    capsysbinary.readouterr()
    assert main(["export-onnx", str(run), "-o", "-"]) == 0
    assert capsysbinary.readouterr().out == path.read_bytes()
