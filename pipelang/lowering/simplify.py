"""Algebraic simplification of expressions and statements.

Runs after every pass that builds arithmetic (bounds inference, loop
synthesis, storage flattening, vectorization) and once more at the end. It
assumes symbols are unique (a `Let` never shadows another binding) and that
Int(32)/Int(64) arithmetic does not overflow, as Halide does.

    for (x, 0, 1) { f[((x + 3) - 1) + (y - x)] = x*1 }
becomes
    f[y + 2] = 0

The expression rules live in `simplify_exprs`, the statement rules in
`simplify_stmts`; this module is the public verb.
"""
from __future__ import annotations

import dataclasses
import sys

from pipelang.ir import nodes as N
from pipelang.lowering.simplify_stmts import Simplifier


def simplify(node):
    """`node` (an Expr, a Stmt or a LoweredFunc) simplified; the same object if nothing changed.

        >>> x = Symbol("x")
        >>> simplify(Add(Add(var(x), i32(1)), i32(2)))
        (x + 3)
    """
    _allow_deep_ir()
    if isinstance(node, N.LoweredFunc):
        body = simplify(node.body)
        return node if body is node.body else dataclasses.replace(node, body=body)
    if isinstance(node, N.Expr):
        return Simplifier().expr(node)
    return Simplifier().stmt(node)


def can_prove(cond: N.Expr) -> bool:
    """True only when `cond` simplifies to a constant true (False means "don't know").

        >>> can_prove(LT(var(x), Add(var(x), i32(1))))
        True
    """
    value = N.const_value(simplify(cond))
    return value is not None and bool(value)


def _allow_deep_ir() -> None:
    # The rewrite recurses once per level of the IR; lowered pipelines nest a few
    # thousand levels deep (LetStmt chains in Blocks, long sums). Python 3.11 does
    # not grow the C stack for these Python-to-Python calls, so a higher limit is safe.
    if sys.getrecursionlimit() < _RECURSION_LIMIT:
        sys.setrecursionlimit(_RECURSION_LIMIT)


_RECURSION_LIMIT = 20000
