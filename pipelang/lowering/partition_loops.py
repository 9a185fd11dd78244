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

Loops are partitioned outermost first, as in Halide: the steady state of a
tile loop has its inner loops' boundary clamps removed before those inner
loops are looked at, so they stay one loop each there instead of being
split into three copies that the tile's steady state then makes identical.

    for (xo, 0, n) { f[min(xo*8, e - 8)] = .. }
  =>
    for (xo, lo, hi - lo) { f[xo*8] = .. }   (lo = min(0, n): no clamp below)
    for (xo, hi, n - hi) { ..clamped.. }     with hi = max(min(n, (e - 8)/8 + 1), lo)

A loop clamped at both ends (a boundary condition's min and max) would
need the clamped body twice, in a prologue and an epilogue; it stays one
loop instead, whose body branches to the steady state or to one clamped
copy (Halide does so for parallel loops):

    for (x, 0, n) { if (lo <= x && x < hi) { ..steady.. } else { ..clamped.. } }

The copies of loop bodies are what LLVM's time grows with: this form made
the LLVM IR of lens_blur 36% smaller and of nl_means 58%. For the same
reason a loop around other loops is not partitioned on scalar clamps alone
(a ShiftInwards base: one scalar min per iteration) unless an inner loop's
bounds depend on them.
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
        self.gpu = False            # a GPU loop inside (its kernel's shape stays)

    def visit_For(self, node):
        self.syms.add(node.sym)
        self.gpu = self.gpu or node.kind.is_gpu()
        self.generic_visit(node)

    def visit_LetStmt(self, node):
        (self.rebound if node.sym in self.lets else self.lets).add(node.sym)
        self.generic_visit(node)

    visit_Let = visit_LetStmt


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

    def __init__(self, var, variant, rebound, inner_lets=frozenset(), keep=frozenset()):
        self.var = var
        self.variant = variant
        self.rebound = rebound
        # Names of the lets bound inside the loop: a limit that still names
        # one after expansion (a rebound let) has no value where the limit is
        # computed, outside the loop.
        self.inner_lets = frozenset(s.name for s in inner_lets)
        # Inner loops scheduled Partition.Always: clamps they move are left
        # for them to partition on (else the steady state of this loop would
        # leave them nothing to do).
        self.keep = keep
        self.lets: dict = {}        # let symbol -> its value as written
        self.expanded: dict = {}    # let symbol -> its value with the lets it uses expanded
        self.moves: dict = {}       # let symbol -> whether its value may move with the loop
        self.found = None           # (node, unclamped value, ("lo"|"hi", bound expr))
        self.depth = 0              # inner loops entered
        self.inner: dict = {}       # inner loop symbol -> (min, extent, depth), lets expanded

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
            if ir.contains(a, ir.Load) or ir.contains(b, ir.Load):
                # A clamp of a value read from memory (a lookup table's
                # index), or against one, is never partitioned (the checks
                # below, on the expanded values, find the Load again): known
                # without expanding and simplifying the lets it reads, which
                # was two fifths of this pass on local_laplacian.
                continue
            ea = self._expand(a)
            if self.keep and ir.free_symbols(ea) & self.keep:
                continue
            bs = _scalar(self._expand(b))
            lanes = _lane_range(ea)
            if bs is None or lanes is None or ir.contains(bs, ir.Load) or (ir.free_symbols(bs) & self.variant):
                continue
            edge = self._worst_over_inner_loops(lanes[1] if is_min else lanes[0], is_min)
            if edge is None:
                continue
            lin = _linear(edge, self.var)
            if lin is None or ir.contains(edge, ir.Load) or (ir.free_symbols(edge) - {self.var}) & self.variant:
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
        self.inner[node.sym] = (self._expand(node.min), self._expand(node.extent), self.depth)
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


class _Fresh(ir.IRMutator):
    """A copy of a loop body with its own let and loop symbols (symbols are
    unique in lowered code: the prologue, the steady state and the epilogue
    each bind their own)."""

    def __init__(self):
        self.map: dict = {}

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
        sym = self._rename(node.sym, ir.Int(32))
        return ir.For(sym, mn, extent, node.kind, self.mutate(node.body))


def _moves_inner_loops(new, old) -> bool:
    """Whether `new`, `old` with clamps replaced, differs in the bounds of a
    loop inside it: directly, or through the lets those bounds read."""
    return _moved(new, old, set())


def _moved(a, b, changed: set) -> bool:
    """`_moves_inner_loops` of `a` (new) and `b` (old); `changed`: the lets
    found changed so far, added to on the way. (A function of its own, not a
    recursive closure: compiled, that closure would hold itself, a cycle
    only the cycle collector frees.)"""
    if a is b and not changed:
        # Unchanged, and reading no changed let: no loop in it moves.
        return False
    if isinstance(a, ir.LetStmt):
        if a.value is not b.value or ir.free_symbols(a.value) & changed:
            changed.add(a.sym)
        return _moved(a.body, b.body, changed)
    if isinstance(a, ir.For):
        if (a.min is not b.min or a.extent is not b.extent
                or (ir.free_symbols(a.min) | ir.free_symbols(a.extent)) & changed):
            return True
        return _moved(a.body, b.body, changed)
    if isinstance(a, ir.Block):
        return any(_moved(x, y, changed) for x, y in zip(a.stmts, b.stmts))
    if isinstance(a, ir.IfThenElse):
        return _moved(a.then_case, b.then_case, changed) or (
            a.else_case is not None and _moved(a.else_case, b.else_case, changed))
    body = getattr(a, "body", None)      # Allocate, Atomic, Memoized
    return isinstance(body, ir.Stmt) and _moved(body, b.body, changed)


class _Partition(ir.IRMutator):
    """`tail`: how many partitioned loops' clamped copies (prologues,
    epilogues) this code is in. Loops in a tail of a tail (`tail` >
    _MAX_TAIL_DEPTH) are partitioned only where the schedule says
    Partition.Always: without the limit the copies multiply per nesting
    level. Halide goes further and partitions nothing in a tail; here the
    inner loops of a tail tile keep their steady state (enhance's first and
    last tiles stay dense loads instead of lane-by-lane gathers: it runs 20%
    slower without, as fast as Halide)."""

    def __init__(self, never=frozenset(), always=frozenset(), tail=0):
        self.never, self.always, self.tail = never, always, tail

    def _tail_body(self, body):
        """`body` for a prologue or epilogue: partitioned within the limit."""
        return _Partition(self.never, self.always, self.tail + 1).mutate(body)

    def _inner(self, node):
        """`node` with only the loops in its body partitioned."""
        body = self.mutate(node.body)
        return node if body is node.body else ir.For(node.sym, node.min, node.extent, node.kind, body)

    def mutate_For(self, node):
        if ((self.tail > _MAX_TAIL_DEPTH and node.sym not in self.always)
                or node.kind is not ir.ForKind.SERIAL or node.sym in self.never):
            return self._inner(node)
        # This loop first, on its body as it is; then the loops inside each piece.
        body = node.body
        bound = _Bound()
        bound.visit(body)
        variant = bound.syms | {node.sym}
        steady, los, his = body, [], []
        vector = False
        for _ in range(_MAX_CLAMPS):
            finder = _FindClamp(node.sym, variant, bound.rebound, bound.lets, self.always & bound.syms)
            finder.visit(steady)
            if finder.found is None:
                break
            clamp, value, (side, limit) = finder.found
            vector = vector or not value.type.is_scalar()
            (los if side == "lo" else his).append(limit)
            steady = _Replace(clamp, value).mutate(steady)
        if (not vector and bound.syms and node.sym not in self.always
                and not _moves_inner_loops(steady, body)):
            # Only scalar clamps (a ShiftInwards base) in a loop around other
            # loops, and no inner loop's bounds depend on them: a clamped
            # copy of the whole body would buy one scalar min per iteration.
            # (Halide marks such a base likely only in an innermost loop.)
            los, his = [], []
        if not los and not his:
            if node.sym in self.always:
                raise ScheduleError(f"Loop Partition Policy is set to Always for {node.sym.name}, but no "
                                    f"loop partitioning was performed.")
            return self._inner(node)
        end = ir.Add(node.min, node.extent)
        lo = node.min
        for limit in los:
            lo = ir.Max(lo, limit)
        lo = simplify(ir.Min(lo, end))
        lets = []
        if ir.const_value(lo) is None:
            lo_sym = ir.Symbol(f"{node.sym.name}.steady_min")
            lets.append((lo_sym, lo))
            lo = ir.Variable(ir.Int(32), lo_sym)
        hi = end
        for limit in his:
            hi = ir.Min(hi, ir.Add(limit, ir.i32(1)))
        hi = simplify(ir.Max(hi, lo))
        if ir.const_value(hi) is None:
            hi_sym = ir.Symbol(f"{node.sym.name}.steady_max")
            lets.append((hi_sym, hi))
            hi = ir.Variable(ir.Int(32), hi_sym)
        # Pieces that constant bounds (an inner loop of constant extent) show
        # to be empty are left out, and their bodies never made.
        pieces = [(node.min, lo, bool(los)), (lo, hi, True), (hi, end, bool(his))]
        extents = [simplify(ir.Sub(b, a)) if keep else None for a, b, keep in pieces]
        nonempty = [e is not None and not (ir.const_value(e) is not None and ir.const_value(e) <= 0)
                    for e in extents]
        tail = self._tail_body(node.body) if nonempty[0] or nonempty[2] else None
        steady = self.mutate(simplify(steady))
        if nonempty[0] and nonempty[2] and not bound.gpu:
            # Clamped at both ends: one loop whose body branches to the steady
            # state or to one copy of the clamped body, where three loops would
            # hold that copy twice. The branch predicts well (it changes twice
            # per loop); the copies are what LLVM's time grows with.
            x = ir.Variable(ir.Int(32), node.sym)
            inside = ir.And(ir.LE(lo, x), ir.LT(x, hi))
            out = ir.For(node.sym, node.min, node.extent, node.kind,
                         ir.IfThenElse(inside, steady, _Fresh().mutate(tail)))
        else:
            out = ir.block(*(ir.For(node.sym, pieces[k][0], extents[k], node.kind,
                                    steady if k == 1 else _Fresh().mutate(tail))
                             for k in range(3) if nonempty[k]))
        for sym, value in reversed(lets):
            out = ir.LetStmt(sym, value, out)
        return out


def partition_loops(s: ir.Stmt, never=frozenset(), always=frozenset()) -> ir.Stmt:
    """`never`/`always`: loop symbols whose schedule says Partition.Never/Always."""
    return _Partition(never, always).mutate(s)
