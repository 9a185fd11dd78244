"""Which Funcs each part of a statement names (or produces), remembered by node."""
from __future__ import annotations

import dataclasses

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


_NONE = frozenset()
_ONE_BODY = (ir.ProducerConsumer, ir.For, ir.LetStmt, ir.Realize, ir.Allocate, ir.Atomic, ir.Memoized)


def producers_in(s, memo: dict) -> frozenset:
    """The Funcs whose produce node lies in statement `s`, remembered by
    node in `memo` ({id: (node, set)}) over the walks of one pass."""
    hit = memo.get(id(s))
    if hit is not None and hit[0] is s:
        return hit[1]
    cls = type(s)
    if cls is ir.Block:
        out = _NONE
        for sub in s.stmts:
            found = producers_in(sub, memo)
            if found:
                out = found if not out else out | found
    elif cls is ir.IfThenElse:
        out = producers_in(s.then_case, memo)
        if s.else_case is not None:
            out = out | producers_in(s.else_case, memo)
    elif cls in (ir.Provide, ir.Store, ir.Evaluate, ir.AssertStmt):
        out = _NONE
    elif cls in _ONE_BODY:
        out = producers_in(s.body, memo)
        if cls is ir.ProducerConsumer and s.is_producer:
            out = out | {s.fn}
    else:                           # any other statement: all its statements
        out = _NONE
        for f in dataclasses.fields(s):
            v = getattr(s, f.name)
            for sub in (v if isinstance(v, tuple) else (v,)):
                if isinstance(sub, ir.Stmt):
                    out = out | producers_in(sub, memo)
    memo[id(s)] = (s, out)
    return out
