"""Unrolling: a loop marked unrolled becomes copies of its body.

Runs after vectorization, on simplified IR (extents must be constants).

    unrolled (y, 0, 2) { f[y] = y }   =>   f[0] = 0; f[1] = 1
"""
from __future__ import annotations

from pipelang import ir
from pipelang.errors import ScheduleError
from pipelang.lowering.analysis.constant_extent import LetTrackingMutator


class _Unroll(LetTrackingMutator):
    def mutate_For(self, node):
        body = self.mutate(node.body)
        if node.kind is not ir.ForKind.UNROLLED:
            return node if body is node.body else ir.For(node.sym, node.min, node.extent, node.kind, body)
        n = self.lets.constant(node.extent)
        if n is None:
            raise ScheduleError(f"Can only unroll loops over a constant extent. The loop over "
                                f"{node.sym.name} has extent {ir.to_string(node.extent)}; split it "
                                f"by a constant factor (f.unroll(x, 2)) or bound it")
        return ir.block(*[ir.LetStmt(node.sym, ir.Add(node.min, ir.i32(i)), body) for i in range(n)]) \
            if n > 0 else ir.Evaluate(ir.i32(0))


def unroll_loops(s: ir.Stmt) -> ir.Stmt:
    return _Unroll().mutate(s)
