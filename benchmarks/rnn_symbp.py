"""symbp's row of :mod:`rnn_sine`: the workload's spec compiled by ``symbp.compile`` and
trained by the generated recurrent trainer (issue 29, items 5 and 8), and the reading of
its trained parameters back into :mod:`rnn_workload`'s layout.

Where ``compile`` refuses the spec (an installed symbp older than its generated recurrent
trainer), the row raises :class:`Pending` with symbp's one-line refusal and the benchmark
leaves it out with that reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from rnn_peers import Run, _f64
from rnn_workload import Params, RnnWorkload


class Pending(Exception):
    """A row that cannot run yet, with the reason (symbp's refusal line)."""


def symbp_row(w: RnnWorkload, dtype: str, params0: Params) -> Run:
    """symbp's generated recurrent trainer: the workload's spec with ``params0`` as its
    ``params`` (:meth:`rnn_workload.RnnWorkload.spec`), compiled by ``symbp.compile``
    (the compile cache's module; Numba's cache next to it) and trained by ``Trainer.fit``
    on ``X`` (n, 20, 1) and ``Y`` (n, 20, 1) (consecutive batches, no shuffling), from the
    spec's parameters after ``reset()``. The compile happens here, outside the timed
    function: its first call is the row's load time.

    Raises :class:`Pending` with symbp's one-line refusal where ``compile`` does not take
    the spec."""
    import symbp
    from symbp.errors import SymbpError

    try:
        trainer = symbp.compile(w.spec(params0), dtype=dtype)
    except SymbpError as err:
        raise Pending(f"pending: {err}") from None
    X = np.ascontiguousarray(w.X, dtype)
    Y = np.ascontiguousarray(w.Y, dtype)

    def run() -> tuple[np.ndarray, Params | None]:
        trainer.reset()
        history = trainer.fit(X, Y, epochs=w.epochs, batch_size=w.batch, shuffle=False)
        return np.asarray(history.step_losses, np.float64).copy(), trained_params(trainer)

    return run  # type: ignore[return-value]


def trained_params(trainer: Any) -> Params | None:
    """A trainer's parameters in :mod:`rnn_workload`'s layout, read from its
    ``state_dict()`` in ``nn.RNN``/``nn.LSTM`` + ``Linear`` layout (keys ending in
    ``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0`` (+ ``bias_hh_l0``), and the head's
    ``weight``/``bias``); ``None`` where the keys are not those (then only the loss
    trajectory is compared)."""
    from symbp.errors import SymbpError

    try:
        state = {k: np.asarray(v, np.float64) for k, v in trainer.state_dict().items()}
    except (AttributeError, TypeError, ValueError, SymbpError):  # not there: losses only
        return None
    return params_from_state(state)


def params_from_state(state: Mapping[str, np.ndarray]) -> Params | None:
    """``(W, U, b, V, c)`` from PyTorch-style keys (see :func:`trained_params`)."""

    def one(suffix: str) -> np.ndarray | None:
        found = [v for k, v in state.items() if k.endswith(suffix)]
        return found[0] if len(found) == 1 else None

    W, U, b_ih = one("weight_ih_l0"), one("weight_hh_l0"), one("bias_ih_l0")
    b_hh = one("bias_hh_l0")
    rest = {k: v for k, v in state.items() if "_l0" not in k}
    heads = [v for k, v in rest.items() if k.endswith("weight")]
    biases = [v for k, v in rest.items() if k.endswith("bias")]
    if W is None or U is None or b_ih is None or len(heads) != 1 or len(biases) != 1:
        return None
    b = b_ih if b_hh is None else b_ih + b_hh
    return _f64((W, U, b, heads[0], biases[0]))
