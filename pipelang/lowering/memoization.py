"""Memoization: a memoized Func's produce is computed only on a cache miss.

Runs just before storage flattening, on the Realize of each memoized Func
(whose bounds give the region, and the sizes of the allocations that
flattening will make: the product of the extents). The key of
a realization is the Func's memoize id, the region it is realized over
(min and extent of each dimension) and the values of every Param that its
definition, or any Func it calls, reads -- Halide's key (Memoization.cpp).
Input images may not be read: their contents are not part of the key.

    produce f { ... }   =>   memoized f(id, f.x.min, f.x.extent, p) {
                                produce f { ... } }
"""
from __future__ import annotations

from pipelang import ir
from pipelang.buffer import field_owner
from pipelang.errors import ScheduleError
from pipelang.lowering import names as L
from pipelang.lowering.analysis.environment import definition_exprs
from pipelang.param import param_owner


class _Dependencies(ir.IRVisitor):
    def __init__(self, env, fn):
        self.env = env
        self.fn = fn
        self.params: dict = {}
        self.seen: set = set()

    def function(self, fn):
        if fn.sym in self.seen:
            return
        self.seen.add(fn.sym)
        for e in definition_exprs(fn):
            self.visit(e)

    def visit_Call(self, node):
        if node.kind is ir.CallKind.FUNC:
            self.function(self.env[node.fn])
        else:
            self._image(node.fn.name)
        self.generic_visit(node)

    def visit_Variable(self, node):
        if node.sym in param_owner:
            self.params[node.sym] = node.type
        elif node.sym in field_owner:
            self._image(field_owner[node.sym].name())

    def _image(self, name):
        raise ScheduleError(
            f'Func "{self.fn.name}" is scheduled memoize(), but it depends on the buffer {name}: '
            f'computations which depend on buffer parameters cannot be memoized, because the '
            f'buffer\'s contents are not part of the cache key.')


def _key(fn, env, bounds) -> tuple:
    deps = _Dependencies(env, fn)
    deps.function(fn)
    key = [ir.i32(fn.schedule.memoize_id)]
    for r in bounds:
        key += [r.min, r.extent]
    key += [ir.Variable(t, sym) for sym, t in sorted(deps.params.items(), key=lambda kv: kv[0].name)]
    return tuple(key)


class _Inject(ir.IRMutator):
    def __init__(self, memoized: dict, env):
        self.memoized = memoized          # Func symbol -> Function
        self.env = env
        self.bounds: dict = {}            # enclosing Realizes: Func symbol -> Ranges

    def mutate_Realize(self, node):
        self.bounds[node.fn] = node.bounds
        out = self.generic_mutate(node)
        del self.bounds[node.fn]
        return out

    def mutate_ProducerConsumer(self, node):
        node = self.generic_mutate(node)
        fn = self.memoized.get(node.fn)
        if fn is None or not node.is_producer:
            return node
        bounds = self.bounds[fn.sym]
        elements = ir.make_const(ir.Int(64), 1)
        for r in bounds:
            elements = ir.Mul(elements, ir.Cast(ir.Int(64), r.extent))
        buffers = tuple(L.buffer(fn, i) for i in range(len(fn.output_types)))
        sizes = tuple(ir.Mul(elements, ir.make_const(ir.Int(64), t.bytes())) for t in fn.output_types)
        return ir.Memoized(fn.sym, _key(fn, self.env, bounds), buffers, sizes, node)


def inject_memoization(s: ir.Stmt, env: dict, outputs: list) -> ir.Stmt:
    memoized = {}
    for fn in env.values():
        if not fn.schedule.memoized:
            continue
        if fn in outputs:
            raise ScheduleError(f'Func "{fn.name}" is an output of the pipeline: outputs cannot '
                                f'be memoized (memoize a Func it calls, or wrap it)')
        sched = fn.schedule
        if not sched.store_level.is_inlined() and sched.store_level != sched.compute_level:
            raise ScheduleError(f'Func "{fn.name}" is scheduled memoize() with store_at different '
                                f'from compute_at: a memoized Func must be stored where it is '
                                f'computed')
        memoized[fn.sym] = fn
    if not memoized:
        return s
    return _Inject(memoized, env).mutate(s)
