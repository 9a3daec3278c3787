"""The ``torch.nn.Sequential`` subclass :func:`symbp.to_torch` returns (imported only
there: this module imports PyTorch).

It is the network's ``Linear``/activation Sequential (module ``2l`` is layer ``l``'s
``Linear``, so its ``state_dict`` keys are the trainer's) with the model's
preprocessing: ``forward`` first standardises the raw inputs, ``(x - x_mean) /
x_scale`` in float64 and then in the layers' dtype (as the trainer does), and
``labels`` names the classes of the outputs (``None`` where the model has none).
The standardisation lives in buffers that are not part of the ``state_dict``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn


class SymbpSequential(nn.Sequential):
    """The network's layers behind its input standardisation (see the module docstring)."""

    x_mean: torch.Tensor | None
    x_scale: torch.Tensor | None

    def __init__(
        self,
        *layers: nn.Module,
        mean: Sequence[float] | None = None,
        scale: Sequence[float] | None = None,
        labels: Sequence[Any] | None = None,
    ) -> None:
        super().__init__(*layers)
        given = mean is not None and scale is not None
        f64 = torch.float64
        self.register_buffer(
            "x_mean", torch.tensor(mean, dtype=f64) if given else None, persistent=False
        )
        self.register_buffer(
            "x_scale", torch.tensor(scale, dtype=f64) if given else None, persistent=False
        )
        #: The class of each output unit (two for a one-unit output), or ``None``.
        self.labels = None if labels is None else list(labels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.x_mean is not None and self.x_scale is not None:
            first = self[0]
            dtype = first.weight.dtype if isinstance(first, nn.Linear | nn.Conv2d) else x.dtype
            # feature maps (n, C, H, W): the statistics are of the (c, i, j)-ordered values
            mean, scale = self.x_mean.reshape(x.shape[1:]), self.x_scale.reshape(x.shape[1:])
            x = ((x.to(torch.float64) - mean) / scale).to(dtype)
        return super().forward(x)

    def extra_repr(self) -> str:
        parts = []
        if self.x_mean is not None:
            parts.append("inputs standardised: (x - x_mean) / x_scale")
        if self.labels is not None:
            parts.append(f"labels={self.labels!r}")
        return ", ".join(parts)
