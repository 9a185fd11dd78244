"""Sliding window: compute only the new part of a producer on each iteration.

Runs after bounds inference. When a Func is stored outside a serial loop
but computed inside it, and the region it must compute moves forward with
the loop in exactly one dimension, every iteration after the first starts
where the previous one stopped (Halide's SlidingWindow.cpp):

    realize f { for y: let f.s0.y.min = y - 1; let f.s0.y.max = y + 1; produce f ... }
  =>
    realize f { for y: let f.s0.y.min = select(y > y.min, (y - 1) + 1 + 1, y - 1) ... }

Every serial loop between storage and computation is considered, innermost
first; along each, the one dimension whose region moves with it slides (so
`store_root().compute_at(g, x)` computes each point once). Only Funcs
without update definitions slide.
"""
from __future__ import annotations

from pipelang import ir
from pipelang.lowering import names as L
from pipelang.lowering.analysis.intervals import Monotonic, is_monotonic
from pipelang.lowering.simplify import simplify


class _Slide(ir.IRMutator):
    """Slide `fn`'s region along every serial loop between its storage and
    the place it is computed: along each loop, the one dimension whose region
    moves forward with that loop starts after the previous iteration's end."""

    def __init__(self, fn):
        self.fn = fn
        self.mins = {L.region_min(fn, 0, a): a for a in fn.args}
        self.maxs = {L.region_max(fn, 0, a): a for a in fn.args}
        self.loops: list = []          # enclosing serial loops, outermost first

    def mutate_For(self, node):
        serial = node.kind is ir.ForKind.SERIAL
        if serial:
            self.loops.append(node)
        body = self.mutate(node.body)
        if serial:
            self.loops.pop()
        return node if body is node.body else ir.For(node.sym, node.min, node.extent, node.kind, body)

    def mutate_LetStmt(self, node):
        lets = []
        s = node
        while isinstance(s, ir.LetStmt):
            lets.append(s)
            s = s.body
        if not (isinstance(s, ir.Block) and isinstance(s.stmts[0], ir.ProducerConsumer)
                and s.stmts[0].fn is self.fn.sym and s.stmts[0].is_producer):
            return self.generic_mutate(node)
        mins = {self.mins[l.sym]: l.value for l in lets if l.sym in self.mins}
        maxs = {self.maxs[l.sym]: l.value for l in lets if l.sym in self.maxs}
        if len(mins) != len(self.fn.args) or len(maxs) != len(self.fn.args):
            return self.generic_mutate(node)
        new_mins = dict(mins)
        for loop in reversed(self.loops):
            moving = [a for a in self.fn.args
                      if is_monotonic(mins[a], loop.sym) is not Monotonic.CONSTANT
                      or is_monotonic(maxs[a], loop.sym) is not Monotonic.CONSTANT]
            if len(moving) != 1:
                continue
            a = moving[0]
            if (is_monotonic(mins[a], loop.sym) is not Monotonic.INCREASING
                    or is_monotonic(maxs[a], loop.sym) is not Monotonic.INCREASING):
                continue
            if new_mins[a] is not mins[a]:
                continue                         # already slid along an inner loop
            prev = ir.substitute({loop.sym: ir.Sub(ir.Variable(ir.Int(32), loop.sym), ir.i32(1))},
                                 maxs[a])
            first = ir.LE(ir.Variable(ir.Int(32), loop.sym), loop.min)
            new_mins[a] = ir.Select(first, mins[a], simplify(ir.Add(prev, ir.i32(1))))
        replace = {L.region_min(self.fn, 0, a): v for a, v in new_mins.items() if v is not mins[a]}
        out = self.mutate(s)
        for l in reversed(lets):
            out = ir.LetStmt(l.sym, replace.get(l.sym, l.value), out)
        return out


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
