"""Diagnostics of a trained network: per-layer gradient norms and feature sensitivity.

Layers are numbered as in the textbooks (layer 1 is the first weight layer,
spec ``W[0]``); ``W[l-1]`` has shape ``(n_l, n_{l-1})``.

Gradient norms
    ``‖∂E/∂W^l‖_F`` and ``‖∂E/∂b^l‖₂`` per layer, from the trainer's own
    ``gradients`` on a fixed batch (``E`` is the batch-mean loss). Norms that
    shrink layer by layer towards the input signal vanishing gradients; norms
    that grow signal exploding ones (seed 003).

Feature sensitivity
    The input gradient falls out of the same delta recursion the symbolic model
    derives for the loss, started from the output ``ŷ_i`` instead of ``L``
    (seed 003's sensitivity analysis)::

        δ^L_{i,j} = ∂ŷ_i/∂z^L_j  = f_L'(z^L_j) [i = j]      (element-wise f_L)
                                = ŷ_i (δ_ij − ŷ_j)          (softmax)
        δ^l_{i,k} = (Σ_j δ^{l+1}_{i,j} w^{l+1}_{jk}) f_l'(z^l_k)
        ∂ŷ_i/∂x_k = Σ_j δ^1_{i,j} w^1_{jk}                  ("one more step": W¹ᵀ δ¹)

    ``f`` and ``f'`` are the ops records' own ``formula`` and ``derivative``
    (:mod:`symbp.ops.activations`), lambdified for NumPy; the softmax Jacobian is
    the one its record states. The sensitivity of feature ``k`` is
    ``mean_e mean_i |∂ŷ_i/∂x_k|`` over examples ``e`` and outputs ``i``; the
    per-output means ``mean_e |∂ŷ_i/∂x_k|`` are kept as well. With standardised
    inputs, ``x`` is the standardised feature.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np
import sympy as sp

from ..ops.activations import Activation
from ..ops.symbols import X as XSYM
from ..spec import Spec

NumFn = Callable[[np.ndarray], np.ndarray]


@cache
def _lambdify(expr: sp.Expr) -> NumFn:
    fn = sp.lambdify(XSYM, expr.rewrite("formula"), modules="numpy")

    def call(z: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", under="ignore"):
            out = fn(z)
        return np.broadcast_to(np.asarray(out, dtype=np.float64), z.shape)

    return call


@dataclass(frozen=True)
class NumericActivation:
    """``f`` and ``f'`` of one activation record as NumPy functions (``softmax``: vector)."""

    name: str
    f: NumFn
    df: NumFn | None  # None for softmax (not element-wise)

    @classmethod
    def of(cls, act: Activation) -> NumericActivation:
        if not act.elementwise:
            return cls(act.name, _softmax, None)
        return cls(act.name, _lambdify(act.formula), _lambdify(act.derivative))


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def forward(
    spec: Spec, W: Sequence[np.ndarray], b: Sequence[np.ndarray], X: np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``z^l`` and ``a^l`` for ``l = 1..L`` on a batch ``X`` ``(n, n_0)``; ``a^L = ŷ``."""
    a = np.asarray(X, dtype=np.float64)
    zs, acts = [], []
    for l, (layer, act) in enumerate(zip(spec.network, spec.activations, strict=True)):
        z = layer.values(a, np.asarray(W[l]), np.asarray(b[l]))
        a = NumericActivation.of(act).f(z)
        zs.append(z)
        acts.append(a)
    return zs, acts


def input_jacobian(
    spec: Spec, W: Sequence[np.ndarray], b: Sequence[np.ndarray], X: np.ndarray
) -> np.ndarray:
    """``∂ŷ_i/∂x_k`` for every example: shape ``(n, n_L, n_0)`` (module docstring)."""
    zs, acts = forward(spec, W, b, X)
    L = len(zs)
    out = acts[-1]
    n_out = out.shape[1]
    last = NumericActivation.of(spec.activations[-1])
    if last.df is None:  # softmax: ∂ŷ_i/∂z_j = ŷ_i (δ_ij − ŷ_j)
        delta = out[:, :, None] * (np.eye(n_out)[None] - out[:, None, :])
    else:
        delta = np.einsum("ij,nj->nij", np.eye(n_out), last.df(zs[-1]))
    for l in range(L - 1, 0, -1):  # δ^l = (δ^{l+1} W^{l+1}) ⊙ f_l'(z^l)
        df = NumericActivation.of(spec.activations[l - 1]).df
        assert df is not None  # softmax is output-only
        back = spec.network[l].input_gradient(delta, np.asarray(W[l]))
        delta = back * df(zs[l - 1])[:, None, :]
    return spec.network[0].input_gradient(delta, np.asarray(W[0]))


@dataclass(frozen=True)
class Sensitivity:
    """Mean ``|∂ŷ/∂x|``: ``per_feature`` ``(n_0,)`` and ``per_output`` ``(n_L, n_0)``."""

    per_feature: np.ndarray
    per_output: np.ndarray


def feature_sensitivity(
    spec: Spec, W: Sequence[np.ndarray], b: Sequence[np.ndarray], X: np.ndarray
) -> Sensitivity:
    """Mean absolute input gradient over the examples of ``X`` (module docstring)."""
    J = np.abs(input_jacobian(spec, W, b, X))
    per_output = J.mean(axis=0)
    return Sensitivity(per_output.mean(axis=0), per_output)


def gradient_norms(grad_W: Sequence[np.ndarray], grad_b: Sequence[np.ndarray]) -> dict[str, float]:
    """``{"W1": ‖∂E/∂W^1‖_F, "b1": ‖∂E/∂b^1‖₂, ...}`` (1-based layers; a layer without
    parameters, ``None``, has no entry)."""
    out: dict[str, float] = {}
    for l, (gW, gb) in enumerate(zip(grad_W, grad_b, strict=True), start=1):
        if gW is None:
            continue
        out[f"W{l}"] = float(np.linalg.norm(np.asarray(gW)))
        out[f"b{l}"] = float(np.linalg.norm(np.asarray(gb)))
    return out
