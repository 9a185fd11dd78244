"""Rewrite interleavings: a stored vector whose lanes alternate between
k formulas (its value uses `ramp % k` or `ramp / k`, k = 2..4) is computed
as k vectors of every k-th lane, interleaved once at the end.

Runs after vectorization and unrolling, before the simplifier that folds
what it exposes (Halide's Deinterleave.cpp, rewrite_interleavings). On the
lanes j, j+k, j+2k, ... of `ramp(b, 1, n)`, `ramp % k` is the single value
`(b + j) % k` and `ramp / k` is the dense `ramp((b + j) / k, 1, n / k)`,
so selects between the k formulas fold away (where the simplifier knows
b modulo k) and their per-lane gathers become dense loads:

    out[ramp(b, 1, 8)] = select(ramp(b, 1, 8) % x8(2) == x8(0), f[ramp(b, 1, 8) / x8(2)], g[...])
  =>
    out[ramp(b, 1, 8)] = interleave(select(x4(b % 2 == 0), f[ramp(b, 2, 4) / x4(2)], ...),
                                    select(x4((b + 1) % 2 == 0), f[ramp(b + 1, 2, 4) / x4(2)], ...))
"""
from __future__ import annotations

from pipelang import ir
from pipelang.lowering.simplify import simplify

_NOT_PER_LANE = (ir.Op.PRINT, ir.Op.GPU_BARRIER, ir.Op.UNDEF)


class _Deinterleave(ir.IRMutator):
    """Lanes start, start + stride, ... (`lanes` of them) of a vector expression."""

    def __init__(self, start: int, stride: int, lanes: int, ramps: dict):
        self.start, self.stride, self.lanes = start, stride, lanes
        self.ramps = ramps              # vector lets in scope bound to a Ramp (a vectorized loop's variable)
        self.renamed: dict = {}         # vector Let symbol -> its deinterleaved copy
        # id(node) -> (node, its lanes): a stored value is a DAG (camera_pipe's
        # demosaic reads each neighbour in several formulas), each shared
        # part deinterleaved once, and the parts stay shared for the
        # simplifier after. Not inside a vector Let, nor a part holding one:
        # such a Let's copy gets a new symbol each time it is met.
        self.done: dict = {}
        self.lets_renamed = 0

    def mutate(self, node):
        if isinstance(node, ir.Expr) and not node.type.is_vector():
            return node
        if self.renamed:
            return super().mutate(node)
        hit = self.done.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1]
        lets = self.lets_renamed
        out = super().mutate(node)
        if lets == self.lets_renamed:
            self.done[id(node)] = (node, out)
        return out

    def _shuffle(self, e):
        """The lanes picked out of `e` whole, where nothing better is known."""
        idx = tuple(self.start + self.stride * i for i in range(self.lanes))
        return ir.Shuffle((e,), idx)

    def _with_lanes(self, t):
        return t.with_lanes(self.lanes)

    def mutate_Ramp(self, node):
        if node.base.type.is_vector():
            return self._shuffle(node)
        first = ir.Add(node.base, ir.Mul(node.stride, ir.make_const(node.stride.type, self.start)))
        if self.lanes == 1:
            return first
        step = ir.Mul(node.stride, ir.make_const(node.stride.type, self.stride))
        return ir.Ramp(first, step, self.lanes)

    def mutate_Broadcast(self, node):
        if node.value.type.is_vector():
            return self._shuffle(node)
        return node.value if self.lanes == 1 else ir.Broadcast(node.value, self.lanes)

    def mutate_Variable(self, node):
        ramp = self.ramps.get(node.sym)
        if ramp is not None:
            return self.mutate_Ramp(ramp)
        new = self.renamed.get(node.sym)
        if new is not None:
            return ir.Variable(self._with_lanes(node.type), new)
        return self._shuffle(node)

    def mutate_Let(self, node):
        if not node.value.type.is_vector():
            return ir.Let(node.sym, node.value, self.mutate(node.body))
        new = ir.Symbol(node.sym.name + f".lanes_{self.start}_of_{self.stride}")
        self.lets_renamed += 1
        value = self.mutate(node.value)
        self.renamed[node.sym] = new
        body = self.mutate(node.body)
        del self.renamed[node.sym]
        return ir.Let(new, value, body)

    def mutate_Load(self, node):
        return ir.Load(self._with_lanes(node.type), node.buf, self.mutate(node.index))

    def mutate_Cast(self, node):
        return ir.Cast(self._with_lanes(node.type), self.mutate(node.value))

    def mutate_Intrinsic(self, node):
        if node.op in _NOT_PER_LANE:
            return self._shuffle(node)
        return ir.Intrinsic(self._with_lanes(node.type), node.op, tuple(self.mutate(a) for a in node.args))

    def mutate_Shuffle(self, node):
        idx = tuple(node.indices[self.start + self.stride * i] for i in range(self.lanes))
        return ir.Shuffle(node.vectors, idx)

    def generic_mutate(self, node):
        if isinstance(node, (ir.BinOp, ir.CmpOp, ir.Select, ir.Not)):
            return super().generic_mutate(node)
        return self._shuffle(node)


class _FindInterleaving(ir.IRVisitor):
    """The k of a `ramp % k` or `ramp / k` (k = 2..4) that would deinterleave; None if none or impure."""

    def __init__(self, ramps: dict):
        self.ramps = ramps
        self.k = None
        self.impure = False

    def _check(self, node):
        a, b = node.a, node.b
        if isinstance(b, ir.Broadcast) and not isinstance(a, ir.Ramp) and a.type.is_int():
            # The vectorized loop's ramp plus broadcasts, (x + 1) / 2 say.
            a = simplify(ir.substitute(self.ramps, a))
        if isinstance(a, ir.Ramp) and isinstance(b, ir.Broadcast):
            k = ir.const_value(b.value)
            if k in (2, 3, 4) and a.lanes % k == 0 and a.lanes > k and self.k is None:
                self.k = k
        self.generic_visit(node)

    visit_Mod = visit_Div = _check

    def visit_Load(self, node):
        pass        # a load's own index is deinterleaved with the load (`_Interleaver.mutate_Load`)

    def visit_Intrinsic(self, node):
        if node.op in _NOT_PER_LANE:
            self.impure = True
        self.generic_visit(node)


def _interleave(value, k: int, ramps: dict):
    lanes = value.type.lanes()
    n = lanes // k
    parts = tuple(_Deinterleave(j, k, n, ramps).mutate(value) for j in range(k))
    return ir.Shuffle(parts, tuple(j * n + i for i in range(n) for j in range(k)))


class _Interleaver(ir.IRMutator):
    """As Halide: where `ramp % k` or `ramp / k` is used outside any load's
    index (a select between interleaved formulas), the whole stored value is
    deinterleaved; a load whose own index uses it is deinterleaved alone, as
    k dense loads and a shuffle (an upsampling's `f[x / 2]`)."""

    def __init__(self):
        self.ramps: dict = {}

    def mutate_LetStmt(self, node):
        value = node.value
        if value.type.is_vector() and value.type.is_int() and not isinstance(value, ir.Ramp):
            value = simplify(value)     # a vectorized loop's variable: broadcasts plus a ramp
        if not isinstance(value, ir.Ramp):
            return self.generic_mutate(node)
        self.ramps[node.sym] = value
        try:
            return self.generic_mutate(node)
        finally:
            del self.ramps[node.sym]

    def mutate_Store(self, node):
        if not node.value.type.is_vector():
            return node
        find = _FindInterleaving(self.ramps)
        find.visit(node.value)
        if find.k is None or find.impure:
            # Only loads at `ramp / k` (an upsampling): each is deinterleaved alone.
            value = self.mutate(node.value)
            return node if value is node.value else ir.Store(node.buf, value, node.index)
        return ir.Store(node.buf, _interleave(node.value, find.k, self.ramps), node.index)

    def mutate_Load(self, node):
        if not node.type.is_vector():
            return node
        find = _FindInterleaving(self.ramps)
        find.visit(node.index)
        if find.k is None:
            return node
        return _interleave(node, find.k, self.ramps)

    def mutate_Evaluate(self, node):
        return node


def rewrite_interleavings(s: ir.Stmt) -> ir.Stmt:
    return _Interleaver().mutate(s)
