"""Worked lines that add up, update rules in textbook form, no vacuous steps (issue 31, item 4).

Every step of an aligned derivation in a shipped LaTeX document that is plain
arithmetic on printed numbers (``(0.130)(1) + (0.565)(-0.6) + 0.05``, ``\\frac{1}{1 +
e^{-1.698}}``, ``1.02 - 1.01``) is redone here from the printed numbers, and the
step after it, when it is one number, must be that result rounded to the digits it
prints: a reader who redoes a line gets the line's result.
"""

from __future__ import annotations

import ast
import itertools
import math
import re

import pytest
import sympy as sp

# --- LaTeX arithmetic -> a value -----------------------------------------------------

_NUM = r"\d+(?:\.\d+)?"


def _braced(text: str, start: int) -> tuple[str, int]:
    """The ``{...}`` group opening at ``text[start]`` and the index after it."""
    assert text[start] == "{"
    depth = 0
    for n in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[n], 0)
        if depth == 0:
            return text[start + 1 : n], n + 1
    raise ValueError(text)


def to_python(latex: str) -> str | None:
    """``latex`` as a Python arithmetic expression, or None when it is not plain arithmetic."""
    text = re.sub(r"\\left|\\right|\\,|\\displaystyle", "", latex)
    text = re.sub(rf"({_NUM}) \\times 10\^\{{(-?\d+)\}}", r"\1e\2", text)
    text = re.sub(r"(?<![\d.])10\^\{(-?\d+)\}", r"1e\1", text)
    out = ""
    n = 0
    while n < len(text):
        if text.startswith(r"\frac", n):
            num, n = _braced(text, n + 5)
            den, n = _braced(text, n)
            a, b = to_python(num), to_python(den)
            if a is None or b is None:
                return None
            out += f"(({a})/({b}))"
        elif text.startswith(r"\sqrt", n):
            arg, n = _braced(text, n + 5)
            a = to_python(arg)
            if a is None:
                return None
            out += f"sqrt({a})"
        elif text.startswith("e^", n) and not text[n - 1 : n].isdigit():
            arg, n = _braced(text, n + 2)
            a = to_python(arg)
            if a is None:
                return None
            out += f"exp({a})"
        elif text.startswith("^", n):
            arg, n = _braced(text, n + 1)
            a = to_python(arg)
            if a is None:
                return None
            out += f"**({a})"
        elif text.startswith(r"\cdot", n):
            out += "*"
            n += 5
        elif text.startswith(r"\ln", n):
            out += "log"
            n += 3
        elif text.startswith(r"\tanh", n):
            out += "tanh"
            n += 5
        elif text[n] in "{}":
            out += "(" if text[n] == "{" else ")"
            n += 1
        elif re.match(r"[\d.e+\-*/() ]", text[n]):
            out += text[n]
            n += 1
        else:
            return None
    out = re.sub(r"\)\s*\(", ")*(", out)
    return out if re.search(r"\d", out) else None


_FUNCS = {"sqrt": math.sqrt, "exp": math.exp, "log": math.log, "tanh": math.tanh}


def evaluate(expr: str) -> float:
    """An arithmetic expression (numbers, + - * / **, parentheses, the functions above)."""
    tree = ast.parse(expr, mode="eval")

    def ev(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return float(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            return -ev(node.operand) if isinstance(node.op, ast.USub) else ev(node.operand)
        if isinstance(node, ast.BinOp):
            a, b = ev(node.left), ev(node.right)
            ops = {ast.Add: a + b, ast.Sub: a - b, ast.Mult: a * b}
            if type(node.op) in ops:
                return ops[type(node.op)]
            if isinstance(node.op, ast.Div):
                return a / b
            if isinstance(node.op, ast.Pow):
                return a**b
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            (arg,) = node.args
            return _FUNCS[node.func.id](ev(arg))
        raise ValueError(ast.dump(node))

    return ev(tree)


def printed_number(latex: str) -> str | None:
    """The number a step prints (``-0.159``, ``7.38e-6``), or None when it is not one number."""
    text = re.sub(r"\\left\(|\\right\)|\s", "", latex)
    text = re.sub(r"\\times10\^\{(-?\d+)\}", r"e\1", text)
    text = re.sub(r"^(-?)10\^\{(-?\d+)\}$", r"\g<1>1e\2", text)
    return text if re.fullmatch(rf"-?{_NUM}(?:e-?\d+)?", text) else None


def rounds_to(value: float, printed: str) -> bool:
    """Whether ``value`` rounded to the digits of ``printed`` is ``printed``."""
    mantissa, _, exponent = printed.lstrip("-").partition("e")
    places = len(mantissa.split(".")[1]) if "." in mantissa else 0
    half_unit = 0.5 * 10.0 ** (-places + int(exponent or 0))
    return abs(value - float(printed)) <= half_unit * (1 + 1e-9) + 1e-15


# --- the derivations of a LaTeX document ---------------------------------------------

_ALIGN = re.compile(r"\\begin\{align\*\}(.*?)\\end\{align\*\}", re.S)


def chains(source: str) -> list[list[tuple[str, str]]]:
    """Each ``lhs = step = step …`` of every ``align*`` as ``[(step, note), …]``;
    continuation rows (``+ …``) are joined to their step."""
    found: list[list[tuple[str, str]]] = []
    for block in _ALIGN.findall(source):
        current: list[tuple[str, str]] | None = None
        for row in block.split("\\\\\n"):
            row = row.strip()
            if "&" not in row:
                continue
            body, _, note = row.partition("&&")
            lhs, _, rhs = body.partition("&")
            rhs = rhs.strip()
            if rhs.startswith(r"\phantom{=}") and current:
                step, old_note = current[-1]
                current[-1] = (step + " " + rhs[len(r"\phantom{=}") :], old_note)
                continue
            rel = re.match(r"=|\\leftarrow", rhs)
            if rel is None:
                current = None
                continue
            step = rhs[rel.end() :].strip()
            if lhs.strip():
                current = []
                found.append(current)
            if current is not None:
                current.append((step, note.strip()))
    return found


def unbalanced_lines(source: str) -> list[str]:
    """Steps ``arithmetic = number`` whose arithmetic, redone, is not the number printed."""
    bad = []
    for chain in chains(source):
        for (step, _), (result, note) in itertools.pairwise(chain):
            printed = printed_number(result)
            expr = to_python(step)
            if printed is None or expr is None or "unrounded" in note:
                continue
            try:
                value = evaluate(expr)
            except (ValueError, ZeroDivisionError, OverflowError, SyntaxError):
                continue
            if not rounds_to(value, printed):
                bad.append(f"{step} = {result} (redone: {value:.6g})")
    return bad


def vacuous_steps(source: str) -> list[str]:
    """``= (-0.257) = -0.257``: a step that is only its next step's number."""
    bad = []
    for chain in chains(source):
        for (step, _), (result, _) in itertools.pairwise(chain):
            number = printed_number(step)
            if number is not None and number == printed_number(result):
                bad.append(f"{step} = {result}")
    return bad


def test_the_checks_catch_what_issue_31_found() -> None:
    """The helpers find the issue's examples and pass their fixed forms."""
    assert unbalanced_lines(
        "\\begin{align*}\nd &= 0.0700 - 0.0600 \\\\\n &= 0.00997\n\\end{align*}"
    )
    assert not unbalanced_lines(
        "\\begin{align*}\nd &= 0.07000 - 0.06003 \\\\\n &= 0.00997\n\\end{align*}"
    )
    sigma = "\\begin{align*}\na &= \\frac{1}{1 + e^{- 1.698}} \\\\\n &= %s\n\\end{align*}"
    assert not unbalanced_lines(sigma % "0.845") and unbalanced_lines(sigma % "0.846")
    sums = (
        "\\begin{align*}\nz &= x w + b \\\\\n"
        " &= \\left(0.130\\right)\\left(1\\right) + \\left(0.565\\right)\\left(-0.6\\right)"
        " + 0.05 \\\\\n &= \\left(-0.209\\right) + 0.05 \\\\\n &= %s\n\\end{align*}"
    )
    assert not unbalanced_lines(sums % "-0.159") and unbalanced_lines(sums % "-0.160")
    assert rounds_to(7.384e-6, "7.38e-6") and not rounds_to(7.39e-6, "7.38e-6")
    vacuous = (
        "\\begin{align*}\nv &\\leftarrow \\mu v + g \\\\\n"
        " &= \\left(-0.257\\right) \\\\\n &= -0.257\n\\end{align*}"
    )
    assert vacuous_steps(vacuous) == [r"\left(-0.257\right) = -0.257"]


def _tex(shipped_documents: dict[str, str]) -> dict[str, str]:
    return {rel: src for rel, src in shipped_documents.items() if rel.endswith(".tex")}


def test_worked_lines_add_up_as_printed(shipped_documents: dict[str, str]) -> None:
    checked = 0
    bad = {}
    for rel, source in _tex(shipped_documents).items():
        checked += sum(
            1
            for chain in chains(source)
            for (s, _), (r, _) in itertools.pairwise(chain)
            if to_python(s) and printed_number(r)
        )
        if found := unbalanced_lines(source):
            bad[rel] = found
    assert checked > 500  # the check sees the worked numbers, not nothing
    assert not bad, bad


def test_no_vacuous_steps(shipped_documents: dict[str, str]) -> None:
    bad = {rel: f for rel, src in _tex(shipped_documents).items() if (f := vacuous_steps(src))}
    assert not bad, bad


def test_adam_update_is_typeset_as_textbooks_write_it(shipped_documents: dict[str, str]) -> None:
    """``m ← β₁m + (1 − β₁)g``, ``(∂E/∂θ)²``, ``ε = 10⁻⁸`` and the update count ``t``."""
    source = shipped_documents["docs/adam_softsign_2_2_1.tex"]
    rule = source[source.index(r"\section{Updating the parameters}") :]
    rule = rule[: rule.index(r"\end{align*}")]
    d_theta = r"\frac{\partial E}{\partial \theta}"
    assert rf"m &\leftarrow \beta_{{1}} m + \left(1 - \beta_{{1}}\right) {d_theta} \\" in rule
    assert (
        rf"v &\leftarrow \beta_{{2}} v + \left(1 - \beta_{{2}}\right) \left({d_theta}\right)^{{2}}"
        in rule
    )
    assert rf"{d_theta}^{{2}}" not in source
    assert r"\epsilon = 10^{-8}" in rule and "0.00000001" not in source
    assert r"\frac{m}{1 - \beta_{1}^{t}}" in rule and "^{k}" not in rule
    assert "counts the updates" in rule
    # the worked update uses the same form with its numbers
    assert r"\sqrt{0.00738} + 10^{-8}" in source


@pytest.mark.parametrize(
    ("optimizer", "expected"),
    [
        (
            {"name": "momentum", "momentum": 0.9},
            [r"\mu v + \frac{\partial E}{\partial \theta}", r"\theta - \eta v"],
        ),
        (
            {"name": "sgd", "weight_decay": 0.01},
            [r"\theta - \eta \left(\frac{\partial E}{\partial \theta} + \lambda \theta\right)"],
        ),
        (
            {"name": "nesterov", "momentum": 0.9},
            [
                r"\mu v + \frac{\partial E}{\partial \theta}",
                r"\theta - \eta \left(\mu v + \frac{\partial E}{\partial \theta}\right)",
            ],
        ),
    ],
)
def test_update_rules_of_other_optimisers(optimizer: dict, expected: list[str]) -> None:
    import symbp
    from symbp.render import worked

    spec = {
        "name": "t",
        "layers": [2, 1],
        "activations": ["sigmoid"],
        "loss": "mse",
        "init": {"name": "xavier_uniform", "seed": 1},
        "example": {"x": [0.5, -1.0], "t": [1]},
        "optimizer": {"learning_rate": 0.1, **optimizer},
    }
    rows = [str(r.rhs) for r in worked.update_rule(symbp.evaluate(spec, steps=1)).rows]
    assert rows == expected


def test_small_exact_numbers_print_as_powers_of_ten() -> None:
    from symbp.render.mathtex import display_number, tex_number

    assert tex_number(sp.Rational(1, 10**8), 6) == "10^{-8}"
    assert tex_number(sp.Rational(-1, 10**6)) == "-10^{-6}"
    assert tex_number(sp.Rational(25, 10**6)) == r"2.5 \times 10^{-5}"
    assert display_number(sp.Rational(1, 10**4)) == "0.0001"
    assert display_number(sp.Rational(1, 2)) == "0.5"
