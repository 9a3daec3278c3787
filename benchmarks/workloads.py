"""The three workloads of :mod:`train_speed`: network spec, data, epochs, batch, rate.

W1 3-4-1 sigmoid/BCE, one example, SGD lr 0.5, 10,000 steps; W2 64-64-10 tanh/softmax-CE
on scikit-learn's digits, minibatch 32, lr 0.05, 20 epochs; W3 784-256-256-10
relu/softmax-CE, minibatch 128, one epoch over 60,000 synthetic samples.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Workload:
    name: str
    spec: dict[str, Any]
    X: np.ndarray
    T: np.ndarray
    labels: np.ndarray
    epochs: int
    batch: int
    lr: float

    @property
    def samples(self) -> int:
        return self.epochs * len(self.X)

    @property
    def flops_per_sample(self) -> int:
        sizes = self.spec["layers"]
        pairs = list(itertools.pairwise(sizes))
        macs = 2 * sum(i * o for i, o in pairs) + sum(i * o for i, o in pairs[1:])
        return 2 * macs


def workloads(names: list[str]) -> list[Workload]:
    out = []
    if "W1" in names:
        X, T = np.array([[7.0, 8.0, 10.0]]), np.array([[1.0]])
        spec = {
            "name": "w1",
            "layers": [3, 4, 1],
            "activations": "sigmoid",
            "loss": "bce",
            "optimizer": {"name": "sgd", "learning_rate": 0.5},
            "init": {"name": "normal", "std": 0.1, "seed": 3, "generator": "legacy"},
        }
        out.append(Workload("W1", spec, X, T, np.array([0]), 10_000, 1, 0.5))
    if "W2" in names:
        from sklearn.datasets import load_digits

        digits = load_digits()
        X, labels = digits.data / 16.0, digits.target
        spec = {
            "name": "w2",
            "layers": [64, 64, 10],
            "activations": ["tanh", "softmax"],
            "loss": "cross_entropy",
            "optimizer": {"name": "sgd", "learning_rate": 0.05},
            "init": {"name": "xavier_uniform", "seed": 0},
        }
        out.append(Workload("W2", spec, X, np.eye(10)[labels], labels, 20, 32, 0.05))
    if "W3" in names:
        rng = np.random.default_rng(0)
        X = rng.normal(size=(60_000, 784))
        teacher = rng.normal(size=(784, 10))
        labels = np.argmax(X @ teacher + rng.normal(size=(60_000, 10)) * 5, axis=1)
        spec = {
            "name": "w3",
            "layers": [784, 256, 256, 10],
            "activations": ["relu", "relu", "softmax"],
            "loss": "cross_entropy",
            "optimizer": {"name": "sgd", "learning_rate": 0.01},
            "init": {"name": "he_uniform", "seed": 0},
        }
        out.append(Workload("W3", spec, X, np.eye(10)[labels], labels, 1, 128, 0.01))
    return out
