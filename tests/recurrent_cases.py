"""Small recurrent specs for the generated trainer's tests: every cell, both outputs,
full and truncated BPTT, clipping; seeded parameters and a few sequences each."""

from __future__ import annotations

from typing import Any

import numpy as np

import symbp

#: name -> (cell, Elman activation, output, bptt, optimiser, dense head)
CASES: dict[str, tuple[str, str | None, str, Any, dict[str, Any], list[dict[str, Any]]]] = {
    "elman-tanh-every-full": (
        "elman",
        "tanh",
        "every_step",
        "full",
        {"name": "sgd", "learning_rate": 0.1},
        [{"dense": 2, "activation": "identity"}],
    ),
    "elman-sigmoid-last-full": (
        "elman",
        "sigmoid",
        "last_step",
        "full",
        {"name": "momentum", "learning_rate": 0.1},
        [{"dense": 2, "activation": "tanh"}, {"dense": 1, "activation": "identity"}],
    ),
    "elman-relu-every-bptt2": (
        "elman",
        "relu",
        "every_step",
        2,
        {"name": "sgd", "learning_rate": 0.05},
        [{"dense": 1, "activation": "identity"}],
    ),
    "gru-every-full": (
        "gru",
        None,
        "every_step",
        "full",
        {"name": "adam", "learning_rate": 0.05},
        [{"dense": 2, "activation": "identity"}],
    ),
    "lstm-last-bptt2": (
        "lstm",
        None,
        "last_step",
        2,
        {"name": "sgd", "learning_rate": 0.1},
        [{"dense": 1, "activation": "sigmoid"}],
    ),
    "lstm-every-full-clip": (
        "lstm",
        None,
        "every_step",
        "full",
        {"name": "sgd", "learning_rate": 0.5, "clip_norm": 0.05},
        [{"dense": 1, "activation": "identity"}],
    ),
}

STEPS, FEATURES, HIDDEN, SEQUENCES = 4, 2, 3, 3


def case_data(name: str, seed: int = 0) -> dict[str, Any]:
    """The spec data of case ``name`` with drawn parameters and SEQUENCES examples."""
    cell, activation, output, bptt, optimizer, head = CASES[name]
    rng = np.random.default_rng(seed)
    gates = {"elman": 1, "gru": 3, "lstm": 4}[cell]
    blocks = 4 if cell == "gru" else gates

    def draw(*shape: int) -> Any:
        return np.round(rng.uniform(-0.6, 0.6, shape), 3).tolist()

    entry: dict[str, Any] = {"recurrent": HIDDEN, "cell": cell}
    if activation is not None:
        entry["activation"] = activation
    W, U, b = (
        [draw(gates * HIDDEN, FEATURES)],
        [draw(gates * HIDDEN, HIDDEN)],
        [draw(blocks * HIDDEN)],
    )
    width = HIDDEN
    for layer in head:
        W.append(draw(layer["dense"], width))
        b.append(draw(layer["dense"]))
        U.append(None)
        width = layer["dense"]
    out = head[-1]["dense"]
    target = 1 if head[-1]["activation"] == "sigmoid" else 0.8
    examples = []
    for _ in range(SEQUENCES):
        x = draw(STEPS, FEATURES)
        t = (
            np.round(rng.uniform(0, target, (STEPS, out)), 3).tolist()
            if output == "every_step"
            else np.round(rng.uniform(0, target, out), 3).tolist()
        )
        examples.append({"x": x, "t": t})
    return {
        "name": name.replace("-", "_"),
        "input": {"steps": STEPS, "features": FEATURES},
        "layers": [entry, *head],
        "output": output,
        "loss": "half_sse",
        "optimizer": optimizer,
        "training": {"bptt": bptt, "batch_size": 2, "epochs": 2},
        "params": {"W": W, "U": U, "b": b},
        "examples": examples,
    }


def case_spec(name: str) -> symbp.Spec:
    return symbp.load(case_data(name))


def arrays(spec: symbp.Spec) -> tuple[np.ndarray, np.ndarray]:
    """The spec's examples as ``X`` ``(n, steps, features)`` and the targets
    ``(n, steps, outputs)`` (every step) or ``(n, outputs)`` (last step)."""
    rec = spec.recurrence
    assert rec is not None
    n = len(spec.examples)
    X = np.array([[float(v) for v in e.x] for e in spec.examples]).reshape(n, rec.steps, -1)
    T = np.array([[float(v) for v in e.t] for e in spec.examples])
    if rec.output == "every_step":
        T = T.reshape(n, rec.steps, -1)
    return X, T


def floats(value: Any) -> np.ndarray:
    return np.array(value, dtype=object).astype(float)


def assert_follows_recurrent_run(trainer: Any, spec: symbp.Spec, steps: int = 2) -> None:
    """The generated trainer of a recurrent spec against its exact run
    (:func:`symbp.symbolic.recurrent_run.run_recurrent`): the first batch's loss and
    gradients, the loss of every step and the parameters after the last, to 1e-12."""
    from symbp.symbolic.recurrent_run import run_recurrent

    X, T = arrays(spec)
    run = run_recurrent(spec, steps)
    first = run.steps[0]
    rows = list(first.rows)
    trainer.reset()
    assert abs(trainer.loss(X[rows], T[rows]) - float(first.evaluation.loss)) <= 1e-12
    for name, values in zip("WUb", trainer.gradients(X[rows], T[rows]), strict=True):
        for l, value in enumerate(values):
            want = first.evaluation.grads.get(f"grad_{name}[{l}]")
            assert (value is None) == (want is None)
            if value is not None:
                np.testing.assert_allclose(value, floats(want), rtol=0, atol=1e-12)
    history = trainer.fit(X, T, epochs=None)
    taken = min(steps, history.n_steps)
    exact = [float(s.evaluation.loss) for s in run.steps[:taken]]
    np.testing.assert_allclose(history.step_losses[:taken], exact, rtol=0, atol=1e-12)
    trainer.reset()
