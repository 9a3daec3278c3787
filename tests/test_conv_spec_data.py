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
