"""The piecewise kernel: a dense network trained at once, from pieces compiled before.

A generated trainer's ``train`` kernel is one Numba function with the network's sizes and
formulas compiled in: fast, and 2-7 s to compile for each new network. The piecewise
kernel runs the same ``train`` as a loop in Python that calls, for each chunk of rows,
one compiled-once function per pass of each layer (:mod:`.pieces`: the activation, its
derivative, the output rows' loss and delta, the optimiser step; :mod:`.piece_runtime`:
the rows, the products, the copies). Its passes are rendered from the generated module's
own template macros and called in the module's order on the module's workspace, so both
give the same numbers, bit for bit, and a trainer may switch from one to the other
between any two calls (:class:`~.trainer.Trainer` does, :data:`TIER_UP_S`).

What it costs: a few microseconds of Python per call of a piece, about 10 calls per
chunk of a two-layer network. On W2 (64-64-10, minibatch 32) a step takes about 3x the
compiled kernel's time; on W3 (784-256-256-10, 128 rows) the products dominate and the
two run at about the same speed.

It takes the networks whose layers are all dense and not small (more than
:data:`~.plan.SMALL_MAX_WEIGHTS` weights each: a small layer's generated loops are
unrolled, with a different order of operations) and rows without weights
(:func:`takes`); the others run the generated kernel only.

A network with feature maps (conv, pool and flatten layers before the dense ones, its
plan's ``front``) runs them from pieces too (:mod:`.piecewise_front`: one call per front
layer and chunk, before the dense layers and, for the backward pass, after them); it is
taken when its dense layers are (none small). On the digits conv net a step takes about
3.2x the compiled kernel's time (the conv loops read their sizes and kernel offsets at
run time); a new one starts in under a second instead of the kernel's 4 s compile.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..spec import Spec
from . import piece_runtime as rt
from .emit import CHUNK, aliases, buffers
from .plan import KernelPlan, make_plan
from .runtime import (
    EPOCHS_DONE,
    GRADIENT,
    PREDICT,
    PROGRESS_SLOTS,
    TRAIN,
    UPDATES_DONE,
    Batches,
    Log,
    Net,
    gemm_acc,
    shuffle,
    transpose_into,
)

#: A trainer runs the piecewise kernel until it has spent this long in it (seconds,
#: summed over the trainers of one module in a process), then compiles the generated
#: kernel and uses that: a short fit never waits for a compile, a long one waits once,
#: after it has run about as long as the compile takes.
TIER_UP_S = 2.0


def takes(spec: Spec) -> bool:
    """Whether the piecewise kernel runs ``spec``'s network: dense layers only (no
    recurrence), none of them small."""
    from .plan import SMALL_MAX_WEIGHTS

    if spec.recurrence is not None:
        return False
    if not spec.dense_only:
        from .piecewise_front import takes_front

        return takes_front(spec)
    return all(spec.layers[l] * spec.layers[l + 1] > SMALL_MAX_WEIGHTS for l in range(spec.depth))


class PiecewiseKernel:
    """``train``, ``gradients`` and ``predict`` of a generated module, piece by piece.

    Takes the arguments of the module's functions (the records Net, Batches, Log of
    :mod:`.runtime`, the workspace of the module's ``workspace``), since it follows the
    module's plan (:func:`.plan.make_plan`) and its workspace layout (:func:`.emit.buffers`).
    """

    def __init__(self, spec: Spec, dtype: str, plan: KernelPlan | None = None) -> None:
        from .pieces import load

        if plan is None and not spec.dense_only:
            from .front import make_map_plan

            plan = make_map_plan(spec, dtype)
        self.plan = plan or make_plan(spec, dtype)
        self.dtype = np.dtype(dtype)
        self._scalar = self.dtype.type
        self._fns = load(self.plan)
        self._buffers = {b.name: b for b in buffers(self.plan, dtype)}
        self._aliases = aliases(self.plan)
        self._segments = _segments(self.plan.segments)
        self._fold_segments = _segments(self.plan.fold_segments)
        self._any_fold = any(lay.fold for lay in self.plan.layers)
        self.n_params = self.plan.n_params
        self._front = None
        if self.plan.front:  # conv, pool, flatten layers before the dense ones
            from .piecewise_front import FrontPasses

            self._front = FrontPasses(self.plan, self._fns)

    # -- views ---------------------------------------------------------------

    def _params(self, flat: np.ndarray, prefix: str) -> dict[str, np.ndarray]:
        out = {}
        for lay in self.plan.layers:
            lo = lay.W_offset
            out[f"{prefix}WT_{lay.index}"] = flat[lo : lo + lay.n_weights].reshape(
                lay.n_in, lay.n_out
            )
            out[f"{prefix}b_{lay.index}"] = flat[lay.b_offset : lay.b_offset + lay.n_out]
        if self._front is not None:
            out.update(self._front.params(flat, prefix))
        return out

    def _work(self, ws: np.ndarray) -> dict[str, np.ndarray]:
        out = {}
        for buf in self._buffers.values():
            out[buf.name] = ws[buf.offset : buf.offset + buf.size].reshape(buf.shape)
        for alias, target in self._aliases.items():
            out[alias] = out[target]
        out.setdefault("lse_buf", np.zeros(0, self.dtype))
        out.setdefault("norm_buf", np.zeros(0, self.dtype))
        return out

    # -- the kernel ----------------------------------------------------------

    def train(self, net: Net, batches: Batches, hyper: tuple[float, ...], log: Log) -> int:
        """The generated module's ``train`` (same arguments, same effects, same result)."""
        params, state, grads, ws, progress = net
        X, T, _, order, rng, epochs, batch_size, shuffle_rows, drop_last, task = batches
        step_losses, epoch_losses, outputs = log
        hyper, numbers = self._split_hyper(hyper)
        fns, plan, dt = self._fns, self.plan, self._scalar
        one = dt(1.0)
        p, g, w = self._params(params, ""), self._params(grads, "grad_"), self._work(ws)
        layers = plan.layers
        L = plan.depth
        self._refresh_copies(p, w)
        if plan.update.state and task == TRAIN and progress[UPDATES_DONE] == 0:
            lr0 = dt(fns["schedule", 0](progress[EPOCHS_DONE], hyper))
            fns["init_state", 0](state, lr0, hyper)
        n = X.shape[0]
        used = n - n % batch_size if drop_last else n
        done = 0
        for e in range(epochs):
            if shuffle_rows:
                shuffle(order, rng)
            lr = dt(fns["schedule", 0](progress[EPOCHS_DONE], hyper))
            fold_alpha = fold_beta = one
            if self._any_fold:
                fold_alpha, fold_beta = (dt(v) for v in fns["fold", 0](lr, hyper))
            epoch_loss = 0.0
            start = 0
            while start < used:
                m = min(batch_size, used - start)
                fold = self._any_fold and task == TRAIN and m <= CHUNK
                scale = dt(1.0 / m)
                loss = 0.0
                c0 = start
                while c0 < start + m:
                    mc = min(CHUNK, start + m - c0)
                    if self._front is not None:
                        self._front.forward(X, order, c0, mc, p, w)
                    else:
                        rt.gather_rows(X, order, c0, mc, w["a_0"])
                    self._forward(p, w, ws, mc, numbers)
                    if task == PREDICT:
                        outputs[c0 : c0 + mc] = w[f"a_{L}"][:mc]
                        c0 += mc
                        continue
                    beta = 0 if c0 == start else 1
                    loss = fns["output", 0](
                        w[f"z_{L}"], w[f"a_{L}"], w[f"delta_{L}"], g[f"grad_b_{L}"],
                        w["lse_buf"], w["norm_buf"], T, order, c0, mc, beta, scale, loss,
                        layers[-1].n_out, *numbers[L],
                    )  # fmt: skip
                    if not math.isfinite(loss):
                        break
                    keep = dt(beta)
                    alpha_W = fold_alpha if fold else one
                    beta_W = fold_beta if fold else keep
                    self._backward(p, g, w, mc, beta, keep, fold, alpha_W, beta_W, numbers)
                    if self._front is not None:
                        self._front.backward(X, order, c0, mc, beta, p, g, w)
                    c0 += mc
                step_losses[done] = loss / m
                if not math.isfinite(loss):
                    from .runtime import DIVERGED_STEP

                    progress[DIVERGED_STEP] = start // batch_size
                    return done
                done += 1
                epoch_loss += loss
                start += m
                if task != TRAIN:
                    continue
                segments = self._fold_segments if fold else self._segments
                fns["step", 0](params, grads, state, progress, segments, lr, hyper)
                self._refresh_copies(p, w)
            epoch_losses[e] = epoch_loss / used
            if task == TRAIN:
                progress[EPOCHS_DONE] += 1
        return done

    def _split_hyper(
        self, hyper: tuple[float, ...]
    ) -> tuple[tuple[float, ...], dict[int, tuple[Any, ...]]]:
        """The update's numbers (what the step, schedule, state and fold pieces take), and
        each layer's activation numbers in the kernel's dtype (the pieces' trailing
        arguments ``act_<option>``, as the module binds them: ``DTYPE(h_alpha_l)``)."""
        n = len(self.plan.update.hyper)
        values = dict(zip((s.name for s in self.plan.act_hyper), hyper[n:], strict=True))
        numbers = {
            lay.index: tuple(self._scalar(values[f"{o}_{lay.index}"]) for o in lay.numbers)
            for lay in self.plan.layers
        }
        return tuple(hyper[:n]), numbers

    def _forward(
        self,
        p: dict[str, np.ndarray],
        w: dict[str, np.ndarray],
        ws: np.ndarray,
        mc: int,
        numbers: dict[int, tuple[Any, ...]],
    ) -> None:
        """a_l of every layer for the chunk's mc rows (the module's forward blocks,
        kernels/dense.py.j2 ``forward``)."""
        fns, one, zero = self._fns, self._scalar(1.0), self._scalar(0.0)
        for lay in self.plan.layers:
            l = lay.index
            z, a, b = w[f"z_{l}"], w[f"a_{l}"], p[f"b_{l}"]
            product = rt.gemm_acc_par if lay.parallel else gemm_acc
            product(w[f"a_{l - 1}"], p[f"WT_{l}"], z, mc, lay.n_out, lay.n_in, one, zero)
            if lay.normalised:
                flat = ws[self._buffers[f"a_{l}"].offset :]
                fns["normalise", l](z, b, a, w["lse_buf"], w["norm_buf"], flat, mc, lay.n_out)
            else:
                fns["activate", l](z, b, a, mc, lay.n_out, *numbers[l])

    def _backward(
        self,
        p: dict[str, np.ndarray],
        g: dict[str, np.ndarray],
        w: dict[str, np.ndarray],
        mc: int,
        beta: int,
        keep: Any,
        fold: bool,
        alpha_W: Any,
        beta_W: Any,
        numbers: dict[int, tuple[Any, ...]],
    ) -> None:
        """delta_l and the gradients of every layer, from the output down (the module's
        backward blocks, kernels/dense.py.j2 ``backward``)."""
        plan, fns, one, zero = self.plan, self._fns, self._scalar(1.0), self._scalar(0.0)
        for lay in reversed(plan.layers):
            l = lay.index
            product = rt.gemm_acc_par if lay.parallel else gemm_acc
            prev = plan.below(lay)
            if prev is not None:
                below = w[f"delta_{l - 1}"]
                product(w[f"delta_{l}"], w[f"W_{l}"], below, mc, lay.n_in, lay.n_out, one, zero)
                fns["derivative", l - 1](
                    below, w[f"z_{l - 1}"], w[f"a_{l - 1}"], g[f"grad_b_{l - 1}"], beta, mc,
                    prev.n_out, *numbers[l - 1],
                )  # fmt: skip
            if not plan.sums_bias_with_delta(lay):
                rt.bias_sum(w[f"delta_{l}"], g[f"grad_b_{l}"], beta, mc, lay.n_out)
            if lay.fold:
                target = p[f"WT_{l}"] if fold else g[f"grad_WT_{l}"]
                alpha, coef = alpha_W, beta_W
            else:
                target, alpha, coef = g[f"grad_WT_{l}"], one, keep
            rows = w[f"a_{l - 1}"][:mc].T
            product(rows, w[f"delta_{l}"], target, lay.n_in, lay.n_out, mc, alpha, coef)

    def _refresh_copies(self, p: dict[str, np.ndarray], w: dict[str, np.ndarray]) -> None:
        """The copies W_l = WT_l^T that back-propagation reads."""
        for lay in self.plan.layers:
            if lay.keep_W:
                copy = rt.transpose_par if lay.parallel else transpose_into
                copy(p[f"WT_{lay.index}"], w[f"W_{lay.index}"])

    # -- the module's one-batch passes ----------------------------------------

    def gradients(
        self,
        params: np.ndarray,
        grads: np.ndarray,
        ws: np.ndarray,
        X: np.ndarray,
        T: np.ndarray,
        hyper: tuple[float, ...] | None = None,
    ) -> float:
        """The module's ``gradients`` (rows without weights; ``hyper``: the run's numbers,
        which the activations' numbers are read from)."""
        losses = np.zeros(1)
        no_outputs = np.zeros((0, T.shape[1]), self.dtype)
        self._one_batch(params, grads, ws, X, T, GRADIENT, losses, no_outputs, hyper)
        return float(losses[0])

    def predict(
        self,
        params: np.ndarray,
        ws: np.ndarray,
        X: np.ndarray,
        out: np.ndarray,
        hyper: tuple[float, ...] | None = None,
    ) -> None:
        """The module's ``predict`` (``hyper`` as in :meth:`gradients`)."""
        n_out = self.plan.layers[-1].n_out
        T = np.zeros((0, n_out), self.dtype)
        grads = np.zeros(self.n_params, self.dtype)
        self._one_batch(params, grads, ws, X, T, PREDICT, np.zeros(1), out, hyper)

    def _one_batch(
        self,
        params: np.ndarray,
        grads: np.ndarray,
        ws: np.ndarray,
        X: np.ndarray,
        T: np.ndarray,
        task: int,
        losses: np.ndarray,
        out: np.ndarray,
        hyper: tuple[float, ...] | None = None,
    ) -> None:
        n = X.shape[0]
        state = np.zeros((len(self.plan.update.state), self.n_params), self.dtype)
        net = Net(params, state, grads, ws, np.zeros(PROGRESS_SLOTS, np.int64))
        order = np.arange(n, dtype=np.int64)
        batches = Batches(
            X, T, np.zeros(0), order, np.zeros(1, np.uint64), 1, max(n, 1), False, False, task
        )
        if hyper is None:  # placeholders: nothing reads them, unless an activation's
            if self.plan.act_hyper:
                raise ValueError("internal error: the activations' numbers are needed")
            hyper = (1.0,) * len(self.plan.update.hyper)
        self.train(net, batches, hyper, Log(losses, np.zeros(1), out))


def _segments(ranges: tuple[tuple[int, int], ...]) -> np.ndarray:
    return np.array(ranges, dtype=np.int64).reshape(-1, 2)
