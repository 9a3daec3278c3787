"""A conv spec is data: its normalised form reloads to an equal spec with the same hash."""

from __future__ import annotations

import pickle

import yaml

import symbp

SPEC = """
name: conv-data
input: [2, 6, 6]
layers:
  - {conv: 3, kernel: 3, stride: 1, padding: same, activation: tanh}
  - {pool: avg, size: 2}
  - flatten
  - {dense: 2, activation: softmax}
loss: cross_entropy
optimizer: {name: sgd, learning_rate: 0.1}
init: {name: xavier_uniform, seed: 4}
"""


def test_to_data_reloads_to_an_equal_spec_with_the_same_hash() -> None:
    spec = symbp.load(yaml.safe_load(SPEC))
    data = spec.to_data()
    assert data["input"] == [2, 6, 6]
    assert data["layers"] == [
        {"conv": 3, "kernel": [3, 3], "stride": 1, "padding": 1, "activation": "tanh"},
        {"pool": "avg", "size": 2, "stride": 2},
        {"flatten": None},
        {"dense": 2, "activation": "softmax"},
    ]
    again = symbp.load(data)
    assert again == spec and again.hash == spec.hash
    assert pickle.loads(pickle.dumps(spec)).hash == spec.hash
    # another setting is another spec
    other = symbp.load({**yaml.safe_load(SPEC), "input": [2, 8, 8]})
    assert other.hash != spec.hash


def test_parameter_counts_cover_every_kind_of_layer() -> None:
    spec = symbp.load(yaml.safe_load(SPEC))
    # conv: 3·2·3·3 + 3 = 57; pool, flatten: none; dense on 3·3·3 = 27 values: 2·27 + 2 = 56
    assert spec.n_params == 57 + 56
    frozen = symbp.load({**yaml.safe_load(SPEC), "frozen": ["W[0]"]})
    assert frozen.n_trainable == 3 + 56
