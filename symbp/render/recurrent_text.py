"""``symbp eval``'s text for a recurrent network (a :class:`RecurrentRun`).

Per step (update): the batch, every parameter and the initial states, then each time
step ``t = 1..T`` with its quantities by their ``eval --json`` names (the batch's first
example's forward values, ``∂E/∂h_t``, the loss ``L_t`` and each gradient's term of the
step), then the sequence's loss ``E`` and its gradients (the sums over time); one line
per row of a value's last axis, each value to ``digits`` significant digits.
"""

from __future__ import annotations

from ..symbolic.recurrent_run import RecurrentRun
from .network_text import _number, _rows


def recurrent_text(run: RecurrentRun, digits: int = 6) -> str:
    """The text of ``run`` (see the module docstring)."""
    lines: list[str] = []
    for step in run.steps:
        rows = ", ".join(map(str, step.rows))
        lines.append(
            f"── step {step.step}: parameters after {step.step} update(s); epoch "
            f"{step.epoch}, examples {rows}, learning rate {_number(step.learning_rate, digits)}"
        )
        whole = step.arrays()
        for name, value in whole.items():
            if not name.startswith("grad_") and name != "loss":
                lines.extend(_rows(name, value, digits))
        for t in range(1, len(step.evaluation.times) + 1):
            lines.append(f"── time {t}")
            for name, value in step.arrays(t).items():
                lines.extend(_rows(name, value, digits))
        lines.append("── over the sequence (gradients: sums over time)")
        for name, value in whole.items():
            if name.startswith("grad_") or name == "loss":
                lines.extend(_rows(name, value, digits))
    return "\n".join(lines) + "\n"
