"""Hoisting prefetches: within each block, the prefetches go first.

Runs after unrolling (Halide's place: late, after the loop rewrites). An
unrolled loop with a prefetch at the top of its body leaves one prefetch
per copy, scattered between the copies' work; LLVM then keeps their
addresses live across that work (register spills, as Halide found: LLVM
bug 51172). Halide moves them to the front of the block, and so does this
pass: a statement made only of prefetches (one, or the loops and guards
around them) moves ahead of the sibling statements before it, up to the
nearest one with a loop. That is always legal: a prefetch changes no
value, and a block's statements see only what is bound outside the block.

    { prefetch(a); f[0] = ..; prefetch(b); f[1] = .. }
  =>
    { prefetch(a); prefetch(b); f[0] = ..; f[1] = .. }
"""
from __future__ import annotations

from pipelang import ir
from pipelang.ir.visitor import reads_memory


def _only_prefetches(s) -> bool:
    """Whether `s` does nothing but prefetch (loops, guards and lets around prefetches)."""
    while True:
        cls = type(s)
        if cls is ir.PrefetchAddress:
            return True
        if cls is ir.For or cls is ir.LetStmt:
            s = s.body
        elif cls is ir.IfThenElse:
            return _only_prefetches(s.then_case) and (s.else_case is None or _only_prefetches(s.else_case))
        elif cls is ir.Block:
            return all(_only_prefetches(x) for x in s.stmts)
        else:
            return False


def _split(s) -> tuple:
    """(the prefetches of `s`, the rest of it); either may be None. An
    unrolled copy is a let around a block: its prefetches come out in a
    copy of the let (when the let reads no memory, so the copy computes
    the same value wherever it goes)."""
    if _only_prefetches(s):
        return s, None
    cls = type(s)
    if cls is ir.LetStmt and not reads_memory(s.value):
        p, r = _split(s.body)
        if p is None:
            return None, s
        return ir.LetStmt(s.sym, s.value, p), None if r is None else ir.LetStmt(s.sym, s.value, r)
    if cls is ir.Block:
        parts = [_split(x) for x in s.stmts]
        p = [a for a, _ in parts if a is not None]
        if not p:
            return None, s
        r = [b for _, b in parts if b is not None]
        return ir.block(*p), ir.block(*r) if r else None
    return None, s


class _Hoist(ir.IRMutator):
    def mutate_Block(self, node):
        stmts = [self.mutate(s) for s in node.stmts]
        # Prefetches move ahead of the work before them, but not past a loop:
        # with the produce/consume markers gone, a block may hold several
        # stages' loop nests, and a prefetch placed ahead of one stage
        # (at Var.outermost()) stays after the stages before it.
        out, fetches, work = [], [], []
        for p, r in (_split(s) for s in stmts):
            if p is not None:
                fetches.append(p)
            if r is not None:
                if ir.contains(r, ir.For):
                    out += fetches + work + [r]
                    fetches, work = [], []
                else:
                    work.append(r)
        out += fetches + work
        if len(out) == len(stmts) and all(a is b for a, b in zip(out, node.stmts)):
            return node
        return ir.block(*out)


def hoist_prefetches(s: ir.Stmt) -> ir.Stmt:
    return _Hoist().mutate(s) if ir.contains(s, ir.PrefetchAddress) else s
