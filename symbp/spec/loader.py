"""Loading a spec from YAML or a dict into a validated :class:`~.model.Spec`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import SpecError, quote
from ..limits import MAX_LAYER_SIZE, MAX_LAYERS
from ..yamlio import PathKey
from .fields import (
    FieldContext,
    build_activations,
    build_examples,
    build_exercise,
    build_frozen,
    build_init,
    build_loss,
    build_optimizer,
    build_params,
    pydantic_error,
)
from .listform import build_list_form
from .model import Spec, TrainingSpec
from .names import build_names
from .output_range import check_output_range
from .preprocessing import build as build_preprocessing
from .schema import RawSpec
from .source import default_name, read_spec_yaml


def load(source: str | Path | Mapping[str, Any] | Spec) -> Spec:
    """Load a spec from a YAML path, a dict of the same structure, or return a Spec as is.

    A path that does not exist but names a shipped example (``"koech_3_4_1"``) loads that
    example, and ``"-"`` reads the YAML from standard input (:mod:`.source`).
    """
    if isinstance(source, Spec):
        return source
    if isinstance(source, Mapping):
        return _build(source, lines={}, file=None)
    if isinstance(source, (str, Path)):
        data, lines, file = read_spec_yaml(source)  # a file, a shipped example's name, or -
        return _build(data, lines=lines, file=file)
    raise SpecError(f"expected a spec path, dict or Spec, found {type(source).__name__}")


def build(
    data: Mapping[str, Any],
    *,
    lines: Mapping[PathKey, int] | None = None,
    file: str | None = None,
    check_outputs: bool = True,
) -> Spec:
    """Validate spec ``data`` (a mapping) that came from ``file`` with YAML ``lines``.

    ``check_outputs=False`` lets an output activation give values the loss cannot take
    (:mod:`.output_range`): for the convention search's variants only, which evaluate a
    text's possible slip (tanh printed at a BCE output) exactly, where it has a value.
    """
    return _build(data, lines=lines or {}, file=file, check_outputs=check_outputs)


def _build(
    data: Any, *, lines: Mapping[PathKey, int], file: str | None, check_outputs: bool = True
) -> Spec:
    ctx = FieldContext(lines, file)
    if not isinstance(data, Mapping):
        raise ctx.error((), f"expected a mapping of spec fields, found {type(data).__name__}")
    for key in data:
        if not isinstance(key, str):
            raise ctx.error((), f"field names must be strings, found {quote(key)}")
    if "input" in data:  # the list form: one entry per layer, read by its kind's record
        return build_list_form(
            data,
            ctx,
            lambda old: _build(old, lines=lines, file=file, check_outputs=check_outputs),
        )
    try:
        raw = RawSpec.model_validate(dict(data))
    except ValidationError as exc:
        raise pydantic_error(exc, ctx) from None

    sizes = tuple(raw.layers)
    if len(sizes) < 2:
        raise ctx.error(
            ("layers",), f"expected at least 2 sizes (input and output), found {len(sizes)}"
        )
    if len(sizes) > MAX_LAYERS:
        raise ctx.error(("layers",), f"expected at most {MAX_LAYERS} sizes, found {len(sizes)}")
    for i, size in enumerate(sizes):
        if size is None:
            if 0 < i < len(sizes) - 1:
                raise ctx.error(
                    ("layers", i),
                    "open size (null) is allowed for the input and output layers only; "
                    "give the hidden layer's size",
                )
            # symbp.spec.sizing fills open sizes from the data (the estimators do)
            raise ctx.error(("layers", i), "open size; give it or fit an estimator")
    layers: tuple[int, ...] = tuple(s for s in sizes if s is not None)
    for i, size in enumerate(layers):
        if size < 1:
            raise ctx.error(("layers", i), f"expected a positive layer size, found {size}")
        if size > MAX_LAYER_SIZE:
            raise ctx.error(
                ("layers", i), f"expected a layer size of at most {MAX_LAYER_SIZE}, found {size}"
            )
    activations = build_activations(raw.activations, layers, ctx)
    loss = build_loss(raw.loss, ctx)
    if loss.name == "cross_entropy" and activations[-1].name != "softmax" and layers[-1] > 1:
        pass  # allowed: cross-entropy over any outputs, stated in the document
    if check_outputs:
        check_output_range(activations[-1], loss, layers[-1], ctx)
    optimizer = build_optimizer(raw.optimizer, dict(data.get("optimizer") or {}), ctx)
    W, b = build_params(raw.params, layers, ctx)
    init = build_init(raw.init, ctx)
    examples = build_examples(raw, layers, loss, ctx)
    frozen = build_frozen(raw.frozen, len(layers) - 1, ctx)
    training = raw.training
    if training.epochs < 1:
        raise ctx.error(
            ("training", "epochs"), f"expected a positive number of epochs, found {training.epochs}"
        )
    if training.batch_size is not None and training.batch_size < 1:
        raise ctx.error(
            ("training", "batch_size"),
            f"expected a positive batch size, found {training.batch_size}",
        )
    exercise = build_exercise(raw.exercise, loss, ctx) if "exercise" in data else None
    name = raw.name or default_name(file)
    return Spec(
        name=name,
        layers=layers,
        activations=activations,
        loss=loss,
        optimizer=optimizer,
        W=W,
        b=b,
        init=init,
        examples=examples,
        frozen=frozen,
        dtype=raw.dtype,
        training=TrainingSpec(
            training.epochs,
            training.batch_size,
            training.shuffle,
            training.seed,
            training.drop_last,
        ),
        claims=tuple(raw.claims),
        names=build_names(raw.names, layers, ctx),
        title=raw.title,
        description=raw.description,
        source=raw.source,
        data=dict(data),
        path=file,
        lines=dict(lines),
        exercise=exercise,
        preprocessing=build_preprocessing(raw.preprocessing, layers, ctx),
    )
