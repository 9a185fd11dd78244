"""Storage folding: keep only the window of a slid producer, as a circular buffer.

Runs after sliding window and simplification. When a Func's region slides
along a serial loop (its min is `select(first iteration, min, previous max + 1)`)
and the window it covers per iteration has a constant extent `c`, the
dimension is stored modulo the next power of two `n >= c`: the allocation
holds `n` rows instead of the image, and every access indexes `y % n`.
`f.fold_storage(y, n)` asks for a fold factor explicitly.

    realize f([0, w], [y0, h]) { .. f(x, y) .. }
  =>
    realize f([0, w], [0, 4]) { .. f(x, y % 4) .. }
"""
from __future__ import annotations

from pipelang import ir
from pipelang.lowering import names as L
from pipelang.lowering.simplify import simplify
from pipelang.lowering.sliding_window import slid_window


def _terms(e, sign, out):
    if isinstance(e, ir.Add):
        _terms(e.a, sign, out)
        _terms(e.b, sign, out)
    elif isinstance(e, ir.Sub):
        _terms(e.a, sign, out)
        _terms(e.b, -sign, out)
    else:
        out.append((sign, e))
    return out


def _constant_upper_bound(e):
    """A constant c >= e, found by distributing the rest of a sum into one of
    its min() terms: min(a, b) + r <= a + r and <= b + r."""
    terms = _terms(e, 1, [])
    for i, (sign, t) in enumerate(terms):
        if sign > 0 and isinstance(t, ir.Min):
            rest = ir.i32(0)
            for j, (sg, u) in enumerate(terms):
                if j != i:
                    rest = ir.Add(rest, u) if sg > 0 else ir.Sub(rest, u)
            bounds = [ir.const_value(simplify(ir.Add(op, rest))) for op in (t.a, t.b)]
            bounds = [b for b in bounds if b is not None]
            if bounds:
                return min(bounds)
    return None


def _window(fn, body):
    """{dim index: window extent} for the dimension slid along the outermost
    serial loop inside the storage. (A dimension slid along an inner loop
    cannot fold: the next iteration of the outer loop reads what it computed
    long before.)"""
    order: list = []
    slid: dict = {}          # loop symbol -> (dim index, window extent)

    class _Find(ir.IRVisitor):
        def visit_For(self, node):
            if node.kind is ir.ForKind.SERIAL and node.sym not in order:
                order.append(node.sym)
            self.generic_visit(node)

        def visit_LetStmt(self, node):
            lets = {}
            s = node
            while isinstance(s, ir.LetStmt):
                lets[s.sym] = s.value
                s = s.body
            for i, a in enumerate(fn.args):
                lo = lets.get(slid_window(fn, a), lets.get(L.region_min(fn, 0, a)))
                hi = lets.get(L.region_max(fn, 0, a))
                if not isinstance(lo, ir.Select) or hi is None:
                    continue
                cond = lo.condition
                if not (isinstance(cond, ir.LE) and isinstance(cond.a, ir.Variable)):
                    continue
                extent = simplify(ir.Add(ir.Sub(hi, lo.true_value), ir.i32(1)))
                c = ir.const_value(extent)
                if c is None:       # e.g. min(y, y.max) + 2 - y: at most 3
                    c = _constant_upper_bound(extent)
                if c is not None and c > 0:
                    slid[cond.a.sym] = (i, int(c))
            self.visit(s)

    _Find().visit(body)
    for sym in order:
        if sym in slid:
            i, c = slid[sym]
            return {i: c}
    return {}


def _overshooting_dims(fn) -> set:
    """Dims of `fn` that a split may write past the computed region (RoundUp
    rounds up, ShiftInwards shifts back over earlier points): their writes
    are not confined to the window, so they must not fold."""
    from pipelang.schedule import SplitKind, TailStrategy
    out = set()
    for s in fn.stages()[0].schedule.splits:
        if s.kind is SplitKind.SPLIT and s.tail is not TailStrategy.GuardWithIf:
            out.add(s.old.split(".")[0])
    return out


class _FoldAccesses(ir.IRMutator):
    def __init__(self, sym, folds: dict):
        self.sym = sym
        self.folds = folds

    def _args(self, args):
        return tuple(ir.Mod(a, ir.i32(self.folds[i])) if i in self.folds else a
                     for i, a in enumerate(args))

    def mutate_Provide(self, node):
        node = self.generic_mutate(node)
        if node.fn is self.sym:
            return ir.Provide(node.fn, node.values, self._args(node.args))
        return node

    def mutate_Call(self, node):
        node = self.generic_mutate(node)
        if node.fn is self.sym and node.kind is ir.CallKind.FUNC:
            return ir.Call(node.type, node.fn, self._args(node.args), node.kind, node.value_index)
        return node


class _Fold(ir.IRMutator):
    def __init__(self, env):
        self.env = env

    def mutate_Realize(self, node):
        body = self.mutate(node.body)
        fn = self.env[node.fn]
        folds = {}
        overshoot = _overshooting_dims(fn)
        for i, c in _window(fn, body).items():
            if fn.args[i] in overshoot:
                continue
            n = 1
            while n < c:
                n *= 2
            folds[i] = n
        for name, (factor, _forward) in fn.schedule.fold_factors.items():
            folds[fn.args.index(name)] = factor
        if not folds:
            return node if body is node.body else ir.Realize(node.fn, node.types, node.bounds, body)
        body = _FoldAccesses(node.fn, folds).mutate(body)
        bounds = tuple(ir.Range(ir.i32(0), ir.i32(folds[i])) if i in folds else r
                       for i, r in enumerate(node.bounds))
        return ir.Realize(node.fn, node.types, bounds, body)


def fold_storage(s: ir.Stmt, env: dict) -> ir.Stmt:
    return _Fold(env).mutate(s)
