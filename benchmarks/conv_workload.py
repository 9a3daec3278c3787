"""The digits conv workload of :mod:`conv_digits` (issue 28, item 8): its data, its
initial weights and a NumPy forward pass that scores any row's trained weights.

The network: input 1x8x8 (scikit-learn's digits, pixels / 16), conv 1 -> 8 channels
3x3 valid (stride 1, no padding) + relu (8x6x6), max-pool 2 (stride 2: 8x3x3; ties go to
the first maximum in row-major order within the window), flatten in (channel, row,
column) order as PyTorch's ``flatten`` (72), dense 10 + softmax, cross-entropy averaged
over the batch. Training: consecutive minibatches of 32 (the last one of an epoch
smaller, no shuffle), plain SGD at lr 0.05, 20 epochs, the loss of each step taken
before its update.

Parameters in PyTorch's layout, a tuple ``(K, c, W, b)``: the conv kernel ``K`` (8, 1,
3, 3) as ``Conv2d.weight`` (out, in, kh, kw), its bias ``c`` (8), the dense ``W`` (10,
72) as ``Linear.weight`` (out, in), its bias ``b`` (10). Initial values: PyTorch's
default initialisation (``kaiming_uniform_(a=sqrt(5))`` for the weights and the bias
alike come down to ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``; fan-in 9 for the conv, 72 for
the dense layer) drawn once with NumPy's ``default_rng(seed)`` in the order K, c, W, b,
then copied into every row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Conv output channels, kernel size, image side, pool size, classes.
CHANNELS, KERNEL, SIDE, POOL, CLASSES = 8, 3, 8, 2, 10
CONV_SIDE = SIDE - KERNEL + 1  # 6
POOL_SIDE = CONV_SIDE // POOL  # 3
FEATURES = CHANNELS * POOL_SIDE * POOL_SIDE  # 72

Params = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]

#: The network in the spec form issue 28 (item 2) gives, for the symbp row's slot in
#: :mod:`conv_digits` (the form is being built as this is written: check it then).
SPEC = {
    "name": "digits_conv",
    "input": [1, SIDE, SIDE],
    "layers": [
        {"conv": CHANNELS, "kernel": KERNEL, "stride": 1, "padding": 0, "activation": "relu"},
        {"pool": "max", "size": POOL},
        "flatten",
        {"dense": CLASSES, "activation": "softmax"},
    ],
    "loss": "cross_entropy",
    "optimizer": {"name": "sgd", "learning_rate": 0.05},
}


@dataclass
class ConvWorkload:
    """``X`` (n, 1, 8, 8) float64 in [0, 1]; ``labels`` (n,) int64; ``T`` their one-hot
    rows (n, 10); the training protocol (epochs, batch, lr)."""

    X: np.ndarray
    labels: np.ndarray
    epochs: int = 20
    batch: int = 32
    lr: float = 0.05

    @property
    def T(self) -> np.ndarray:
        return np.eye(CLASSES)[self.labels]

    @property
    def samples(self) -> int:
        """Samples trained on in one run (epochs x rows)."""
        return self.epochs * len(self.X)

    @property
    def steps(self) -> int:
        return self.epochs * -(-len(self.X) // self.batch)

    @property
    def macs_per_sample(self) -> int:
        """Multiply-adds of one sample's forward and backward: the conv forward, the
        dense forward, the dense weight gradient, the delta into the pooled features,
        and the conv kernel gradient (only the arg-max positions carry a delta)."""
        conv = CHANNELS * CONV_SIDE**2 * KERNEL**2
        dense = FEATURES * CLASSES
        return conv + 3 * dense + FEATURES * KERNEL**2


def digits() -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 digits as (n, 1, 8, 8) float64 / 16 and their labels."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.data / 16.0).reshape(-1, 1, SIDE, SIDE), d.target.astype(np.int64)


def workload(n: int | None = None, epochs: int = 20) -> ConvWorkload:
    """The timed workload: the first ``n`` digits (all 1,797 by default)."""
    X, labels = digits()
    return ConvWorkload(X[:n], labels[:n], epochs=epochs)


def split(seed: int = 0, test_size: float = 0.2) -> tuple[ConvWorkload, np.ndarray, np.ndarray]:
    """A stratified train/test split of the digits (scikit-learn's ``train_test_split``,
    seeded) for the accuracy runs: the training part as a workload (same protocol) and
    the held-out images and labels."""
    from sklearn.model_selection import train_test_split

    X, labels = digits()
    Xtr, Xte, ytr, yte = train_test_split(
        X, labels, test_size=test_size, random_state=seed, stratify=labels
    )
    return ConvWorkload(Xtr, ytr), Xte, yte


def initial_params(seed: int = 0) -> Params:
    """PyTorch's default init of Conv2d(1, 8, 3) and Linear(72, 10), drawn with NumPy."""
    rng = np.random.default_rng(seed)
    conv_bound = 1 / np.sqrt(1 * KERNEL * KERNEL)
    dense_bound = 1 / np.sqrt(FEATURES)
    K = rng.uniform(-conv_bound, conv_bound, (CHANNELS, 1, KERNEL, KERNEL))
    c = rng.uniform(-conv_bound, conv_bound, CHANNELS)
    W = rng.uniform(-dense_bound, dense_bound, (CLASSES, FEATURES))
    b = rng.uniform(-dense_bound, dense_bound, CLASSES)
    return K, c, W, b


def im2col(X: np.ndarray) -> np.ndarray:
    """(n, 1, 8, 8) -> (n, 36, 9): row ``i * 6 + j`` holds the 3x3 patch at (i, j)
    in (u, v) order."""
    windows = np.lib.stride_tricks.sliding_window_view(X[:, 0], (KERNEL, KERNEL), axis=(1, 2))
    return windows.reshape(len(X), CONV_SIDE * CONV_SIDE, KERNEL * KERNEL)


def logits(params: Params, X: np.ndarray) -> np.ndarray:
    """The network's output before softmax, (n, 10), in float64."""
    K, c, W, b = (np.asarray(p, np.float64) for p in params)
    z = im2col(np.asarray(X, np.float64)) @ K.reshape(CHANNELS, -1).T + c  # (n, 36, 8)
    a = np.maximum(z, 0).transpose(0, 2, 1).reshape(-1, CHANNELS, CONV_SIDE, CONV_SIDE)
    pooled = a.reshape(-1, CHANNELS, POOL_SIDE, POOL, POOL_SIDE, POOL).max(axis=(3, 5))
    return pooled.reshape(len(X), FEATURES) @ W.T + b


def accuracy(params: Params, X: np.ndarray, labels: np.ndarray) -> float:
    """The fraction of ``X`` whose largest logit is its label."""
    return float(np.mean(np.argmax(logits(params, X), axis=1) == labels))
