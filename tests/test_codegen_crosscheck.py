"""Generated kernels against the exact symbolic evaluator.

For every shipped example and every catalogue network (every activation, loss,
optimiser, schedule, weight decay, frozen parameters): the kernel's loss and gradients
equal the exact values (relative 1e-12 in float64, the scale being the largest exact
gradient), and ``fit`` with full-batch steps follows the evaluator's trajectory: the
loss of every step and the parameters after the last. The path of large layers
(products on every core, the plain gradient step folded into the gradient product) is
checked the same way by lowering its size threshold, and chunked batches against
single-chunk results.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import catalog
import numpy as np
import pytest

import symbp
from symbp.codegen import Trainer, compile, emit, loader
from symbp.codegen.check import exact_run, examples_arrays, relative_error
from symbp.stages import trainer_takes
from symbp.symbolic.network_run import run_network

ROOT = Path(__file__).resolve().parent.parent
#: The shipped examples whose network the generated trainer takes (the others ship no module).
EXAMPLES = [p for p in sorted((ROOT / "examples").glob("*.yaml")) if trainer_takes(symbp.load(p))]
STEPS = 3
RTOL = 1e-12
#: Entries whose exact values stay rational and grow fast (a cubic activation triples
#: the digits every step; step 3 takes ~50 s to evaluate exactly).
FEWER_STEPS = {"formula_softsign_cubic": 2}


def small_parallel_trainer(spec: symbp.Spec, tmp: Path) -> Trainer:
    """A trainer whose every layer takes the large-layer path (threshold lowered to 1)."""
    text = emit.render(spec, "float64", parallel_min_weights=1)
    path = loader.write(text, tmp / f"parallel_{loader.text_key(text)}.py")
    return Trainer(spec, loader.import_module(path), "float64", path)


def assert_follows_evaluator(trainer: Trainer, spec: symbp.Spec, steps: int = STEPS) -> None:
    X, T = examples_arrays(spec)
    exact = exact_run(spec, steps)
    trainer.reset()
    gW, gb = trainer.gradients(X, T)
    assert relative_error([*gW, *gb], [*exact.grad_W[0], *exact.grad_b[0]]) <= RTOL
    assert trainer.loss(X, T) == pytest.approx(exact.losses[0], rel=RTOL, abs=1e-300)
    history = trainer.fit(X, T, epochs=steps, batch_size=len(X), shuffle=False)
    np.testing.assert_allclose(history.step_losses, exact.losses[:steps], rtol=RTOL, atol=1e-300)
    W, b = trainer.params
    assert relative_error([*W, *b], [*exact.W[steps], *exact.b[steps]]) <= RTOL
    trainer.reset()


def with_example(spec: symbp.Spec) -> symbp.Spec:
    """A spec without a worked example, given one (inputs 0..1 in steps of 1/16, one-hot t)."""
    rng = np.random.default_rng(0)
    x = [int(v) / 16 for v in rng.integers(0, 17, spec.layers[0])]
    t = [1.0 if i == 1 % spec.layers[-1] else 0.0 for i in range(spec.layers[-1])]
    return symbp.load({**spec.data, "examples": [{"x": x, "t": t}]})


def _nested(values: Any) -> list[np.ndarray]:
    """The exact run's nested parameters or gradients as arrays, ``None`` layers left out."""
    return [np.array(v, dtype=object).astype(np.float64) for v in values if v is not None]


def assert_follows_network_run(trainer: Trainer, spec: symbp.Spec, steps: int = STEPS) -> None:
    """The generated trainer of a network with feature maps against the exact run of its
    layer records (:func:`symbp.symbolic.network_run.run_network`): the first step's
    gradients, the loss of every step and the parameters after the last, to 1e-12."""
    X = np.array([[float(v) for v in e.x] for e in spec.examples])  # flat, (c, i, j) order
    T = np.array([[float(v) for v in e.t] for e in spec.examples])
    run = run_network(spec, steps)
    first = run.steps[0].evaluation
    trainer.reset()
    gW, gb = trainer.gradients(X, T)
    got = [g for g in [*gW, *gb] if g is not None]
    assert relative_error(got, [*_nested(first.grad_W), *_nested(first.grad_b)]) <= RTOL
    history = trainer.fit(X, T, epochs=steps, batch_size=len(X), shuffle=False)
    exact = [float(s.evaluation.loss) for s in run.steps[:steps]]
    np.testing.assert_allclose(history.step_losses, exact, rtol=RTOL, atol=1e-300)
    W, b = trainer.params
    last = run.steps[steps]
    got = [p for p in [*W, *b] if p is not None]
    assert relative_error(got, [*_nested(last.W), *_nested(last.b)]) <= RTOL
    trainer.reset()


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_shipped_example_matches_evaluator(path: Path) -> None:
    spec = symbp.load(path)
    if spec.recurrence is not None:  # sequences: the exact run of the recurrent engine
        from recurrent_cases import assert_follows_recurrent_run

        assert_follows_recurrent_run(compile(spec), spec)
        return
    if not spec.dense_only:  # feature maps: the exact run of the layer records
        assert_follows_network_run(compile(spec), spec, 2)
        return
    steps = STEPS
    if not spec.examples:  # a training spec (digits): one example, two exact steps
        spec, steps = with_example(spec), 2
    assert_follows_evaluator(compile(spec), spec, steps)


@pytest.mark.parametrize("name", catalog.names())
def test_catalogue_matches_evaluator(name: str) -> None:
    spec = symbp.load(catalog.spec(name))
    assert_follows_evaluator(compile(spec), spec, FEWER_STEPS.get(name, STEPS))


def test_koech_outputs_follow_the_article() -> None:
    """Seed 001 prints ŷ after each of its SGD steps: 0.521 0.648 0.758 0.836 0.881 …"""
    trainer = compile(ROOT / "examples" / "koech_3_4_1.yaml")
    X, T = examples_arrays(trainer.spec)
    outputs = []
    for _ in range(7):
        outputs.append(round(float(trainer.predict(X)[0, 0]), 3))
        trainer.fit(X, T, epochs=1, batch_size=1)
    assert outputs == [0.521, 0.648, 0.758, 0.836, 0.881, 0.908, 0.925]


@pytest.mark.parametrize(
    "name",
    ["softmax_cross_entropy", "sgd_weight_decay", "adam", "frozen_params", "deep_tanh_sigmoid_bce"],
)
def test_parallel_path_matches_evaluator(name: str, tmp_path: Path) -> None:
    spec = symbp.load(catalog.spec(name))
    trainer = small_parallel_trainer(spec, tmp_path)
    text = trainer.module_path.read_text()
    assert "gemm_acc_par(" in text and "gemm_acc(" not in text
    assert_follows_evaluator(trainer, spec)


@pytest.fixture(scope="module")
def wide() -> tuple[Trainer, np.ndarray, np.ndarray]:
    spec = symbp.load(
        {
            "layers": [5, 7, 3],
            "activations": ["tanh", "softmax"],
            "loss": "cross_entropy",
            "optimizer": {"name": "sgd", "learning_rate": 0.3},
            "init": {"name": "xavier_normal", "seed": 4},
        }
    )
    rng = np.random.default_rng(7)
    X = rng.normal(size=(700, 5))
    T = np.eye(3)[rng.integers(0, 3, 700)]
    return compile(spec), X, T


def numpy_forward(W: list, b: list, X: np.ndarray) -> np.ndarray:
    """tanh hidden layers and a softmax output, in NumPy (W[l] of shape (out, in))."""
    a = X
    for l, (Wl, bl) in enumerate(zip(W, b, strict=True)):
        z = a @ Wl.T + bl
        a = np.tanh(z) if l < len(W) - 1 else np.exp(z - z.max(axis=1, keepdims=True))
    return a / a.sum(axis=1, keepdims=True)


def test_predict_over_several_chunks_matches_numpy(wide) -> None:
    trainer, X, _ = wide
    assert len(X) > 2 * emit.CHUNK  # three chunks, the last one short
    trainer.reset()
    np.testing.assert_allclose(trainer.predict(X), numpy_forward(*trainer.params, X), rtol=1e-13)


def test_gradients_and_predict_tasks_agree_with_the_training_steps() -> None:
    """The kernel's three tasks on one network with a kept copy W_l and Adam: the loss and
    gradient of the GRADIENT task, put through Adam's first step by hand, give the
    parameters one training step gives; PREDICT gives the outputs that stay in the
    workspace's a_3 under the name BUFFERS gives it."""
    spec = symbp.load(
        {
            "layers": [6, 20, 12, 3],
            "activations": ["tanh", "tanh", "softmax"],
            "loss": "cross_entropy",
            "optimizer": {"name": "adam", "learning_rate": 0.01},
            "init": {"name": "xavier_uniform", "seed": 3},
        }
    )
    trainer = compile(spec)
    module = trainer._module
    assert "transpose_into(WT_2, W_2)" in trainer.module_path.read_text()  # a kept copy
    rng = np.random.default_rng(5)
    X, T = rng.normal(size=(10, 6)), np.eye(3)[rng.integers(0, 3, 10)]
    trainer.reset()
    params = trainer._params.copy()
    grads, ws = np.zeros_like(params), module.workspace()
    loss = module.gradients(params, grads, ws, X, T)
    fused = trainer.fit(X, T, epochs=1, batch_size=10, shuffle=False).step_losses
    assert loss == pytest.approx(fused[0], rel=RTOL)
    m_hat, v_hat = 0.1 * grads / (1 - 0.9), 0.001 * grads**2 / (1 - 0.999)
    expected = params - 0.01 * m_hat / (np.sqrt(v_hat) + 1e-8)
    assert relative_error(trainer._params, expected) <= RTOL
    out = np.empty((10, 3))
    module.predict(trainer._params, ws, X, out)
    np.testing.assert_allclose(out, numpy_forward(*trainer.params, X), rtol=1e-13)
    a_3 = dict(zip(module.BUFFERS, module.buffers(ws), strict=True))["a_3"]
    np.testing.assert_array_equal(a_3[:10], out)


def test_chunked_gradient_is_the_weighted_mean_of_chunks(wide) -> None:
    trainer, X, T = wide
    assert len(X) > emit.CHUNK  # the kernel accumulates over several chunks
    gW, gb = trainer.gradients(X, T)
    parts = [(X[i : i + 200], T[i : i + 200]) for i in range(0, len(X), 200)]
    mean = [np.zeros_like(a) for a in (*gW, *gb)]
    for Xp, Tp in parts:
        pW, pb = trainer.gradients(Xp, Tp)
        for acc, g in zip(mean, (*pW, *pb), strict=True):
            acc += g * len(Xp) / len(X)
    assert relative_error([*gW, *gb], mean) <= RTOL
    losses = [trainer.loss(Xp, Tp) * len(Xp) for Xp, Tp in parts]
    assert trainer.loss(X, T) == pytest.approx(sum(losses) / len(X), rel=RTOL)


def test_chunked_full_batch_step_is_one_gradient_step(wide) -> None:
    trainer, X, T = wide
    trainer.reset()
    W0, b0 = trainer.params
    gW, gb = trainer.gradients(X, T)
    history = trainer.fit(X, T, epochs=1, batch_size=len(X))
    assert history.step_losses.shape == (1,)
    W1, b1 = trainer.params
    expected = [p - 0.3 * g for p, g in zip((*W0, *b0), (*gW, *gb), strict=True)]
    assert relative_error([*W1, *b1], expected) <= RTOL
    trainer.reset()


def test_minibatch_steps_follow_a_numpy_loop(wide) -> None:
    """Consecutive minibatches (last one smaller), each a batch-mean gradient step."""
    trainer, X, T = wide
    trainer.reset()
    X, T = X[:230], T[:230]
    expected_losses = []
    W, b = trainer.params
    for start in range(0, 230, 64):
        trainer.params = (W, b)
        Xb, Tb = X[start : start + 64], T[start : start + 64]
        expected_losses.append(trainer.loss(Xb, Tb))
        gW, gb = trainer.gradients(Xb, Tb)
        W = [w - 0.3 * g for w, g in zip(W, gW, strict=True)]
        b = [v - 0.3 * g for v, g in zip(b, gb, strict=True)]
    trainer.reset()
    history = trainer.fit(X, T, epochs=1, batch_size=64, shuffle=False)
    np.testing.assert_allclose(history.step_losses, expected_losses, rtol=1e-12)
    W1, b1 = trainer.params
    assert relative_error([*W1, *b1], [*W, *b]) <= 1e-12
    sizes = [min(64, 230 - start) for start in range(0, 230, 64)]
    epoch_mean = sum(l * m for l, m in zip(expected_losses, sizes, strict=True)) / 230
    assert history.epoch_losses[0] == pytest.approx(epoch_mean, rel=1e-12)
    trainer.reset()


def test_parallel_backprop_matches_one_core_path(tmp_path: Path) -> None:
    """Layers on every core back-propagate on a copy W_l that a parallel transpose
    refreshes after every update; the one-core path gives the same gradients and the
    same trajectory."""
    spec = symbp.load(
        {
            "layers": [6, 20, 18, 3],
            "activations": ["tanh", "sigmoid", "softmax"],
            "loss": "cross_entropy",
            "optimizer": {"name": "sgd", "learning_rate": 0.2, "weight_decay": 0.01},
            "init": {"name": "xavier_uniform", "seed": 2},
        }
    )
    wide = small_parallel_trainer(spec, tmp_path)
    text = wide.module_path.read_text()
    assert "gemm_acc_par(delta_2, W_2, delta_1" in text
    assert "gemm_acc_par(delta_3, W_3, delta_2" in text
    assert "transpose_par(WT_2, W_2)" in text
    one_core = compile(spec)
    assert "transpose_par" not in one_core.module_path.read_text()
    rng = np.random.default_rng(3)
    X, T = rng.normal(size=(45, 6)), np.eye(3)[rng.integers(0, 3, 45)]
    for trainer in (wide, one_core):
        trainer.reset()
    gW, gb = wide.gradients(X, T)
    hW, hb = one_core.gradients(X, T)
    assert relative_error([*gW, *gb], [*hW, *hb]) <= RTOL
    runs = [t.fit(X, T, epochs=2, batch_size=16, shuffle=False) for t in (wide, one_core)]
    assert relative_error(runs[0].step_losses, runs[1].step_losses) <= RTOL
    (pW, pb), (qW, qb) = wide.params, one_core.params
    assert relative_error([*pW, *pb], [*qW, *qb]) <= RTOL
    np.testing.assert_allclose(wide.predict(X), one_core.predict(X), rtol=RTOL)
    runs = [t.fit(X, T, epochs=4, batch_size=16, shuffle=True, seed=5) for t in (wide, one_core)]
    np.testing.assert_allclose(runs[0].step_losses, runs[1].step_losses, rtol=RTOL)
    assert (
        relative_error(
            [*wide.params[0], *wide.params[1]], [*one_core.params[0], *one_core.params[1]]
        )
        <= RTOL
    )


_CACHED_PARALLEL_SCRIPT = """
import sys
from pathlib import Path
from typing import Any
import numpy as np
import symbp
from symbp.codegen import emit, loader
from symbp.codegen.trainer import Trainer
spec = symbp.load({"layers": [5, 12, 3], "activations": ["tanh", "softmax"],
                   "loss": "cross_entropy", "init": {"name": "xavier_uniform", "seed": 1}})
rng = np.random.default_rng(0)
X, T = rng.normal(size=(40, 5)), np.eye(3)[rng.integers(0, 3, 40)]
for dtype in sys.argv[2:]:
    text = emit.render(spec, dtype, parallel_min_weights=1)
    path = loader.write(text, Path(sys.argv[1]) / f"parallel_{dtype}.py")
    trainer = Trainer(spec, loader.import_module(path), dtype, path)
    print(dtype, repr(float(trainer.fit(X, T, epochs=2, batch_size=8).step_losses[-1])))
"""


def test_cached_parallel_kernels_load_in_a_new_process(tmp_path: Path) -> None:
    """Two modules with parallel regions compiled in one process, then loaded from
    Numba's cache by later processes in another order (a parallel region imported from
    another module made exactly this crash; the regions now live in each module)."""
    import os
    import subprocess
    import sys

    # Numba's cache next to the modules, where the test looks for it (whatever the
    # session's NUMBA_CACHE_DIR)
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}

    def run(*dtypes: str) -> dict[str, str]:
        done = subprocess.run(
            [sys.executable, "-c", _CACHED_PARALLEL_SCRIPT, str(tmp_path), *dtypes],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return dict(line.split() for line in done.stdout.splitlines())

    first = run("float64", "float32")
    assert list(tmp_path.glob("__pycache__/parallel_float64*.nbc"))  # cached
    assert run("float32") == {"float32": first["float32"]}
    assert run("float64", "float32") == first
