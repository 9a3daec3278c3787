"""YAML reading that keeps exact numbers and the line of every field.

Floats are read as :class:`fractions.Fraction` from their source text, so
``0.179`` is exactly 179/1000 (never the nearest binary float). Every node's
line is recorded under its path (a tuple of keys and indices) so errors can say
``spec.yaml:12: layers[1]: ...``.

Input is bounded (:mod:`symbp.limits`): the file is a regular file of at most
:data:`~symbp.limits.MAX_SPEC_BYTES`, at most :data:`MAX_NODES` values are composed,
every number is checked against the number limits before it is converted (so
``1e999999999`` is refused, not expanded), and text holding a lone surrogate (a
``"\\uD800"`` escape) is refused, each with the field and line it is at.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from .errors import SpecError
from .fileio import read_limited
from .limits import MAX_SPEC_BYTES, NumberError, check_integer, decimal_fraction

PathKey = tuple[str | int, ...]

#: A spec may expand to at most this many YAML nodes, aliases counted at every use
#: (a "billion laughs" file of nested aliases is refused, not expanded).
MAX_NODES = 100_000
_DECIMAL_TEXT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_SURROGATE = re.compile("[\ud800-\udfff]")
_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")
#: Integer text longer than this is over the integer limit whatever its form.
_MAX_INT_TEXT = 40


def format_path(path: Sequence[str | int]) -> str:
    """``example.x[1]``; a key that is not a plain name is quoted (``['a b']``), so the
    error stays one line whatever the key holds."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not str(part).isidentifier():
            out += f"[{str(part)!r}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class _ExactLoader(yaml.SafeLoader):
    """SafeLoader whose floats are exact fractions (non-finite floats are kept as float).

    It counts the nodes it composes (refusing more than :data:`MAX_NODES`) and checks
    numbers and strings as it constructs them; ``paths`` (filled by :func:`_lines`
    before construction) names the field of each node in errors.
    """

    paths: dict[int, PathKey]
    composed = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        self.composed += 1
        if self.composed > MAX_NODES:
            mark = self.peek_event().start_mark
            raise SpecError(f"the YAML holds more than {MAX_NODES} values", line=mark.line + 1)
        # PyYAML passes a list index or, for a mapping's value, the key node; the stubs
        # (types-PyYAML) only name the int.
        return super().compose_node(parent, index)  # type: ignore[arg-type]

    def refuse(self, node: yaml.Node, message: str) -> SpecError:
        path = getattr(self, "paths", {}).get(id(node))
        return SpecError(
            message, field=format_path(path) if path else None, line=node.start_mark.line + 1
        )


def _construct_float(loader: _ExactLoader, node: yaml.ScalarNode) -> Fraction | float:
    text = str(node.value).replace("_", "")
    if _DECIMAL_TEXT.fullmatch(text):
        try:
            return decimal_fraction(text)
        except NumberError as err:
            raise loader.refuse(node, str(err)) from None
    if len(text) > _MAX_INT_TEXT:  # a sexagesimal float (1:30.5) of absurd length
        raise loader.refuse(node, f"number of {len(text)} characters is out of range")
    return float(yaml.SafeLoader.construct_yaml_float(loader, node))


def _construct_int(loader: _ExactLoader, node: yaml.ScalarNode) -> int:
    text = str(node.value).replace("_", "")
    try:
        if len(text) > _MAX_INT_TEXT:
            raise NumberError(f"integer of {len(text)} digits is larger than 10^18 (the limit)")
        return check_integer(yaml.SafeLoader.construct_yaml_int(loader, node))
    except NumberError as err:
        raise loader.refuse(node, str(err)) from None


def _join_pair(match: re.Match[str]) -> str:
    return match.group().encode("utf-16-le", "surrogatepass").decode("utf-16-le")


def _construct_str(loader: _ExactLoader, node: yaml.ScalarNode) -> str:
    value = yaml.SafeLoader.construct_yaml_str(loader, node)
    if _SURROGATE.search(value):  # JSON-style "\\ud835\\udc65" is one character (𝑥)
        value = _PAIR.sub(_join_pair, value)
    found = _SURROGATE.search(value)
    if found:
        raise loader.refuse(
            node,
            f"the text holds U+{ord(found.group()):04X} at position {found.start() + 1}, "
            "a lone surrogate (not a character); write the character itself",
        )
    return value


_ExactLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_ExactLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_ExactLoader.add_constructor("tag:yaml.org,2002:str", _construct_str)
# YAML 1.2 floats such as 1e-3 (YAML 1.1 reads them as strings).
_ExactLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)\Z"),
    list("-+0123456789."),
)


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


def _lines(
    node: yaml.Node, path: PathKey, out: dict[PathKey, int], paths: dict[int, PathKey]
) -> None:
    out[path] = node.start_mark.line + 1
    paths.setdefault(id(node), path)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else str(key)
            if name in seen:  # PyYAML would silently keep the last value
                field = ".".join(str(p) for p in (*path, name))
                raise SpecError("duplicate key", field=field, line=key.start_mark.line + 1)
            seen.add(name)
            key_path: PathKey = (*path, name)
            out[key_path] = key.start_mark.line + 1
            paths.setdefault(id(key), key_path)
            _lines(value, key_path, out, paths)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _lines(item, (*path, i), out, paths)


def read_yaml(path: str | Path) -> tuple[Any, dict[PathKey, int]]:
    """Read ``path``; return the data and a map from field path to line number.

    Only a regular file of at most :data:`~symbp.limits.MAX_SPEC_BYTES` is read
    (:func:`symbp.fileio.read_limited`).
    """
    name = str(path)
    data = read_limited(path, MAX_SPEC_BYTES, error=SpecError)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"cannot read file: not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            file=name,
        ) from None
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
        loader.paths = {}
        _lines(node, (), lines, loader.paths)
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
