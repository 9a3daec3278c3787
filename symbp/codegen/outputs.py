"""From a network's outputs to classes: the output mapping of a trained model.

With several output units the class is the unit of the largest output (the first of
equal ones, as ``numpy.argmax``); with one unit it is 1 where the output is at or
above 0.5, or above 0 for a loss whose targets are signs (−1/+1, ``hinge``), else 0.
The rule comes from the loss record's ``target_domain``; the labels (the spec's
``preprocessing.labels``) name the classes, else they are the indices ``0 … k−1``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..spec import Spec


@dataclass(frozen=True)
class ClassRule:
    """``threshold None``: argmax over the units; else one unit compared with
    ``threshold`` (``strict``: ``>``, else ``>=``)."""

    threshold: float | None
    strict: bool = False

    def index(self, Y: np.ndarray) -> np.ndarray:
        """The class index (int64) of each row of outputs ``Y`` ``(n, units)``."""
        Y = np.asarray(Y)
        if self.threshold is None:
            return np.argmax(Y, axis=1).astype(np.int64)
        above = Y[:, 0] > self.threshold if self.strict else Y[:, 0] >= self.threshold
        return above.astype(np.int64)


def class_rule(spec: Spec) -> ClassRule:
    """How ``spec``'s outputs map to a class index (see the module docstring)."""
    if spec.layers[-1] > 1:
        return ClassRule(None)
    if spec.loss.target_domain == "sign":
        return ClassRule(0.0, strict=True)
    return ClassRule(0.5)


def labels_array(spec: Spec) -> np.ndarray | None:
    """The labels of ``spec``'s classes as an array (int64 or text), ``None`` if not given."""
    pre = spec.preprocessing
    if pre is None or pre.labels is None:
        return None
    return np.asarray(pre.labels)


def classes_of(spec: Spec, Y: Any) -> np.ndarray:
    """The class of each row of outputs ``Y``: its label, else its index."""
    index = class_rule(spec).index(Y)
    labels = labels_array(spec)
    return index if labels is None else labels[index]
