"""Routine-level formulas: a parameter worked out from a quantity the intent gives.

"leaf-spine for 96 servers" says no number of leaves; the routine declares
`leaves = ceil(servers / servers_per_leaf)` and code computes it. Formulas are arithmetic
over names (`+ - * / // % **`, parentheses) and a few functions; they are parsed with `ast`
and evaluated by walking the tree, never by `eval`.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Mapping

from planactor._errors import InputError

__all__ = ["FUNCTIONS", "evaluate", "names_in"]


def _even_ceil(x: float) -> int:
    return 2 * math.ceil(round(x, 9) / 2)


def _cbrt(x: float) -> float:
    return round(math.copysign(abs(x) ** (1 / 3), x), 9)


FUNCTIONS: Mapping[str, Callable[..., float]] = {
    "ceil": lambda x: math.ceil(round(x, 9)),
    "floor": lambda x: math.floor(round(x, 9)),
    "sqrt": lambda x: round(math.sqrt(x), 9),
    "cbrt": _cbrt,
    "even_ceil": _even_ceil,
    "min": min,
    "max": max,
}
_OPS: Mapping[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b,
    ast.Mod: lambda a, b: a % b,
    ast.Pow: lambda a, b: a**b,
}


def _parse(formula: str) -> ast.expr:
    try:
        return ast.parse(formula, mode="eval").body
    except SyntaxError:
        raise InputError(
            f"formula {formula!r} is not an arithmetic expression",
            hint=f"use numbers, names, + - * / // % ** and {', '.join(FUNCTIONS)}",
        ) from None


def names_in(formula: str) -> set[str]:
    """The names a formula reads (functions excluded)."""
    return {
        n.id for n in ast.walk(_parse(formula)) if isinstance(n, ast.Name) and n.id not in FUNCTIONS
    }


def evaluate(formula: str, names: Mapping[str, float]) -> float:
    """The value of `formula` with `names`; InputError for anything but arithmetic."""

    def walk(node: ast.expr) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id not in names:
                raise InputError(f"formula {formula!r}: no value for {node.id!r}")
            return float(names[node.id])
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            try:
                return _OPS[type(node.op)](walk(node.left), walk(node.right))
            except ZeroDivisionError:
                raise InputError(f"formula {formula!r} divides by zero") from None
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in FUNCTIONS
            and not node.keywords
        ):
            return float(FUNCTIONS[node.func.id](*(walk(a) for a in node.args)))
        raise InputError(
            f"formula {formula!r}: {ast.unparse(node)!r} is not allowed",
            hint=f"use numbers, names, + - * / // % ** and {', '.join(FUNCTIONS)}",
        )

    return walk(_parse(formula))
