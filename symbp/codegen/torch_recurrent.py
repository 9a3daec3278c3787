"""A recurrent trainer as a PyTorch module (imported only when called; needs torch).

:func:`recurrent_module` builds ``SymbpRecurrent``: ``rnn`` an ``nn.RNN`` (Elman, its
``nonlinearity`` the cell's tanh or relu), ``nn.GRU`` or ``nn.LSTM`` with
``batch_first=True``, and ``head`` an ``nn.Sequential`` of ``nn.Linear`` and activation
modules applied at every step; its parameters are the trainer's
:meth:`~symbp.codegen.recurrent_trainer.RecurrentTrainer.state_dict` (the same keys).
``forward(x)`` takes ``(n, steps, features)`` and gives ``(n, steps, outputs)`` for
``output: every_step``, ``(n, outputs)`` for ``last_step``: what ``predict`` gives.
The initial states are zeros in PyTorch; a spec with other ``h0``/``c0`` is refused.
"""

from __future__ import annotations

from typing import Any

from ..errors import SpecError


def recurrent_module(trainer: Any, torch: Any, dtype: Any, activation_module: Any) -> Any:
    """The ``SymbpRecurrent`` module of ``trainer`` (module docstring)."""
    spec = trainer.spec
    rec = spec.recurrence
    layer = spec.network[0]
    if any(float(v) != 0 for states in rec.initial[0].values() for v in states):
        raise SpecError("to_torch: PyTorch's modules start from zero states; this spec gives h0/c0")
    F, n = spec.input_shape[0], layer.size
    cell = layer.cell
    name = layer.activation.name if layer.activation is not None else cell.default_activation
    if cell.torch_nonlinearities and name not in cell.torch_nonlinearities:
        raise SpecError(
            f"to_torch: nn.{cell.torch} takes {' or '.join(cell.torch_nonlinearities)} cells, "
            f"not {name}"
        )
    options = cell.torch_options(name)
    rnn = getattr(torch.nn, cell.torch)(F, n, batch_first=True, dtype=dtype, **options)
    mods: list[Any] = []
    width = n
    for dense in spec.network[1:]:
        mods.append(torch.nn.Linear(width, dense.size, dtype=dtype))
        mods.append(activation_module(torch, dense.activation))
        width = dense.size
    every = rec.output == "every_step"

    class SymbpRecurrent(torch.nn.Module):  # type: ignore[misc,name-defined]
        """The recurrent layer and the dense head of a symbp spec."""

        def __init__(self) -> None:
            super().__init__()
            self.rnn = rnn
            self.head = torch.nn.Sequential(*mods)

        def forward(self, x: Any) -> Any:
            hs, _ = self.rnn(x)
            return self.head(hs if every else hs[:, -1, :])

    model = SymbpRecurrent()
    state = {k: torch.as_tensor(v, dtype=dtype) for k, v in trainer.state_dict().items()}
    model.load_state_dict(state)
    return model
