"""Resolving a loop extent to a constant through the lets that define it.

After simplification, a loop's extent is often a variable bound by a chain
of lets (`f.s0.x.x.loop_extent = (f.s0.x.loop_extent + 15)/16`, ...) whose
expanded value is constant (`48 + 15)/16 = 3`) even though no single let is.
`LetScope` collects the expanded values of the lets around a statement, so
unrolling and vectorization can see through them.
"""
from __future__ import annotations

from pipelang import ir
from pipelang.lowering.simplify import simplify


class LetScope:
    def __init__(self):
        self.values: dict = {}

    def push(self, sym, value):
        """Bind `sym`; returns what to pass to `pop`."""
        old = self.values.get(sym)
        self.values[sym] = simplify(ir.substitute(self.values, value)) if self.values else value
        return sym, old

    def pop(self, token):
        sym, old = token
        if old is None:
            del self.values[sym]
        else:
            self.values[sym] = old

    def constant(self, e):
        """The Python value of `e` with the lets expanded, or None."""
        v = ir.const_value(e)
        if v is None and self.values:
            v = ir.const_value(simplify(ir.substitute(self.values, e)))
        return v


class LetTrackingMutator(ir.IRMutator):
    """An IRMutator that keeps `self.lets` (a LetScope) of the LetStmts around
    the node it is at, for passes that need loop extents as constants."""

    def __init__(self):
        self.lets = LetScope()

    def mutate_LetStmt(self, node):
        value = self.mutate(node.value)
        token = self.lets.push(node.sym, value)
        body = self.mutate(node.body)
        self.lets.pop(token)
        if value is node.value and body is node.body:
            return node
        return ir.LetStmt(node.sym, value, body)
