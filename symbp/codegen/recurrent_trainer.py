"""The Python face of a generated recurrent module: :class:`RecurrentTrainer`.

Shapes (``steps`` T, ``features`` F, outputs O of the last dense layer):

- ``X``: ``(n, T, F)``; also accepted ``(n, T·F)`` (each row step by step, the spec's
  example layout) and, with one feature, ``(n, T)``;
- targets for ``output: every_step``: ``(n, T, O)``, also ``(n, T·O)`` and, with one
  output, ``(n, T)``; for ``last_step``: ``(n, O)``, also ``(n,)`` with one output;
- :meth:`~RecurrentTrainer.predict` gives ``(n, T, O)`` (every step) or ``(n, O)`` (last);
- ``params`` (and every optimiser state, every gradient) is the triple ``(W, U, b)`` of
  lists, one entry per layer: ``W[0]`` ``(G·n, F)``, ``U[0]`` ``(G·n, n)``, ``b[0]``
  ``(B·n,)`` in PyTorch's gate layout (:mod:`symbp.layers.cells`), then each dense
  layer's ``W[l]`` ``(out, in)`` and ``b[l]``, with ``U[l]`` ``None``.

The loss ``E`` of a batch is the mean over its sequences of ``Σ_t L_t`` (every step) or
of ``L_T`` (last step), as the exact engine (:mod:`symbp.symbolic.recurrent_run`) forms
it; the initial states ``h0`` (``c0``) are the spec's (zeros where it gives none) and
are never trained. ``clip_norm`` clips the gradient by its global norm before each
update (the gradients that :meth:`~RecurrentTrainer.gradients` returns are unclipped).

:meth:`~RecurrentTrainer.state_dict` uses PyTorch's names: ``rnn.weight_ih_l0`` = ``W[0]``,
``rnn.weight_hh_l0`` = ``U[0]``, ``rnn.bias_ih_l0`` = ``b[0]`` and ``rnn.bias_hh_l0`` = 0
for the Elman (``nn.RNN``) and LSTM cells (only the sum of the two biases matters); for
the GRU, whose ``b`` holds ``r, z, n, hn``, ``bias_ih`` = ``[b_r, b_z, b_n]`` and
``bias_hh`` = ``[0, 0, b_hn]``; the dense head under ``head.<i>.weight``/``.bias`` with
``i`` the position of its ``nn.Linear`` in an ``nn.Sequential`` of Linear and activation
modules (0, 2, 4 …). Loading adds ``bias_ih`` and ``bias_hh`` back (GRU: ``b_r``, ``b_z``
summed, ``b_n`` from ``bias_ih``, ``b_hn`` from ``bias_hh``).

Not available for recurrent networks yet (one line each): sample weights,
preprocessing, ONNX export, ``export-spec``, NumPy serving (:mod:`symbp.serving`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import DataError, SpecError
from ..layers import Recurrent
from ..spec import Spec
from .data import _finite, _numeric, check_targets
from .first_call import compiling as _compiling
from .trainer import Trainer

Triple = tuple[list[Any], list[Any], list[Any]]


def _as_array(value: Any) -> np.ndarray | None:
    return None if value is None else np.array(value, dtype=object).astype(np.float64)


class RecurrentTrainer(Trainer):
    """A compiled recurrent network (see the module docstring for shapes and layouts)."""

    @property
    def _rec(self) -> Any:
        rec = self._spec.recurrence
        assert rec is not None
        return rec

    @property
    def _layer(self) -> Recurrent:
        layer = self._spec.network[0]
        assert isinstance(layer, Recurrent)
        return layer

    # -- parameters ----------------------------------------------------------

    def _split(self, flat: np.ndarray) -> Triple:  # type: ignore[override]
        depth = self._spec.depth
        out: dict[str, list[Any]] = {k: [None] * depth for k in "WUb"}
        for kind, layer, offset, shape in self._module.PARAMS:
            if kind in out:
                size = int(np.prod(shape))
                out[kind][layer] = flat[offset : offset + size].reshape(shape).copy()
        return out["W"], out["U"], out["b"]

    @property  # type: ignore[override]
    def params(self) -> Triple:
        """``(W, U, b)``: copies of the current parameters (module docstring)."""
        return self._split(self._params)

    @params.setter  # type: ignore[override]
    def params(self, value: Triple) -> None:
        self._params[:] = self._flatten(value, "params")

    def _flatten(self, value: Any, what: str) -> np.ndarray:
        try:
            W, U, b = value
        except (TypeError, ValueError):
            raise DataError("expected a triple (W, U, b) of lists of arrays", field=what) from None
        depth = self._spec.depth
        given = {"W": W, "U": U, "b": b}
        for name, arrays in given.items():
            if len(arrays) != depth:
                raise DataError(
                    f"expected {depth} entries of {name} (one per layer), found {len(arrays)}",
                    field=what,
                )
        for l in range(1, depth):
            if U[l] is not None:
                raise DataError("expected None: a dense layer has no U", field=f"{what}.U[{l}]")
        flat = np.zeros(self._module.N_PARAMS, dtype=self._dtype)
        initial = self._rec.initial[0] or {}
        for kind, layer, offset, shape in self._module.PARAMS:
            if kind not in given:  # an initial state: the spec's, zeros where it gives none
                state = kind[:-1]
                values = np.array([float(v) for v in initial.get(state, (0,) * shape[0])])
                flat[offset : offset + shape[0]] = values.astype(self._dtype)
                continue
            arr = np.asarray(given[kind][layer])
            name = f"{what}.{kind}[{layer}]"
            if arr.dtype.kind not in "iuf" or arr.shape != tuple(shape):
                raise DataError(
                    f"expected an array of numbers of shape {tuple(shape)}, found "
                    f"{arr.dtype} {arr.shape}",
                    field=name,
                )
            values = arr.astype(self._dtype).ravel()
            if not np.isfinite(values).all():
                raise DataError("values must be finite", field=name)
            flat[offset : offset + values.size] = values
        return flat

    def initial_params(self) -> Triple:  # type: ignore[override]
        """The starting parameters ``(W, U, b)`` (see :meth:`_draw_initial`)."""
        if self._initial is None:
            self._initial = self._draw_initial()  # type: ignore[assignment]
        drawn: Any = self._initial
        return tuple([None if a is None else a.copy() for a in part] for part in drawn)  # type: ignore[return-value]

    def _draw_initial(self) -> Triple:  # type: ignore[override]
        """The spec's ``params``, else drawn by its init (``xavier_uniform``, seed 0, when
        it names none) from one seeded stream in the order ``W[0]``, ``U[0]``, then each
        dense ``W[l]`` (each with its layer's fan-in and fan-out); biases zero."""
        spec, rec = self._spec, self._rec
        shapes, shape = [], spec.input_shape
        for layer in spec.network:
            shapes.append(layer.parameter_shapes(shape))
            shape = layer.output_shape(shape)
        b: list[Any] = [np.zeros(s["b"]) for s in shapes]
        if spec.W is not None:
            W = [_as_array(m) for m in spec.W]
            if spec.b is not None:
                b = [
                    np.zeros(s["b"]) if v is None else _as_array(v)
                    for v, s in zip(spec.b, shapes, strict=True)
                ]
            U = [_as_array(u) for u in rec.U] if rec.U is not None else [None] * spec.depth
            if U[0] is None:
                raise SpecError("params gives W but not U of the recurrent layer", field="params.U")
            return W, U, b
        from ..ops.initializers import draw_arrays

        name, seed, legacy = "xavier_uniform", 0, False
        options: Mapping[str, Any] = {}
        if spec.init is not None:
            name, options = spec.init.name, spec.init.options
            seed, legacy = spec.init.seed, spec.init.legacy
        fans, shape = [], spec.input_shape
        for layer, params in zip(spec.network, shapes, strict=True):
            fan = layer.fan(shape)
            fans.append((*fan, tuple(params["W"])))
            if "U" in params:
                fans.append((*fan, tuple(params["U"])))
            shape = layer.output_shape(shape)
        drawn = list(draw_arrays(name, options, fans, seed, legacy=legacy))
        W = [drawn[0], *drawn[2:]]
        U = [drawn[1]] + [None] * (spec.depth - 1)
        return W, U, b

    # -- data ------------------------------------------------------------------

    def _inputs(self, X: Any) -> np.ndarray:
        if self._spec.preprocessing is not None:
            raise SpecError("preprocessing is not available for recurrent networks yet")
        T, F = self._rec.steps, self._spec.input_shape[0]
        arr = _numeric(X, "X")
        if arr.ndim == 2 and arr.shape[1] == T * F:
            arr = arr.reshape(arr.shape[0], T, F)
        elif arr.ndim == 2 and F == 1 and arr.shape[1] == T:
            arr = arr.reshape(arr.shape[0], T, 1)
        if arr.ndim != 3 or arr.shape[1:] != (T, F):
            raise DataError(
                f"expected sequences of shape (n, {T}, {F}) (steps, features), found {arr.shape}",
                field="X",
            )
        if arr.shape[0] == 0:
            raise DataError("expected at least one sequence, found 0", field="X")
        out = np.ascontiguousarray(arr, dtype=self._dtype)
        _finite(out.reshape(out.shape[0], -1), "X")
        return out

    def _targets(self, T: Any, n: int) -> np.ndarray:
        steps, O = self._rec.steps, self._spec.layers[-1]
        if self._rec.output != "every_step":
            flat = check_targets(T, self._spec, n, self._dtype.name)
            return flat.reshape(n, 1, O)
        arr = _numeric(T, "T")
        if arr.ndim == 2 and (arr.shape[1] == steps * O or (O == 1 and arr.shape[1] == steps)):
            arr = arr.reshape(arr.shape[0], steps, O)
        if arr.ndim != 3 or arr.shape[1:] != (steps, O):
            raise DataError(
                f"expected targets of shape ({n}, {steps}, {O}) (every step), found {arr.shape}",
                field="T",
            )
        if arr.shape[0] != n:
            raise DataError(f"expected {n} sequences (one per X), found {arr.shape[0]}", field="T")
        flat = check_targets(arr.reshape(n * steps, O), self._spec, n * steps, self._dtype.name)
        return flat.reshape(n, steps, O)

    def _data(self, X: Any, T: Any) -> tuple[np.ndarray, np.ndarray]:
        X = self._inputs(X)
        return X, self._targets(T, X.shape[0])

    def _kernel(self, weights: np.ndarray | None) -> Any:
        if weights is not None:
            raise DataError("sample weights are not available for recurrent networks yet")
        return self._module.train

    def predict(self, X: Any) -> np.ndarray:
        """The outputs: ``(n, steps, outputs)`` for every step, ``(n, outputs)`` for the last."""
        X = self._inputs(X)
        module = self._module
        out = np.empty((X.shape[0], module.OUT_STEPS, self._spec.layers[-1]), dtype=self._dtype)
        with _compiling(module.train):
            module.predict(self._params, module.workspace(), X, out)
        return out if self._rec.output == "every_step" else out[:, 0, :]

    def with_preprocessing(self, preprocessing: Any) -> Trainer:
        if preprocessing is None:
            return self
        raise SpecError("preprocessing is not available for recurrent networks yet")

    # -- PyTorch's layout --------------------------------------------------------

    def _head_positions(self) -> list[int]:
        from .persist import module_positions

        return module_positions(_head_only(self._spec))

    def state_dict(self) -> dict[str, np.ndarray]:
        """The parameters under PyTorch's names (module docstring)."""
        W, U, b = self.params
        n = self._layer.size
        out: dict[str, np.ndarray] = {
            "rnn.weight_ih_l0": W[0],
            "rnn.weight_hh_l0": U[0],
        }
        out["rnn.bias_ih_l0"], out["rnn.bias_hh_l0"] = self._layer.cell.torch_biases(b[0], n)
        for at, w, bias in zip(self._head_positions(), W[1:], b[1:], strict=True):
            out[f"head.{at}.weight"] = w
            out[f"head.{at}.bias"] = bias
        return out

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Set the parameters from :meth:`state_dict`'s keys (arrays or torch tensors)."""
        expected = list(self.state_dict())
        if sorted(state) != sorted(expected):
            raise DataError(
                f"expected the keys {', '.join(expected)}, found {', '.join(sorted(state))}",
                field="state_dict",
            )

        def array(key: str) -> np.ndarray:
            value = state[key]
            if hasattr(value, "detach"):
                value = value.detach().cpu().numpy()
            return np.asarray(value, dtype=np.float64)

        n = self._layer.size
        ih, hh = array("rnn.bias_ih_l0"), array("rnn.bias_hh_l0")
        if ih.shape != hh.shape:
            raise DataError("expected bias_ih_l0 and bias_hh_l0 of one shape", field="state_dict")
        b0 = self._layer.cell.from_torch_biases(ih, hh, n)
        W = [array("rnn.weight_ih_l0")]
        U: list[Any] = [array("rnn.weight_hh_l0")]
        b = [b0]
        for at in self._head_positions():
            W.append(array(f"head.{at}.weight"))
            b.append(array(f"head.{at}.bias"))
            U.append(None)
        self.params = (W, U, b)

    def __repr__(self) -> str:
        return (
            f"RecurrentTrainer({self._spec.name!r}, {self._layer.cell.name} "
            f"{self._layer.size} units, {self._rec.steps} steps, {self._dtype.name}, "
            f"{self.epochs_done} epochs trained)"
        )


def _head_only(spec: Spec) -> Spec:
    from .recurrent_plan import head_spec

    return head_spec(spec)


__all__: Sequence[str] = ("RecurrentTrainer",)
