"""Safe parsing of user formulas into SymPy expressions.

A spec may define an activation as a formula in ``x`` or a loss as a formula in
``y`` (the network output) and ``t`` (the target). Formula text is data, never
code: it is parsed with :func:`ast.parse`, every node is checked against a
whitelist (numbers, the allowed variable names, ``+ - * / **``, unary minus and
calls of the whitelisted functions below), and the SymPy expression is built
node by node. Nothing reaches ``eval``, ``exec`` or ``sympify``.

Before SymPy sees anything the text is checked against the stated limits:

* only printable ASCII (and spaces, tabs, newlines): any other character is refused
  by its code point and position, lookalikes included (``ｘ`` or ``𝑥`` look like
  ``x`` after NFKC normalisation, which Python's parser would silently apply);
* at most :data:`MAX_LENGTH` characters, :data:`MAX_NODES` expression nodes,
  :data:`MAX_DEPTH` levels of nesting and :data:`MAX_CALL_DEPTH` function calls
  nested inside each other (the derivative of ``tanh(tanh(...))`` grows
  exponentially with its depth);
* number literals within :mod:`symbp.limits` (integers up to 10^18, decimals within
  10^±308 with at most 50 significant digits), read exactly from their text
  (``0.1`` is 1/10), and exponents of powers at most :data:`MAX_CONSTANT_EXPONENT`.
"""

from __future__ import annotations

import ast
import unicodedata
import warnings
from collections.abc import Callable, Mapping

import sympy as sp

from .errors import FormulaError, quote
from .limits import NumberError, decimal_fraction

MAX_LENGTH = 400
#: Levels of nesting (``-(-(x))`` has three; a chain ``a + b - c`` counts once).
MAX_DEPTH = 24
#: Function calls nested inside each other (``exp(sin(x))`` has two).
MAX_CALL_DEPTH = 6
#: Expression nodes (numbers, names, operations, calls).
MAX_NODES = 200
MAX_CONSTANT_EXPONENT = 64
MAX_CONSTANT_BASE = 10**6
MAX_CONSTANT_DIGITS = 300
#: No constant part of a formula may exceed this in magnitude (float64 range).
MAX_CONSTANT = 10**MAX_CONSTANT_DIGITS
#: Characters allowed besides printable ASCII.
_WHITESPACE = frozenset("\t\n\r")

#: Functions a formula may call, with the number of arguments each takes.
FUNCTIONS: dict[str, tuple[Callable[..., sp.Expr], int]] = {
    "exp": (sp.exp, 1),
    "log": (sp.log, 1),
    "ln": (sp.log, 1),
    "log2": (lambda v: sp.log(v, 2), 1),
    "log10": (lambda v: sp.log(v, 10), 1),
    "sqrt": (sp.sqrt, 1),
    "abs": (sp.Abs, 1),
    "tanh": (sp.tanh, 1),
    "sinh": (sp.sinh, 1),
    "cosh": (sp.cosh, 1),
    "sin": (sp.sin, 1),
    "cos": (sp.cos, 1),
    "atan": (sp.atan, 1),
    "erf": (sp.erf, 1),
    "max": (lambda a, b: sp.Piecewise((a, a >= b), (b, True)), 2),
    "min": (lambda a, b: sp.Piecewise((a, a <= b), (b, True)), 2),
}

#: Named constants a formula may use.
CONSTANTS: dict[str, sp.Expr] = {"e": sp.E, "pi": sp.pi}

_BINARY: dict[type, Callable[[sp.Expr, sp.Expr], sp.Expr]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}


def parse_formula(text: object, variables: Mapping[str, sp.Symbol], *, field: str) -> sp.Expr:
    """Parse ``text`` into a SymPy expression over ``variables``.

    ``field`` names the spec field for error messages. Raises
    :class:`~symbp.errors.FormulaError` with a one-line message on anything that
    is not plain arithmetic over the allowed names and functions, or is beyond the
    limits in the module docstring.
    """
    if not isinstance(text, str):
        raise FormulaError(f"expected a formula string, found {type(text).__name__}", field=field)
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"the formula is longer than {MAX_LENGTH} characters", field=field)
    for position, char in enumerate(text, start=1):
        if not (" " <= char <= "~" or char in _WHITESPACE):
            raise FormulaError(character_problem(char, position), field=field)
    if not text.strip():
        raise FormulaError("the formula is empty", field=field)
    source = text.strip()
    try:
        with warnings.catch_warnings():  # "1if x" warns on stderr before the error
            warnings.simplefilter("ignore")
            tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise FormulaError(
            f"cannot parse formula {quote(source)}: {exc.msg} (column {exc.offset})", field=field
        ) from None
    except (ValueError, RecursionError, MemoryError):
        raise FormulaError(
            f"cannot parse formula {quote(source)}: too complex", field=field
        ) from None
    builder = _Builder(variables, field, source)
    builder.check_shape(tree.body)
    expr = builder.build(tree.body, 0)
    if not isinstance(expr, sp.Expr):
        raise FormulaError(f"formula {quote(source)} is not an expression", field=field)
    return expr


def character_problem(char: str, position: int) -> str:
    """Why ``char`` (at 1-based ``position``) cannot be in a formula, in one line."""
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:
        what = "a lone surrogate, not a character"
    else:
        what = unicodedata.name(char, "") or f"category {unicodedata.category(char)}"
    where = f"character U+{code:04X} ({what}) at position {position}"
    try:
        folded = unicodedata.normalize("NFKC", char)
    except ValueError:
        folded = char
    if folded != char and folded.isascii() and folded.isprintable():
        return f"{where} looks like {quote(folded)} (NFKC) but only ASCII is accepted in formulas"
    if code < 0x80:
        return f"{where} is a control character; formulas are plain ASCII text"
    return f"{where} is not ASCII; formulas accept only ASCII letters, digits and + - * / ( ) . ,"


class _Builder:
    def __init__(self, variables: Mapping[str, sp.Symbol], field: str, text: str) -> None:
        self.variables = dict(variables)
        self.field = field
        self.text = text

    def fail(self, what: str) -> FormulaError:
        allowed = ", ".join(sorted(self.variables))
        shown = self.text if len(self.text) <= 60 else f"{self.text[:40]}...{self.text[-12:]}"
        return FormulaError(
            f"{what} in formula {quote(shown)}; allowed: numbers, the variables {allowed}, "
            f"+ - * / **, and the functions {', '.join(sorted(FUNCTIONS))}",
            field=self.field,
        )

    def check_shape(self, root: ast.AST) -> None:
        """Refuse a tree beyond :data:`MAX_NODES`, :data:`MAX_DEPTH` or :data:`MAX_CALL_DEPTH`."""
        nodes = 0
        stack: list[tuple[ast.AST, int, int]] = [(root, 1, 0)]
        while stack:
            node, depth, calls = stack.pop()
            if isinstance(node, ast.expr):
                nodes += 1
                if nodes > MAX_NODES:
                    raise self.fail(f"more than {MAX_NODES} terms (numbers, names, operations)")
                if depth > MAX_DEPTH:
                    raise self.fail(f"nesting deeper than {MAX_DEPTH} levels")
                if isinstance(node, ast.Call):
                    calls += 1
                    if calls > MAX_CALL_DEPTH:
                        raise self.fail(
                            f"more than {MAX_CALL_DEPTH} function calls nested inside each other"
                        )
            for child in ast.iter_child_nodes(node):
                # a + b + c is one level of a chain, not nesting: its left operands stay put
                chained = isinstance(node, ast.BinOp) and child is node.left
                stack.append((child, depth if chained else depth + 1, calls))

    def number(self, node: ast.Constant) -> sp.Expr:
        """The exact value of a number literal, read from its text within the limits."""
        text = ast.get_source_segment(self.text, node) or repr(node.value)
        try:
            value = decimal_fraction(text)
        except NumberError as err:
            raise self.fail(str(err)) from None
        return sp.Rational(value.numerator, value.denominator)

    def build(self, node: ast.AST, depth: int) -> sp.Expr:
        """The expression of ``node``, checked so that nothing later meets a giant number.

        Bottom-up, every constant part must be a finite real number of magnitude at
        most :data:`MAX_CONSTANT` (so evaluating the next node is cheap), and every
        power's rational exponent at most :data:`MAX_CONSTANT_EXPONENT`, also where
        SymPy combined them (``(x**64)**64``, ``exp(10**12*log(x))``).
        """
        expr = self._node(node, depth)
        if expr.has(sp.nan, sp.zoo, sp.oo, sp.S.NegativeInfinity):
            raise self.fail("a part is infinite or undefined (a division by zero?)")
        for power in expr.atoms(sp.Pow):
            if power.exp.is_Rational and abs(power.exp) > MAX_CONSTANT_EXPONENT:
                raise self.fail(f"exponent {power.exp} is larger than {MAX_CONSTANT_EXPONENT}")
        if expr.is_number:
            value = sp.N(expr, 20)
            if not (value.is_real and value.is_finite):
                raise self.fail(f"constant {expr} is not a finite real number")
            if abs(value) > MAX_CONSTANT:
                raise self.fail(f"constant {expr} is larger than 1e{MAX_CONSTANT_DIGITS}")
        return expr

    def _node(self, node: ast.AST, depth: int) -> sp.Expr:
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self.fail(f"constant {quote(value)} is not a number")
            return self.number(node)
        if isinstance(node, ast.Name):
            if node.id in self.variables:
                return self.variables[node.id]
            if node.id in CONSTANTS:
                return CONSTANTS[node.id]
            raise self.fail(f"unknown name {quote(node.id)}")
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.build(node.operand, depth + 1)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.BitXor):
                raise self.fail("'^' is not a power (write ** instead)")
            op = _BINARY.get(type(node.op))
            if op is None:
                raise self.fail(f"operator {type(node.op).__name__} is not allowed")
            left = self.build(node.left, depth + 1)
            right = self.build(node.right, depth + 1)
            if isinstance(node.op, ast.Pow) and right.is_number:
                if abs(right) > MAX_CONSTANT_EXPONENT:
                    raise self.fail(f"exponent {right} is larger than {MAX_CONSTANT_EXPONENT}")
                if left.is_number and abs(left) > MAX_CONSTANT_BASE:
                    raise self.fail(f"constant base {left} is larger than {MAX_CONSTANT_BASE}")
            if isinstance(node.op, ast.Div) and right == 0:
                raise self.fail("division by zero")
            return op(left, right)
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                raise self.fail("only plain function calls such as exp(x) are allowed")
            name = node.func.id
            if name not in FUNCTIONS:
                raise self.fail(f"unknown function {quote(name)}")
            function, arity = FUNCTIONS[name]
            if node.keywords or len(node.args) != arity:
                raise self.fail(f"{name} takes {arity} positional argument(s)")
            return function(*(self.build(arg, depth + 1) for arg in node.args))
        raise self.fail(f"{type(node).__name__} is not allowed")
