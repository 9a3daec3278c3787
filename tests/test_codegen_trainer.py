"""The Trainer API: parameters, fit semantics, callbacks, bad data, divergence, stability."""

from __future__ import annotations

import gc
import math

import numpy as np
import pytest
from numba.core import event

import symbp
from symbp.codegen import History, Trainer, compile
from symbp.codegen.check import relative_error
from symbp.errors import DataError, TrainingDiverged
from symbp.ops.initializers import draw_weights

CLASSIFIER = {
    "name": "classifier",
    "layers": [4, 6, 3],
    "activations": ["tanh", "softmax"],
    "loss": "cross_entropy",
    "optimizer": {
        "name": "momentum",
        "learning_rate": 0.2,
        "schedule": {"name": "exponential", "gamma": 0.9},
    },
    "init": {"name": "he_uniform", "seed": 5},
    "training": {"epochs": 4, "batch_size": 16, "shuffle": True, "seed": 3},
}


@pytest.fixture(scope="module")
def clf() -> Trainer:
    return compile(CLASSIFIER)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 4))
    labels = rng.integers(0, 3, 50)
    return X, np.eye(3)[labels], labels


@pytest.fixture(scope="module")
def binary() -> Trainer:
    return compile(
        {
            "layers": [2, 3, 1],
            "activations": "sigmoid",
            "loss": "bce",
            "optimizer": {"name": "sgd", "learning_rate": 0.5},
        }
    )


def test_starting_parameters_come_from_the_spec(clf: Trainer, binary: Trainer) -> None:
    W, b = clf.params
    expected = draw_weights("he_uniform", {}, (4, 6, 3), 5)
    assert [w.shape for w in W] == [(6, 4), (3, 6)] and [v.shape for v in b] == [(6,), (3,)]
    assert all((w == e).all() for w, e in zip(W, expected, strict=True))
    assert all((v == 0).all() for v in b)
    # no params and no init: xavier_uniform, seed 0
    W, _ = binary.params
    expected = draw_weights("xavier_uniform", {}, (2, 3, 1), 0)
    assert all((w == e).all() for w, e in zip(W, expected, strict=True))
    koech = compile("examples/koech_3_4_1_figure.yaml")
    assert koech.params[0][0][0, 0] == 0.179 and koech.params[0][1][0, 3] == -0.040


def test_params_can_be_set_and_are_validated(binary: Trainer) -> None:
    W = [np.full((3, 2), 0.25), np.array([[1.0, -1.0, 0.5]])]
    b = [np.array([0.1, 0.2, 0.3]), np.array([-0.5])]
    binary.params = (W, b)
    W2, b2 = binary.params
    assert all((x == y).all() for x, y in zip([*W, *b], [*W2, *b2], strict=True))
    W2[0][0, 0] = 99  # a copy, not a view
    assert binary.params[0][0][0, 0] == 0.25
    with pytest.raises(DataError, match=r"params\.W\[1\].*shape \(1, 3\)"):
        binary.params = ([*W[:1], np.ones((3, 1))], b)
    with pytest.raises(DataError, match="finite"):
        binary.params = (W, [b[0], np.array([np.nan])])
    with pytest.raises(DataError, match="2 weight matrices"):
        binary.params = (W[:1], b[:1])
    binary.reset()


def test_fit_takes_its_defaults_from_the_spec(clf: Trainer, data) -> None:
    X, T, _ = data
    clf.reset()
    history = clf.fit(X, T)
    per_epoch = math.ceil(50 / 16)
    assert isinstance(history, History)
    assert history.epochs == 4 and history.step_losses.shape == (4 * per_epoch,)
    sizes = np.array([16, 16, 16, 2] * 4)
    epochs = (history.step_losses * sizes).reshape(4, per_epoch).sum(axis=1) / 50
    np.testing.assert_allclose(history.epoch_losses, epochs, rtol=1e-12)
    assert clf.epochs_done == 4 and clf.steps_done == 4 * per_epoch
    assert history.epoch_losses[-1] < history.epoch_losses[0]


def test_callback_sees_every_epoch_and_can_stop(clf: Trainer, data) -> None:
    X, T, _ = data
    clf.reset()
    reference = clf.fit(X, T, epochs=5)
    W_ref, _ = clf.params
    clf.reset()
    seen = []

    def callback(epoch: int, trainer: Trainer, history: History) -> None:
        seen.append((epoch, history.epochs, len(history.step_losses)))
        history.log("val", trainer.loss(X[:10], T[:10]))

    history = clf.fit(X, T, epochs=5, callback=callback)
    assert seen == [(e, e, 4 * e) for e in range(1, 6)]
    assert len(history.metrics["val"]) == 5
    # epoch by epoch, as one call: the same steps (shuffling included)
    np.testing.assert_array_equal(history.step_losses, reference.step_losses)
    assert relative_error(clf.params[0], W_ref) == 0
    clf.reset()
    history = clf.fit(X, T, epochs=10, callback=lambda e, tr, h: e == 3)
    assert history.epochs == 3 and history.stopped_early and clf.epochs_done == 3


def test_shuffling_is_seeded(clf: Trainer, data) -> None:
    X, T, _ = data
    runs = {}
    for seed in (1, 1, 2):
        clf.reset()
        runs.setdefault(seed, []).append(clf.fit(X, T, epochs=2, seed=seed).step_losses)
    np.testing.assert_array_equal(runs[1][0], runs[1][1])
    assert not np.array_equal(runs[1][0], runs[2][0])
    clf.reset()
    plain = clf.fit(X, T, epochs=1, shuffle=False).step_losses
    clf.reset()
    assert plain[0] == pytest.approx(clf.loss(X[:16], T[:16]), rel=1e-14)


def test_training_continues_across_calls(clf: Trainer, data) -> None:
    X, T, _ = data
    clf.reset()
    once = clf.fit(X, T, epochs=4, shuffle=False)
    W_once = clf.params[0]
    clf.reset()
    first = clf.fit(X, T, epochs=2, shuffle=False)
    second = clf.fit(X, T, epochs=2, shuffle=False)  # schedule and momentum carry on
    np.testing.assert_allclose(
        np.concatenate([first.step_losses, second.step_losses]), once.step_losses, rtol=1e-14
    )
    assert relative_error(clf.params[0], W_once) < 1e-14
    clf.reset()


def test_class_labels_are_one_hot_targets(clf: Trainer, data) -> None:
    X, T, labels = data
    clf.reset()
    assert clf.loss(X, labels) == clf.loss(X, T)
    gW, gb = clf.gradients(X, labels)
    hW, hb = clf.gradients(X, T)
    assert relative_error([*gW, *gb], [*hW, *hb]) == 0


def test_predict_gives_one_row_per_example(clf: Trainer, data) -> None:
    X, _, _ = data
    clf.reset()
    Y = clf.predict(X)
    assert Y.shape == (50, 3) and Y.dtype == np.float64
    np.testing.assert_allclose(Y.sum(axis=1), 1.0, rtol=1e-14)
    single = clf.predict(X[:1])
    np.testing.assert_array_equal(single, Y[:1])


def test_predict_and_loss_run_in_threads_at_once(clf: Trainer, data) -> None:
    """Threads share one trainer's parameters but not a workspace: each answer is
    the one a lone call gives (the kernel releases the GIL, so the calls overlap)."""
    from concurrent.futures import ThreadPoolExecutor

    X, T, _ = data
    clf.reset()
    rng = np.random.default_rng(1)
    inputs = [rng.normal(size=(300, 4)) for _ in range(8)]
    alone = [clf.predict(x) for x in inputs]
    loss_alone = clf.loss(X, T)
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(clf.predict, inputs * 4))
        losses = list(pool.map(lambda _: clf.loss(X, T), range(16)))
    for i, Y in enumerate(together):
        np.testing.assert_array_equal(Y, alone[i % 8])
    assert losses == [loss_alone] * 16


def test_float32_trainer_agrees_with_float64(data) -> None:
    X, T, _ = data
    f64, f32 = compile(CLASSIFIER), compile(CLASSIFIER, dtype="float32")
    assert f32.dtype == np.float32 and f32.params[0][0].dtype == np.float32
    assert f32.predict(X).dtype == np.float32
    np.testing.assert_allclose(f32.predict(X), f64.predict(X), rtol=1e-5, atol=1e-6)
    assert f32.loss(X, T) == pytest.approx(f64.loss(X, T), rel=1e-5)
    h32 = f32.fit(X, T, epochs=3, shuffle=False)
    h64 = f64.fit(X, T, epochs=3, shuffle=False)
    np.testing.assert_allclose(h32.step_losses, h64.step_losses, rtol=1e-4)
    f64.reset()


@pytest.mark.parametrize(
    ("X", "T", "message"),
    [
        (np.ones(4), np.ones((1, 3)), r"X: expected a 2-D array .*X.reshape\(1, -1\)"),
        (np.ones((5, 3)), np.ones((5, 3)), r"X: expected 4 columns"),
        (np.ones((0, 4)), np.ones((0, 3)), r"X: expected at least one example"),
        (np.array([["a"] * 4]), np.ones((1, 3)), r"X: expected an array of numbers"),
        (np.array([[1.0, np.nan, 0, 0]]), np.eye(3)[:1], r"X: row 0, column 1 holds nan"),
        (np.ones((2, 4)), np.ones((3, 3)) / 3, r"T: expected 2 rows"),
        (np.ones((2, 4)), np.ones((2, 2)), r"T: expected shape \(2, 3\)"),
        (np.ones((2, 4)), np.array([[0, np.inf, 0], [0, 1, 0]]), r"T: row 0, column 1 holds inf"),
        (np.ones((2, 4)), np.array([[0, 1.5, 0], [0, 1, 0]]), r"cross_entropy needs targets in"),
        (np.ones((2, 4)), np.array([0, 3]), r"class label 3 in row 1 is out of range 0\.\.2"),
    ],
)
def test_bad_data_is_refused_before_training(clf: Trainer, X, T, message: str) -> None:
    before = clf.params
    with pytest.raises(DataError, match=message):
        clf.fit(X, T, epochs=1)
    assert relative_error(clf.params[0], before[0]) == 0


def test_bad_training_arguments_and_targets(clf: Trainer, binary: Trainer, data) -> None:
    X, T, _ = data
    with pytest.raises(DataError, match="batch_size: expected a whole number >= 1"):
        clf.fit(X, T, batch_size=0)
    with pytest.raises(DataError, match="epochs"):
        clf.fit(X, T, epochs=-1)
    with pytest.raises(DataError, match="bce needs targets in"):
        binary.fit(np.ones((2, 2)), np.array([0.5, 2.0]))
    hinge = compile({"layers": [2, 1], "activations": "tanh", "loss": "hinge"})
    with pytest.raises(DataError, match="targets -1 or 1"):
        hinge.fit(np.ones((2, 2)), np.array([1.0, 0.5]))


def test_divergence_stops_with_the_epoch_step_and_last_loss() -> None:
    trainer = compile(
        {
            "layers": [1, 1],
            "activations": "identity",
            "loss": "half_sse",
            "optimizer": {"name": "sgd", "learning_rate": 3},
            "params": {"W": [[[1.0]]]},
        }
    )
    X, T = np.array([[2.0], [-1.5], [3.0]]), np.array([[1.0], [0.0], [1.0]])
    with pytest.raises(TrainingDiverged) as info:
        trainer.fit(X, T, epochs=100_000, batch_size=1)
    message = str(info.value)
    assert "the loss became inf" in message or "the loss became nan" in message
    assert f"epoch {info.value.epoch}, step {info.value.step}" in message
    history = info.value.history
    assert history.step_losses.size > 10 and np.isfinite(history.step_losses).all()
    assert f"last finite loss: {history.step_losses[-1]:.6g}" in message
    assert all(np.isfinite(p).all() for p in [*trainer.params[0], *trainer.params[1]])
    assert info.value.exit_code == 1


def test_a_nan_weight_reaches_the_loss_through_relu() -> None:
    """relu(NaN) is NaN, as in NumPy, PyTorch and JAX: a NaN weight makes the loss NaN and
    training stops at once (max(0, NaN) = 0 would hide it and train on)."""
    trainer = compile(
        {
            "layers": [2, 3, 1],
            "activations": ["relu", "sigmoid"],
            "loss": "bce",
            "init": {"name": "he_uniform", "seed": 1},
        }
    )
    X, T = np.array([[1.0, 2.0], [0.5, -1.0]]), np.array([[1.0], [0.0]])
    trainer.reset()
    trainer._params[0] = np.nan  # W_1[0, 0], past the checks of .params
    assert np.isnan(trainer.predict(X)).all()
    with pytest.raises(TrainingDiverged, match="the loss became nan") as info:
        trainer.fit(X, T, epochs=3, batch_size=2)
    assert (info.value.epoch, info.value.step) == (1, 1)


def test_saturated_units_stay_finite(binary: Trainer) -> None:
    """Pre-activations of ±1e4: logits-based BCE and log-sum-exp, no NaN or Inf."""
    W = [np.zeros((3, 2)), np.zeros((1, 3))]
    binary.params = (W, [np.zeros(3), np.array([-1e4])])
    X = np.zeros((1, 2))
    assert binary.loss(X, np.array([[1.0]])) == 1e4  # -log σ(-1e4) = 1e4
    assert binary.loss(X, np.array([[0.0]])) == 0.0
    _, gb = binary.gradients(X, np.array([[1.0]]))
    assert gb[1][0] == -1.0  # a - t
    binary.reset()
    softmax = compile({"layers": [1, 3], "activations": "softmax", "loss": "cross_entropy"})
    softmax.params = ([np.zeros((3, 1))], [np.array([1e4, -1e4, 0.0])])
    assert softmax.loss(np.zeros((1, 1)), np.array([[0.0, 1.0, 0.0]])) == 2e4
    _, gb = softmax.gradients(np.zeros((1, 1)), np.array([[0.0, 1.0, 0.0]]))
    np.testing.assert_array_equal(gb[0], [1.0, -1.0, 0.0])


def test_frozen_parameters_have_gradients_but_do_not_move() -> None:
    trainer = compile(
        {
            "layers": [2, 2, 1],
            "frozen": ["W[0]", "b"],
            "optimizer": {"name": "adam", "learning_rate": 0.1},
        }
    )
    X, T = np.array([[0.5, -1.0], [1.0, 0.25]]), np.array([[0.2], [0.9]])
    W0, _b0 = trainer.params
    gW, _ = trainer.gradients(X, T)
    assert np.abs(gW[0]).max() > 0
    trainer.fit(X, T, epochs=3)
    W1, b1 = trainer.params
    assert (W1[0] == W0[0]).all() and all((v == 0).all() for v in b1)
    assert not (W1[1] == W0[1]).all()


def test_reprs_name_the_network(clf: Trainer) -> None:
    assert repr(clf) == "Trainer('classifier', layers 4-6-3, float64, 0 epochs trained)"
    assert repr(History(3, 1)) == "History(0 epochs, 0 steps)"
    assert symbp.compile is compile


def test_the_collector_is_paused_while_a_kernel_compiles_and_only_then(tmp_path) -> None:
    """A new trainer's first fit compiles its kernel with no garbage collection (each
    one walks the whole heap: 0.2-0.4 s of a W2 compile); the collector runs again
    after it, also when the fit raises."""
    trainer = compile(
        {
            "name": "collector-pause",
            "layers": [3, 5, 2],
            "activations": ["leaky_relu", "softmax"],
            "loss": "cross_entropy",
            "optimizer": {"name": "sgd", "learning_rate": 0.1},
        },
        out_dir=tmp_path,  # a new file: not in Numba's cache, so it compiles
    )
    assert trainer._module.train.signatures == []  # not compiled yet
    collector_on: list[bool] = []  # at the start of each Numba compile

    class Compiles(event.Listener):
        def on_start(self, data: event.Event) -> None:
            collector_on.append(gc.isenabled())

        def on_end(self, data: event.Event) -> None:
            pass

    X, T = np.ones((4, 3)), np.eye(2)[[0, 1, 0, 1]]
    with event.install_listener("numba:compile", Compiles()):
        trainer.fit(X, T, epochs=1, batch_size=2)
    assert trainer._module.train.signatures != []  # it compiled
    assert collector_on and not any(collector_on) and gc.isenabled()
    with pytest.raises(DataError):
        trainer.fit(X, T, epochs=-1)
    assert gc.isenabled()


@pytest.mark.parametrize("signatures", [[], ["(float64[::1],)"]])
def test_the_collector_pause_leaves_a_compiled_or_disabled_state_alone(signatures) -> None:
    from symbp.codegen.trainer import _compiling

    class Kernel:
        pass

    kernel = Kernel()
    kernel.signatures = signatures  # type: ignore[attr-defined]
    with _compiling(kernel):
        assert gc.isenabled() is bool(signatures)
    assert gc.isenabled()
    with pytest.raises(RuntimeError), _compiling(kernel):
        raise RuntimeError("a failed compile")
    assert gc.isenabled()
    gc.disable()
    try:
        with _compiling(kernel):
            assert not gc.isenabled()
        assert not gc.isenabled()  # the caller's choice stands
    finally:
        gc.enable()
    with _compiling(lambda: None):  # a plain Python kernel (NUMBA_DISABLE_JIT)
        assert gc.isenabled()
