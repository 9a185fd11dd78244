"""Sliding window: compute only the new part of a producer on each iteration.

Runs after bounds inference. When a Func is stored outside a serial loop
but computed inside it, and the region it must compute moves forward with
the loop in exactly one dimension, every iteration after the first starts
where the previous one stopped (Halide's SlidingWindow.cpp):

    realize f { for y: let f.s0.y.min = y - 1; let f.s0.y.max = y + 1; produce f ... }
  =>
    realize f { for y: let f.s0.y.min = select(y > y.min, (y - 1) + 1 + 1, y - 1) ... }

Only the loop that directly encloses the producer is slid, and only Funcs
without update definitions.
"""
from __future__ import annotations

from pipelang import ir
from pipelang.lowering import names as L
from pipelang.lowering.analysis.intervals import Monotonic, is_monotonic
from pipelang.lowering.simplify import simplify


class _Slide(ir.IRMutator):
    def __init__(self, fn):
        self.fn = fn
        self.mins = {L.region_min(fn, 0, a): a for a in fn.args}
        self.maxs = {L.region_max(fn, 0, a): a for a in fn.args}

    def mutate_For(self, node):
        body = self.mutate(node.body)
        if node.kind is ir.ForKind.SERIAL:
            slid = self._slide_here(node, body)
            if slid is not None:
                body = slid
        return node if body is node.body else ir.For(node.sym, node.min, node.extent, node.kind, body)

    def _slide_here(self, loop, body):
        """`body` with the producer's region slid along `loop`, or None."""
        lets = []
        s = body
        while isinstance(s, ir.LetStmt):
            lets.append(s)
            s = s.body
        if not (isinstance(s, ir.Block) and isinstance(s.stmts[0], ir.ProducerConsumer)
                and s.stmts[0].fn is self.fn.sym and s.stmts[0].is_producer):
            return None
        mins = {self.mins[l.sym]: l for l in lets if l.sym in self.mins}
        maxs = {self.maxs[l.sym]: l for l in lets if l.sym in self.maxs}
        if len(mins) != len(self.fn.args) or len(maxs) != len(self.fn.args):
            return None
        moving = [a for a in self.fn.args
                  if is_monotonic(mins[a].value, loop.sym) is not Monotonic.CONSTANT
                  or is_monotonic(maxs[a].value, loop.sym) is not Monotonic.CONSTANT]
        if len(moving) != 1:
            return None
        a = moving[0]
        lo, hi = mins[a].value, maxs[a].value
        if (is_monotonic(lo, loop.sym) is not Monotonic.INCREASING
                or is_monotonic(hi, loop.sym) is not Monotonic.INCREASING):
            return None
        prev_hi = ir.substitute({loop.sym: ir.Sub(ir.Variable(ir.Int(32), loop.sym), ir.i32(1))}, hi)
        first = ir.LE(ir.Variable(ir.Int(32), loop.sym), loop.min)
        new_lo = ir.Select(first, lo, simplify(ir.Add(prev_hi, ir.i32(1))))
        target = mins[a].sym

        class _Replace(ir.IRMutator):
            def mutate_LetStmt(self, node):
                if node.sym is target:
                    return ir.LetStmt(node.sym, new_lo, node.body)
                return self.generic_mutate(node)
        return _Replace().mutate(body)


class _FindRealizes(ir.IRMutator):
    def __init__(self, env):
        self.env = env

    def mutate_Realize(self, node):
        body = self.mutate(node.body)
        fn = self.env[node.fn]
        if not fn.updates:
            body = _Slide(fn).mutate(body)
        return node if body is node.body else ir.Realize(node.fn, node.types, node.bounds, body)


def sliding_window(s: ir.Stmt, env: dict) -> ir.Stmt:
    return _FindRealizes(env).mutate(s)
