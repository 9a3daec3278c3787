"""YAML reading that keeps exact numbers and the line of every field.

Floats are read as :class:`fractions.Fraction` from their source text, so
``0.179`` is exactly 179/1000 (never the nearest binary float). Every node's
line is recorded under its path (a tuple of keys and indices) so errors can say
``spec.yaml:12: layers[1]: ...``.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from .errors import SpecError

PathKey = tuple[str | int, ...]


class _ExactLoader(yaml.SafeLoader):
    """SafeLoader whose floats are exact fractions (non-finite floats are kept as float)."""


def _construct_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Fraction | float:
    text = str(node.value).replace("_", "")
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        return float(yaml.SafeLoader.construct_yaml_float(loader, node))


_ExactLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)
# YAML 1.2 floats such as 1e-3 (YAML 1.1 reads them as strings).
_ExactLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)$"),
    list("-+0123456789."),
)


#: A spec may expand to at most this many YAML nodes, aliases counted at every use
#: (a "billion laughs" file of nested aliases is refused, not expanded).
MAX_NODES = 100_000


def _size(node: yaml.Node, memo: dict[int, int]) -> int:
    """The number of nodes under ``node`` with aliases expanded (memoised per node)."""
    if id(node) not in memo:
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = node.value
        total = 1
        for child in children:
            total += _size(child, memo)
            if total > MAX_NODES:
                break
        memo[id(node)] = total
    return memo[id(node)]


def _lines(node: yaml.Node, path: PathKey, out: dict[PathKey, int]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else str(key)
            if name in seen:  # PyYAML would silently keep the last value
                field = ".".join(str(p) for p in (*path, name))
                raise SpecError("duplicate key", field=field, line=key.start_mark.line + 1)
            seen.add(name)
            out[(*path, name)] = key.start_mark.line + 1
            _lines(value, (*path, name), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _lines(item, (*path, i), out)


def read_yaml(path: str | Path) -> tuple[Any, dict[PathKey, int]]:
    """Read ``path``; return the data and a map from field path to line number."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError("file not found", file=name) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read file: {exc}", file=name) from None
    return parse_yaml(text, name)


def parse_yaml(text: str, name: str = "<string>") -> tuple[Any, dict[PathKey, int]]:
    """Parse YAML ``text`` (named ``name`` in errors) into data and a line map."""
    try:
        loader = _ExactLoader(text)  # the reader checks the characters here
    except yaml.reader.ReaderError as exc:
        raise SpecError(f"YAML error: {exc.reason} (offset {exc.position})", file=name) from None
    try:
        node = loader.get_single_node()
        if node is None:
            raise SpecError("the file is empty; expected a YAML mapping", file=name)
        if _size(node, {}) > MAX_NODES:
            raise SpecError(
                f"the YAML expands to more than {MAX_NODES} values (through aliases?)", file=name
            )
        lines: dict[PathKey, int] = {}
        _lines(node, (), lines)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise SpecError(f"YAML syntax error: {problem}", file=name, line=line) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"YAML error: {exc}", file=name) from None
    except SpecError as err:
        raise err.located(file=name) from None
    except RecursionError:  # PyYAML composes recursively; an alias may contain itself
        raise SpecError(
            "the YAML is nested too deeply (or an alias contains itself)", file=name
        ) from None
    finally:
        loader.dispose()
    return data, lines
