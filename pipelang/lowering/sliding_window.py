"""Sliding window: compute only the new part of a producer on each iteration.

Runs after bounds inference. When a Func is stored outside a serial loop
but computed inside it, and the region it must compute moves forward with
the loop in exactly one dimension, every iteration starts where the previous
one stopped (Halide's SlidingWindow.cpp). Every serial loop between storage
and computation is considered, innermost first; along each, the one
dimension whose region moves with it slides (so `store_root().compute_at(g,
x)` computes each point once). Only Funcs without update definitions slide.

As Halide does, the loop is "rewound" to warm the window up: it starts k
iterations early (the fewest for which the first iteration computes no more
than the original first iteration needed), the producer computes only new
points on every iteration, and everything else in the loop body (the
consumers) is skipped on the extra iterations. The loop is renamed `y.$n`.

    realize f { for y in [0, n): let f.s0.y.min = y - 1; let f.s0.y.max = y + 1; produce f ...; consume f ... }
  =>
    realize f { for y.$n in [-2, n): let f.s0.y.min = max(y.$n + 1, -1); let f.s0.y.max = y.$n + 1;
                produce f ...; consume f { if (0 <= y.$n) ... } }

Where no such k can be proven, the first iteration computes the whole
region instead (`select(y <= y.min, y - 1, y + 1)`). Either way a let
`f.s0.y.slid` tells storage folding the loop and the window.

A dimension split with a ShiftInwards or RoundUp tail slides too: the few
new points an iteration asks for are computed as a whole split factor,
ending at the region's max (ShiftInwards, reaching before the first region
on a rewound loop's warm-up iterations) or starting at its min (RoundUp).
Bounds inference sized the storage for the regions asked before sliding, so
the slid dimension's storage is widened by the split's overshoot
(`split_overshoot`), as Halide sizes storage after sliding.
"""
from __future__ import annotations

from pipelang import ir
from pipelang.lowering import names as L
from pipelang.lowering.analysis.environment import direct_callees
from pipelang.lowering.analysis.mentions import producers_in
from pipelang.lowering.analysis.intervals import Monotonic, is_monotonic
from pipelang.lowering.simplify import simplify

_MAX_REWIND = 16


def slid_window(fn, dim: str) -> ir.Symbol:
    """A let sliding window leaves for storage folding (which runs before the
    simplifier drops it): `select(y <= y.min, min needed at y, new min)`,
    naming the loop the region of `dim` slides along and its window."""
    return L.loop(fn, 0, dim).field("slid")


def slid_min(fn, dim: str) -> ir.Symbol:
    """The min of `fn`'s region in `dim` that its produce computes from, once slid."""
    return L.loop(fn, 0, dim).field("slid_min")


def slid_window_max(fn, dim: str) -> ir.Symbol:
    """The max of `fn`'s region in `dim` in terms of the loops (its region
    let names its consumers' regions), beside `slid_window` for storage folding."""
    return L.loop(fn, 0, dim).field("slid_max")


_MISSING = object()


def split_overshoot(fn, dim: str):
    """(before, after): how many points of `dim` the splits of `fn`'s pure
    definition may compute before and after the region asked for (a
    ShiftInwards tail shifts back over earlier points, a RoundUp one rounds
    up past the end; Auto is ShiftInwards there); None where that is not a
    constant (a symbolic factor, or a fused dimension split with such a tail).
    Bounds inference sizes storage for the regions asked before sliding, so a
    slid dimension's storage and fold are widened by this much."""
    from pipelang.schedule import SplitKind, TailStrategy
    derived, span, fused = {dim}, 1, False
    before = after = False
    for sp in fn.init.schedule.splits:
        if sp.kind is SplitKind.SPLIT and sp.old in derived:
            factor = ir.const_value(sp.factor)
            if factor is None:
                return None
            span *= int(factor)
            if factor != 1 and sp.tail in (TailStrategy.ShiftInwards, TailStrategy.Auto):
                before = True
            elif factor != 1 and sp.tail is TailStrategy.RoundUp:
                after = True
            derived |= {sp.outer, sp.inner}
        elif sp.kind is SplitKind.FUSE and (sp.inner in derived or sp.outer in derived):
            derived.add(sp.old)
            fused = True
        elif sp.kind is SplitKind.RENAME and sp.old in derived:
            derived.add(sp.outer)
    if fused and (before or after):
        return None
    return (span - 1 if before else 0, span - 1 if after else 0)


def _proves(cond) -> bool:
    return ir.is_const(simplify(cond), 1)


def _var(sym) -> ir.Expr:
    return ir.Variable(ir.Int(32), sym)


class _Slide(ir.IRMutator):
    """Slide `fn`'s region along every serial loop between its storage and
    the place it is computed: along each loop, the one dimension whose region
    moves forward with that loop starts after the previous iteration's end.

    Bounds inference defines the region lets at the top of the loop level
    `fn` is computed at, in terms of its consumers' region lets by name (as
    Halide does). Here, as in Halide's sliding window, the region lets in
    scope are expanded into the loop variables where a dimension's region
    depends on a loop; the slid min is defined just above the produce (`f.s0.y.slid_min`, which the produce then reads for
    its min: the Funcs it reads keep being bounded by the region asked), and
    `f.s0.y.slid` / `f.s0.y.slid_max` there tell storage folding the window."""

    def __init__(self, fn, feeds: set, may_rewind: set, region_syms: frozenset,
                 producers: dict | None = None):
        self.fn = fn
        # See producers_in: a statement without fn's produce is left as it is
        # (nothing slides or rewinds there).
        self.producers = producers
        self.feeds = feeds             # Funcs fn reads, directly or not
        self.may_rewind = may_rewind   # loops along which only fn slides
        self.region_syms = region_syms  # every Func's region let symbols (expanded here)
        self.slid_loops: list = []
        self.slid_dims: set = set()    # dims slid at some compute site
        self.loops: list = []          # enclosing serial loops, outermost first
        self.rewound: dict = {}        # loop symbol -> iterations to start early
        self.scope: dict = {}          # region lets in scope: symbol -> value
        self.memo: dict = {}           # symbol -> (value, expanded value)
        self.deps: dict = {}           # symbol -> (value, region-let-free symbols it depends on)

    def _elsewhere(self, node) -> bool:
        return self.producers is not None and self.fn.sym not in producers_in(node, self.producers)

    def mutate_IfThenElse(self, node):
        return node if self._elsewhere(node) else self.generic_mutate(node)

    def mutate_For(self, node):
        if self._elsewhere(node):
            return node
        serial = node.kind is ir.ForKind.SERIAL
        if serial:
            self.loops.append(node)
        body = self.mutate(node.body)
        if serial:
            self.loops.pop()
        k = self.rewound.pop(node.sym, None)
        if k is not None:
            return self._rewind(node, body, k)
        return node if body is node.body else ir.For(node.sym, node.min, node.extent, node.kind, body)

    def _rewind(self, node, body, k):
        # A field of the old symbol (named `y.$n`): passes that know the
        # schedule's loops (prefetch) still find the rewound one.
        new = node.sym.field("$n")
        body = ir.substitute({node.sym: _var(new)}, body)
        body = _GuardConsumers(self.fn.sym, self.feeds, ir.LE(node.min, _var(new))).mutate(body)
        return ir.For(new, simplify(ir.Sub(node.min, ir.i32(k))),
                      simplify(ir.Add(node.extent, ir.i32(k))), node.kind, body)

    def mutate_LetStmt(self, node):
        if self._elsewhere(node):
            return node
        if node.sym not in self.region_syms:
            return self.generic_mutate(node)
        had = self.scope.get(node.sym, _MISSING)
        self.scope[node.sym] = node.value
        try:
            body = self.mutate(node.body)
        finally:
            if had is _MISSING:
                del self.scope[node.sym]
            else:
                self.scope[node.sym] = had
        return node if body is node.body else ir.LetStmt(node.sym, node.value, body)

    def _depends(self, sym) -> frozenset:
        """The symbols other than region lets that region let `sym` depends on."""
        value = self.scope[sym]
        hit = self.deps.get(sym)
        if hit is not None and hit[0] is value:
            return hit[1]
        out = set()
        for u in ir.free_symbols(value):
            if u in self.scope:
                out |= self._depends(u)
            else:
                out.add(u)
        out = frozenset(out)
        self.deps[sym] = (value, out)
        return out

    def _expanded(self, sym):
        """Region let `sym`'s value with the region lets in scope expanded, simplified."""
        value = self.scope[sym]
        hit = self.memo.get(sym)
        if hit is not None and hit[0] is value:
            return hit[1]
        used = ir.free_symbols(value) & self.scope.keys()
        out = value
        if used:
            out = simplify(ir.substitute({u: self._expanded(u) for u in used}, value))
        self.memo[sym] = (value, out)
        return out

    def mutate_ProducerConsumer(self, node):
        if not (node.is_producer and node.fn is self.fn.sym and self.loops):
            return self.generic_mutate(node)
        fn = self.fn
        syms = {a: (L.region_min(fn, 0, a), L.region_max(fn, 0, a)) for a in fn.args}
        if any(lo not in self.scope or hi not in self.scope for lo, hi in syms.values()):
            return self.generic_mutate(node)
        slid_along = {}
        new_mins: dict = {}
        mins: dict = {}
        maxs: dict = {}
        for loop in reversed(self.loops):
            moving = [a for a in fn.args
                      if loop.sym in self._depends(syms[a][0]) or loop.sym in self._depends(syms[a][1])]
            if moving:
                for a in moving:
                    if a not in mins:
                        mins[a] = self._expanded(syms[a][0])
                        maxs[a] = self._expanded(syms[a][1])
                moving = [a for a in moving
                          if is_monotonic(mins[a], loop.sym) is not Monotonic.CONSTANT
                          or is_monotonic(maxs[a], loop.sym) is not Monotonic.CONSTANT]
            if len(moving) != 1:
                continue
            a = moving[0]
            if split_overshoot(fn, a) is None:
                continue
            if (is_monotonic(mins[a], loop.sym) is not Monotonic.INCREASING
                    or is_monotonic(maxs[a], loop.sym) is not Monotonic.INCREASING):
                continue
            if a in new_mins:
                continue                         # already slid along an inner loop
            prev_max = ir.substitute({loop.sym: ir.Sub(_var(loop.sym), ir.i32(1))}, maxs[a])
            if _proves(ir.GT(mins[a], prev_max)):
                continue                         # no overlap between iterations: nothing to reuse
            new_mins[a] = self._slid_min(loop, mins[a], maxs[a])
            slid_along[a] = loop
            self.slid_loops.append(loop.sym)
            self.slid_dims.add(a)
        out = self.generic_mutate(node)
        if not slid_along:
            return out
        # The produce computes from the slid min; the Funcs it reads keep
        # theirs in terms of the region asked (its min let, unchanged).
        out = ir.substitute({syms[a][0]: _var(slid_min(fn, a)) for a in slid_along}, out)
        for a in reversed(fn.args):
            loop = slid_along.get(a)
            if loop is not None:
                out = ir.LetStmt(slid_min(fn, a), new_mins[a], out)
                # For storage folding: the window along that loop.
                first = ir.LE(_var(loop.sym), loop.min)
                out = ir.LetStmt(slid_window_max(fn, a), maxs[a], out)
                out = ir.LetStmt(slid_window(fn, a), ir.Select(first, mins[a], new_mins[a]), out)
        return out

    def _slid_min(self, loop, lo, hi):
        """The region's new min along `loop`: one past the previous
        iteration's max, the loop rewound to warm up where that is provable."""
        v = _var(loop.sym)

        def at(e, value):
            return ir.substitute({loop.sym: value}, e)
        new_min = simplify(ir.Add(at(hi, ir.Sub(v, ir.i32(1))), ir.i32(1)))
        need_at_min = at(lo, loop.min)
        if loop.sym in self.may_rewind and loop.sym not in self.rewound:
            for k in range(1, _MAX_REWIND + 1):
                start = ir.Sub(loop.min, ir.i32(k))
                if (_proves(ir.LE(at(new_min, start), need_at_min))
                        and _proves(ir.GE(at(hi, start), at(new_min, start)))):
                    self.rewound[loop.sym] = k
                    if _proves(ir.GE(at(new_min, start), need_at_min)):
                        return new_min           # increasing: never below the original need
                    return ir.Max(new_min, need_at_min)
        first = ir.LE(v, loop.min)
        # Never below this iteration's own need: after an iteration whose
        # region was empty (max < min, e.g. the tail of a GuardWithIf split),
        # one past its max lies before the region -- and before the storage,
        # which bounds inference sized for the regions asked (fuzz seed 11702).
        return ir.Select(first, lo, ir.Max(new_min, lo))


class _GuardConsumers(ir.IRMutator):
    """On a rewound loop's extra iterations only the slid Func and what it
    reads are computed: every other produce or consume runs under `cond`."""

    def __init__(self, fn_sym, feeds: set, cond):
        self.fn_sym, self.feeds, self.cond = fn_sym, feeds, cond

    def mutate_ProducerConsumer(self, node):
        if node.is_producer and node.fn is self.fn_sym:
            # All of it computes the slid Func: a Func computed inside its
            # produce (at one of its loops) has a consume there that wraps
            # the slid Func's own stores.
            return node
        if _produces(node, self.fn_sym):
            return self.generic_mutate(node)
        if node.is_producer and node.fn in self.feeds:
            return node
        return ir.ProducerConsumer(node.fn, node.is_producer,
                                   ir.IfThenElse(ir.Intrinsic(ir.Bool(), ir.Op.LIKELY, (self.cond,)),
                                                 node.body, None))


def _produces(s, sym) -> bool:
    found = []

    class _Find(ir.IRVisitor):
        def visit_ProducerConsumer(self, node):
            if node.is_producer and node.fn is sym:
                found.append(node)
            elif not found:
                self.generic_visit(node)
    _Find().visit(s)
    return bool(found)


def _feeds(fn, env, callees: dict | None = None) -> set:
    """The Funcs `fn` reads, directly or not. `callees` keeps each Func's
    direct callees over a pass (asked for every Func slid, a walk of its
    definitions each time)."""
    callees = {} if callees is None else callees

    def direct(f):
        found = callees.get(f.sym)
        if found is None:
            found = callees[f.sym] = direct_callees(f)
        return found
    out, todo = set(), list(direct(fn))
    while todo:
        sym = todo.pop()
        if sym in out or sym not in env:
            continue
        out.add(sym)
        todo.extend(direct(env[sym]))
    return out


class _FindRealizes(ir.IRMutator):
    """Slides every Func that can. With `may_rewind` None it only records
    the loops each Func slides along (`slid`), changing nothing."""

    def __init__(self, env, may_rewind: set | None):
        self.env = env
        self.may_rewind = may_rewind
        self.slid: list = []
        self.callees: dict = {}         # see _feeds
        self.producers: dict = {}       # see producers_in
        self.region_syms = frozenset(
            sym for f in env.values() if f.defined() for k in range(len(f.stages())) for x in f.args
            for sym in (L.region_min(f, k, x), L.region_max(f, k, x)))

    def mutate_Realize(self, node):
        body = self.mutate(node.body)
        fn = self.env[node.fn]
        if not fn.updates:
            slider = _Slide(fn, _feeds(fn, self.env, self.callees), self.may_rewind or set(),
                            self.region_syms, self.producers)
            slid = slider.mutate(body)
            self.slid.extend(slider.slid_loops)
            if self.may_rewind is not None:
                body = slid
                bounds = _widen_for_overshoot(fn, node.bounds, slider.slid_dims)
                if bounds != node.bounds:
                    return ir.Realize(node.fn, node.types, bounds, body)
        return node if body is node.body else ir.Realize(node.fn, node.types, node.bounds, body)


def _widen_for_overshoot(fn, bounds: tuple, dims: set) -> tuple:
    """Storage of the slid `dims` grown by what their splits compute outside
    the region: a slid iteration asks for only a few new points, which a
    ShiftInwards tail computes as a whole split factor ending at the region's
    max (reaching before the first region, e.g. on a rewound loop's warm-up
    iterations), and a RoundUp tail as one starting at its min."""
    out = list(bounds)
    for i, a in enumerate(fn.args):
        if a not in dims:
            continue
        before, after = split_overshoot(fn, a)
        if before or after:
            r = out[i]
            out[i] = ir.Range(simplify(ir.Sub(r.min, ir.i32(before))),
                              simplify(ir.Add(r.extent, ir.i32(before + after))))
    return tuple(out)


def sliding_window(s: ir.Stmt, env: dict) -> ir.Stmt:
    # A loop is rewound only when a single Func slides along it; with more,
    # each one's first iteration computes its whole region instead.
    survey = _FindRealizes(env, None)
    survey.mutate(s)
    once = {sym for sym in survey.slid if survey.slid.count(sym) == 1}
    return _FindRealizes(env, once).mutate(s)
