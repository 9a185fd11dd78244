"""Loop partitioning: peel off the iterations where a clamp is active.

Runs last, after vectorization and unrolling. Boundary conditions clamp
coordinates (`max(min(ramp(x, 1, 16), w - 1), 0)`) and ShiftInwards splits
clamp loop bases (`min(xo*8, extent - 8)`); inside a loop that hides the
simple affine index from LLVM: a clamped ramp becomes sixteen scalar loads
instead of one vector load. Where a serial loop's body holds `min(a, b)` or
`max(a, b)` with `a` increasing linearly in the loop variable (a scalar or a
ramp, seen through lets) and `b` invariant, the loop is split into a
prologue and an epilogue that keep the clamps and a steady state where
every such clamp is just `a` (as Halide's PartitionLoops does). Clamps of
ramps in inner loops count too, when only this loop's variable moves them.

    for (xo, 0, n) { f[min(xo*8, e - 8)] = .. }
  =>
    for (xo, 0, lo) { ..clamped.. }   (lo = 0 here)
    for (xo, lo, hi - lo) { f[xo*8] = .. }
    for (xo, hi, n - hi) { ..clamped.. }   with hi = clamp((e - 8)/8 + 1, lo, n)
"""
from __future__ import annotations

from pipelang import ir
from pipelang.errors import ScheduleError
from pipelang.lowering.analysis.intervals import Monotonic, is_monotonic
from pipelang.lowering.simplify import simplify


# Clamps one loop is partitioned on, at most (each search walks its body).
_MAX_CLAMPS = 24

# Loops are partitioned in the prologue and epilogue of a partitioned loop,
# but not in those of a loop in one (see _Partition).
_MAX_TAIL_DEPTH = 1


class _Bound(ir.IRVisitor):
    """Loop variables bound inside a statement (they make an expression
    loop-variant), and let symbols bound more than once (unrolled copies
    rebind them, so one clamp node can mean different things)."""

    def __init__(self):
        self.syms = set()
        self.lets = set()
        self.rebound = set()

    def visit_For(self, node):
        self.syms.add(node.sym)
        self.generic_visit(node)

    def visit_LetStmt(self, node):
        (self.rebound if node.sym in self.lets else self.lets).add(node.sym)
        self.generic_visit(node)

    visit_Let = visit_LetStmt


def _uses_loads(e) -> bool:
    found = []

    class _L(ir.IRVisitor):
        def visit_Load(self, node):
            found.append(node)
    _L().visit(e)
    return bool(found)


def _lane_range(a):
    """(lowest lane, highest lane) of an increasing vector or scalar `a`, or None."""
    if isinstance(a, ir.Ramp):
        step = ir.const_value(a.stride)
        if not isinstance(step, int) or step < 0:
            return None
        return a.base, simplify(ir.Add(a.base, ir.i32(step * (a.lanes - 1))))
    if isinstance(a, ir.Broadcast):
        return a.value, a.value
    if a.type.is_scalar():
        return a, a
    return None


def _scalar(b):
    if isinstance(b, ir.Broadcast):
        return b.value
    return b if b.type.is_scalar() else None


def _linear(a, var):
    """(c, k) with `a` == c*var + k, c a positive constant and k free of var; else None."""
    v = ir.Variable(ir.Int(32), var)
    c = ir.const_value(simplify(ir.Sub(ir.substitute({var: ir.Add(v, ir.i32(1))}, a), a)))
    if not isinstance(c, int) or c <= 0:
        return None
    k = simplify(ir.substitute({var: ir.i32(0)}, a))
    if ir.uses_symbol(k, var) or ir.uses_symbol(simplify(ir.Sub(a, ir.Add(ir.Mul(v, ir.i32(c)), k))), var):
        return None
    return c, k


class _FindClamp(ir.IRVisitor):
    """The first min/max in the body that is a clamp of an increasing value,
    with the condition on the loop variable under which it is inactive."""

    def __init__(self, var, variant, rebound, ranges=None, inner_lets=frozenset()):
        self.var = var
        self.variant = variant
        self.rebound = rebound
        # Names of the lets bound inside the loop: a limit that still names
        # one after expansion (a rebound let, or one in an inner loop's
        # recorded whole range, whose copies were renamed) has no value where
        # the limit is computed, outside the loop. Compared by name, as the
        # copies of a partitioned inner loop bind their own symbols.
        self.inner_lets = frozenset(s.name for s in inner_lets)
        self.lets: dict = {}        # let symbol -> its value as written
        self.expanded: dict = {}    # let symbol -> its value with the lets it uses expanded
        self.moves: dict = {}       # let symbol -> whether its value may move with the loop
        self.found = None           # (node, unclamped value, ("lo"|"hi", bound expr))
        self.depth = 0              # inner loops entered
        self.inner: dict = {}       # inner loop symbol -> (min, extent, depth), lets expanded
        # loop symbol -> (min, extent): the whole range of a loop that was
        # partitioned, for each of its pieces (a simpler superset of the piece's).
        self.ranges = ranges if ranges is not None else {}

    def _expand(self, e):
        """`e` with every let it uses expanded, simplified. A let's value is
        expanded only when something asks for it (then kept): most are never
        needed, and expanding each as met cost most of this pass."""
        if not self.lets:
            return e
        used = ir.free_symbols(e) & self.lets.keys()
        return simplify(ir.substitute({s: self._expanded(s) for s in used}, e) if used else e)

    def _expanded(self, sym):
        v = self.expanded.get(sym)
        if v is None:
            v = self.expanded[sym] = self._expand(self.lets[sym])
        return v

    def _may_move(self, e) -> bool:
        """Whether `e` may vary with the loop variable, through the lets it
        uses and the bounds of the inner loops it names. Expanding and
        simplifying never adds a variable, so an `e` that can't is no clamp
        of the loop's variable, found without the cost of expanding it."""
        for sym in ir.free_symbols(e):
            if sym is self.var:
                return True
            inner = self.inner.get(sym)
            if inner is not None and (self._may_move(inner[0]) or self._may_move(inner[1])):
                return True
            if sym in self.lets:
                moves = self.moves.get(sym)
                if moves is None:
                    moves = self.moves[sym] = self._may_move(self.lets[sym])
                if moves:
                    return True
        return False

    def visit_LetStmt(self, node):
        self.visit(node.value)
        if node.sym in self.lets:
            self.expanded.clear()       # bound again (another specialization's copy)
            self.moves.clear()
        self.lets[node.sym] = node.value
        self.visit(node.body)

    visit_Let = visit_LetStmt

    def _try(self, node, is_min):
        if ir.free_symbols(node) & self.rebound:
            return
        for a, b in ((node.a, node.b), (node.b, node.a)):
            if a.type.element_of() != ir.Int(32):
                continue
            if self.depth and a.type.is_scalar():
                continue            # LLVM hoists a scalar clamp out of the inner loop
            if not self._may_move(a):
                continue
            ea = self._expand(a)
            bs = _scalar(self._expand(b))
            lanes = _lane_range(ea)
            if bs is None or lanes is None or _uses_loads(bs) or (ir.free_symbols(bs) & self.variant):
                continue
            edge = self._worst_over_inner_loops(lanes[1] if is_min else lanes[0], is_min)
            if edge is None:
                continue
            lin = _linear(edge, self.var)
            if lin is None or _uses_loads(edge) or (ir.free_symbols(edge) - {self.var}) & self.variant:
                continue
            c, k = lin
            if any(sym.name in self.inner_lets for sym in ir.free_symbols(bs) | ir.free_symbols(k)):
                continue
            if is_min:   # c*v + k <= b  <=>  v <= (b - k)/c
                self.found = (node, a, ("hi", ir.Div(ir.Sub(bs, k), ir.i32(c))))
            else:        # c*v + k >= b  <=>  v >= ceil((b - k)/c) = -((k - b)/c)
                self.found = (node, a, ("lo", ir.Sub(ir.i32(0), ir.Div(ir.Sub(k, bs), ir.i32(c)))))
            return

    def _worst_over_inner_loops(self, edge, is_min):
        """`edge` at the inner loops' iteration that brings it closest to the
        clamp (the last for an upper clamp of an increasing edge), so that the
        clamp is inactive for the whole inner loop nest; None if unknown."""
        outer_ok = self.inner.keys() | {self.var}
        for _ in range(16):
            # An inner loop's bounds may move with the loops around it; those
            # are substituted after it.
            us = ir.free_symbols(edge) & self.inner.keys()
            if not us:
                return edge
            u = max(us, key=lambda v: self.inner[v][2])    # innermost first
            mn, extent, _ = self.inner[u]
            if (ir.free_symbols(mn) | ir.free_symbols(extent)) & (self.variant - outer_ok):
                return None
            mono = is_monotonic(edge, u)
            if mono is Monotonic.UNKNOWN:
                return None
            last = ir.Sub(ir.Add(mn, extent), ir.i32(1))
            pick = last if (mono is Monotonic.INCREASING) == is_min else mn
            edge = simplify(ir.substitute({u: pick}, edge))
        return None

    def visit_Min(self, node):
        if self.found is None:
            self._try(node, True)
        if self.found is None:
            self.generic_visit(node)

    def visit_Max(self, node):
        if self.found is None:
            self._try(node, False)
        if self.found is None:
            self.generic_visit(node)

    def visit_For(self, node):
        # A clamp of a ramp inside an inner loop that only this loop's variable
        # moves (an inline reduction's loads of a clamped input, computed per
        # vector of this loop) partitions this loop, as in Halide: the steady
        # state's inner loop then makes dense loads instead of gathers. A clamp
        # that inner loops move too counts at their extreme iteration.
        self.visit(node.min)
        self.visit(node.extent)
        self.depth += 1
        rec = self.ranges.get(node.sym)
        mn, extent = rec if rec is not None else (node.min, node.extent)
        self.inner[node.sym] = (self._expand(mn), self._expand(extent), self.depth)
        self.moves.clear()
        self.visit(node.body)
        del self.inner[node.sym]
        self.moves.clear()
        self.depth -= 1


class _Replace(ir.IRMutator):
    def __init__(self, old, new):
        self.old = old
        self.new = new

    def _either(self, node):
        if node == self.old:
            return self.new
        return self.generic_mutate(node)

    mutate_Min = mutate_Max = _either


def _record(ranges, sym, whole):
    """Remember a partitioned loop's whole range; a symbol seen with two
    different ranges (loops of two specializations) is remembered as none."""
    if sym in ranges:
        old = ranges[sym]
        if old is not None and not (old[0] == whole[0] and old[1] == whole[1]):
            ranges[sym] = None
        return
    ranges[sym] = whole


class _Fresh(ir.IRMutator):
    """A copy of a loop body with its own let and loop symbols, so that a
    clamp in the peeled copies is a different node from the same clamp in the
    steady state, and an outer loop can partition on each separately."""

    def __init__(self, ranges):
        self.map: dict = {}
        self.ranges = ranges

    def _rename(self, sym, typ):
        new = ir.Symbol(sym.name)
        self.map[sym] = ir.Variable(typ, new)
        return new

    def mutate_Variable(self, node):
        return self.map.get(node.sym, node)

    def mutate_LetStmt(self, node):
        value = self.mutate(node.value)
        sym = self._rename(node.sym, value.type)
        return ir.LetStmt(sym, value, self.mutate(node.body))

    def mutate_Let(self, node):
        value = self.mutate(node.value)
        sym = self._rename(node.sym, value.type)
        return ir.Let(sym, value, self.mutate(node.body))

    def mutate_For(self, node):
        mn, extent = self.mutate(node.min), self.mutate(node.extent)
        whole = self.ranges.get(node.sym)
        sym = self._rename(node.sym, ir.Int(32))
        if whole is not None:
            _record(self.ranges, sym, (self.mutate(whole[0]), self.mutate(whole[1])))
        return ir.For(sym, mn, extent, node.kind, self.mutate(node.body))


class _Partition(ir.IRMutator):
    """`tail`: how many partitioned loops' prologues or epilogues this code
    is in. Loops in a tail of a tail (`tail` > _MAX_TAIL_DEPTH) are
    partitioned only where the schedule says Partition.Always: without the
    limit the copies multiply by three per nesting level (nl_means: 3 x 3 x 3
    copies of a tile's inner loops). Halide goes further and partitions
    nothing in a tail; here the inner loops of a tail tile keep their steady
    state (enhance's and nl_means's first and last tiles stay dense loads:
    20-30% of their run time otherwise)."""

    def __init__(self, never=frozenset(), always=frozenset(), tail=0, ranges=None):
        self.never, self.always, self.tail = never, always, tail
        self.ranges: dict = {} if ranges is None else ranges

    def _tail_body(self, body):
        """`body` for a prologue or epilogue: partitioned within the limit."""
        return _Partition(self.never, self.always, self.tail + 1, self.ranges).mutate(body)

    def mutate_For(self, node):
        body = self.mutate(node.body)
        if self.tail > _MAX_TAIL_DEPTH and node.sym not in self.always:
            return node if body is node.body else ir.For(node.sym, node.min, node.extent, node.kind, body)
        if node.kind is not ir.ForKind.SERIAL or node.sym in self.never:
            return node if body is node.body else ir.For(node.sym, node.min, node.extent, node.kind, body)
        bound = _Bound()
        bound.visit(body)
        variant = bound.syms | {node.sym}
        steady, los, his = body, [], []
        for _ in range(_MAX_CLAMPS):
            finder = _FindClamp(node.sym, variant, bound.rebound, self.ranges, bound.lets)
            finder.visit(steady)
            if finder.found is None:
                break
            clamp, value, (side, limit) = finder.found
            (los if side == "lo" else his).append(limit)
            steady = _Replace(clamp, value).mutate(steady)
        if not los and not his:
            if node.sym in self.always:
                raise ScheduleError(f"Loop Partition Policy is set to Always for {node.sym.name}, but no "
                                    f"loop partitioning was performed.")
            return node if body is node.body else ir.For(node.sym, node.min, node.extent, node.kind, body)
        end = ir.Add(node.min, node.extent)
        lo_sym = ir.Symbol(f"{node.sym.name}.steady_min")
        hi_sym = ir.Symbol(f"{node.sym.name}.steady_max")
        lo_v, hi_v = ir.Variable(ir.Int(32), lo_sym), ir.Variable(ir.Int(32), hi_sym)
        lo = node.min
        for limit in los:
            lo = ir.Max(lo, limit)
        lo = ir.Min(lo, end)
        hi = end
        for limit in his:
            hi = ir.Min(hi, ir.Add(limit, ir.i32(1)))
        hi = ir.Max(hi, lo_v)
        tail = self._tail_body(node.body)
        loops = [ir.For(node.sym, node.min, ir.Sub(lo_v, node.min), node.kind, _Fresh(self.ranges).mutate(tail))
                 if los else None,
                 ir.For(node.sym, lo_v, ir.Sub(hi_v, lo_v), node.kind, simplify(steady)),
                 ir.For(node.sym, hi_v, ir.Sub(end, hi_v), node.kind, _Fresh(self.ranges).mutate(tail))
                 if his else None]
        _record(self.ranges, node.sym, (node.min, node.extent))
        out = ir.block(*loops)
        return ir.LetStmt(lo_sym, simplify(lo), ir.LetStmt(hi_sym, simplify(hi), out))


def partition_loops(s: ir.Stmt, never=frozenset(), always=frozenset()) -> ir.Stmt:
    """`never`/`always`: loop symbols whose schedule says Partition.Never/Always."""
    return _Partition(never, always).mutate(s)
