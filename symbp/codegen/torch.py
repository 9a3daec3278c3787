"""PyTorch interop without PyTorch as a dependency: :func:`to_torch`.

A trained symbp network becomes the ``torch.nn.Sequential`` of ``Linear`` layers
(and, for a network on feature maps, ``Conv2d``, ``MaxPool2d``/``AvgPool2d`` and
``Flatten`` before them, as :func:`.persist.module_positions` lays them out) each
followed by its activation (``nn.Sigmoid``, ``nn.Tanh``, ``nn.ReLU``,
``nn.LeakyReLU``, ``nn.Softmax(dim=-1)``, ``nn.Identity``; a formula activation
becomes a small module computing the spec's formula through ``sympy.lambdify``),
so module ``2l`` is layer ``l``'s ``Linear`` and the keys of
:meth:`~symbp.codegen.trainer.Trainer.state_dict` are the Sequential's. The model's
preprocessing comes along (:class:`~.torchmodel.SymbpSequential`): it standardises raw
inputs before the first layer and carries the class labels as ``labels``. PyTorch is
imported only here, when called; ``pip install 'symbp[torch]'`` provides it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import DataError

if TYPE_CHECKING:
    from ..ops.activations import Activation
    from .trainer import Trainer


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        raise DataError("to_torch needs PyTorch: pip install 'symbp[torch]'") from None
    return torch


def _activation_module(torch: Any, activation: Activation) -> Any:
    nn = torch.nn
    name = activation.name
    if activation.torch_module is not None:  # the record's PyTorch spelling
        module, options = activation.torch_module
        return getattr(nn, module)(**options)
    from ..ops.symbols import X
    from ..verify.against import torch_function

    function = torch_function(activation.formula, (X,))
    label = activation.source or name

    class Formula(nn.Module):  # type: ignore[misc,name-defined]
        """The spec's elementwise activation ``f(x)``."""

        def forward(self, x: Any) -> Any:
            return function(x)

        def extra_repr(self) -> str:
            return f"f(x) = {label}"

    return Formula()


#: PyTorch's module of each layer kind (without its activation), from the record and the
#: shape it receives: ``(nn, layer, input_shape, dtype) -> module``.
_MODULES: dict[str, Callable[[Any, Any, tuple[int, ...], Any], Any]] = {
    "dense": lambda nn, layer, shape, dtype: nn.Linear(shape[0], layer.size, dtype=dtype),
    "conv": lambda nn, layer, shape, dtype: nn.Conv2d(
        shape[0],
        layer.channels,
        tuple(layer.kernel),
        stride=layer.stride,
        padding=layer.padding,
        dtype=dtype,
    ),
    "pool": lambda nn, layer, shape, dtype: (nn.MaxPool2d if layer.mode == "max" else nn.AvgPool2d)(
        layer.size, stride=layer.stride
    ),
    "flatten": lambda nn, layer, shape, dtype: nn.Flatten(),
}


def to_torch(trainer: Trainer, *, dtype: Any = None) -> Any:
    """The ``torch.nn.Sequential`` of ``trainer``'s network with its current parameters.

    ``dtype`` defaults to the trainer's (``torch.float64`` or ``torch.float32``).
    The loss is not part of the Sequential. With the trainer's preprocessing
    (:attr:`~symbp.codegen.trainer.Trainer.preprocessing`) it takes raw inputs, as the
    trainer does, and ``model.labels`` names the classes (else ``None``).
    """
    torch = _torch()
    spec = trainer.spec
    dtype = dtype or getattr(torch, trainer.dtype.name)
    if spec.recurrence is not None:  # nn.RNN/GRU/LSTM and a head: torch_recurrent.py
        from .torch_recurrent import recurrent_module

        return recurrent_module(trainer, torch, dtype, _activation_module)
    layers: list[Any] = []
    if spec.dense_only:
        for l, activation in enumerate(spec.activations):
            layers.append(torch.nn.Linear(spec.layers[l], spec.layers[l + 1], dtype=dtype))
            layers.append(_activation_module(torch, activation))
    else:
        shape = spec.input_shape
        for layer in spec.network:
            layers.append(_MODULES[layer.kind](torch.nn, layer, shape, dtype))
            if layer.activation is not None:
                layers.append(_activation_module(torch, layer.activation))
            shape = layer.output_shape(shape)
    from .torchmodel import SymbpSequential

    pre = trainer.preprocessing
    s = pre.standardize if pre is not None else None
    model = SymbpSequential(
        *layers,
        mean=None if s is None else s.mean,
        scale=None if s is None else s.scale,
        labels=None if pre is None else pre.labels,
    )
    state = {k: torch.as_tensor(v, dtype=dtype) for k, v in trainer.state_dict().items()}
    model.load_state_dict(state)
    return model
