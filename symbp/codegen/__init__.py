"""The kernel generator: a Numba trainer for exactly one network, from its derivation.

::

    trainer = symbp.codegen.compile("examples/koech_3_4_1.yaml")   # or symbp.compile
    history = trainer.fit(X, T, epochs=10, batch_size=32)
    path = symbp.codegen.write_module(spec, out_dir="build")       # symbp compile

``compile`` renders the module (:mod:`.plan` lowers the symbolic model, :mod:`.emit`
fills ``templates/trainer.py.j2``), writes it atomically to a file named by its content
(:mod:`.loader`), imports it and wraps it in a :class:`~.trainer.Trainer`. Numba
compiles each kernel on first use and caches it next to the module, so a second
process starts fast. ``shipped_outputs`` gives the modules kept in ``generated/`` for
the shipped examples (``python -m symbp.regenerate``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import SpecError
from ..spec import Spec
from ..spec import load as load_spec
from ..spec.preprocessing import network_spec
from . import loader
from .emit import render
from .memory import check_memory
from .trainer import History, Trainer

SpecLike = Spec | str | Path | Mapping[str, Any]

__all__ = ["History", "Trainer", "compile", "render", "shipped_outputs", "write_module"]


def _dtype(spec: Spec, dtype: str | None) -> str:
    value = dtype or spec.dtype
    if value not in ("float64", "float32"):
        raise SpecError(f"expected float64 or float32, found {value!r}", field="dtype")
    return str(value)


def _module_file(spec: Spec, dtype: str, out_dir: Path | None) -> tuple[Path, str | None]:
    """The module file for ``spec`` (rendering only when the cache index has no entry).

    A spec's ``preprocessing`` is not part of its module: a trained model and its
    network share one module file (and Numba's cache of it).
    """
    spec = network_spec(spec)
    check_memory(spec, dtype)  # before rendering: plans and buffers grow with the layers
    directory = Path(out_dir) if out_dir is not None else loader.cache_dir()
    key = loader.render_key(spec.hash, dtype)
    if out_dir is None:
        found = loader.lookup(directory, key)
        if found is not None:
            return found, None
    text = render(spec, dtype)
    stem = loader.safe_stem(spec.name)
    if out_dir is None:
        path = directory / f"{stem}_{dtype}_{loader.text_key(text)}.py"
    else:
        path = directory / (f"{stem}.py" if dtype == spec.dtype else f"{stem}_{dtype}.py")
    loader.write(text, path)
    if out_dir is None:
        loader.record(directory, key, path)
    return path, text


def write_module(
    spec: SpecLike, *, out_dir: str | Path | None = None, dtype: str | None = None
) -> Path:
    """Write the generated trainer module of ``spec`` and return its path.

    ``out_dir`` defaults to the per-user compile cache; there the file name carries the
    module's content hash, elsewhere it is ``<spec name>.py`` (``_<dtype>`` appended
    when ``dtype`` is not the spec's).
    """
    spec = load_spec(spec)
    path, _ = _module_file(spec, _dtype(spec, dtype), Path(out_dir) if out_dir else None)
    return path


def compile(
    spec: SpecLike, *, out_dir: str | Path | None = None, dtype: str | None = None
) -> Trainer:
    """Generate, write and import the Numba trainer of ``spec``; return a :class:`Trainer`.

    ``dtype`` (float64 or float32) defaults to the spec's. Kernels compile on first
    use (and come from Numba's cache in later processes).
    """
    spec = load_spec(spec)
    dtype = _dtype(spec, dtype)
    path, _ = _module_file(spec, dtype, Path(out_dir) if out_dir else None)
    module = loader.import_module(path)
    return Trainer(spec, module, dtype, path)


def shipped_outputs(spec_paths: list[Path]) -> dict[str, str]:
    """``generated/<example>.py`` -> module text, for every shipped example spec."""
    out: dict[str, str] = {}
    for path in spec_paths:
        spec = load_spec(path)
        name = loader.safe_stem(Path(path).stem)
        out[f"generated/{name}.py"] = render(spec, spec.dtype, command="python -m symbp.regenerate")
    return out
