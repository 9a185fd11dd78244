"""hoist_storage: allocate a Func's buffer once, at an outer loop, instead of
on every iteration of its store level.

Runs after storage flattening (allocations are explicit) and before the
produce/consume markers are stripped (`Var.outermost()` names a produce).
The allocation moves to the hoist site with the largest size it takes over
the loops in between (its size expression with the lets expanded, bounded
over those loops' ranges). Each store-level iteration still computes its
whole region, so the values are unchanged; only allocations are saved.

    for c { allocate p[e(c)] { ... } }   =>   allocate p[max over c of e(c)] { for c { ... } }
"""
from __future__ import annotations

from pipelang import ir
from pipelang.errors import ScheduleError
from pipelang.lowering import names as L
from pipelang.lowering.analysis.intervals import Interval, bounds_of_expr
from pipelang.lowering.schedule_functions import _candidates
from pipelang.lowering.simplify import simplify


class _Hoist(ir.IRMutator):
    """Inside one hoist site: lift the allocations of `bufs`, bounding their sizes."""

    def __init__(self, bufs):
        self.bufs = bufs
        self.lets: dict = {}
        self.scope: dict = {}
        self.found: dict = {}          # buffer -> (type, bound of size, memory type)
        self.parallel = 0              # parallel loops between the site and here

    def mutate_LetStmt(self, node):
        self.lets[node.sym] = simplify(ir.substitute(self.lets, node.value))
        body = self.mutate(node.body)
        del self.lets[node.sym]
        return node if body is node.body else ir.LetStmt(node.sym, node.value, body)

    def mutate_For(self, node):
        lo = simplify(ir.substitute(self.lets, node.min))
        hi = simplify(ir.Sub(ir.Add(lo, ir.substitute(self.lets, node.extent)), ir.i32(1)))
        self.scope[node.sym] = Interval(bounds_of_expr(lo, self.scope).min,
                                        bounds_of_expr(hi, self.scope).max)
        par = node.kind is ir.ForKind.PARALLEL
        self.parallel += par
        body = self.mutate(node.body)
        self.parallel -= par
        del self.scope[node.sym]
        return node if body is node.body else ir.For(node.sym, node.min, node.extent, node.kind, body)

    def mutate_Allocate(self, node):
        body = self.mutate(node.body)
        if node.buf not in self.bufs:
            return node if body is node.body else ir.Allocate(node.buf, node.type, node.size,
                                                               node.memory, body)
        if self.parallel:
            raise ScheduleError(f"hoist_storage of {node.buf.name}: a parallel loop lies between "
                                f"the hoist level and the store level, and its iterations would "
                                f"share one buffer")
        size = bounds_of_expr(simplify(ir.substitute(self.lets, node.size)), self.scope).max
        if size is None or ir.free_symbols(size) & (self.scope.keys() | self.lets.keys()):
            raise ScheduleError(f"hoist_storage of {node.buf.name}: its size "
                                f"{ir.to_string(node.size)} has no bound at the hoist level")
        old = self.found.get(node.buf)
        size = simplify(size if old is None else ir.Max(old[1], size))
        self.found[node.buf] = (node.type, size, node.memory)
        return body


def _at_site(node, targets) -> bool:
    if isinstance(node, ir.For):
        return any(t is node.sym for t in targets)
    if isinstance(node, ir.ProducerConsumer) and node.is_producer:
        return any(isinstance(t, tuple) and t[1] is node.fn for t in targets)
    return False


class _Sites(ir.IRMutator):
    def __init__(self, targets, bufs):
        self.targets = targets
        self.bufs = bufs
        self.hoisted = False

    def generic_mutate(self, node):
        if _at_site(node, self.targets):
            h = _Hoist(self.bufs)
            body = h.mutate(node.body)
            for buf, (t, size, memory) in h.found.items():
                body = ir.Allocate(buf, t, size, memory, body)
            self.hoisted |= bool(h.found)
            if isinstance(node, ir.For):
                return ir.For(node.sym, node.min, node.extent, node.kind, body)
            return ir.ProducerConsumer(node.fn, node.is_producer, body)
        return super().generic_mutate(node)


def hoist_storage(s: ir.Stmt, env: dict) -> ir.Stmt:
    for fn in env.values():
        level = fn.schedule.hoist_storage_level
        if level.is_inlined():
            continue
        bufs = {L.buffer(fn, i) for i in range(len(fn.output_types))}
        if level.is_root():
            h = _Hoist(bufs)
            s = h.mutate(s)
            for buf, (t, size, memory) in h.found.items():
                s = ir.Allocate(buf, t, size, memory, s)
            continue
        s = _Sites(_candidates(level, env), bufs).mutate(s)
    return s
