"""ONNX export without PyTorch: :func:`to_onnx` builds the graph with ``onnx.helper``.

The graph, for a trainer of dtype ``float32`` or ``float64`` (its element type):

* input ``X`` ``(n, layers[0])``: raw inputs;
* the standardisation of the trainer's preprocessing, where it has one: ``Cast`` to
  float64, ``Sub`` the mean, ``Div`` by the scale, ``Cast`` back (as the trainer
  standardises: in float64, then in its dtype);
* per layer ``Gemm(a, W_l, b_l, transB=1)`` (``W_l`` stored ``(out, in)``), then the
  activation, translated node by node from its record's formula ``f(x)`` (``Add``,
  ``Mul``, ``Pow``, ``Exp``, ``Tanh``, ``Max``, ``Where`` …); the vector activation
  (the record that is not elementwise: softmax) is its numerator of ``z − max z``
  divided by its ``ReduceSum`` over the layer;
* output ``Y`` ``(n, layers[-1])``: the network's outputs; with labels a second output
  ``label`` ``(n,)`` (``ArgMax`` over the units, or the one unit's threshold, of
  :mod:`.outputs`, then ``Gather`` from the labels), and the labels as JSON in the
  model's ``metadata_props`` under ``labels``.

``onnx`` is an optional extra (``pip install 'symbp[onnx]'``); it is imported here
only, when called. ``onnxruntime`` runs the result (the test suite checks it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import numpy as np
import sympy as sp

from ..errors import DataError
from ..ops.symbols import X

if TYPE_CHECKING:
    from ..ops.activations import Activation
    from .trainer import Trainer

#: The operator set the graph uses (onnxruntime 1.14 and later run it).
OPSET = 17
#: The ONNX IR version written (onnxruntime 1.14 and later read it).
IR_VERSION = 8

_UNARY = {
    sp.exp: "Exp",
    sp.log: "Log",
    sp.tanh: "Tanh",
    sp.sinh: "Sinh",
    sp.cosh: "Cosh",
    sp.sin: "Sin",
    sp.cos: "Cos",
    sp.atan: "Atan",
    sp.erf: "Erf",
    sp.Abs: "Abs",
}
_COMPARE = {
    sp.StrictGreaterThan: "Greater",
    sp.StrictLessThan: "Less",
    sp.GreaterThan: "GreaterOrEqual",
    sp.LessThan: "LessOrEqual",
}


def _onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise DataError("export-onnx needs the onnx package: pip install 'symbp[onnx]'") from None
    return onnx


class _Graph:
    """Nodes and constants under fresh names."""

    def __init__(self, onnx: Any, dtype: np.dtype) -> None:
        self.onnx = onnx
        self.dtype = dtype
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._count = 0

    def name(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def node(self, op: str, inputs: list[str], hint: str | None = None, **attrs: Any) -> str:
        out = self.name(hint or op.lower())
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [out], **attrs))
        return out

    def const(self, value: Any, hint: str = "c", dtype: Any = None) -> str:
        name = self.name(hint)
        array = np.asarray(value, dtype=dtype or self.dtype)
        self.initializers.append(self.onnx.numpy_helper.from_array(array, name))
        return name

    def fold(self, op: str, names: list[str]) -> str:
        out = names[0]
        for item in names[1:]:
            out = self.node(op, [out, item])
        return out


def _expression(g: _Graph, expr: sp.Expr, x: str, label: str) -> str:
    """The nodes computing ``expr`` (a formula in ``X``) from the tensor ``x``."""
    if expr == X:
        return x
    if expr.is_number and not expr.free_symbols:
        return g.const(float(expr))
    if isinstance(expr, sp.Add):
        return g.fold("Add", [_expression(g, a, x, label) for a in expr.args])
    if isinstance(expr, sp.Mul):
        coeff, rest = expr.as_coeff_Mul()
        if coeff == -1:
            return g.node("Neg", [_expression(g, rest, x, label)])
        return g.fold("Mul", [_expression(g, a, x, label) for a in expr.args])
    if isinstance(expr, sp.Pow):
        base = _expression(g, expr.base, x, label)
        if expr.exp == -1:
            return g.node("Reciprocal", [base])
        if expr.exp == sp.Rational(1, 2):
            return g.node("Sqrt", [base])
        return g.node("Pow", [base, _expression(g, expr.exp, x, label)])
    if expr.func in _UNARY:
        return g.node(_UNARY[expr.func], [_expression(g, expr.args[0], x, label)])
    if isinstance(expr, (sp.Max, sp.Min)):
        args = [_expression(g, a, x, label) for a in expr.args]
        return g.node("Max" if isinstance(expr, sp.Max) else "Min", args)
    if isinstance(expr, sp.Piecewise):
        *pieces, (last, cond) = expr.args
        if cond is not sp.true:
            raise DataError(f"activation {label}: a piecewise formula needs an otherwise branch")
        out = _expression(g, last, x, label)
        for value, condition in reversed(pieces):
            test = _condition(g, condition, x, label)
            out = g.node("Where", [test, _expression(g, value, x, label), out])
        return out
    raise DataError(f"activation {label}: no ONNX operator for {type(expr).__name__}")


def _condition(g: _Graph, cond: Any, x: str, label: str) -> str:
    if type(cond) in _COMPARE:
        left, right = (_expression(g, a, x, label) for a in cond.args)
        return g.node(_COMPARE[type(cond)], [left, right])
    if isinstance(cond, (sp.And, sp.Or)):
        parts = [_condition(g, c, x, label) for c in cond.args]
        return g.fold("And" if isinstance(cond, sp.And) else "Or", parts)
    raise DataError(f"activation {label}: no ONNX operator for the condition {cond}")


def _activation(g: _Graph, activation: Activation, z: str) -> str:
    label = activation.source or activation.name
    if activation.elementwise:
        return _expression(g, activation.formula, z, label)
    # the vector activation: numerator f(z - max z) over its sum along the layer
    top = g.node("ReduceMax", [z], axes=[1], keepdims=1)
    shifted = g.node("Sub", [z, top])
    numerator = _expression(g, activation.formula, shifted, label)
    total = g.node("ReduceSum", [numerator, g.const([1], "axes", np.int64)], keepdims=1)
    return g.node("Div", [numerator, total])


def _labels_output(g: _Graph, trainer: Trainer, y: str) -> tuple[str, Any] | None:
    from .outputs import class_rule, labels_array

    labels = labels_array(trainer.spec)
    if labels is None:
        return None
    onnx = g.onnx
    rule = class_rule(trainer.spec)
    if rule.threshold is None:
        index = g.node("ArgMax", [y], axis=1, keepdims=0)
    else:
        op = "Greater" if rule.strict else "GreaterOrEqual"
        above = g.node(op, [y, g.const(rule.threshold)])
        flat = g.node("Squeeze", [above, g.const([1], "axes", np.int64)])
        index = g.node("Cast", [flat], to=onnx.TensorProto.INT64)
    if labels.dtype.kind in "iu":
        table = g.const(labels.astype(np.int64), "labels", np.int64)
        kind = onnx.TensorProto.INT64
    else:
        table = g.name("labels")
        g.initializers.append(
            onnx.helper.make_tensor(
                table, onnx.TensorProto.STRING, [len(labels)], [str(v).encode() for v in labels]
            )
        )
        kind = onnx.TensorProto.STRING
    out = g.node("Gather", [table, index], axis=0)
    g.nodes.append(onnx.helper.make_node("Identity", [out], ["label"]))
    return "label", onnx.helper.make_tensor_value_info("label", kind, ["n"])


def to_onnx(trainer: Trainer) -> Any:
    """The ONNX ``ModelProto`` of ``trainer``'s network with its current parameters and
    preprocessing (see the module docstring); checked by ``onnx.checker``. Networks of
    dense layers only (one line refusal for conv, pool and flatten layers)."""
    from ..stages import require_dense

    require_dense(trainer.spec, "ONNX exports")
    onnx = _onnx()
    helper = onnx.helper
    spec = trainer.spec
    dtype = trainer.dtype
    elem = onnx.TensorProto.FLOAT if dtype == np.float32 else onnx.TensorProto.DOUBLE
    g = _Graph(onnx, dtype)
    a = "X"
    pre = trainer.preprocessing
    s = pre.standardize if pre is not None else None
    if s is not None:
        wide = g.node("Cast", [a], to=onnx.TensorProto.DOUBLE)
        centred = g.node("Sub", [wide, g.const(s.mean, "x_mean", np.float64)])
        scaled = g.node("Div", [centred, g.const(s.scale, "x_scale", np.float64)])
        a = g.node("Cast", [scaled], to=elem)
    W, b = trainer.params
    for l, activation in enumerate(spec.activations):
        z = g.node("Gemm", [a, g.const(W[l], f"W_{l + 1}"), g.const(b[l], f"b_{l + 1}")], transB=1)
        a = _activation(g, activation, z)
    g.nodes.append(helper.make_node("Identity", [a], ["Y"]))
    outputs = [helper.make_tensor_value_info("Y", elem, ["n", spec.layers[-1]])]
    labelled = _labels_output(g, trainer, "Y")
    if labelled is not None:
        outputs.append(labelled[1])
    graph = helper.make_graph(
        g.nodes,
        spec.name,
        [helper.make_tensor_value_info("X", elem, ["n", spec.layers[0]])],
        outputs,
        initializer=g.initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="symbp"
    )
    model.ir_version = IR_VERSION
    meta = {"symbp.spec": spec.name, "symbp.dtype": dtype.name}
    if pre is not None and pre.labels is not None:
        meta["labels"] = json.dumps(list(pre.labels))
    helper.set_model_props(model, meta)
    onnx.checker.check_model(model, full_check=True)
    return model


def write_onnx(trainer: Trainer, path: str | Path) -> Path:
    """Write :func:`to_onnx` of ``trainer`` to ``path`` (atomically)."""
    from ..fileio import write_atomic

    return write_atomic(Path(path), to_onnx(trainer).SerializeToString())


@overload
def export_onnx(run: str | Path) -> bytes: ...
@overload
def export_onnx(run: str | Path, path: str | Path) -> Path: ...
def export_onnx(run: str | Path, path: str | Path | None = None) -> Path | bytes:
    """``symbp export-onnx RUN -o PATH``: the saved model at ``run`` as ONNX, written
    to ``path`` (atomically), or its bytes without one."""
    from .persist import load_trainer

    _onnx()  # before compiling: say what is missing first
    trainer = load_trainer(run)
    if path is None:
        return bytes(to_onnx(trainer).SerializeToString())
    return write_onnx(trainer, path)
