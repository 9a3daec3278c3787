"""``symbp export-spec``: the spec of a trained network, its ``params`` the trained ones.

The documents and the verifier then run on the trained network. Each trained number
is written as the shortest decimal that reads back as exactly the trained float
(``repr``; at most 17 significant digits, within the spec's number limits), so
loading the exported spec gives the trained float64 values exactly; the exact
evaluator works from those decimals. ``init`` is dropped (the params are given). The
model's ``preprocessing`` (a standardised run's ``mean``/``scale``, a classifier's
``labels``: :mod:`symbp.spec.preprocessing`) is written as data, the same shortest
decimals, so ``symbp compile`` of the exported spec gives a trainer that takes raw
inputs and names the classes, as the saved one does.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import sympy as sp

from ..limits import decimal_fraction
from .checksaved import check_meta, check_saved
from .persist import _npz_path, read_arrays, saved_spec


def _exact(value: float) -> sp.Rational:
    fraction = decimal_fraction(repr(float(value)))
    return sp.Rational(fraction.numerator, fraction.denominator)


def trained_spec_yaml(run: str | Path) -> str:
    """The YAML text of the trained spec stored in ``run`` (a run folder or ``.npz``)."""
    from ..errors import DataError
    from ..spec import load as load_spec
    from ..spec.dump import to_yaml
    from ..stages import require_dense

    npz = _npz_path(run)
    arrays = read_arrays(npz)
    check_meta(arrays, str(npz))
    if "spec" not in arrays:
        raise DataError("holds parameters but no spec; train it again to export", file=str(npz))
    spec = require_dense(saved_spec(arrays, str(npz)), "exported specs")
    W, b = check_saved(arrays, spec.layers, str(npz))
    trained = dataclasses.replace(
        spec,
        W=tuple(tuple(tuple(_exact(v) for v in row) for row in np.asarray(w)) for w in W),
        b=tuple(tuple(_exact(v) for v in np.asarray(vec)) for vec in b),
        init=None,
    )
    load_spec(trained.to_data())  # the exported text must load: check it before writing
    epochs = int(arrays["counters"][0]) if "counters" in arrays else None
    header = [
        f"{spec.name}: trained parameters from {npz}"
        + (f" after {epochs} epochs" if epochs is not None else ""),
        "each number is the shortest decimal that reads back as the trained float exactly",
        "written by: symbp export-spec (regenerate with the same command)",
    ]
    pre = spec.preprocessing
    if pre is not None and pre.standardize is not None:
        header.append(
            "the network's inputs are (raw - preprocessing.standardize.mean) / "
            "preprocessing.standardize.scale; a compiled trainer applies it"
        )
    return to_yaml(trained, header=header)
