"""The dense layer record and the spec's list form (``input:`` + one entry per layer).

A dense network written in the list form is the same spec as its old form: equal
records, the same hash, the same data and the same documents.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from fnmatch import fnmatch
from fractions import Fraction
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

import numpy as np
import pytest
import sympy as sp
import tomllib

import symbp
from symbp.cli import main
from symbp.errors import SpecError
from symbp.layers import KINDS, Dense, IndexForm, Layer, Shape
from symbp.layers.base import EntryContext
from symbp.ops.activations import make_activation
from symbp.symbolic import notation as nt
from symbp.symbolic.generic import derive_generic

SIGMOID = make_activation("sigmoid", {})

OLD: dict[str, Any] = {
    "layers": [2, 3, 2],
    "activations": [{"name": "leaky_relu", "alpha": 0.5}, "softmax"],
    "loss": "cross_entropy",
    "optimizer": {"name": "sgd", "learning_rate": 0.5},
    "params": {
        "W": [[[0.5, -0.25], [1, 2], [0, 1]], [[0.75, -1, 0.5], [1, 0, -0.5]]],
        "b": [[0, 0.5, 1], [0.25, 0]],
    },
    "example": {"x": [1, 2], "t": [1, 0]},
}
NEW: dict[str, Any] = {
    **{k: v for k, v in OLD.items() if k not in ("layers", "activations")},
    "input": 2,
    "layers": [
        {"dense": 3, "activation": {"name": "leaky_relu", "alpha": 0.5}},
        {"dense": 2, "activation": "softmax"},
    ],
}


def test_dense_is_the_registered_record() -> None:
    assert KINDS["dense"] is Dense


def test_dense_shapes_and_fan() -> None:
    layer = Dense(4, SIGMOID)
    assert layer.output_shape((3,)) == (4,)
    assert layer.parameter_shapes((3,)) == {"W": (4, 3), "b": (4,)}
    assert layer.fan((3,)) == (3, 4)
    assert layer.n_parameters((3,)) == 16
    assert layer.activation is SIGMOID
    assert repr(layer) == "Dense(4, sigmoid)"
    leaky = make_activation("leaky_relu", {"alpha": Fraction(1, 2)})
    assert len({layer, Dense(4, SIGMOID), Dense(4, leaky), Dense(5, SIGMOID)}) == 3
    assert layer.to_entry() == {"dense": 4, "activation": "sigmoid"}


def test_dense_forward_is_the_textbook_index_form() -> None:
    form = Dense(4, SIGMOID).forward(2)
    j, k = nt.j, nt.k
    expected = sp.Sum(nt.weight(2)[j, k] * nt.activation(1)[k], (k, 0, nt.size(1) - 1))
    assert form.out == nt.preactivation(2)
    assert form.index == (j,)
    assert form.rhs == expected + nt.bias(2)[j]
    assert dict(form.sizes) == {nt.size(2): 4}
    assert dict(form.outside) == {}
    assert str(form.equation) == "Eq(z^2[j], b^2[j] + Sum(a^1[k]*w^2[j, k], (k, 0, n_1 - 1)))"


def test_the_derivation_reads_the_record() -> None:
    spec = symbp.load(OLD)
    model = derive_generic(spec)
    for l, layer in enumerate(spec.network, start=1):
        assert model.layer(l).z.rhs == layer.forward(l).rhs


def test_old_form_gives_dense_records() -> None:
    spec = symbp.load(OLD)
    assert spec.input_shape == (2,)
    assert [repr(layer) for layer in spec.network] == [
        "Dense(3, leaky_relu(alpha=1/2))",
        "Dense(2, softmax)",
    ]


def test_list_form_is_the_same_spec_as_the_old_form() -> None:
    old, new = symbp.load(OLD), symbp.load(NEW)
    assert new == old
    assert new.hash == old.hash
    assert new.to_data() == old.to_data()
    assert new.network == old.network and new.input_shape == (2,)
    assert new.layers == (2, 3, 2) and new.activations == old.activations
    # the stages that rebuild a spec from its data see the old form
    assert new.data["layers"] == [2, 3, 2] and "input" not in new.data
    assert symbp.load(new.to_data()) == new


def test_list_form_gives_the_same_document(tmp_path) -> None:
    old = symbp.document(OLD, format="md", out=tmp_path / "old.md")
    new = symbp.document(NEW, format="md", out=tmp_path / "new.md")
    assert new.read_bytes() == old.read_bytes()


def test_list_form_activation_defaults_to_sigmoid() -> None:
    spec = symbp.load({"input": 3, "layers": [{"dense": 4}, {"dense": 1}]})
    assert spec == symbp.load({"layers": [3, 4, 1]})


def test_replace_keeps_the_records_in_step() -> None:
    spec = symbp.load(OLD)
    tanh = make_activation("tanh", {})
    changed = dataclasses.replace(spec, activations=(tanh, spec.activations[1]))
    assert changed.network[0] == Dense(3, tanh)


def _new(**changes: Any) -> dict[str, Any]:
    spec = copy.deepcopy(NEW)
    spec.update(changes)
    return spec


INVALID = [
    (_new(input=0), "input: expected a positive size, found 0"),
    (_new(input=[1, 5]), "input: expected the input size (an int) or [channels, height, width]"),
    (_new(input=True), "input: expected a whole number, found True"),
    (_new(layers=[]), "layers: expected at least 1 layer, found 0"),
    (_new(layers=3), "layers: expected a list of layer entries"),
    (
        _new(layers=[{"lstm": 2}]),
        "layers[0]: unknown layer kind 'lstm'; expected one of dense, conv, pool, flatten, "
        "recurrent",
    ),
    (
        _new(layers=["gru"]),
        "layers[0]: unknown layer kind 'gru'; expected one of dense, conv, pool, flatten, "
        "recurrent",
    ),
    (
        _new(layers=[7]),
        "layers[0]: expected a layer entry (dense, conv, pool, flatten, recurrent), found 7",
    ),
    (_new(layers=[{"dense": 0}]), "layers[0].dense: expected a positive layer size, found 0"),
    (_new(layers=[{"dense": "4"}]), "layers[0].dense: expected the number of outputs, found '4'"),
    (
        _new(layers=[{"dense": 2, "units": 3}]),
        "layers[0].units: unknown field of a dense layer; expected activation",
    ),
    (
        _new(layers=[{"dense": 2, "activation": "swish"}]),
        "layers[0].activation: unknown activation 'swish'",
    ),
    (
        _new(layers=[{"dense": 2, "activation": "softmax"}, {"dense": 2}]),
        "layers[0].activation: softmax is allowed on the output layer only, found on layer 1 of 2",
    ),
    (
        _new(input=[1, 5, 5], layers=[{"dense": 2}]),
        "layers[0]: a dense layer needs a vector input, found feature maps 1x5x5; "
        "put flatten before it",
    ),
    (
        _new(activations="sigmoid"),
        "activations: the list form of layers gives each layer's activation in its entry",
    ),
    # the fields the layers do not change are read as in the old form, at the same paths
    (_new(params={"W": [[[1, 2]]]}), "params.W: expected 2 weight matrices for layers [2, 3, 2]"),
    (_new(example={"x": [1], "t": [1, 0]}), "example.x: expected 2 inputs (layers[0]), found 1"),
]


@pytest.mark.parametrize(("data", "message"), INVALID, ids=[m for _, m in INVALID])
def test_list_form_errors_are_one_line(data: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError) as err:
        symbp.load(data)
    text = str(err.value)
    assert text.startswith(message), text
    assert "\n" not in text


def test_cli_list_form_error(tmp_path, capsys) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("input: 3\nlayers:\n  - {dense: 4}\n  - {dense: -1}\n")
    assert main(["eval", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"symbp eval: error: {path}:4: layers[1].dense: expected a positive layer size, found -1\n"
    )


# A kind without parameters, registered for these tests only: the list form's params
# take null for it, its examples are shaped as the input.


@dataclasses.dataclass(frozen=True)
class _Halve(Layer):
    kind: ClassVar[str] = "halve"

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any], input_shape: Shape, ctx: EntryContext) -> Layer:
        return cls()

    def output_shape(self, input_shape: Shape) -> Shape:
        return input_shape

    def forward(self, l: int) -> IndexForm:
        return IndexForm(nt.preactivation(l), (nt.j,), nt.activation(l - 1)[nt.j] / 2)

    def to_entry(self) -> dict[str, Any]:
        return {"halve": None}


@pytest.fixture
def halve(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(KINDS, "halve", _Halve)


HALVED: dict[str, Any] = {
    "input": 2,
    "layers": ["halve", {"dense": 1, "activation": "sigmoid"}],
    "params": {"W": [None, [[1, 2]]], "b": [None, [0.5]]},
    "example": {"x": [1, 2], "t": [1]},
}


def test_params_of_a_layer_without_parameters_are_null(halve: None) -> None:
    spec = symbp.load(HALVED)
    assert spec.network == (_Halve(), Dense(1, SIGMOID))
    assert spec.layers == (2, 2, 1)
    assert spec.W is not None
    assert list(spec.W) == [None, ((sp.Integer(1), sp.Integer(2)),)]
    assert spec.b == (None, (sp.Rational(1, 2),))
    assert spec.examples[0].x == (1, 2)
    data = spec.to_data()
    assert data["input"] == 2
    assert data["layers"] == [{"halve": None}, {"dense": 1, "activation": "sigmoid"}]
    assert data["params"] == {"W": [None, [[1, 2]]], "b": [None, [sp.Rational(1, 2)]]}
    assert symbp.load(data) == spec


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"W": [[[1, 2]], [[1, 2]]]}, "params.W[0]: layer 0 has no parameters; expected null"),
        ({"W": [None, None]}, "params.W[1]: layer 1 has parameters of shape [1, 2]"),
        ({"W": [None]}, "params.W: expected 2 entries (one per layer"),
        ({"W": [None, [[1]]]}, "params.W[1][0]: expected a list of 2 values (shape [2])"),
        ({"W": [None, [[1, "a"]]]}, "params.W[1][0][1]: expected a number, found 'a'"),
        ({"W": [None, [[1, 2]]], "c": 1}, "params.c: unknown field; expected W, b"),
    ],
)
def test_null_params_errors(halve: None, params: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError) as err:
        symbp.load({**HALVED, "params": params})
    assert str(err.value).startswith(message), str(err.value)


def test_bias_left_out_is_zero(halve: None) -> None:
    spec = symbp.load({**HALVED, "params": {"W": [None, [[1, 2]]]}})
    assert spec.b == (None, (sp.Integer(0),))


ROOT = Path(__file__).resolve().parents[1]


def test_every_kernel_block_is_a_template_that_ships() -> None:
    """Each kind's block file exists under templates/ and a package-data pattern of
    its own folder puts it in the wheel (setuptools globs do not cross folders)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = [
        PurePosixPath(p) for p in config["tool"]["setuptools"]["package-data"]["symbp.templates"]
    ]
    assert KINDS["dense"].kernel_block  # the kinds without one yet refuse to compile
    for record in (r for r in KINDS.values() if r.kernel_block):
        block = PurePosixPath(record.kernel_block)
        assert (ROOT / "templates" / block).is_file(), block
        assert any(p.parent == block.parent and fnmatch(block.name, p.name) for p in patterns)


def test_dense_numeric_maps() -> None:
    """The evaluators' arithmetic of the record: z = a Wᵀ + b, δ W, δ aᵀ."""
    layer = Dense(2, SIGMOID)
    W = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]])
    b = np.array([0.25, -1.0])
    a = np.array([[1.0, 0.0, 2.0], [0.0, 4.0, -1.0]])
    assert layer.values(a, W, b).tolist() == [[7.25, -2.0], [5.25, 1.0]]
    delta = np.array([[1.0, 2.0], [0.5, -1.0]])
    assert layer.input_gradient(delta, W).tolist() == [[-1.0, 3.0, 3.0], [1.5, 0.5, 1.5]]
    assert layer.weight_gradient(delta[0], a[0]).tolist() == [[1.0, 0.0, 2.0], [2.0, 0.0, 4.0]]
