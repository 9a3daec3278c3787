"""Render a recurrent network's plan (:mod:`.recurrent_plan`) into a generated module.

The template is ``templates/kernels/recurrent.py.j2``: a whole module, since the
sequence layout (lanes of sequences, states over time) shares the dense trainer's
records (:class:`~.runtime.Net`, :class:`~.runtime.Batches`, :class:`~.runtime.Log`),
its optimiser update (:mod:`.update`) and its interface (``train``, ``gradients``,
``predict``, ``PARAMS``, ``HYPER``, ``STATE``, ``SEGMENTS``) but not its chunk of rows.
Rendering is deterministic, as :func:`.emit.render`'s.
"""

from __future__ import annotations

from .. import __version__
from ..spec import Spec
from .hyper import structure_key
from .hyper import values as hyper_values
from .recurrent_plan import CHUNK, make_recurrent_plan
from .runtime import RUNTIME_HASH

TEMPLATE = "kernels/recurrent.py.j2"
#: Bump when the template changes in a way the text does not show (it is in the header).
TEMPLATE_VERSION = 2


def render(spec: Spec, dtype: str, *, command: str | None = None, cache: bool = False) -> str:
    """The text of the generated module of the recurrent network ``spec`` in ``dtype``
    (``cache``: the compile cache's module of its structure; see :func:`.emit.render`)."""
    from .emit import CACHE_COMMAND, comment_text, default_command, environment, numbers_text

    plan = make_recurrent_plan(spec, dtype)
    runtime = {*plan.runtime, "shuffle", "minimum", "matrix", "vector"}
    runtime |= {"gemm_lanes", "transpose_into"}
    if plan.bptt is not None or any(lay.normalised for lay in plan.head.layers):
        runtime.add("maximum")  # truncation's window start; a softmax's largest logit
    runtime |= {"EPOCHS_DONE", "UPDATES_DONE", "DIVERGED_STEP", "PROGRESS_SLOTS"}
    runtime |= {"Net", "Batches", "Log", "TRAIN", "GRADIENT", "PREDICT"}
    names = ["W_0", "U_0", "b_0"]
    names += [f"{p}_{lay.index}" for lay in plan.head.layers for p in "Wb"]
    names += [f"init_{s}" for s in plan.states]
    key = structure_key(spec)
    context = {
        "plan": plan,
        "dtype": dtype,
        "version": __version__,
        "template": TEMPLATE,
        "template_version": TEMPLATE_VERSION,
        "runtime_hash": RUNTIME_HASH,
        "runtime_imports": sorted(runtime, key=lambda n: (not n.isupper(), not n[0].isupper(), n)),
        "spec_hash": key if cache else spec.hash,
        "structure_key": key,
        "origin": (
            f"a network structure (structure key {key}; the compile cache's)"
            if cache
            else f"spec {comment_text(spec.name, 60)!r} (spec hash {spec.hash})"
        ),
        "spec_name_literal": repr("" if cache else str(spec.name)),
        "command": command or (CACHE_COMMAND if cache else default_command(spec, dtype)),
        "defaults": None if cache else [repr(v) for v in hyper_values(spec)],
        "numbers_text": numbers_text(plan.update.hyper, None if cache else hyper_values(spec)),
        "loss_name": spec.loss.name,
        "optimizer_name": spec.optimizer.name,
        "param_names": names,
        "grad_names": [f"grad_{name}" for name in names],
        "chunk": CHUNK,
    }
    return environment().get_template(TEMPLATE).render(**context)
