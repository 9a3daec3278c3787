"""PNG plots of a training run (matplotlib's Agg canvas; no pyplot, no display).

Each function returns the PNG bytes, so the runner writes them atomically.
``rows`` are the per-epoch metric records of :mod:`symbp.train.runner`
(``epoch``, ``train_loss``, ``val_loss``, ``train_<score>``, ``val_<score>``,
``grad_W<l>``, ``grad_b<l>``).
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..escape import plot_text

_METADATA = {"Software": None}


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata=_METADATA)
    return buf.getvalue()


def _column(rows: Sequence[Mapping[str, float]], key: str) -> np.ndarray:
    return np.array([row.get(key, np.nan) for row in rows], dtype=np.float64)


def _has(values: np.ndarray) -> bool:
    return bool(np.any(np.isfinite(values)))


def loss_curves(
    rows: Sequence[Mapping[str, float]],
    step_losses: np.ndarray,
    iterations_per_epoch: int,
    title: str,
) -> bytes:
    """Training loss per iteration (faint), train and validation loss per epoch."""
    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    ax = fig.add_subplot()
    if len(step_losses):
        steps = np.arange(1, len(step_losses) + 1) / max(iterations_per_epoch, 1)
        ax.plot(steps, step_losses, color="0.75", lw=0.8, label="batch loss (per iteration)")
    epochs = _column(rows, "epoch")
    for key, label in (("train_loss", "train"), ("val_loss", "validation")):
        values = _column(rows, key)
        if _has(values):
            ax.plot(epochs, values, marker="o", ms=3, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss E (mean over examples)")
    ax.set_title(plot_text(title))
    ax.legend()
    return _png(fig)


def score_curves(rows: Sequence[Mapping[str, float]], score: str, title: str) -> bytes:
    """Accuracy (classification) or MSE (regression) per epoch, train and validation."""
    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    ax = fig.add_subplot()
    epochs = _column(rows, "epoch")
    for split in ("train", "val"):
        values = _column(rows, f"{split}_{score}")
        if _has(values):
            ax.plot(
                epochs, values, marker="o", ms=3, label="validation" if split == "val" else split
            )
    ax.set_xlabel("epoch")
    ax.set_ylabel(score if score == "accuracy" else "MSE")
    ax.set_title(plot_text(title))
    ax.legend()
    return _png(fig)


def gradient_norm_curves(rows: Sequence[Mapping[str, float]], depth: int, title: str) -> bytes:
    """‖∂E/∂W^l‖ (solid) and ‖∂E/∂b^l‖ (dashed) per layer over training, log scale."""
    fig = Figure(figsize=(6.4, 4.0), layout="constrained")
    ax = fig.add_subplot()
    epochs = _column(rows, "epoch")
    for l in range(1, depth + 1):
        w = _column(rows, f"grad_W{l}")
        (line,) = ax.plot(epochs, w, marker="o", ms=3, label=f"‖∂E/∂W{_sup(l)}‖")
        ax.plot(epochs, _column(rows, f"grad_b{l}"), ls="--", color=line.get_color(), lw=1)
    ax.set_yscale("log")
    ax.set_xlabel("epoch (0: before training)")
    ax.set_ylabel("gradient norm (dashed: biases)")
    ax.set_title(plot_text(title))
    ax.legend()
    return _png(fig)


def sensitivity_bars(per_feature: np.ndarray, names: Sequence[str], title: str) -> bytes:
    """Mean |∂ŷ/∂x_k| per input feature; square feature counts ≥ 16 also as an image."""
    d = len(per_feature)
    side = math.isqrt(d)
    image = d >= 16 and side * side == d
    fig = Figure(figsize=(9.6 if image else 6.4, 4.0), layout="constrained")
    ax = fig.add_subplot(1, 2, 1) if image else fig.add_subplot()
    ax.bar(np.arange(d), per_feature, color="tab:blue")
    if d <= 20:
        ax.set_xticks(np.arange(d), [plot_text(n) for n in names], rotation=45, ha="right")
    else:
        ax.set_xlabel("input feature")
    ax.set_ylabel("mean |∂ŷ/∂x|")
    ax.set_title(plot_text(title))
    if image:
        ax2 = fig.add_subplot(1, 2, 2)
        shown = ax2.imshow(per_feature.reshape(side, side), cmap="viridis")
        ax2.set_title(f"as a {side}×{side} image")
        ax2.set_xticks([])
        ax2.set_yticks([])
        fig.colorbar(shown, ax=ax2)
    return _png(fig)


def sequence_predictions(
    positions: np.ndarray,
    observed: np.ndarray,
    predicted: np.ndarray,
    title: str,
    *,
    starts: Sequence[int] = (),
    clean: np.ndarray | None = None,
) -> bytes:
    """A series (``observed`` at ``positions``, thin grey) and a network's one-step-ahead
    predictions of it (``predicted``, NaN where none), optionally the noiseless signal
    (``clean``, dashed); faint vertical lines at the positions in ``starts`` (where a
    window begins and the recurrent state restarts from ``h0``)."""
    fig = Figure(figsize=(9.6, 4.0), layout="constrained")
    ax = fig.add_subplot()
    for x in starts:
        ax.axvline(x, color="0.9", lw=0.8, zorder=0)
    ax.plot(positions, observed, color="0.55", lw=0.9, label="series (noisy)")
    if clean is not None:
        ax.plot(positions, clean, color="0.2", lw=0.9, ls="--", label="signal (noiseless)")
    ax.plot(positions, predicted, color="tab:orange", lw=1.4, label="prediction (next value)")
    ax.set_xlabel("time index")
    ax.set_ylabel("value")
    ax.set_title(plot_text(title))
    ax.margins(y=0.22)  # room for the legend above the series
    ax.legend(loc="upper center", ncols=3, fontsize="small")
    return _png(fig)


def _sup(l: int) -> str:
    return str(l).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))
