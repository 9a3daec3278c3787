"""Open layer sizes: a spec whose input and/or output size is ``null``, sized from data.

A spec may leave ``layers[0]`` (the input size) and ``layers[-1]`` (the output size)
open, e.g. ``layers: [null, 32, null]``; hidden sizes are always given. Such a spec
cannot be derived, documented or compiled as it stands: :func:`symbp.load` raises
``SpecError("layers[0]: open size; give it or fit an estimator")``. The estimators
(:mod:`symbp.train.estimator`) and ``symbp train`` fill the open sizes from the data
with :func:`sized`: the number of features, and the number of outputs (target columns,
or one unit per class). Sizes the spec gives are kept as they are; a mismatch with the
data is then reported by the caller as a :class:`~symbp.errors.DataError`.

Sizing works on the spec's raw data (``Spec.data``, the mapping as written) and
validates the filled-in mapping through the normal loader, so every other field is
checked exactly as for a spec written with those sizes (and its hash, hence its
compiled module, is that spec's).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..yamlio import PathKey
from .loader import build
from .model import Spec
from .source import read_spec_yaml

SpecSource = Spec | str | Path | Mapping[str, Any]


def spec_source(source: SpecSource) -> tuple[dict[str, Any], dict[PathKey, int], str | None]:
    """The raw data of a spec (a fresh top-level copy), its YAML lines and its file.

    A :class:`Spec` gives its ``data``; a mapping is taken as is; a path is read.
    """
    from ..errors import SpecError

    if isinstance(source, Spec):
        return dict(source.data), dict(source.lines), source.path
    if isinstance(source, Mapping):
        return dict(source), {}, None
    if isinstance(source, (str, Path)):
        data, lines, file = read_spec_yaml(source)  # a file, a shipped example's name, or -
        if not isinstance(data, Mapping):
            return data, dict(lines), file  # the loader reports it, located
        return dict(data), dict(lines), file
    raise SpecError(f"expected a spec path, dict or Spec, found {type(source).__name__}")


def open_sizes(data: Any) -> tuple[bool, bool]:
    """Whether the input size and the output size of spec ``data`` are open (``null``)."""
    layers = data.get("layers") if isinstance(data, Mapping) else None
    if not isinstance(layers, list) or len(layers) < 2:
        return False, False
    return layers[0] is None, layers[-1] is None


def with_sizes(data: Mapping[str, Any], n_in: int | None, n_out: int | None) -> dict[str, Any]:
    """A copy of spec ``data`` with its open sizes set to ``n_in`` / ``n_out``.

    Given sizes are kept; ``None`` leaves a size as it is. The input is not changed.
    """
    out = dict(data)
    layers = out.get("layers")
    if isinstance(layers, list) and len(layers) >= 2:
        layers = list(layers)
        if layers[0] is None and n_in is not None:
            layers[0] = int(n_in)
        if layers[-1] is None and n_out is not None:
            layers[-1] = int(n_out)
        out["layers"] = layers
    return out


def sized(source: SpecSource, n_in: int | None, n_out: int | None) -> Spec:
    """The spec ``source`` with its open input/output sizes filled, validated.

    ``source`` is a :class:`Spec`, a mapping of spec data or a YAML path. Raises
    :class:`~symbp.errors.SpecError` as :func:`symbp.load` does (an open size left
    open: ``layers[-1]: open size; give it or fit an estimator``).
    """
    data, lines, file = spec_source(source)
    if not isinstance(data, Mapping):
        return build(data, lines=lines, file=file)  # type: ignore[arg-type]
    return build(with_sizes(data, n_in, n_out), lines=lines, file=file)
