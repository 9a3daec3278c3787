"""The conv networks whose front pieces ship built in (``symbp/codegen/builtin``, written
by ``python -m symbp.regenerate`` through :func:`.pieces.builtin_pieces`): every conv
layer's variant (on the input or not, kernel in taps or loops with padding, below a
max-pool or not, and the unrolled sums of :data:`.piecewise_front.UNROLLED_TAPS` taps)
for each built-in activation, and every pool and flatten block."""

from __future__ import annotations

from typing import Any


def builtin_specs() -> list[dict[str, Any]]:
    """Conv networks whose front pieces together are every conv layer's variant (input or
    not, kernel in taps or loops with padding, below a max-pool or not) for each built-in
    activation, and every pool and flatten block (:func:`.pieces.builtin_pieces`)."""
    from ..ops.activations import ACTIVATIONS

    def net(shape: list[int], front: list[Any]) -> dict[str, Any]:
        return {
            "name": "pieces",
            "input": shape,
            "layers": [*front, "flatten", {"dense": 10, "activation": "softmax"}],
            "loss": "cross_entropy",
            "optimizer": {"name": "sgd", "learning_rate": 0.1},
        }

    def conv(act: str, kernel: int, padding: int = 0) -> dict[str, Any]:
        return {"conv": 2, "kernel": kernel, "padding": padding, "activation": act}

    def one(act: str, kernel: int) -> dict[str, Any]:
        return {**conv(act, kernel), "conv": 1}

    maxpool, avgpool = {"pool": "max", "size": 2}, {"pool": "avg", "size": 2}
    out = []
    for act in sorted(
        n
        for n, (make, _) in ACTIVATIONS.items()
        if n != "linear" and make().elementwise and not make().params  # see takes_front
    ):
        taps, loops = conv(act, 3), conv(act, 3, 1)
        out += [
            net([1, 6, 6], [taps, maxpool]),  # input, taps, below a max-pool
            net([1, 6, 6], [loops, maxpool]),  # input, loops, below a max-pool
            net([1, 6, 6], [loops, avgpool]),  # input, loops
            net([1, 7, 7], [conv(act, 2), loops, maxpool]),  # taps; not input, loops, max
            net([1, 7, 7], [loops, conv(act, 2), avgpool]),  # not input: taps
            net([1, 6, 6], [conv(act, 2), conv(act, 2), maxpool]),  # not input: taps, max
            net([1, 8, 8], [taps, conv(act, 3, 1), avgpool]),  # not input: loops
            # the unrolled pieces of 4 and 9 taps (UNROLLED_TAPS): one input channel
            net([1, 7, 7], [conv(act, 2), maxpool]),  # input, 4, below a max-pool
            net([1, 7, 7], [one(act, 2), conv(act, 3), maxpool]),  # not input, 9, max
            net([1, 8, 8], [one(act, 3), conv(act, 3), avgpool]),  # not input, 9
            net([1, 8, 8], [one(act, 2), conv(act, 2), maxpool]),  # not input, 4, max
            net([1, 6, 6], [one(act, 2), conv(act, 2), avgpool]),  # not input, 4
        ]
    out += [
        net([2, 8, 8], [maxpool, conv("relu", 2)]),  # max-pool on the input
        net([2, 8, 8], [avgpool, conv("relu", 2)]),  # average pool on the input
        net([4, 10, 10], [conv("relu", 3), avgpool, maxpool]),  # max-pool above a pool
        {**net([2, 6, 6], []), "layers": ["flatten", {"dense": 10, "activation": "softmax"}]},
    ]
    return out
