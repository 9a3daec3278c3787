"""``assert_same``: two results equal to the last bit (the piecewise kernel's tests)."""

from __future__ import annotations

import numpy as np


def assert_same(a: object, b: object) -> None:
    """``a`` and ``b`` hold the same numbers bit for bit (``np.array_equal``), nested in the
    same lists, tuples and dicts, with ``None`` where the other has ``None``."""
    if isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys()
        for key in a:
            assert_same(a[key], b[key])
    elif a is None:
        assert b is None
    else:
        assert np.array_equal(np.asarray(a), np.asarray(b)), (a, b)
