"""Loop unswitching: hoist tail guards that don't change inside a loop out of it.

Runs after vectorization, unrolling and loop partitioning, on CPU loops.
`GuardWithIf` puts its `if` at the innermost level of the split's inner
variable, so a reduction scheduled as `split(x, xo, xi, 16).reorder(xi, r,
xo)` tests `xo*16 <= x.max - 15` on every iteration of `r`. The branch
predicts well, but LLVM can't keep the accumulators of a register tile in
registers across `r` while a store sits under a condition. Where a serial or
parallel loop's body holds `if`s (outside any inner loop, on the path of
then-branches) whose conditions read neither the loop variable nor anything
bound inside the loop nor memory, the loop is versioned once on all of them:

    for (r, 0, n) { if (c) { A } else { B } }
  =>
    if (c) { for (r, 0, n) { A } } else { for (r, 0, n) { B } }

With several conditions the fast version assumes them all and the slow one
keeps the loop unchanged. Loops are visited innermost first, so a guard
rises through every loop it does not depend on.
"""
from __future__ import annotations

from pipelang import ir


class _Readonly(ir.IRVisitor):
    """Whether an expression is a pure function of its variables (no loads),
    binding none of its own."""

    def __init__(self):
        self.ok = True

    def visit_Load(self, node):
        self.ok = False

    def visit_Call(self, node):
        self.ok = False

    def visit_Let(self, node):
        self.ok = False


def _pure(e) -> bool:
    v = _Readonly()
    v.visit(e)
    return v.ok


def _guards(s, bound, out) -> None:
    """Conditions of the `if`s in `s` that don't depend on `bound` symbols
    (the loop's variable and the lets on the way to the `if`: whatever
    else the loop binds is out of scope there). Both branches of an `if`
    that does are searched too: a loop that partitioning made one loop with
    a steady and a clamped branch."""
    if isinstance(s, ir.Block):
        for t in s.stmts:
            _guards(t, bound, out)
    elif isinstance(s, ir.LetStmt):
        new = s.sym not in bound
        bound.add(s.sym)
        _guards(s.body, bound, out)
        if new:
            bound.discard(s.sym)
    elif isinstance(s, ir.IfThenElse):
        c = s.condition
        if not (ir.free_symbols(c) & bound) and _pure(c):
            if c not in out:
                out.append(c)
            _guards(s.then_case, bound, out)
        else:
            _guards(s.then_case, bound, out)
            if s.else_case is not None:
                _guards(s.else_case, bound, out)


def _assume(s, conds):
    """`s` with each `if` on one of `conds` replaced by its then-branch."""
    if isinstance(s, ir.Block):
        stmts = tuple(_assume(t, conds) for t in s.stmts)
        return s if all(a is b for a, b in zip(stmts, s.stmts)) else ir.Block(stmts)
    if isinstance(s, ir.LetStmt):
        body = _assume(s.body, conds)
        return s if body is s.body else ir.LetStmt(s.sym, s.value, body)
    if isinstance(s, ir.IfThenElse):
        if s.condition in conds:
            return _assume(s.then_case, conds)
        then = _assume(s.then_case, conds)
        other = None if s.else_case is None else _assume(s.else_case, conds)
        if then is s.then_case and other is s.else_case:
            return s
        return ir.IfThenElse(s.condition, then, other)
    return s


def _refute(s, cond):
    """`s` with each `if` on exactly `cond` replaced by its else-branch."""
    if isinstance(s, ir.Block):
        stmts = tuple(t for t in (_refute(t, cond) for t in s.stmts) if t is not None)
        return ir.Block(stmts) if stmts else None
    if isinstance(s, ir.LetStmt):
        body = _refute(s.body, cond)
        return None if body is None else ir.LetStmt(s.sym, s.value, body)
    if isinstance(s, ir.IfThenElse):
        if s.condition == cond:
            return None if s.else_case is None else _refute(s.else_case, cond)
        then = _refute(s.then_case, cond)
        other = None if s.else_case is None else _refute(s.else_case, cond)
        if then is None and other is None:
            return None
        if then is None:
            return ir.IfThenElse(ir.Not(s.condition), other)
        return ir.IfThenElse(s.condition, then, other)
    return s


class _Size(ir.IRVisitor):
    """Counts statements, giving up past a limit."""

    def __init__(self, limit):
        self.left = limit

    def visit(self, node):
        if self.left > 0 and isinstance(node, ir.Stmt):
            self.left -= 1
            super().visit(node)


# The slow version keeps a copy of the loop: past this many statements in
# its body a loop is left alone, so code size stays bounded.
_MAX_STMTS = 2000


def _small(s) -> bool:
    v = _Size(_MAX_STMTS)
    v.visit(s)
    return v.left > 0


class _Unswitch(ir.IRMutator):
    def mutate_For(self, node):
        if node.kind.is_gpu():
            return node                      # kernels keep their shape
        node = self.generic_mutate(node)
        if node.kind not in (ir.ForKind.SERIAL, ir.ForKind.PARALLEL):
            return node
        conds = []
        _guards(node.body, {node.sym}, conds)
        if not conds or not _small(node.body):
            return node
        fast = ir.For(node.sym, node.min, node.extent, node.kind, _assume(node.body, conds))
        slow = node
        if len(conds) == 1:
            body = _refute(node.body, conds[0])
            slow = None if body is None else ir.For(node.sym, node.min, node.extent, node.kind, body)
        cond = conds[0]
        for c in conds[1:]:
            cond = ir.And(cond, c)
        return ir.IfThenElse(cond, fast, slow)


def unswitch_loops(s: ir.Stmt) -> ir.Stmt:
    return _Unswitch().mutate(s)
