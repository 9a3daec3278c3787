"""A trained network as an artifact: pickling, save/load, resume, export, torch keys,
and a compile cache keyed by the spec's content (never a stale kernel)."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import symbp
from symbp.cli import main

ROOT = Path(__file__).resolve().parents[1]
SPEC = {
    "name": "persist-2-3-2",
    "layers": [2, 3, 2],
    "activations": ["tanh", "softmax"],
    "loss": "cross_entropy",
    "optimizer": {"name": "adam", "learning_rate": 0.05},
    "init": {"name": "xavier_uniform", "seed": 3},
    "training": {"epochs": 4, "batch_size": 4, "shuffle": True, "seed": 1},
}


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(24, 2))
    T = np.eye(2)[(X[:, 0] * X[:, 1] > 0).astype(int)]
    return X, T


@pytest.mark.parametrize("path", sorted((ROOT / "examples").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_spec_pickles_as_data(path: Path) -> None:
    spec = symbp.load(path)
    twin = pickle.loads(pickle.dumps(spec))
    assert twin == spec and twin.hash == spec.hash and twin.path == spec.path
    assert copy.deepcopy(spec) == spec
    assert symbp.load(spec.to_data()) == spec


def test_a_replaced_spec_never_loads_another_networks_kernels() -> None:
    spec = symbp.load(SPEC)
    changed = dataclasses.replace(
        spec, activations=(symbp.load({**SPEC, "activations": ["sigmoid", "softmax"]}).activations)
    )
    assert changed.hash != spec.hash
    a, b = symbp.compile(spec), symbp.compile(changed)
    assert a.module_path != b.module_path
    X, _ = _data()
    W, bias = a.params
    b.params = (W, bias)
    hidden = np.tanh(X @ W[0].T + bias[0])
    assert not np.allclose(a.predict(X), b.predict(X))
    z = hidden @ W[1].T + bias[1]
    expected = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(a.predict(X), expected, rtol=1e-12)


def test_trainer_pickles_before_and_after_fit_and_resumes_identically() -> None:
    X, T = _data()
    trainer = symbp.compile(SPEC)
    fresh = pickle.loads(pickle.dumps(trainer))
    np.testing.assert_array_equal(fresh.predict(X), trainer.predict(X))
    trainer.fit(X, T, epochs=3)
    twin = pickle.loads(pickle.dumps(trainer))
    deep = copy.deepcopy(trainer)
    assert twin.epochs_done == deep.epochs_done == 3
    for other in (twin, deep):  # Adam's moments and the step counter carried over
        np.testing.assert_array_equal(other.predict(X), trainer.predict(X))
    trainer.fit(X, T, epochs=2, seed=5)
    twin.fit(X, T, epochs=2, seed=5)
    np.testing.assert_array_equal(twin.predict(X), trainer.predict(X))
    once = symbp.compile(SPEC)
    once.fit(X, T, epochs=3)
    once.fit(X, T, epochs=2, seed=5)
    np.testing.assert_array_equal(once.predict(X), trainer.predict(X))


def test_save_and_load_trainer_round_trip(tmp_path: Path) -> None:
    X, T = _data()
    trainer = symbp.compile(SPEC)
    trainer.fit(X, T, epochs=2)
    path = trainer.save(tmp_path / "net.npz")
    loaded = symbp.load_trainer(path)
    assert loaded.spec == trainer.spec and loaded.steps_done == trainer.steps_done == 12
    np.testing.assert_array_equal(loaded.predict(X), trainer.predict(X))
    for name, (W, b) in trainer.optimizer_state().items():
        lW, lb = loaded.optimizer_state()[name]
        for x, y in zip([*W, *b], [*lW, *lb], strict=True):
            np.testing.assert_array_equal(x, y)
    trainer.fit(X, T, epochs=1)
    loaded.fit(X, T, epochs=1)
    np.testing.assert_array_equal(loaded.predict(X), trainer.predict(X))


def test_fitted_estimator_predicts_identically_in_another_process(tmp_path: Path) -> None:
    joblib = pytest.importorskip("joblib")
    from sklearn.datasets import load_iris

    from symbp.train.estimator import SymbpClassifier

    X, y = load_iris(return_X_y=True)
    spec = {**SPEC, "layers": [None, 6, None], "init": {"name": "xavier_uniform", "seed": 0}}
    clf = SymbpClassifier(spec, standardize=True, random_state=0).fit(X, y)
    joblib.dump(clf, tmp_path / "clf.joblib")
    np.save(tmp_path / "X.npy", X)
    code = (
        "import joblib, numpy as np, sys; d = sys.argv[1]; "
        "clf = joblib.load(d + '/clf.joblib'); "
        "np.save(d + '/p.npy', clf.predict_proba(np.load(d + '/X.npy')))"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True, timeout=300)
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), clf.predict_proba(X))


def test_state_dict_has_nn_sequential_keys_and_loads_back() -> None:
    trainer = symbp.compile(SPEC)
    state = trainer.state_dict()
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert state["0.weight"].shape == (3, 2) and state["2.bias"].shape == (2,)
    other = symbp.compile(SPEC)
    other.load_state_dict({k: v * 2 for k, v in state.items()})
    np.testing.assert_array_equal(other.params[0][1], trainer.params[0][1] * 2)
    with pytest.raises(symbp.SymbpError, match=r"missing 2\.bias"):
        other.load_state_dict({k: v for k, v in state.items() if k != "2.bias"})
    with pytest.raises(symbp.SymbpError, match=r"shape \(3, 2\)"):
        other.load_state_dict({**state, "0.weight": np.zeros((2, 3))})


@pytest.mark.extras
def test_to_torch_builds_the_same_network() -> None:
    torch = pytest.importorskip("torch", reason="torch is an optional extra (symbp[torch])")
    X, T = _data()
    trainer = symbp.compile(SPEC)
    trainer.fit(X, T, epochs=2)
    model = symbp.to_torch(trainer)
    assert isinstance(model[1], torch.nn.Tanh) and isinstance(model[3], torch.nn.Softmax)
    out = model(torch.tensor(X)).detach().numpy()
    np.testing.assert_allclose(out, trainer.predict(X), rtol=1e-12, atol=1e-15)
    assert set(model.state_dict()) == set(trainer.state_dict())


def test_train_resume_and_export_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "iris.yaml"
    spec.write_text(
        "name: iris-net\nlayers: [null, 5, null]\nactivations: [tanh, softmax]\n"
        "loss: cross_entropy\noptimizer: {name: sgd, learning_rate: 0.1}\n"
        "training: {epochs: 3, batch_size: 16}\n",
        encoding="utf-8",
    )
    first, second = tmp_path / "r1", tmp_path / "r2"
    assert (
        main(["train", str(spec), "--data", "iris", "--standardize", "-o", str(first), "-q"]) == 0
    )
    assert capsys.readouterr().out == ""
    run = ["train", str(spec), "--data", "iris", "--standardize", "-o", str(second), "-q"]
    assert main([*run, "--init-from", str(first)]) == 0
    resumed = symbp.load_trainer(second)
    assert resumed.epochs_done == 6
    out = tmp_path / "trained.yaml"
    assert main(["export-spec", str(second), "-o", str(out), "-q"]) == 0
    exported = symbp.load(out)
    W, _ = resumed.params
    assert [float(v) for v in exported.W[0][0]] == W[0][0].tolist()  # exact round trip
    assert exported.layers == (4, 5, 3) and exported.init is None
    assert exported.preprocessing == resumed.preprocessing  # the scaling and labels, as data
    assert exported.preprocessing is not None and exported.preprocessing.labels == (0, 1, 2)


def test_os_errors_are_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    spec = str(ROOT / "examples" / "koech_3_4_1.yaml")
    assert main(["doc", spec, "--format", "md", "-o", str(blocker / "doc.md")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(blocker) in err and "Traceback" not in err
    digits = str(ROOT / "examples" / "digits_64_64_10.yaml")
    assert main(["train", digits, "--data", "digits", "-o", str(blocker)]) == 2
    assert "expected a folder" in capsys.readouterr().err


def test_doc_format_from_suffix_and_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = str(ROOT / "examples" / "koech_3_4_1.yaml")
    assert main(["doc", spec, "-o", str(tmp_path / "d.md"), "-q"]) == 0
    assert capsys.readouterr().out == ""
    text = (tmp_path / "d.md").read_text(encoding="utf-8")
    assert "# Back-propagation on a 3-4-1 network" in text
    assert main(["doc", spec, "-o", str(tmp_path / "d.html"), "--format", "md"]) == 2
    assert ".html name but --format is md" in capsys.readouterr().err
    assert main(["doc", spec, "--format", "md", "-o", "-"]) == 0
    assert capsys.readouterr().out == text


def test_help_imports_no_numerics() -> None:
    code = (
        "import sys\nfrom symbp.cli import main\n"
        "for argv in (['--help'], ['train', '--help'], ['doc', '--help']):\n"
        "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
        "heavy = [m for m in ('sympy', 'numpy', 'numba') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=60)
    run = subprocess.run(
        [sys.executable, "-m", "symbp", "--version"], capture_output=True, text=True, timeout=60
    )
    assert run.stdout.strip() == f"symbp {symbp.__version__}"


def test_a_saved_trainer_is_sized_before_it_is_decompressed(tmp_path: Path, monkeypatch) -> None:
    """A small archive whose members unpack to more than the stated limit is refused
    from the .npy headers; a corrupt archive is a one-line DataError, not a traceback."""
    import symbp.fileio
    from symbp.errors import DataError

    X, T = _data()
    path = symbp.compile(SPEC).save(tmp_path / "net.npz")
    bomb = tmp_path / "bomb.npz"
    np.savez_compressed(bomb, W_1=np.zeros((500, 500)), b_1=np.zeros(500))
    monkeypatch.setattr(symbp.fileio, "MAX_DATA_VALUES", 200_000)
    with pytest.raises(DataError, match=r"bomb\.npz: array W_1 has shape \(500, 500\) of float64"):
        symbp.load_trainer(bomb)
    assert symbp.load_trainer(path).predict(X).shape == T.shape  # under the limit
    broken = tmp_path / "broken.npz"
    broken.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataError, match=r"broken\.npz: cannot read as \.npz"):
        symbp.load_trainer(broken)
