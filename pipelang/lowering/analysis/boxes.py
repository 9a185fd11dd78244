"""Boxes touched: the region of each Func or buffer that a statement reads
or writes, as one `Interval` per dimension.

Loops and lets inside the statement are replaced by the ranges they take,
so the result is in terms of the variables free in the statement (outer
loop variables and bounds defined outside). Guards of the form
`likely(v <= e)` (and `<`, `>=`, `>`, `&&`) narrow `v` in their then-branch,
so a GuardWithIf tail does not widen the box.
"""
from __future__ import annotations

from pipelang import ir
from pipelang.lowering.analysis.intervals import Interval, bounds_of_expr, interval_union
from pipelang.lowering.simplify import simplify


def box_union(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return [interval_union(x, y) for x, y in zip(a, b)]


class _BoxesTouched(ir.IRVisitor):
    def __init__(self, syms, calls: bool, provides: bool, scope: dict | None):
        self.syms = syms            # None means every Func and buffer
        self.calls = calls
        self.provides = provides
        self.scope = dict(scope or {})
        self.boxes: dict = {}

    def _wanted(self, sym) -> bool:
        return self.syms is None or sym in self.syms

    def _record(self, sym, args):
        box = [bounds_of_expr(a, self.scope) for a in args]
        self.boxes[sym] = box_union(self.boxes.get(sym), box)

    def _bind(self, sym, interval, body):
        old = self.scope.get(sym, _MISSING)
        self.scope[sym] = interval
        self.visit(body)
        if old is _MISSING:
            del self.scope[sym]
        else:
            self.scope[sym] = old

    # ---- expressions

    def visit_Call(self, node):
        if self.calls and self._wanted(node.fn):
            self._record(node.fn, node.args)
        self.generic_visit(node)

    def visit_Let(self, node):
        self.visit(node.value)
        self._bind(node.sym, bounds_of_expr(node.value, self.scope), node.body)

    # ---- statements

    def visit_Provide(self, node):
        if self.provides and self._wanted(node.fn):
            self._record(node.fn, node.args)
        self.generic_visit(node)

    def visit_LetStmt(self, node):
        self.visit(node.value)
        self._bind(node.sym, _simplified(bounds_of_expr(node.value, self.scope)), node.body)

    def visit_For(self, node):
        self.visit(node.min)
        self.visit(node.extent)
        lo = bounds_of_expr(node.min, self.scope)
        hi = bounds_of_expr(ir.Sub(ir.Add(node.min, node.extent), ir.i32(1)), self.scope)
        self._bind(node.sym, _simplified(Interval(lo.min, hi.max)), node.body)

    def visit_IfThenElse(self, node):
        self.visit(node.condition)
        saved = dict(self.scope)
        _narrow(node.condition, self.scope)
        self.visit(node.then_case)
        self.scope = saved
        if node.else_case is not None:
            self.visit(node.else_case)


_MISSING = object()


def _simplified(i: Interval) -> Interval:
    return Interval(None if i.min is None else simplify(i.min),
                    None if i.max is None else simplify(i.max))


def _narrow(cond, scope) -> None:
    """Tighten the intervals of variables that `cond` bounds."""
    if isinstance(cond, ir.Intrinsic) and cond.op is ir.Op.LIKELY:
        cond = cond.args[0]
    if isinstance(cond, ir.And):
        _narrow(cond.a, scope)
        _narrow(cond.b, scope)
        return
    if not isinstance(cond, (ir.LE, ir.LT, ir.GE, ir.GT)) or not isinstance(cond.a, ir.Variable):
        return
    sym = cond.a.sym
    if sym not in scope or cond.a.type != ir.Int(32):
        return
    cur = scope[sym]
    other = bounds_of_expr(cond.b, scope)
    if isinstance(cond, (ir.LE, ir.LT)) and other.max is not None:
        hi = other.max if isinstance(cond, ir.LE) else ir.Sub(other.max, ir.i32(1))
        new_hi = hi if cur.max is None else ir.Min(cur.max, hi)
        scope[sym] = Interval(cur.min, simplify(new_hi))
    elif isinstance(cond, (ir.GE, ir.GT)) and other.min is not None:
        lo = other.min if isinstance(cond, ir.GE) else ir.Add(other.min, ir.i32(1))
        new_lo = lo if cur.min is None else ir.Max(cur.min, lo)
        scope[sym] = Interval(simplify(new_lo), cur.max)


def boxes_touched(stmt, syms=None, *, calls: bool = True, provides: bool = False,
                  scope: dict | None = None) -> dict:
    """{symbol: [Interval per dimension]} of the Calls (and/or Provides) in `stmt`."""
    v = _BoxesTouched(None if syms is None else set(syms), calls, provides, scope)
    v.visit(stmt)
    return {k: _box_simplified(b) for k, b in v.boxes.items()}


def _box_simplified(box):
    return [_simplified(i) for i in box]
