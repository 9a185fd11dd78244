"""Vectorization: a loop marked vectorized becomes one iteration over vectors.

Runs after storage flattening and simplification (extents must be
constants by then). The loop variable becomes `Ramp(min, 1, lanes)`; every
expression that depends on it becomes a vector expression, scalars mixed
in are broadcast. Loads and stores at vector indices stay single nodes
(the backend emits dense vector memory ops for unit-stride ramps,
gathers/scatters otherwise).

An allocation inside the loop (a producer computed there) gets one copy
per lane, interleaved: element i of lane l is at i * lanes + l.

A guard inside the loop (a GuardWithIf or ShiftInwards tail, an RDom
predicate) whose condition is monotonic in the loop variable is handled
like Halide's loop partitioning: when it holds at the first and last lane
the vector body runs unguarded; otherwise the iteration runs as a scalar
loop. A guard that is not monotonic is scalarized.

    vectorized (x, 0, 8) { f[x + y*8] = g[x] * 2 }
  =>
    f[ramp(y*8, 1, 8)] = g[ramp(0, 1, 8)] * x8(2)
"""
from __future__ import annotations

from pipelang import ir
from pipelang.errors import ScheduleError
from pipelang.lowering.analysis.constant_extent import LetTrackingMutator
from pipelang.lowering.analysis.intervals import Monotonic, is_monotonic
from pipelang.lowering.simplify import simplify


def _is_int(t) -> bool:
    # As the simplifier's: the integer types whose ramps it folds (not bool).
    return (t.is_int() or t.is_uint()) and not t.is_bool()


def _broadcast(e: ir.Expr, lanes: int) -> ir.Expr:
    return e if e.type.lanes() == lanes else ir.Broadcast(e, lanes)


class _Widen(ir.IRMutator):
    """Replace one loop variable by a ramp and widen everything that depends on it."""

    def __init__(self, sym, ramp: ir.Ramp):
        self.lanes = ramp.lanes
        self.sym, self.ramp = sym, ramp
        self.replacements = {sym: ramp}
        self.per_lane: set = set()   # buffers allocated inside the loop: one copy per lane
        self.scalar_lets: dict = {}  # lets in the loop whose values became vectors: old values

    def _lane_index(self, index: ir.Expr) -> ir.Expr:
        """Element `index` of the calling lane's copy of a per-lane buffer."""
        i = _broadcast(index, self.lanes)
        return ir.Add(ir.Mul(i, ir.Broadcast(ir.i32(self.lanes), self.lanes)),
                      ir.Ramp(ir.i32(0), ir.i32(1), self.lanes))

    def mutate_Allocate(self, node):
        # As Halide does: an allocation inside a vectorized loop (a producer
        # computed there) grows an innermost dimension of one copy per lane,
        # so each lane computes and reads its own values.
        self.per_lane.add(node.buf)
        body = self.mutate(node.body)
        self.per_lane.discard(node.buf)
        size = node.size
        if self.mutate(size).type.is_vector():
            # Each lane's region may differ (its producer's bounds depend on the
            # lane): every copy gets the largest, as Halide's bounds of lanes.
            size = self._max_over_lanes(size)
        return ir.Allocate(node.buf, node.type, ir.Mul(size, ir.i32(self.lanes)), node.memory, body)

    def _max_over_lanes(self, e: ir.Expr) -> ir.Expr:
        """The largest value scalar `e` takes over the loop's lanes."""
        for _ in range(len(self.scalar_lets) + 1):
            free = ir.free_symbols(e)
            lets = {sym: v for sym, v in self.scalar_lets.items() if sym in free}
            if not lets:
                break
            e = ir.substitute(lets, e)
        per_lane = [ir.substitute({self.sym: ir.Add(self.ramp.base, ir.i32(lane))}, e)
                    for lane in range(self.lanes)]
        out = per_lane[0]
        for v in per_lane[1:]:
            out = ir.Max(out, v)
        return simplify(out)

    def mutate_Variable(self, node):
        return self.replacements.get(node.sym, node)

    def _widen_all(self, node, names):
        new = {n: self.mutate(getattr(node, n)) for n in names}
        if all(new[n] is getattr(node, n) for n in names):
            return node, False
        lanes = max(v.type.lanes() for v in new.values())
        return {n: _broadcast(v, lanes) for n, v in new.items()}, True

    def generic_binary(self, node):
        out, changed = self._widen_all(node, ("a", "b"))
        return type(node)(out["a"], out["b"]) if changed else node

    def _affine(self, node):
        """An integer `+`, `-` or `*` of the loop's ramp and a scalar is one
        ramp: `ramp(b + s, 1, n)`, not `ramp(b, 1, n) + xn(s)`. The simplifier
        makes the same ramp of the broadcast form, one level at a time (a new
        scalar node per level, each simplified on its own); written so at
        once, an index such as `((ramp(d.min, 1, 16) + x16(x*16)) + x16(y*96))
        - x16(d.min)` leaves the simplifier a scalar sum: in every unrolled
        copy, once per copy."""
        a, b = self.mutate(node.a), self.mutate(node.b)
        if a is node.a and b is node.b:
            return node
        cls = type(node)
        ta, tb = type(a), type(b)
        if _is_int(node.type):
            if ta is ir.Ramp and b.type.is_scalar():
                if cls is ir.Mul:
                    return ir.Ramp(ir.Mul(a.base, b), ir.Mul(a.stride, b), a.lanes)
                return ir.Ramp(cls(a.base, b), a.stride, a.lanes)
            if tb is ir.Ramp and a.type.is_scalar():
                if cls is ir.Mul:
                    return ir.Ramp(ir.Mul(b.base, a), ir.Mul(b.stride, a), b.lanes)
                stride = b.stride if cls is ir.Add else ir.Sub(ir.make_const(b.stride.type, 0), b.stride)
                return ir.Ramp(cls(a, b.base), stride, b.lanes)
        lanes = max(a.type.lanes(), b.type.lanes())
        return cls(_broadcast(a, lanes), _broadcast(b, lanes))

    mutate_Add = mutate_Sub = mutate_Mul = _affine
    mutate_Div = mutate_Mod = generic_binary
    mutate_Min = mutate_Max = mutate_EQ = mutate_NE = mutate_LT = generic_binary
    mutate_LE = mutate_GT = mutate_GE = mutate_And = mutate_Or = generic_binary

    def mutate_Select(self, node):
        out, changed = self._widen_all(node, ("condition", "true_value", "false_value"))
        return ir.Select(out["condition"], out["true_value"], out["false_value"]) if changed else node

    def mutate_Cast(self, node):
        v = self.mutate(node.value)
        return node if v is node.value else ir.Cast(node.type.with_lanes(v.type.lanes()), v)

    def mutate_Not(self, node):
        a = self.mutate(node.a)
        return node if a is node.a else ir.Not(a)

    def mutate_Intrinsic(self, node):
        args = [self.mutate(a) for a in node.args]
        if all(a is b for a, b in zip(args, node.args)):
            return node
        lanes = max(a.type.lanes() for a in args)
        if node.op is ir.Op.PRINT:
            # Every printed value is a vector (printed <a, b, ...>, as Halide
            # traces a vector store); the condition stays scalar.
            pieces = tuple(a if isinstance(a, ir.StringImm) else _broadcast(a, lanes)
                           for a in args[2:])
            value = _broadcast(args[0], lanes)
            return ir.Intrinsic(node.type.with_lanes(lanes), node.op, (value, args[1], *pieces))
        args = tuple(_broadcast(a, lanes) for a in args)
        return ir.Intrinsic(node.type.with_lanes(lanes), node.op, args)

    def mutate_Load(self, node):
        index = self.mutate(node.index)
        if node.buf in self.per_lane:
            index = self._lane_index(index)
        if index is node.index:
            return node
        return ir.Load(node.type.with_lanes(index.type.lanes()), node.buf, index)

    def _let(self, node):
        """A Let or LetStmt; a vector value makes its variable a vector inside."""
        value = self.mutate(node.value)
        if value.type.is_vector():
            self.replacements[node.sym] = ir.Variable(value.type, node.sym)
            self.scalar_lets[node.sym] = node.value
        body = self.mutate(node.body)
        self.replacements.pop(node.sym, None)
        self.scalar_lets.pop(node.sym, None)
        if value is node.value and body is node.body:
            return node
        return type(node)(node.sym, value, body)

    mutate_Let = mutate_LetStmt = _let

    def mutate_Store(self, node):
        value = self.mutate(node.value)
        index = self.mutate(node.index)
        if node.buf in self.per_lane:
            index = self._lane_index(index)
        if value is node.value and index is node.index:
            return node
        lanes = max(value.type.lanes(), index.type.lanes())
        return ir.Store(node.buf, _broadcast(value, lanes), _broadcast(index, lanes))

    def mutate_For(self, node):
        lo, ext = self.mutate(node.min), self.mutate(node.extent)
        if lo.type.is_vector() or ext.type.is_vector():
            # An inner loop whose bounds differ per lane (a vectorized loop
            # outside a producer's loops): run the lanes one by one.
            raise _NotVectorizable()
        body = self.mutate(node.body)
        if lo is node.min and ext is node.extent and body is node.body:
            return node
        return ir.For(node.sym, lo, ext, node.kind, body)

    def mutate_IfThenElse(self, node):
        cond = self.mutate(node.condition)
        if cond.type.is_vector():
            raise _NotVectorizable()
        return self.generic_mutate(node)

    def mutate_AssertStmt(self, node):
        if self.mutate(node.condition).type.is_vector():
            raise _NotVectorizable()    # a check per lane: the lanes run one by one
        return node

    def mutate_Atomic(self, node):
        # Lanes of an atomic update may hit the same point: they run one by one.
        raise _NotVectorizable()


class _NotVectorizable(Exception):
    """A guard that depends on the vector lane and could not be partitioned out."""


def _guard_path(body):
    """The first guard (an if without else) on the single path into `body`
    through lets and loops, the lets above it, and the loops around it."""
    lets, loops = [], []
    while True:
        if isinstance(body, ir.LetStmt):
            lets.append(body)
            body = body.body
        elif isinstance(body, ir.For):
            loops.append(body.sym)
            body = body.body
        else:
            break
    if isinstance(body, ir.IfThenElse) and body.else_case is None:
        return lets, loops, body
    return lets, loops, None


class _DropGuard(ir.IRMutator):
    def __init__(self, guard):
        self.guard = guard

    def mutate_IfThenElse(self, node):
        return self.guard.then_case if node is self.guard else self.generic_mutate(node)


def _condition_in_loop_var(lets, cond):
    for let in reversed(lets):
        cond = ir.substitute({let.sym: let.value}, cond)
    if isinstance(cond, ir.Intrinsic) and cond.op is ir.Op.LIKELY:
        cond = cond.args[0]
    return cond


def _monotonic_in(cond, sym) -> bool:
    if isinstance(cond, ir.And):
        return _monotonic_in(cond.a, sym) and _monotonic_in(cond.b, sym)
    if isinstance(cond, (ir.LT, ir.LE, ir.GT, ir.GE)):
        return is_monotonic(simplify(ir.Sub(cond.a, cond.b)), sym) is not Monotonic.UNKNOWN
    return is_monotonic(cond, sym) is Monotonic.CONSTANT


class _VectorizeLoops(LetTrackingMutator):
    def mutate_For(self, node):
        body = self.mutate(node.body)
        if node.kind is not ir.ForKind.VECTORIZED:
            if node.kind is ir.ForKind.SERIAL and self.lets.constant(node.extent, max_nodes=500) == 1:
                # One iteration: a let, so a vectorized loop around it can widen it
                # (an inline reduction computed per vector lane, say).
                return ir.LetStmt(node.sym, node.min, body)
            return node if body is node.body else ir.For(node.sym, node.min, node.extent, node.kind, body)
        lanes = self.lets.constant(node.extent)
        if lanes is None:
            raise ScheduleError(f"Can only vectorize loops over a constant extent. The loop over "
                                f"{node.sym.name} has extent {ir.to_string(node.extent)}; split it "
                                f"by a constant factor (f.vectorize(x, 8)) or bound it")
        if lanes == 1:
            return ir.LetStmt(node.sym, node.min, body)
        if _has_vectors(body):
            # Nested vectorized loops: the inner one already made vectors;
            # this one runs its iterations in turn.
            return ir.For(node.sym, node.min, node.extent, ir.ForKind.SERIAL, body)
        return _partition(node, body, lanes)


def _has_vectors(s) -> bool:
    # (`contains` reuses one visitor class: a class made per call cost its
    # creation, and its methods' shared scope was a cycle only the cycle
    # collector frees.)
    return ir.contains(s, ir.Ramp, ir.Broadcast)


def _partition(node, body, lanes):
    """Vector code for the loop `node` over `body`, with guards peeled off."""
    serial = ir.For(node.sym, node.min, node.extent, ir.ForKind.SERIAL, body)
    lets, inner_loops, guard = _guard_path(body)
    if guard is None:
        try:
            return _Widen(node.sym, ir.Ramp(node.min, ir.i32(1), lanes)).mutate(body)
        except _NotVectorizable:
            return serial               # a guard no vector can express
    cond = _condition_in_loop_var(lets, guard.condition)
    if any(ir.uses_symbol(cond, sym) for sym in inner_loops) or not _monotonic_in(cond, node.sym):
        return serial                   # a guard no vector can express
    unguarded = _DropGuard(guard).mutate(body)
    first = ir.substitute({node.sym: node.min}, cond)
    last = ir.substitute({node.sym: ir.Add(node.min, ir.i32(lanes - 1))}, cond)
    return ir.IfThenElse(simplify(ir.And(first, last)), _partition(node, unguarded, lanes), serial)


def vectorize_loops(s: ir.Stmt) -> ir.Stmt:
    return _VectorizeLoops().mutate(s)
