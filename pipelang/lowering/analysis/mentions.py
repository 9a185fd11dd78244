"""Which Funcs each part of a statement names, remembered by node."""
from __future__ import annotations

from pipelang import ir
from pipelang.ir.visitor import _child_fields


class Mentions:
    """The Funcs each statement names (calls, provides to, produces or
    realizes), remembered by node over a whole pass: a pass that walks the
    statement once per Func (placing it, folding its storage), where it
    changes only along the path to that Func, may skip every part that
    doesn't name it."""

    def __init__(self):
        self.memo: dict = {}        # id(node) -> (node, frozenset of Func symbols)

    def of(self, node) -> frozenset:
        hit = self.memo.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1]
        if isinstance(node, ir.Expr):
            v = _Called()
            v.visit(node)
            found = frozenset(v.found)
        else:
            found = set()
            fn = getattr(node, "fn", None)
            if isinstance(fn, ir.Symbol):
                found.add(fn)
            for name in _child_fields(type(node)):
                v = getattr(node, name)
                for item in (v if isinstance(v, tuple) else (v,)):
                    if isinstance(item, (ir.Expr, ir.Stmt)):
                        found |= self.of(item)
                    elif isinstance(item, ir.Range):
                        found |= self.of(item.min) | self.of(item.extent)
            found = frozenset(found)
        self.memo[id(node)] = (node, found)
        return found


class _Called(ir.IRVisitor):
    def __init__(self):
        self.found = set()

    def visit_Call(self, node):
        self.found.add(node.fn)
        self.generic_visit(node)
