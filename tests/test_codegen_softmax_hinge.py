"""A softmax output under the hinge loss: the generated trainer lowers its output delta.

The exact delta is one sum over the outputs of one ``Piecewise`` that holds the softmax
Jacobian's ``KroneckerDelta``; the plan splits it (:mod:`symbp.codegen.branch_sums`)
into ``a_j Σ_i [a_i t_i < 1] a_i t_i - [a_j t_j < 1] a_j t_j``. The kernel's gradients
equal the exact engine's and finite differences, in float64 and float32, and a short
training run follows the exact trajectory; the piecewise kernel equals the generated one
bit for bit; the CLI compiles and trains such a spec.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import symbp
from symbp.cli import main
from symbp.codegen import compile
from symbp.codegen.branch_sums import split_branch_sums
from symbp.codegen.check import exact_run, examples_arrays, finite_differences, relative_error
from symbp.codegen.plan import make_plan
from symbp.symbolic import notation as nt

SPEC = {
    "name": "softmax-hinge",
    "layers": [3, 4, 3],
    "activations": ["tanh", "softmax"],
    "loss": "hinge",
    "optimizer": {"name": "sgd", "learning_rate": 0.5},
    "params": {
        "W": [
            [[0.3, -0.2, 0.5], [0.1, 0.4, -0.6], [-0.7, 0.2, 0.3], [0.25, -0.35, 0.45]],
            [[0.5, -0.4, 0.3, 0.2], [-0.1, 0.6, -0.2, 0.3], [0.4, 0.1, -0.5, -0.3]],
        ],
        "b": [[0.1, -0.1, 0.2, 0.05], [0.05, -0.2, 0.1]],
    },
    "examples": [
        {"x": [0.5, -0.25, 1.0], "t": [1, -1, -1]},
        {"x": [-0.75, 0.5, 0.125], "t": [-1, 1, 1]},
    ],
}
#: float64 to the last bits; float32 rounds every operation to 24 bits.
RTOL = {"float64": 1e-12, "float32": 2e-6}
STEPS = 3


def test_the_jacobian_in_a_branch_collapses_and_a_j_leaves_the_sum() -> None:
    a, t, i, j = nt.activation(2), nt.TARGET, nt.i, nt.j
    n = nt.size(2)
    taken = a[i] * t[i] < 1
    exact = sp.Sum(
        sp.Piecewise(((a[j] - sp.KroneckerDelta(i, j)) * a[i] * t[i], taken), (0, True)),
        (i, 0, n - 1),
    )
    expected = a[j] * sp.Sum(sp.Piecewise((a[i] * t[i], taken), (0, True)), (i, 0, n - 1)) - (
        sp.Piecewise((a[j] * t[j], a[j] * t[j] < 1), (0, True))
    )
    assert split_branch_sums(exact) == expected
    plain = sp.Sum(a[j] * a[i] * t[i], (i, 0, n - 1))  # no Piecewise: left as it is
    assert split_branch_sums(plain) == plain


def test_a_branch_that_is_not_zero_keeps_its_own_terms() -> None:
    """Two nonzero branches: each term becomes a Piecewise of its own, the other branch 0."""
    a, i, j = nt.activation(2), nt.i, nt.j
    n = nt.size(2)
    c = a[i] > 0
    exact = sp.Sum(
        sp.Piecewise((a[j] * a[i] - sp.KroneckerDelta(i, j), c), (2 * a[j] * a[i], True)),
        (i, 0, n - 1),
    )
    split = split_branch_sums(exact)
    assert not split.has(sp.KroneckerDelta)
    values = {n: 3, a[0]: sp.Rational(1, 2), a[1]: sp.Rational(-1, 3), a[2]: sp.Rational(2, 5)}
    for jv in range(3):
        want = exact.xreplace({j: jv}).xreplace(values).doit().xreplace(values)
        got = split.xreplace({j: jv}).xreplace(values).doit().xreplace(values)
        assert sp.nsimplify(got - want) == 0, (jv, got, want)


def test_the_plan_lowers_the_delta_to_one_reduction() -> None:
    plan = make_plan(symbp.load(SPEC), "float64")
    assert plan.output.reductions == ("row_loss", "sum_1")
    assert plan.output.reduce.temps == (("a_times_t", "a*t"), ("term_part0", "(a_times_t < 1.0)"))
    assert plan.output.reduce.outputs == (
        "((1.0 - a_times_t) if term_part0 else (0.0))",
        "((a_times_t) if term_part0 else (0.0))",
    )
    assert plan.output.delta.outputs == ("a*sum_1 - ((a_times_t) if (a_times_t < 1.0) else (0.0))",)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_kernel_follows_the_exact_engine(dtype: str) -> None:
    spec = symbp.load(SPEC)
    trainer = compile(spec, dtype=dtype)
    X, T = examples_arrays(spec)
    exact = exact_run(spec, STEPS)
    gW, gb = trainer.gradients(X, T)
    assert relative_error([*gW, *gb], [*exact.grad_W[0], *exact.grad_b[0]]) <= RTOL[dtype]
    assert trainer.loss(X, T) == pytest.approx(exact.losses[0], rel=RTOL[dtype])
    history = trainer.fit(X, T, epochs=STEPS, batch_size=len(X), shuffle=False)
    np.testing.assert_allclose(history.step_losses, exact.losses[:STEPS], rtol=RTOL[dtype])
    W, b = trainer.params
    assert relative_error([*W, *b], [*exact.W[STEPS], *exact.b[STEPS]]) <= RTOL[dtype]
    # the steps moved the loss: the exact trajectory is not flat
    assert exact.losses[STEPS - 1] < exact.losses[0] - 0.1


def test_the_kernel_gradients_equal_finite_differences() -> None:
    spec = symbp.load(SPEC)
    trainer = compile(spec)
    X, T = examples_arrays(spec)
    gW, gb = trainer.gradients(X, T)
    fW, fb = finite_differences(trainer, X, T)
    assert relative_error([*gW, *gb], [*fW, *fb]) <= 1e-8


def test_the_piecewise_kernel_equals_the_generated_one_bit_for_bit() -> None:
    spec = {
        **SPEC,
        "layers": [12, 16, 5],
        "params": None,
        "examples": None,
        "init": {"name": "xavier_uniform", "seed": 3},
    }
    spec = {k: v for k, v in spec.items() if v is not None}
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 12))
    T = 2 * np.eye(5)[rng.integers(0, 5, 60)] - 1
    runs = []
    for kernel in ("generated", "piecewise"):
        trainer = symbp.compile(spec, kernel=kernel)
        assert trainer.kernel == kernel
        history = trainer.fit(X, T, epochs=2, batch_size=16, seed=5)
        runs.append((history.step_losses, trainer.params, trainer.gradients(X, T)))
    (losses_g, (W_g, b_g), (gW_g, gb_g)), (losses_p, (W_p, b_p), (gW_p, gb_p)) = runs
    assert np.array_equal(losses_g, losses_p)
    for x, y in zip([*W_g, *b_g, *gW_g, *gb_g], [*W_p, *b_p, *gW_p, *gb_p], strict=True):
        assert np.array_equal(x, y)
    assert not np.array_equal(W_g[0], symbp.compile(spec).initial_params()[0][0])


def test_symbp_compile_and_train_take_the_pair(write_spec, tmp_path: Path, capsys) -> None:
    spec = {k: v for k, v in SPEC.items() if k not in ("params", "examples")}
    path = write_spec({**spec, "layers": [4, 5, 3], "init": {"name": "xavier_uniform", "seed": 1}})
    assert main(["compile", "-q", str(path), "-o", str(tmp_path / "module")]) == 0
    module = tmp_path / "module" / "softmax_hinge.py"
    assert "a*sum_1 - ((a_times_t) if (a_times_t < 1.0) else (0.0))" in module.read_text()
    run = tmp_path / "run"
    code = main(["train", "-q", str(path), "--data", "iris", "--epochs", "3", "-o", str(run)])
    _, err = capsys.readouterr()
    assert code == 0, err
    assert "Traceback" not in err
    with np.load(run / "params.npz") as saved:
        assert saved["W_1"].shape == (5, 4) and saved["W_2"].shape == (3, 5)
        assert np.isfinite(saved["W_1"]).all() and np.isfinite(saved["W_2"]).all()


def test_every_builtin_spec_lowers_to_a_plan() -> None:
    """Every network of :func:`~symbp.codegen.pieces.builtin_specs` (each output activation
    with each loss, each hidden activation, optimiser and schedule) that the spec takes
    lowers to a kernel plan: ``builtin_pieces`` would otherwise leave its pieces out
    without a word, and ``symbp compile`` would end in an internal error."""
    from symbp.codegen.pieces import builtin_specs
    from symbp.errors import SymbpError

    lowered, refused = [], 0
    for raw in builtin_specs():
        try:
            spec = symbp.load(raw)
        except SymbpError as err:  # softmax on a hidden layer; an output the loss cannot take
            assert "softmax" in raw["activations"][:-1] or err.field == "loss"
            refused += 1
            continue
        for parallel in (10**9, 1):
            plan = make_plan(spec, "float64", parallel_min_weights=parallel)
            assert plan.n_params == 9 * 9 * 2 + 9 * 2
        lowered.append((spec.activations[-1].name, spec.loss.name))
    assert ("softmax", "hinge") in lowered
    assert len(lowered) == len(builtin_specs()) - refused
    assert refused == 1 + 8  # softmax on a hidden layer; tanh, identity, relu, leaky x bce, CE


def test_the_classifier_learns_iris_with_the_pair() -> None:
    pytest.importorskip("sklearn", reason="the estimators need scikit-learn")
    from sklearn.datasets import load_iris

    from symbp.train.estimator import SymbpClassifier

    X, y = load_iris(return_X_y=True)
    spec = {k: v for k, v in SPEC.items() if k not in ("params", "examples")}
    clf = SymbpClassifier(
        {**spec, "layers": [4, 8, 3], "optimizer": {"name": "sgd", "learning_rate": 0.1}},
        epochs=30,
        batch_size=16,
        standardize=True,
        seed=0,
        tol=None,
    )
    clf.fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-12)  # softmax rows
    assert clf.score(X, y) >= 0.9  # chance is 1/3
