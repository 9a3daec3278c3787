"""The pieces of the piecewise kernel: one pass of one dense layer, sizes as arguments.

A generated trainer (:mod:`.emit`) compiles its sizes and formulas into one kernel,
which takes Numba 2-7 s for a new network. The piecewise kernel
(:mod:`.piecewise`) runs the same network at once from *pieces*: functions of one pass
(a layer's activation, its derivative, the output rows' loss and delta, the optimiser
step, the schedule) whose sizes are arguments, so that one compiled piece serves every
network that uses the same formula.

- **Same text, same numbers.** A piece is rendered from the template macros that write
  the generated trainer's blocks (``templates/kernels/piece.py.j2`` imports
  ``kernels/dense.py.j2`` and ``kernels/passes.py.j2``), with the sizes replaced by
  argument names, so it runs the trainer's operations in the trainer's order and the two
  give the same numbers bit for bit (no fast-math: LLVM reorders no floating-point sum).
- **Named by their text.** A piece is called ``<kind>_<hash>``, the hash of its text
  (rendered with its kind as name): equal formulas give one piece.
- **Built in, or rendered on demand.** The pieces of the built-in records (every
  activation, loss, optimiser and schedule with its default options:
  :func:`builtin_specs`) ship in the package as ``symbp/codegen/builtin/pieces_<dtype>.py``
  (``python -m symbp.regenerate`` writes them; Numba compiles a piece on its first call
  and caches it, so after that no new network compiles them again). Pieces that are not
  there (a custom formula, a loss that reads a layer's size) are rendered into one module
  in the compile cache (:func:`.loader.cache_dir`), named by its content, and compiled on
  first use like a generated trainer.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from .. import __version__
from ..spec import load as load_spec
from .plan import KernelPlan, LayerPlan, OutputPlan
from .runtime import RUNTIME_HASH

#: Bump when the pieces' templates change in a way their text does not show.
TEMPLATE_VERSION = 1
#: The roles of a network's pieces (:class:`PieceSet`).
KINDS = ("activate", "normalise", "derivative", "output", "step", "schedule", "init_state", "fold")
#: Where the built-in pieces live (``pieces_float64.py``, ``pieces_float32.py``).
BUILTIN_PACKAGE = "symbp.codegen.builtin"
_RUNTIME_NAMES = (
    "UPDATES_DONE",
    "exp32",
    "exp64",
    "expm1_32",
    "expm1_64",
    "log1pexp32",
    "log1pexp64",
    "matrix",
    "maximum",
    "minimum",
    "tanh32",
    "tanh64",
    "vector",
)


@dataclass(frozen=True)
class Piece:
    """One rendered piece: its ``kind`` (:data:`KINDS`), ``key`` (the hash of its text
    rendered with the kind as name) and ``text`` (the function, named ``<kind>_<key>``)."""

    kind: str
    key: str
    text: str

    @property
    def name(self) -> str:
        return f"{self.kind}_{self.key}"


class _PlanStandIn:
    """What the dense macros read of the plan: the output's facts, and whether a layer's
    derivative loop also sums its bias gradient (:meth:`.KernelPlan.sums_bias_with_delta`)."""

    def __init__(self, output: OutputPlan, sums_bias: bool) -> None:
        self.output = output
        self._sums_bias = sums_bias

    def sums_bias_with_delta(self, lay: Any) -> bool:
        return self._sums_bias


def _stand_in(lay: LayerPlan) -> Any:
    """``lay`` as layer 1 whose sizes are the argument names ``n_in``, ``n_out``."""
    return dataclasses.replace(lay, index=1, n_in="n_in", n_out="n_out")  # type: ignore[arg-type]


def _render(kind: str, dtype: str, context: dict[str, Any]) -> Piece:
    from .emit import environment

    template = environment().get_template("kernels/piece.py.j2")
    common = {
        "kind": kind,
        "dtype": dtype,
        "exp_name": "exp64" if dtype == "float64" else "exp32",
        "buffer_offsets": {"a_1": 0},
        **context,
    }
    draft = template.render(name=kind, **common)
    key = hashlib.sha256(draft.encode()).hexdigest()[:12]
    return Piece(kind, key, template.render(name=f"{kind}_{key}", **common))


def plan_pieces(plan: KernelPlan) -> dict[tuple[str, int], Piece]:
    """The pieces of ``plan``'s network by ``(kind, layer)`` (layer 0 for the pieces of
    the whole network: output rows, optimiser step, schedule, state, fold)."""
    if any(lay.small for lay in plan.layers):
        raise ValueError("internal error: the piecewise kernel takes dense layers, none small")
    out: dict[tuple[str, int], Piece] = {}
    if plan.front:  # conv, pool, flatten before the dense layers
        from .piecewise_front import front_pieces

        out.update(front_pieces(plan, _builtin(plan.dtype)))
    dtype = plan.dtype
    for lay in plan.layers:
        stand_in = _stand_in(lay)
        sums = _PlanStandIn(plan.output, plan.sums_bias_with_delta(lay))
        kind = "normalise" if lay.normalised else "activate"
        out[kind, lay.index] = _render(kind, dtype, {"lay": stand_in, "plan": sums})
        if lay.dact is not None:
            out["derivative", lay.index] = _render(
                "derivative", dtype, {"lay": stand_in, "plan": sums}
            )
    # the output layer's activation numbers (act_alpha), arguments after the sizes
    numbers = [local for local, _ in plan.layers[-1].bindings(dtype)]
    out["output", 0] = _render("output", dtype, {"out": plan.output, "numbers": numbers})
    update = {"update": plan.update}
    out["step", 0] = _render("step", dtype, update)
    out["schedule", 0] = _render("schedule", dtype, update)
    if plan.update.state:
        out["init_state", 0] = _render("init_state", dtype, update)
    if any(lay.fold for lay in plan.layers):
        out["fold", 0] = _render("fold", dtype, update)
    return out


def module_text(pieces: Iterable[Piece], dtype: str, *, origin: str, command: str) -> str:
    """The text of a module holding ``pieces`` (each once, sorted by name)."""
    from .emit import CHUNK, environment

    unique = sorted({p.name: p for p in pieces}.values(), key=lambda p: p.name)
    texts = [p.text for p in unique]
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", "\n".join(texts)))
    return (
        environment()
        .get_template("pieces.py.j2")
        .render(
            version=__version__,
            origin=origin,
            template_version=TEMPLATE_VERSION,
            runtime_hash=RUNTIME_HASH,
            command=command,
            dtype=dtype,
            chunk=CHUNK,
            runtime_imports=[n for n in _RUNTIME_NAMES if n in words],
            uses_math="math" in words,
            uses_prange="prange" in words,
            functions=texts,
            names=[(p.key, p.name) for p in unique],
        )
    )


# ---------------------------------------------------------------------------
# The built-in pieces.


def builtin_specs() -> list[dict[str, Any]]:
    """Networks whose pieces together are every built-in record's, with its default
    options: each activation in a hidden layer (serial and, see :func:`builtin_pieces`,
    on every core), each output activation with each loss it takes, each optimiser with
    each schedule. Sizes 9-9-9: every layer has more than the small layers' 64 weights."""
    from ..ops.activations import ACTIVATIONS
    from ..ops.losses import LOSSES
    from ..ops.optimizers import OPTIMIZERS, SCHEDULES

    def spec(activations: list[str], loss: str, optimizer: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": "pieces",
            "layers": [9, 9, 9],
            "activations": activations,
            "loss": loss,
            "optimizer": optimizer,
        }

    sgd = {"name": "sgd", "learning_rate": 0.1}
    names = sorted({n for n, (make, _) in ACTIVATIONS.items() if n != "linear"})
    out = []
    for hidden in names:
        out.append(spec([hidden, "identity"], "half_sse", sgd))
    for last in names:
        for loss in sorted(LOSSES):
            out.append(spec(["tanh", last], loss, sgd))
    schedule_options = {
        "constant": {},
        "exponential": {"gamma": 0.9},
        "step": {"gamma": 0.5, "step_size": 2},
    }
    for opt in sorted(set(OPTIMIZERS) - {"gd"}):
        for sched in sorted(SCHEDULES):
            optimizer = {"name": opt, "learning_rate": 0.1}
            if sched != "constant":
                optimizer["schedule"] = {"name": sched, **schedule_options[sched]}
            out.append(spec(["tanh", "identity"], "half_sse", optimizer))
    return out


def builtin_pieces(dtype: str) -> list[Piece]:
    """The pieces of :func:`builtin_specs`, serial and on every core."""
    from ..errors import SymbpError
    from .plan import make_plan

    found: dict[str, Piece] = {}
    for raw in builtin_specs():
        try:
            spec = load_spec(raw)
        except SymbpError:
            continue  # an output activation that the loss does not take
        for parallel in (10**9, 1):
            try:
                plan = make_plan(spec, dtype, parallel_min_weights=parallel)
            except ValueError:  # a pair the generated trainer cannot lower either
                break
            for piece in plan_pieces(plan).values():
                found.setdefault(piece.name, piece)
    from .front import make_map_plan
    from .front_builtin import builtin_specs as front_specs
    from .piecewise_front import every_front_piece

    for raw in front_specs():  # the conv, pool and flatten layers' pieces
        for piece in every_front_piece(make_map_plan(load_spec(raw), dtype)):
            found.setdefault(piece.name, piece)
    return list(found.values())


def builtin_outputs() -> dict[str, str]:
    """``symbp/codegen/builtin/pieces_<dtype>.py`` -> text (``python -m symbp.regenerate``)."""
    out = {}
    for dtype in ("float64", "float32"):
        text = module_text(
            builtin_pieces(dtype),
            dtype,
            origin="the pieces of the built-in activations, losses, optimisers and schedules",
            command="python -m symbp.regenerate",
        )
        out[f"symbp/codegen/builtin/pieces_{dtype}.py"] = text
    return out


@functools.cache
def _builtin(dtype: str) -> dict[str, Callable[..., Any]]:
    try:
        module = importlib.import_module(f"{BUILTIN_PACKAGE}.pieces_{dtype}")
    except ModuleNotFoundError:  # pragma: no cover - a checkout before regenerate
        return {}
    return dict(module.PIECES)


# ---------------------------------------------------------------------------
# Loading a network's pieces.


def load(plan: KernelPlan) -> dict[tuple[str, int], Callable[..., Any]]:
    """The compiled-once functions of ``plan``'s pieces (:func:`plan_pieces`'s keys): the
    built-in ones, and the others from a module rendered into the compile cache."""
    pieces = plan_pieces(plan)
    builtin = _builtin(plan.dtype)
    missing = [p for p in pieces.values() if p.key not in builtin]
    found: dict[str, Callable[..., Any]] = dict(builtin)
    if missing:
        found.update(_cache_module(missing, plan.dtype).PIECES)
    return {role: found[piece.key] for role, piece in pieces.items()}


def _cache_module(pieces: list[Piece], dtype: str) -> ModuleType:
    from . import loader

    text = module_text(
        pieces,
        dtype,
        origin="pieces of the piecewise kernel that are not built in (the compile cache's)",
        command="symbp.compile(spec) (rendered on demand)",
    )
    path = Path(loader.cache_dir()) / f"pieces_{dtype}_{loader.text_key(text)}.py"
    if not path.exists():
        loader.write(text, path)
    return loader.import_module(path)
