"""A trained network as a file: :func:`save` and :func:`load_trainer`.

The file is one ``.npz`` (NumPy's zip of arrays, read with ``allow_pickle=False``,
so loading one never runs code) holding

=========================  ==================================================================
``format``                 ``symbp-trainer/1``
``spec``                   the spec as YAML text (:func:`symbp.spec.dump.to_yaml`), with its
                           ``preprocessing`` (the standardisation and the labels)
``dtype``                  ``float64`` or ``float32``
``W_1 … W_L``              the weights, textbook layers: ``W_l`` is the spec's ``W[l-1]``,
``b_1 … b_L``              shape ``(n_l, n_{l-1})``; the biases ``(n_l,)``
``<s>.W_l``,               the optimiser's state ``s`` (``velocity``, ``m``, ``v`` …), shaped
``<s>.b_l``                as the parameters it belongs to; ``state_names`` lists the ``s``
``counters``               ``[epochs done, updates done]`` (the schedule's position)
``x_mean``, ``x_scale``    the spec's ``preprocessing.standardize`` (where given):
``x_var``,                 ``x' = (x - x_mean) / x_scale``; ``x_var`` and ``n_samples_seen``
``n_samples_seen``         where known (scikit-learn's ``StandardScaler`` state)
``labels``                 the spec's ``preprocessing.labels`` (int64 or text)
``classes``                the same labels as text
``class_threshold``        the one-unit output's threshold and whether it is strict
``class_strict``           (:mod:`.outputs`); an empty threshold for several units (argmax)
``activation_code``        per layer the activation's NumPy text (:mod:`.numpyspell`)
``activation_normalized``  per layer whether it divides by its sum (softmax); both for
                           :mod:`symbp.serving`, which predicts without SymPy or Numba
=========================  ==================================================================

The spec's ``preprocessing`` is the model's: a loaded trainer applies it to its
inputs and names its classes by it. A file saved before the spec had the field
(``x_mean``/``x_scale``/``classes`` arrays only) loads with the field filled from them.

It is a superset of a run directory's ``params.npz`` (which holds ``W_l``/``b_l``
and, for a standardised run, ``x_mean``/``x_scale``), so ``symbp train
--init-from`` takes either, and a run directory is a saved trainer. The generated
module is not stored: loading compiles the spec again, which the compile cache makes
a lookup.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DataError
from ..fileio import open_npz, write_atomic
from ..symbolic.notation import code_name
from .checksaved import check_meta, check_saved

if TYPE_CHECKING:
    from ..spec import Spec
    from ..spec.preprocessing import Preprocessing
    from .trainer import Trainer

FORMAT = "symbp-trainer/1"
#: The file a run directory keeps its trained network in.
RUN_FILE = "params.npz"


def trainer_arrays(trainer: Trainer) -> dict[str, np.ndarray]:
    """The arrays :func:`save` writes (see the module docstring)."""
    from ..spec.dump import to_yaml

    W, U, b = _with_U(trainer.params)
    arrays: dict[str, np.ndarray] = {
        "format": np.array(FORMAT),
        "spec": np.array(
            to_yaml(trainer.spec, header=("saved by symbp: the trained network's spec",))
        ),
        "dtype": np.array(trainer.dtype.name),
    }
    for l, (w, u, bias) in enumerate(zip(W, U, b, strict=True), start=1):
        if w is None:  # a layer without parameters (pool, flatten): no arrays
            continue
        arrays[code_name("W", l)] = w
        arrays[code_name("b", l)] = bias
        if u is not None:  # a recurrent layer's U
            arrays[code_name("U", l)] = u
    state = trainer.optimizer_state()
    for name, value in state.items():
        sW, sU, sb = _with_U(value)
        for l, (w, u, bias) in enumerate(zip(sW, sU, sb, strict=True), start=1):
            if w is None:
                continue
            arrays[f"{name}.{code_name('W', l)}"] = w
            arrays[f"{name}.{code_name('b', l)}"] = bias
            if u is not None:
                arrays[f"{name}.{code_name('U', l)}"] = u
    arrays["state_names"] = np.array(list(state), dtype=str)
    arrays["counters"] = np.array([trainer.epochs_done, trainer.steps_done], dtype=np.int64)
    arrays.update(model_arrays(trainer.spec))
    return arrays


def model_arrays(spec: Spec) -> dict[str, np.ndarray]:
    """The arrays :mod:`symbp.serving` predicts with besides the weights: the
    preprocessing, the output mapping and the activations' NumPy table."""
    from .numpyspell import table
    from .outputs import class_rule

    arrays: dict[str, np.ndarray] = {}
    pre = spec.preprocessing
    s = pre.standardize if pre is not None else None
    if s is not None:
        arrays["x_mean"] = np.array(s.mean, dtype=np.float64)
        arrays["x_scale"] = np.array(s.scale, dtype=np.float64)
        if s.var is not None:
            arrays["x_var"] = np.array(s.var, dtype=np.float64)
        if s.n_samples_seen is not None:
            arrays["n_samples_seen"] = np.array(s.n_samples_seen, dtype=np.int64)
    if pre is not None and pre.labels is not None:
        arrays["labels"] = np.asarray(pre.labels)
        arrays["classes"] = np.asarray(pre.labels).astype(str)
    rule = class_rule(spec)
    arrays["class_threshold"] = np.array([] if rule.threshold is None else [rule.threshold])
    arrays["class_strict"] = np.array(rule.strict)
    codes, normalized = table(spec)
    arrays["activation_code"] = np.array(codes, dtype=str)
    arrays["activation_normalized"] = np.array(normalized, dtype=bool)
    return arrays


def stored_preprocessing(arrays: Mapping[str, np.ndarray]) -> Preprocessing | None:
    """The preprocessing of a file's ``x_mean``/``x_scale``/``labels`` (or ``classes``)
    arrays, for a file whose spec does not carry it (saved before the field)."""
    from ..spec.preprocessing import from_arrays

    labels = arrays.get("labels", arrays.get("classes"))
    if labels is not None and labels.dtype.kind == "U":
        text = [str(v) for v in labels]
        if all(v.lstrip("-").isdigit() and len(v) < 19 for v in text):
            labels = np.array([int(v) for v in text], dtype=np.int64)
    seen = arrays.get("n_samples_seen")
    return from_arrays(
        arrays.get("x_mean"),
        arrays.get("x_scale"),
        labels,
        var=arrays.get("x_var"),
        n_samples_seen=None if seen is None else int(seen),
    )


def npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """``arrays`` as the bytes of an uncompressed ``.npz``."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    return buf.getvalue()


def save(trainer: Trainer, path: str | Path) -> Path:
    """Write ``trainer`` to ``path`` (a ``.npz`` file, or a folder: ``path/params.npz``)."""
    path = Path(path)
    if path.is_dir() or path.suffix == "":
        path = path / RUN_FILE
    return write_atomic(path, npz_bytes(trainer_arrays(trainer)))


def _npz_path(path: str | Path) -> Path:
    path = Path(path)
    if path.is_dir():
        path = path / RUN_FILE
    from ..outputs import check_complete

    check_complete(path.parent)  # a run folder whose train was killed: one line
    if not path.is_file():
        raise DataError("expected a saved trainer (.npz) or a run directory", file=str(path))
    return path


def read_arrays(path: str | Path) -> dict[str, np.ndarray]:
    """Every array of a saved trainer or ``params.npz`` (``allow_pickle=False``)."""
    path = _npz_path(path)
    try:
        with open_npz(path, error=DataError) as archive:
            return {key: archive[key] for key in archive.files}
    except DataError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise DataError(f"cannot read as .npz: {err}", file=str(path)) from None


def _with_U(params: Any) -> tuple[list[Any], list[Any], list[Any]]:
    """``(W, U, b)`` from a trainer's ``(W, b)`` (``U`` all ``None``) or a recurrent
    trainer's ``(W, U, b)``."""
    if len(params) == 3:
        return params[0], params[1], params[2]
    return params[0], [None] * len(params[0]), params[1]


def stored_params(arrays: Mapping[str, np.ndarray], source: str) -> Any:
    """``(W, b)`` (spec order) from the ``W_l``/``b_l`` arrays of a file; ``None`` for a
    layer the file has no arrays of (below the last one: a pool or flatten layer)."""
    numbers = [key[2:] for key in arrays if key.startswith("W_")]
    depth = max((int(n) for n in numbers if n.isdigit()), default=0)
    W: list[Any] = [arrays.get(code_name("W", l)) for l in range(1, depth + 1)]
    b: list[Any] = [arrays.get(code_name("b", l)) for l in range(1, depth + 1)]
    if depth == 0:
        raise DataError("no weights (W_1, W_2, ...) in the file", file=source)
    for l, (w, bias) in enumerate(zip(W, b, strict=True), start=1):
        if (w is None) != (bias is None):
            missing = code_name("b" if bias is None else "W", l)
            raise DataError(f"missing array {missing!r}", file=source)
    if not W:
        raise DataError("no weights (W_1, W_2, ...) in the file", file=source)
    if any(key.startswith("U_") for key in arrays):  # a recurrent network: (W, U, b)
        return W, [arrays.get(code_name("U", l)) for l in range(1, depth + 1)], b
    return W, b


def restore(trainer: Trainer, arrays: Mapping[str, np.ndarray], source: str) -> Trainer:
    """Put a file's parameters (and, where stored, optimiser state and counters) into
    ``trainer``; the shapes must be the trainer's network's."""
    try:
        trainer.params = stored_params(arrays, source)
    except DataError as err:
        raise DataError(f"does not fit {trainer.spec.name}: {err.message}", file=source) from None
    if "counters" not in arrays:
        return trainer  # parameters only (a params.npz): fresh optimiser state
    names = [str(n) for n in arrays.get("state_names", np.array([], dtype=str))]
    wanted = trainer.optimizer_state()
    if sorted(names) != sorted(wanted):
        return trainer  # another optimiser: its state does not carry over
    state = {}
    for name in names:
        prefixed = {k[len(name) + 1 :]: v for k, v in arrays.items() if k.startswith(name + ".")}
        state[name] = stored_params(prefixed, source)
    try:
        trainer.set_optimizer_state(state)
    except DataError as err:
        raise DataError(f"optimiser state: {err.message}", file=source) from None
    epochs, steps = (int(v) for v in arrays["counters"][:2])
    trainer.set_position(epochs, steps)
    return trainer


def saved_spec(arrays: Mapping[str, np.ndarray], source: str) -> Spec:
    """The spec stored in a file's arrays, with its preprocessing (from the arrays where
    the spec text predates the field)."""
    from ..errors import SpecError
    from ..spec import load as load_spec
    from ..spec.preprocessing import with_preprocessing
    from ..yamlio import parse_yaml

    data, _ = parse_yaml(str(arrays["spec"]), name=f"{source}:spec")
    spec = load_spec(data)
    if spec.preprocessing is None:
        pre = stored_preprocessing(arrays)
        if pre is not None:
            try:
                spec = with_preprocessing(spec, pre)
            except SpecError as err:
                raise DataError(f"x_mean/x_scale/classes: {err.message}", file=source) from None
    return spec


def load_trainer(path: str | Path, *, dtype: str | None = None) -> Trainer:
    """The trainer saved at ``path`` (a ``.npz`` of :func:`save` or a run directory).

    Compiles the stored spec (a cache lookup when it was compiled before) and
    restores its parameters, optimiser state and schedule position; ``dtype``
    defaults to the saved one.
    """
    from . import compile as compile_spec

    npz = _npz_path(path)
    arrays = read_arrays(npz)
    check_meta(arrays, str(npz))
    if "spec" not in arrays:
        raise DataError(
            "holds parameters but no spec (a params.npz from an older run?): "
            "compile the spec and pass it to symbp train --init-from",
            file=str(npz),
        )
    spec = saved_spec(arrays, str(npz))
    check_saved(arrays, spec.layers, str(npz), parameter_shapes(spec))
    saved_dtype = str(arrays["dtype"]) if "dtype" in arrays else spec.dtype
    trainer = compile_spec(spec, dtype=dtype or saved_dtype)
    return restore(trainer, arrays, str(npz))


def init_from(trainer: Trainer, path: str | Path) -> Trainer:
    """``symbp train --init-from``: start ``trainer`` from a saved run's parameters."""
    npz = _npz_path(path)
    arrays = read_arrays(npz)
    spec = trainer.spec
    check_saved(arrays, spec.layers, str(npz), parameter_shapes(spec))  # a hand-edited file
    return restore(trainer, arrays, str(npz))


def state_dict(trainer: Trainer) -> dict[str, np.ndarray]:
    """``nn.Sequential``-style keys: ``"0.weight"`` ``(out, in)``, ``"0.bias"``, ``"2.weight"`` …

    Layer ``l`` (0-based) of a network of dense layers is module ``2l`` of the Sequential
    that :func:`to_torch` builds (a ``Linear`` followed by its activation); in a network
    with feature maps a layer's module is at :func:`module_positions` (``Conv2d`` and its
    activation, a pool, ``Flatten``, ``Linear`` and its activation), a conv weight in
    ``Conv2d``'s layout ``(out, in, kh, kw)``, its bias ``(out,)``; layers without
    parameters have no keys.
    """
    W, b = trainer.params
    out: dict[str, np.ndarray] = {}
    for at, w, bias in zip(module_positions(trainer.spec), W, b, strict=True):
        if w is not None:
            out[f"{at}.weight"] = w
            out[f"{at}.bias"] = bias
    return out


def parameter_shapes(spec: Spec) -> list[dict[str, tuple[int, ...]]] | None:
    """Each layer's parameter shapes for :func:`.checksaved.check_saved` (``None``: the
    dense layers' default)."""
    if spec.dense_only:
        return None
    out, shape = [], spec.input_shape
    for layer in spec.network:
        out.append(layer.parameter_shapes(shape))
        shape = layer.output_shape(shape)
    return out


def module_positions(spec: Spec) -> list[int]:
    """The position of each layer's first module in :func:`symbp.to_torch`'s Sequential:
    a layer with an activation is two modules (its map, then the activation), one
    without (pool, flatten) is one. For a network of dense layers, layer ``l`` is at ``2l``."""
    out, at = [], 0
    for layer in spec.network:
        out.append(at)
        at += 1 if layer.activation is None else 2
    return out


def load_state_dict(trainer: Trainer, state: Mapping[str, Any]) -> None:
    """Set ``trainer``'s parameters from :func:`state_dict`-style keys (NumPy arrays or
    torch tensors); every key must be there and no other."""
    having = [W is not None for W in trainer.params[0]]
    positions = module_positions(trainer.spec)
    expected = {
        f"{at}.{kind}"
        for at, has in zip(positions, having, strict=True)
        if has
        for kind in ("weight", "bias")
    }
    given = set(state)
    if given != expected:
        missing, extra = sorted(expected - given), sorted(given - expected)
        what = f"missing {', '.join(missing)}" if missing else f"unexpected {', '.join(extra)}"
        layers = "Linear" if trainer.spec.dense_only else "Conv2d/Linear"
        raise DataError(f"expected the keys of an nn.Sequential's {layers} layers: {what}")

    def array(value: Any) -> np.ndarray:
        detach = getattr(value, "detach", None)
        return np.asarray(detach().cpu().numpy() if detach is not None else value)

    pairs = list(zip(positions, having, strict=True))
    W = [array(state[f"{at}.weight"]) if has else None for at, has in pairs]
    b = [array(state[f"{at}.bias"]) if has else None for at, has in pairs]
    trainer.params = (W, b)
