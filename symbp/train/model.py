"""The model a training run saves: its network with the preprocessing it was trained
behind (the inputs' standardisation, the classes' labels), so that
:func:`symbp.load_trainer`, :mod:`symbp.serving`, ``to_torch``, ``export-onnx`` and
``export-spec`` take raw inputs and name the classes.
"""

from __future__ import annotations

from typing import Any

from ..spec.preprocessing import Preprocessing, from_arrays
from .prepare import Prepared


def preprocessing_of(data: Prepared) -> Preprocessing | None:
    """The standardisation (fitted on the training split) and the labels of ``data``."""
    return from_arrays(
        data.mean,
        data.scale,
        data.classes,
        var=data.var,
        n_samples_seen=len(data.train) if data.mean is not None else None,
    )


def saved_model(trainer: Any, data: Prepared) -> Any:
    """``trainer`` (trained on ``data``'s prepared inputs) as the model to save: a copy
    whose spec carries :func:`preprocessing_of` ``data``."""
    return trainer.with_preprocessing(preprocessing_of(data))
