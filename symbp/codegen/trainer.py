"""The Python face of a generated module: :class:`Trainer` and :class:`History`.

Conventions (the spec's): ``X`` has shape ``(n, layers[0])``, ``T`` ``(n, layers[-1])``;
``params`` is ``(W, b)`` with ``W[l]`` of shape ``(layers[l+1], layers[l])`` and
``b[l]`` of shape ``(layers[l+1],)``. The loss ``E`` is the mean over examples of the
per-example loss ``L`` (the spec's loss with its reduction over the outputs), and the
gradients are those of ``E``. A step takes the next ``batch_size`` rows (the last
batch of an epoch may be smaller), records the batch-mean loss before the update, and
applies one optimiser update; the learning rate follows the schedule per epoch.

A trainer whose spec carries ``preprocessing`` (:mod:`symbp.spec.preprocessing`: a
saved run's, an exported spec's) takes raw inputs everywhere: ``predict``, ``loss``,
``gradients`` and ``fit`` standardise ``X`` first (in float64, then cast to the
trainer's dtype), and :meth:`Trainer.predict_classes` names the classes by its labels.

Training continues from the current parameters and optimiser state: ``fit`` twice for
5 epochs is ``fit`` once for 10 (with the same shuffling seed only if ``shuffle`` is
off). :meth:`Trainer.reset` returns to the starting parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from ..errors import DataError, TrainingDiverged
from ..ops.batches import BatchPlan
from ..spec import Spec
from ..spec.output_range import first_loss_hint
from ..spec.preprocessing import Preprocessing
from .data import check_inputs, check_targets, check_weights
from .first_call import compiling as _compiling
from .hyper import values as hyper_values
from .runtime import (
    DIVERGED_STEP,
    EPOCHS_DONE,
    PROGRESS_SLOTS,
    TRAIN,
    UPDATES_DONE,
    Batches,
    Log,
    Net,
)
from .tiers import KernelChoice

Callback = Callable[[int, "Trainer", "History"], "bool | None"]


class History:
    """What one :meth:`Trainer.fit` did.

    ``step_losses[i]`` is the batch-mean loss of step ``i``, taken before that step's
    update; ``epoch_losses[e]`` the mean loss of the examples of epoch ``e`` (each
    measured at its step). ``metrics`` holds per-epoch values that callbacks add with
    :meth:`log` (e.g. ``history.log("val_loss", v)``).
    """

    def __init__(self, max_steps: int, max_epochs: int) -> None:
        # Filled by the kernel; only the first n_steps / n_epochs values are ever read.
        self._steps = np.empty(max_steps)
        self._epochs = np.empty(max_epochs)
        self.n_steps = 0
        self.n_epochs = 0
        self.metrics: dict[str, list[float]] = {}
        self.stopped_early = False

    @property
    def step_losses(self) -> np.ndarray:
        """Loss of every step taken (float64), before its update."""
        return self._steps[: self.n_steps]

    @property
    def epoch_losses(self) -> np.ndarray:
        """Mean training loss of every completed epoch (float64)."""
        return self._epochs[: self.n_epochs]

    @property
    def epochs(self) -> int:
        """The number of completed epochs."""
        return self.n_epochs

    def log(self, name: str, value: float) -> None:
        """Append ``value`` to the per-epoch metric ``name``."""
        self.metrics.setdefault(name, []).append(float(value))

    def __repr__(self) -> str:
        last = f", last loss {self.epoch_losses[-1]:.6g}" if self.n_epochs else ""
        return f"History({self.n_epochs} epochs, {self.n_steps} steps{last})"


def _copy(value: np.ndarray | None) -> np.ndarray | None:
    return None if value is None else value.copy()


def _seed_state(seed: int) -> np.ndarray:
    return np.array([int(seed) % 2**64], dtype=np.uint64)


class Trainer:
    """A compiled network: train, predict, evaluate the loss and its gradients.

    ``fit`` changes the trainer's parameters and reuses its workspace, so one trainer
    trains in one thread at a time (copy it, e.g. by pickling, for another); ``predict``,
    ``loss`` and ``gradients`` only read the parameters and may run in threads at once.

    ``kernel`` says which kernel runs the passes (:mod:`.tiers`): ``"auto"`` the
    piecewise kernel until the generated module's kernel is compiled or pays for its
    compile, ``"generated"`` always the module's, ``"piecewise"`` the piecewise kernel
    wherever it takes the network. Their numbers are the same, bit for bit.
    """

    def __init__(
        self,
        spec: Spec,
        module: ModuleType,
        dtype: str,
        module_path: Path,
        kernel: str = "auto",
    ) -> None:
        self._spec = spec
        self._choice = KernelChoice(spec, module, dtype, kernel)
        self._module = module
        self._dtype = np.dtype(dtype)
        self._path = Path(module_path)
        self._params = np.zeros(module.N_PARAMS, dtype=self._dtype)
        self._state = np.zeros((len(module.STATE), module.N_PARAMS), dtype=self._dtype)
        self._progress = np.zeros(PROGRESS_SLOTS, dtype=np.int64)
        self._initial: tuple[list[Any], list[Any]] | None = None
        self._initial_flat: np.ndarray | None = None  # initial params as the flat vector
        # One workspace and gradient vector per trainer, reused by every fit (a small fit
        # spends its time on set-up otherwise: 3-4-1 takes 70 ns a step); predict and
        # the loss take workspaces of their own, so threads may call them at once.
        self._ws = module.workspace()
        self._grads = np.zeros_like(self._params)
        # the run-time numbers of the optimiser and the schedule (module.HYPER's order):
        # the module compiles in the structure only, so specs that differ in these share it
        self._hyper = hyper_values(spec)
        if len(self._hyper) != len(module.HYPER):
            raise ValueError(f"internal error: {module_path} takes {module.HYPER}")
        self.reset()

    # -- properties --------------------------------------------------------

    @property
    def spec(self) -> Spec:
        return self._spec

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    @property
    def preprocessing(self) -> Preprocessing | None:
        """The inputs' standardisation and the classes' labels (the spec's), or ``None``."""
        return self._spec.preprocessing

    def with_preprocessing(self, preprocessing: Preprocessing | None) -> Trainer:
        """A copy of this trainer (parameters, optimiser state, counters) whose spec
        carries ``preprocessing``: the model to save after training on prepared data."""
        from ..spec.preprocessing import with_preprocessing

        twin = Trainer(
            with_preprocessing(self._spec, preprocessing),
            self._module,
            self._dtype.name,
            self._path,
            self._choice.mode,
        )
        twin._initial, twin._initial_flat = self._initial, self._initial_flat
        twin._params[:] = self._params
        twin._state[:] = self._state
        twin._progress[:] = self._progress
        return twin

    @property
    def module_path(self) -> Path:
        """The generated module's file."""
        return self._path

    @property
    def module(self) -> ModuleType:
        """The generated module (its ``@njit`` kernels)."""
        return self._module

    @property
    def kernel(self) -> str:
        """``"piecewise"`` or ``"generated"``: the kernel that runs the next pass
        (:mod:`.tiers`)."""
        return self._choice.name

    @property
    def epochs_done(self) -> int:
        """Epochs trained since the last :meth:`reset` (the schedule's epoch counter)."""
        return int(self._progress[EPOCHS_DONE])

    @property
    def steps_done(self) -> int:
        """Updates applied since the last :meth:`reset`."""
        return int(self._progress[UPDATES_DONE])

    def _split(self, flat: np.ndarray) -> tuple[list[Any], list[Any]]:
        depth = self._spec.depth
        W: list[Any] = [None] * depth  # None: a layer without parameters (pool, flatten)
        b: list[Any] = [None] * depth
        for kind, layer, offset, shape in self._module.PARAMS:
            size = int(np.prod(shape))
            arr = flat[offset : offset + size].reshape(shape)
            if kind == "b":
                b[layer - 1] = arr.copy()
            else:  # "WT" is stored transposed: give it back as (out, in)
                W[layer - 1] = arr.T.copy() if kind == "WT" else arr.copy()
        return W, b

    @property
    def params(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """``(W, b)``: copies of the current parameters, ``W[l]`` of shape (out, in) (a conv
        kernel (out, in, kh, kw)); ``None`` for a layer without parameters."""
        return self._split(self._params)

    @params.setter
    def params(self, value: tuple[Sequence[Any], Sequence[Any]]) -> None:
        self._params[:] = self._flatten(value, "params")

    def _flatten(self, value: tuple[Sequence[Any], Sequence[Any]], what: str) -> np.ndarray:
        """``(W, b)`` in the spec's layout as the module's flat array (checked)."""
        try:
            W, b = value
        except (TypeError, ValueError):
            raise DataError("expected a pair (W, b) of lists of arrays", field=what) from None
        depth = self._spec.depth
        if len(W) != depth or len(b) != depth:
            raise DataError(
                f"expected {depth} weight matrices and {depth} bias vectors, "
                f"found {len(W)} and {len(b)}",
                field=what,
            )
        flat = np.zeros(self._module.N_PARAMS, dtype=self._dtype)
        having = {layer - 1 for _, layer, _, _ in self._module.PARAMS}
        for l in range(depth):
            if l not in having and (W[l] is not None or b[l] is not None):
                raise DataError(
                    "expected None: this layer has no parameters", field=f"{what}.W[{l}]"
                )
        for kind, layer, offset, stored in self._module.PARAMS:
            given = np.asarray((b if kind == "b" else W)[layer - 1])
            name = f"{kind[0]}[{layer - 1}]"
            shape = tuple(reversed(stored)) if kind == "WT" else tuple(stored)
            if given.dtype.kind not in "iuf" or given.shape != shape:
                raise DataError(
                    f"expected an array of numbers of shape {tuple(shape)}, found "
                    f"{given.dtype} {given.shape}",
                    field=f"{what}.{name}",
                )
            values = (given.T if kind == "WT" else given).astype(self._dtype).ravel()
            if not np.isfinite(values).all():
                raise DataError("values must be finite", field=f"{what}.{name}")
            flat[offset : offset + values.size] = values
        return flat

    def optimizer_state(self) -> dict[str, tuple[list[np.ndarray], list[np.ndarray]]]:
        """The optimiser's state by name (``velocity``, ``m``, ``v`` …; none for SGD),
        each as ``(W, b)`` shaped like :attr:`params` (copies)."""
        return {
            name: self._split(row)
            for name, row in zip(self._module.STATE, self._state, strict=True)
        }

    def set_optimizer_state(self, state: Mapping[str, tuple[Sequence[Any], Sequence[Any]]]) -> None:
        """Set the optimiser's state (the names of :meth:`optimizer_state`, all of them)."""
        names = tuple(self._module.STATE)
        if sorted(state) != sorted(names):
            raise DataError(
                f"expected the state {', '.join(names) or '(none)'}, found "
                f"{', '.join(sorted(state)) or '(none)'}",
                field="optimizer_state",
            )
        rows = [self._flatten(state[name], f"optimizer_state.{name}") for name in names]
        for i, row in enumerate(rows):
            self._state[i] = row

    def set_position(self, epochs: int, steps: int) -> None:
        """Where the schedule resumes: ``epochs`` done and ``steps`` updates applied.

        With ``steps > 0`` the optimiser's state is taken as it stands (the kernel
        initialises it at update 0 only).
        """
        if epochs < 0 or steps < 0:
            raise DataError(f"expected counts >= 0, found {epochs}, {steps}", field="counters")
        self._progress[EPOCHS_DONE], self._progress[UPDATES_DONE] = epochs, steps

    # -- state -------------------------------------------------------------

    def initial_params(self) -> tuple[list[Any], list[Any]]:
        """The starting parameters: the spec's, else drawn by its init (biases zero).

        A spec with neither draws ``xavier_uniform`` with seed 0.
        """
        if self._initial is None:  # drawn once: the draw is seeded, so always the same
            self._initial = self._draw_initial()
        W, b = self._initial
        return [_copy(m) for m in W], [_copy(v) for v in b]

    def _draw_initial(self) -> tuple[list[Any], list[Any]]:
        from ..ops.initializers import draw_weights

        spec = self._spec
        if not spec.dense_only:
            from .convinit import initial_network_params

            return initial_network_params(spec)
        if spec.W is not None:
            W = [np.array([[float(v) for v in row] for row in m]) for m in spec.W]
            b = [np.array([float(v) for v in vec]) for vec in (spec.b or ())]
            if not b:
                b = [np.zeros(n) for n in spec.layers[1:]]
            return W, b
        init = spec.init
        if init is None:
            W = draw_weights("xavier_uniform", {}, spec.layers, 0)
        else:
            W = draw_weights(init.name, init.options, spec.layers, init.seed, legacy=init.legacy)
        return W, [np.zeros(n) for n in spec.layers[1:]]

    def reset(self) -> None:
        """Starting parameters, fresh optimiser state, epoch and step counters at 0."""
        if self._initial_flat is None:
            self._initial_flat = self._flatten(self.initial_params(), "params")
        self._params[:] = self._initial_flat
        self._progress[:] = 0  # the kernel initialises the optimiser state at update 0

    # -- evaluation --------------------------------------------------------

    def _inputs(self, X: Any) -> np.ndarray:
        """``X`` checked, standardised by the preprocessing (if any), in the trainer's dtype."""
        pre = self._spec.preprocessing
        if pre is None or pre.standardize is None:
            return check_inputs(X, self._spec, self._dtype.name)
        raw = check_inputs(X, self._spec, "float64")
        return np.ascontiguousarray(pre.transform(raw), dtype=self._dtype)

    def predict(self, X: Any) -> np.ndarray:
        """The network's outputs for every row of ``X``: shape ``(n, layers[-1])``."""
        X = self._inputs(X)
        out = np.empty((X.shape[0], self._spec.layers[-1]), dtype=self._dtype)
        piecewise = self._choice.piecewise()
        if piecewise is not None:
            with self._choice.timed():
                piecewise.predict(self._params, self._module.workspace(), X, out, self._hyper)
            return out
        with _compiling(self._module.train):
            self._module.predict(self._params, self._module.workspace(), X, out, self._hyper)
        return out

    def predict_proba(self, X: Any) -> np.ndarray:
        """The outputs of :meth:`predict` (softmax outputs are class probabilities; a
        one-unit output is the probability, or score, of the second class)."""
        return self.predict(X)

    def predict_classes(self, X: Any) -> np.ndarray:
        """The class of every row of ``X``: its label from the preprocessing, else its
        index (the output mapping of :mod:`symbp.codegen.outputs`)."""
        from .outputs import classes_of

        return classes_of(self._spec, self.predict(X))

    def loss(self, X: Any, T: Any, sample_weight: Any = None) -> float:
        """The mean loss ``E`` over the rows of ``X``, ``T``; with ``sample_weight``
        (one positive weight per row) the weighted mean ``Σ wᵢ Lᵢ / Σ wᵢ``."""
        return self._loss_grad(*self._data(X, T), sample_weight)[0]

    def gradients(
        self, X: Any, T: Any, sample_weight: Any = None
    ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """``(grad_W, grad_b)`` of ``E`` (weighted as in :meth:`loss`) over all rows, in
        the spec's index convention."""
        return self._split(self._loss_grad(*self._data(X, T), sample_weight)[1])

    def _loss_grad(
        self, X: np.ndarray, T: np.ndarray, sample_weight: Any = None
    ) -> tuple[float, np.ndarray]:
        """E and its gradient over all rows (the module's ``gradients``)."""
        weights = check_weights(sample_weight, X.shape[0])
        grads = np.zeros_like(self._params)
        piecewise = self._choice.piecewise() if weights is None else None
        if piecewise is not None:
            with self._choice.timed():
                loss = piecewise.gradients(
                    self._params, grads, self._module.workspace(), X, T, self._hyper
                )
            return float(loss), grads
        with _compiling(self._kernel(weights)):
            loss = self._module.gradients(
                self._params, grads, self._module.workspace(), X, T, weights, self._hyper
            )
        return float(loss), grads

    def _data(self, X: Any, T: Any) -> tuple[np.ndarray, np.ndarray]:
        X = self._inputs(X)
        return X, check_targets(T, self._spec, X.shape[0], self._dtype.name)

    # -- training ----------------------------------------------------------

    def fit(
        self,
        X: Any,
        T: Any,
        epochs: int | None = None,
        batch_size: int | None = None,
        shuffle: bool | None = None,
        seed: int | None = None,
        callback: Callback | None = None,
        drop_last: bool | None = None,
        sample_weight: Any = None,
    ) -> History:
        """Train on ``X``, ``T``; ``None`` arguments come from the spec's ``training``.

        ``batch_size`` None (in the spec too) means the whole data set (full-batch
        gradient descent); 1 is per-example SGD; ``drop_last`` leaves out each epoch's
        last, smaller batch. The row order is :mod:`symbp.ops.batches`' (the exact
        evaluator's too). ``callback(epoch, trainer, history)``
        runs after every epoch (``epoch`` counts from 1 within this call); returning
        True stops training. Raises :class:`~symbp.errors.TrainingDiverged` when the
        loss stops being finite (the parameters are those before that step).

        ``sample_weight`` (one finite positive weight per row) makes each batch's loss,
        and so its gradients, the weighted mean ``Σ wᵢ Lᵢ / Σ wᵢ`` over its rows; the
        epoch losses are weighted means too. ``None`` is the plain mean (the kernel does
        no extra work for it).
        """
        training = self._spec.training
        X, T = self._data(X, T)
        n = X.shape[0]
        weights = check_weights(sample_weight, n)
        row_weights = np.zeros(0) if weights is None else weights
        epochs = training.epochs if epochs is None else epochs
        batch_size = batch_size if batch_size is not None else (training.batch_size or n)
        shuffle = training.shuffle if shuffle is None else shuffle
        seed = training.seed if seed is None else seed
        drop_last = training.drop_last if drop_last is None else drop_last
        for name, value, low in (("epochs", epochs, 0), ("batch_size", batch_size, 1)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise DataError(f"expected a whole number >= {low}, found {value!r}", field=name)
        plan = BatchPlan(n, int(batch_size), bool(shuffle), int(seed), bool(drop_last))
        batch, per_epoch = plan.batch, plan.per_epoch
        history = History(epochs * per_epoch + 1, epochs)
        order = np.arange(n, dtype=np.int64)
        rng = _seed_state(seed)
        net = Net(
            self._params,
            self._state,
            self._grads,
            self._ws,
            self._progress,
        )
        no_outputs = np.zeros((0, self._spec.layers[-1]), dtype=self._dtype)
        # one epoch a call while the piecewise kernel runs: the generated one may take
        # over between epochs (:mod:`.tiers`)
        chunk = epochs if callback is None and self._choice.piecewise() is None else 1
        done_epochs = 0
        while done_epochs < epochs:
            todo = min(chunk, epochs - done_epochs)
            self._progress[DIVERGED_STEP] = -1
            batches = Batches(
                X, T, row_weights, order, rng, todo, batch, bool(shuffle), bool(drop_last), TRAIN
            )
            log = Log(history._steps[history.n_steps :], history._epochs[done_epochs:], no_outputs)
            piecewise = self._choice.piecewise() if weights is None else None
            if piecewise is not None:
                with self._choice.timed():
                    steps = piecewise.train(net, batches, self._hyper, log)
            else:
                kernel = self._kernel(weights)
                with _compiling(kernel):
                    steps = kernel(net, batches, self._hyper, log)
            if self._progress[DIVERGED_STEP] >= 0:
                self._diverged(history, int(steps), done_epochs, per_epoch)
            history.n_steps += int(steps)
            done_epochs += todo
            history.n_epochs = done_epochs
            if callback is not None and callback(done_epochs, self, history):
                history.stopped_early = done_epochs < epochs
                break
        return history

    def _kernel(self, weights: np.ndarray | None) -> Any:
        """The training kernel: ``train``, or ``train_weighted`` for weighted rows."""
        return self._module.train if weights is None else self._module.train_weighted

    def _diverged(self, history: History, steps: int, done_epochs: int, per_epoch: int) -> None:
        value = history._steps[history.n_steps + steps]
        history.n_steps += steps
        step_in_epoch = int(self._progress[DIVERGED_STEP])
        epoch = done_epochs + (history.n_steps - done_epochs * per_epoch) // per_epoch + 1
        history.n_epochs = epoch - 1
        finite = history.step_losses[np.isfinite(history.step_losses)]
        last = f"{finite[-1]:.6g}" if finite.size else "none (the first step)"
        advice = "Lower the learning rate or standardise the inputs"
        spec = self._spec
        hint = None
        if self.steps_done == 0:  # no update ran yet: the learning rate is not the cause
            hint = first_loss_hint(spec.activations[-1], spec.loss, spec.layers[-1])
        if hint is not None:
            advice = f"{hint[0].upper()}{hint[1:]}; else standardise the inputs"
        err = TrainingDiverged(
            f"the loss became {value} at epoch {epoch}, step {step_in_epoch + 1} "
            f"(update {self.steps_done + 1}); last finite loss: {last}. {advice}"
        )
        err.history = history  # type: ignore[attr-defined]
        err.epoch = epoch  # type: ignore[attr-defined]
        err.step = step_in_epoch + 1  # type: ignore[attr-defined]
        raise err

    # -- persistence and interop -----------------------------------------

    def save(self, path: str | Path) -> Path:
        """Write the trained network to ``path`` (``.npz``, or a folder), see
        :mod:`symbp.codegen.persist`; :func:`symbp.load_trainer` reads it back."""
        from .persist import save

        return save(self, path)

    def to_onnx(self, path: str | Path | None = None) -> Any:
        """The network with its preprocessing as an ONNX ``ModelProto``
        (:mod:`symbp.codegen.onnxgraph`; needs ``pip install 'symbp[onnx]'``), also
        written to ``path`` when given."""
        from ..fileio import write_atomic
        from .onnxgraph import to_onnx

        model = to_onnx(self)
        if path is not None:
            write_atomic(Path(path), model.SerializeToString())
        return model

    def state_dict(self) -> dict[str, np.ndarray]:
        """The parameters under ``nn.Sequential`` keys (``0.weight`` of shape (out, in),
        ``0.bias``, ``2.weight`` …), as :func:`symbp.to_torch` lays the layers out."""
        from .persist import state_dict

        return state_dict(self)

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Set the parameters from :meth:`state_dict` keys (arrays or torch tensors)."""
        from .persist import load_state_dict

        load_state_dict(self, state)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled state: the spec (as data), the dtype, the parameters, the optimiser
        state and the counters; never the generated module, which is found again
        in the compile cache (or rendered) when unpickled."""
        return {
            "spec": self._spec,
            "dtype": self._dtype.name,
            "params": self.params,
            "optimizer_state": self.optimizer_state(),
            "counters": self._progress[[EPOCHS_DONE, UPDATES_DONE]].copy(),
            "initial": self._initial,
            "kernel": self._choice.mode,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        from . import _module_file
        from .loader import import_module

        spec, dtype = state["spec"], state["dtype"]
        path, _ = _module_file(spec, dtype, None)
        self.__init__(  # type: ignore[misc]
            spec, import_module(path), dtype, path, state.get("kernel", "auto")
        )
        self._initial, self._initial_flat = state["initial"], None
        self.params = state["params"]
        self.set_optimizer_state(state["optimizer_state"])
        self.set_position(*(int(v) for v in state["counters"][:2]))

    def __repr__(self) -> str:
        sizes = "-".join(str(n) for n in self._spec.layers)
        return (
            f"Trainer({self._spec.name!r}, layers {sizes}, {self._dtype.name}, "
            f"{self.epochs_done} epochs trained)"
        )
