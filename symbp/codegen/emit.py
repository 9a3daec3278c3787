"""Render a kernel plan into the text of a generated trainer module (Jinja).

The template (``templates/trainer.py.j2``) owns the loop structure, the plan
(:mod:`.plan`) owns every right-hand side. Rendering is deterministic: the same spec,
dtype, template and symbp version give byte-identical text. The only user text in a
module is the spec's name, as a Python string literal (``repr``) and, reduced to
printable ASCII, in the header comment.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.resources
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from .. import __version__
from ..spec import Spec
from .hyper import structure_key
from .hyper import values as hyper_values
from .plan import PARALLEL_MIN_WEIGHTS, KernelPlan, make_plan
from .runtime import RUNTIME_HASH

TEMPLATE = "trainer.py.j2"
#: Bump when the template changes in a way the text does not show (it is in the header).
TEMPLATE_VERSION = 17
#: Rows per chunk of a batch: buffers hold at most this many examples.
CHUNK = 256
#: Every buffer starts this many bytes into the (equally aligned) workspace.
ALIGN_BYTES = 64


#: The source checkout's templates (when ``symbp.templates`` is not importable, as in an
#: editable install whose ``templates/`` has no ``__init__.py``).
_SOURCE_TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def _load_template(name: str) -> str:
    try:
        root = importlib.resources.files("symbp.templates")
    except ModuleNotFoundError:
        return (_SOURCE_TEMPLATES / name).read_text(encoding="utf-8")
    return root.joinpath(name).read_text(encoding="utf-8")


def _bytecode_cache() -> jinja2.BytecodeCache | None:
    """Compiled templates kept on disk, so that a new process does not compile the
    template again (about 50 ms): in ``__pycache__`` next to this module, as Python keeps
    its own bytecode, or else in the user's cache directory. Entries are keyed by the
    template's source checksum and written atomically by Jinja."""
    from .loader import cache_dir

    beside = Path(__file__).resolve().parent / "__pycache__"
    for directory in (beside, cache_dir().parent / "jinja"):
        with contextlib.suppress(OSError):
            directory.mkdir(parents=True, exist_ok=True)
            if os.access(directory, os.W_OK):
                return jinja2.FileSystemBytecodeCache(str(directory), "symbp_%s.jinja")
    return None


@functools.cache
def environment() -> jinja2.Environment:
    """The Jinja environment of the code templates (strict, no autoescape: Python out).

    One per process, so that the template is compiled once, not on every render (and
    its compiled form is cached on disk, see :func:`_bytecode_cache`).
    """
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_load_template),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        bytecode_cache=_bytecode_cache(),
    )
    env.filters["reindent"] = reindent
    return env


def reindent(text: str, before: int, after: int) -> str:
    """``text`` (code whose lines start at ``before`` spaces or deeper) moved to start at
    ``after`` spaces: a kernel block rendered for a loop, as a function's body."""
    lines = text.split("\n")
    cut = before - after
    for line in lines:
        if line.strip() and not line.startswith(" " * before):
            raise ValueError(f"internal error: {line!r} is not indented by {before}")
    return "\n".join(line[cut:] if line.strip() else line for line in lines)


def comment_text(text: object, limit: int = 80) -> str:
    """``text`` as printable ASCII on one line (safe inside a ``#`` comment)."""
    out = "".join(c if " " <= c <= "~" else "?" for c in str(text))
    return out if len(out) <= limit else out[: limit - 3] + "..."


#: How the compile cache's modules are made again.
CACHE_COMMAND = "symbp.compile(spec) (the compile cache's module of this structure)"


def default_command(spec: Spec, dtype: str) -> str:
    """The command that writes this module again."""
    if spec.path:
        return f"symbp compile {comment_text(Path(spec.path).name)} --dtype {dtype}"
    return f"symbp.codegen.write_module(spec, dtype={dtype!r})"


def numbers_text(names: tuple[str, ...], values: tuple[float, ...] | None) -> str:
    """The module docstring's sentence on its run-time numbers (wrapped at 88 columns)."""
    import textwrap

    if values is None:
        text = f"Its numbers ({', '.join(names)}) are the argument ``hyper`` of ``train``."
    else:
        given = ", ".join(f"{n} = {v!r}" for n, v in zip(names, values, strict=True))
        text = (
            "Its numbers are the argument ``hyper`` of ``train``; "
            f"the spec gave {given} (DEFAULTS)."
        )
    return textwrap.fill(text, 88)


def act_numbers_text(slots: tuple[Any, ...]) -> str:
    """The module docstring's sentence on the activations' run-time numbers ("" if none)."""
    import textwrap

    if not slots:
        return ""
    each = "; ".join(f"{s.name} is the {s.meaning}" for s in slots)
    text = (
        f"Of these, {each}: a layer's blocks read its number as act_<option> "
        "(act_alpha), set from ``hyper`` before them."
    )
    return textwrap.fill(text, 88)


@dataclass(frozen=True)
class Buffer:
    """One array of the workspace: ``ws[offset:offset + size]``, viewed as ``shape``."""

    name: str
    shape: tuple[int, ...]
    offset: int

    @property
    def size(self) -> int:
        return math.prod(self.shape)


def buffers(plan: KernelPlan, dtype: str) -> list[Buffer]:
    """The workspace of a chunk of :data:`CHUNK` examples: its arrays, laid out one after
    the other in one flat vector, each starting on an :data:`ALIGN_BYTES` boundary.

    One vector rather than a tuple of arrays: every array argument of a kernel costs
    compile time (its unboxing in the wrapper Numba writes around the kernel).
    """
    rows = CHUNK
    shapes: list[tuple[str, tuple[int, ...]]] = (
        [] if plan.front else [("a_0", (rows, plan.sizes[0]))]
    )
    for front in plan.front:
        l, n = front.index, front.n_out
        if front.in_place:
            continue  # the layer below's buffers (see :func:`aliases`)
        if front.needs_z:
            shapes.append((f"z_{l}", (rows, n)))
        shapes.append((f"a_{l}", (rows, n)))
        if front.pooled_by is None:  # else its backward reads the pool's delta alone
            shapes.append((f"delta_{l}", (rows, n)))
    for lay in plan.layers:
        l, n = lay.index, lay.n_out
        if lay.needs_z:  # else z_l is a_l's memory (see :func:`aliases`)
            shapes.append((f"z_{l}", (rows, n)))
        shapes.append((f"a_{l}", (rows, n)))
        shapes.append((f"delta_{l}", (rows, n)))
        if lay.keep_W:
            shapes.append((f"W_{l}", (n, lay.n_in)))
    if plan.output.uses_lse:
        shapes.append(("lse_buf", (rows,)))
    if plan.output.uses_norm:
        shapes.append(("norm_buf", (rows,)))
    align = ALIGN_BYTES // (8 if dtype == "float64" else 4)
    out, offset = [], 0
    for name, shape in shapes:
        out.append(Buffer(name, shape, offset))
        offset += -(-math.prod(shape) // align) * align
    return out


def aliases(plan: KernelPlan) -> dict[str, str]:
    """Buffers that share another's memory: ``z_l`` is ``a_l`` for a layer whose
    pre-activation nothing reads after the activation (its derivative is written in
    ``a_l``), so the activation is computed in place, as LLVM vectorises best. A fused
    layer (:attr:`.LayerPlan.fused`) that does not keep z_l has no z_l at all."""
    out = {
        f"z_{lay.index}": f"a_{lay.index}"
        for lay in plan.layers
        if not lay.needs_z and not lay.fused
    }
    for front in plan.front:  # flatten: the same memory as the maps below it
        if front.in_place:
            out[f"a_{front.index}"] = f"a_{front.index - 1}"
            out[f"delta_{front.index}"] = f"delta_{front.index - 1}"
    return out


def buffer_names(bufs: list[Buffer], shared: dict[str, str]) -> list[str]:
    """The names :func:`buffers` of a module returns, in order (the ``shared`` names of
    :func:`aliases` included)."""
    out = []
    for buf in bufs:
        out += [alias for alias, target in shared.items() if target == buf.name]
        out.append(buf.name)
    return out


def render(
    spec: Spec,
    dtype: str | None = None,
    *,
    command: str | None = None,
    parallel_min_weights: int = PARALLEL_MIN_WEIGHTS,
    cache: bool = False,
) -> str:
    """The text of the generated module for ``spec`` in ``dtype`` (default: the spec's).

    ``cache``: the compile cache's module, shared by every spec of ``spec``'s structure
    (:func:`.hyper.structure_key`): it names the structure, not the spec, and states
    no numbers (``DEFAULTS = None``). Otherwise the module states the spec's numbers
    as its ``DEFAULTS``.

    ``parallel_min_weights`` is the size from which a layer's products run on every core
    (tests lower it to cross-check that path on small networks).
    """
    dtype = dtype or spec.dtype
    if spec.recurrence is not None:  # sequences: their own module (codegen/recurrent_emit.py)
        from .recurrent_emit import render as render_recurrent

        return render_recurrent(spec, dtype, command=command, cache=cache)
    if spec.dense_only:
        plan = make_plan(spec, dtype, parallel_min_weights=parallel_min_weights)
    else:
        from .front import make_map_plan

        plan = make_map_plan(spec, dtype)
    bufs = buffers(plan, dtype)
    suffix = "64" if dtype == "float64" else "32"
    exp_name = f"exp{suffix}"
    layers = plan.layers
    runtime = {*plan.runtime, "shuffle", "minimum", "matrix", "vector"}
    runtime |= {"EPOCHS_DONE", "UPDATES_DONE", "DIVERGED_STEP", "PROGRESS_SLOTS"}
    runtime |= {"Net", "Batches", "Log", "TRAIN", "GRADIENT", "PREDICT"}
    if any(lay.normalised for lay in layers):
        runtime.add("maximum")
    if any(lay.keep_W and not lay.parallel for lay in layers):
        runtime.add("transpose_into")
    if any(lay.keep_W and lay.parallel for lay in layers):
        runtime.add("transpose_rows")
    if any(not lay.small and not lay.parallel for lay in layers):
        runtime.add("gemm_acc")
    if any(lay.parallel for lay in layers):
        runtime |= {"acc_tiles", "gemm_acc_tile"}
    if plan.output.uses_norm:
        runtime.add(exp_name)
    param_names = [f"{p}_{lay.index}" for lay in plan.front if lay.has_params for p in "Wb"]
    param_names += [name for lay in layers for name in (lay.weight, f"b_{lay.index}")]
    grad_names = [f"grad_{name}" for name in param_names]
    shared = aliases(plan)
    names = buffer_names(bufs, shared)
    context = {
        "plan": plan,
        "dtype": dtype,
        "sizes": plan.sizes,
        "version": __version__,
        "template": TEMPLATE,
        "template_version": TEMPLATE_VERSION,
        "runtime_hash": RUNTIME_HASH,
        # isort's order: constants, classes, functions
        "runtime_imports": sorted(runtime, key=lambda n: (not n.isupper(), not n[0].isupper(), n)),
        "spec_hash": structure_key(spec) if cache else spec.hash,
        "structure_key": structure_key(spec),
        "origin": (
            f"a network structure (structure key {structure_key(spec)}; the compile cache's)"
            if cache
            else f"spec {comment_text(spec.name, 60)!r} (spec hash {spec.hash})"
        ),
        "spec_name_literal": repr("" if cache else str(spec.name)),
        "command": command or (CACHE_COMMAND if cache else default_command(spec, dtype)),
        "defaults": None if cache else [repr(v) for v in hyper_values(spec)],
        "numbers_text": numbers_text(plan.hyper, None if cache else hyper_values(spec)),
        "act_numbers_text": act_numbers_text(plan.act_hyper),
        "loss_name": spec.loss.name,
        "optimizer_name": spec.optimizer.name,
        "buffers": bufs,
        "buffer_names": names,
        "buffer_offsets": {buf.name: buf.offset for buf in bufs},
        "aliases": shared,
        "ws_size": bufs[-1].offset + bufs[-1].size,
        "align_bytes": ALIGN_BYTES,
        "param_names": param_names,
        "grad_names": grad_names,
        "chunk": CHUNK,
        "exp_name": exp_name,
    }
    return environment().get_template(TEMPLATE).render(**context)
