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

Explicit tags are resolved by this loader, never by PyYAML's constructors: ``!!str``,
``!!int``, ``!!float``, ``!!bool``, ``!!null``, ``!!seq`` and ``!!map`` are accepted
where the value fits the tag (``!!float 1`` is the number 1, ``!!str 0.5`` the text
"0.5"), and every number they give goes through the same limits as an untagged one;
any other tag (``!!timestamp``, ``!!binary``, ``!!set``, ``!!omap``, ``!!python/...``,
``!custom``) or a value that does not fit its tag (``!!int 1e3``) is refused with
one line naming the file, line and tag. Dates are not numbers to symbp: an untagged
``2020-01-01`` is the text "2020-01-01".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from .errors import SpecError, quote
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
    #: The scalars that carried an explicit tag (``!!int 3``), checked by :func:`_check_tags`.
    tagged: list[yaml.ScalarNode]

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        self.composed += 1
        if self.composed > MAX_NODES:
            mark = self.peek_event().start_mark
            raise SpecError(f"the YAML holds more than {MAX_NODES} values", line=mark.line + 1)
        # PyYAML passes a list index or, for a mapping's value, the key node; the stubs
        # (types-PyYAML) only name the int.
        return super().compose_node(parent, index)  # type: ignore[arg-type]

    # The stubs (types-PyYAML) type the anchor as a dict; PyYAML passes its name.
    def compose_scalar_node(self, anchor: Any) -> yaml.ScalarNode:
        tag = self.peek_event().tag  # type: ignore[attr-defined]
        node = super().compose_scalar_node(anchor)
        if tag is not None and tag != "!":
            self.tagged.append(node)
        return node

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


_CORE = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT = _CORE + "str", _CORE + "int", _CORE + "float"
_BOOL, _NULL, _SEQ, _MAP = _CORE + "bool", _CORE + "null", _CORE + "seq", _CORE + "map"
#: What each accepted scalar tag needs its value to be (as YAML would read it untagged).
_FITS = {
    _INT: "a whole number",
    _FLOAT: "a number",
    _BOOL: "true or false",
    _NULL: "null",
    _SEQ: "a list",
    _MAP: "a mapping",
}
_ACCEPTED_TAGS = "!!str, !!int, !!float, !!bool, !!null, !!seq and !!map"

# Dates are text to symbp (no spec field is a date, and PyYAML's timestamp
# constructor raises on a date-shaped string such as 2020-13-45).
_ExactLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _CORE + "timestamp"]
    for first, resolvers in _ExactLoader.yaml_implicit_resolvers.items()
}


def _tag_name(tag: str) -> str:
    short = "!!" + tag.removeprefix(_CORE) if tag.startswith(_CORE) else tag
    return short if short.isprintable() and len(short) <= 40 else quote(short, limit=40)


def _check_tag(loader: _ExactLoader, node: yaml.Node) -> None:
    """Refuse an explicit tag symbp does not resolve, or a value that does not fit it."""
    if isinstance(node, yaml.ScalarNode):
        if node.tag == _STR:
            return
        fits = _FITS.get(node.tag)
        if fits is None:
            raise loader.refuse(
                node,
                f"the YAML tag {_tag_name(node.tag)} is not accepted; symbp reads "
                f"{_ACCEPTED_TAGS} (or leave the tag out)",
            )
        read_as = loader.resolve(yaml.ScalarNode, node.value, (True, False))
        if read_as != node.tag and not (
            node.tag == _FLOAT and _DECIMAL_TEXT.fullmatch(node.value.replace("_", ""))
        ):
            raise loader.refuse(
                node,
                f"the YAML tag {_tag_name(node.tag)} needs {fits}, found {quote(node.value)}"
                " (leave the tag out, or quote the text)",
            )
    elif node.tag not in (_SEQ, _MAP) or isinstance(node, yaml.MappingNode) != (node.tag == _MAP):
        raise loader.refuse(
            node,
            f"the YAML tag {_tag_name(node.tag)} is not accepted on a "
            f"{'mapping' if isinstance(node, yaml.MappingNode) else 'list'}; symbp reads "
            f"{_ACCEPTED_TAGS} (or leave the tag out)",
        )


def _check_tags(loader: _ExactLoader, node: yaml.Node) -> None:
    """:func:`_check_tag` on every tagged scalar and on every list and mapping."""
    for scalar in loader.tagged:
        _check_tag(loader, scalar)
    seen: set[int] = set()
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in seen or isinstance(current, yaml.ScalarNode):
            continue
        seen.add(id(current))
        _check_tag(loader, current)
        if isinstance(current, yaml.MappingNode):
            stack.extend(n for pair in current.value for n in pair)
        else:
            stack.extend(current.value)


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
        loader.tagged = []
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
        _check_tags(loader, node)
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
