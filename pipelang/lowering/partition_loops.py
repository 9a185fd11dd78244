"""Loop partitioning: peel off the iterations where a clamp is active.

Runs last, after vectorization and unrolling. A ShiftInwards split makes
`min(xo*8, extent - 8)` in every iteration of the loop over `xo`, which
hides the simple affine index from LLVM (no pointer increments, a cmov per
vector). Where a serial loop's body holds `min(a, b)` with `a` increasing
linearly in the loop variable and `b` invariant, the loop is split into a
steady state, where `a <= b` and the min is just `a`, and an epilogue that
keeps it (as Halide's PartitionLoops does for its boundary conditions).

    for (xo, 0, n) { f[min(xo*8, e - 8)] = .. }
  =>
    let steady = clamp((e - 8)/8 + 1, 0, n)
    for (xo, 0, steady) { f[xo*8] = .. }
    for (xo, steady, n - steady) { f[min(xo*8, e - 8)] = .. }
"""
from __future__ import annotations

from pipelang import ir
from pipelang.lowering.simplify import simplify


class _Bound(ir.IRVisitor):
    """Symbols bound inside a statement (they make an expression loop-variant)."""

    def __init__(self):
        self.syms = set()

    def visit_LetStmt(self, node):
        self.syms.add(node.sym)
        self.generic_visit(node)

    visit_Let = visit_LetStmt

    def visit_For(self, node):
        self.syms.add(node.sym)
        self.generic_visit(node)


class _FindClamp(ir.IRVisitor):
    """The first min(a, b) with `a` = c*var + k (c > 0) and `b` invariant."""

    def __init__(self, var, variant):
        self.var = var
        self.variant = variant
        self.found = None

    def visit_Min(self, node):
        if self.found is None:
            for a, b in ((node.a, node.b), (node.b, node.a)):
                if a.type != ir.Int(32) or a.type.is_vector():
                    continue
                step = _linear_step(a, self.var)
                others = ir.free_symbols(a) - {self.var}
                if (step and not (others & self.variant) and not (ir.free_symbols(b) & self.variant)
                        and not _uses_loads(a) and not _uses_loads(b)):
                    self.found = (node, a, b, step)
                    return
        self.generic_visit(node)


def _uses_loads(e) -> bool:
    found = []

    class _L(ir.IRVisitor):
        def visit_Load(self, node):
            found.append(node)
    _L().visit(e)
    return bool(found)


def _linear_step(a, var):
    """c if `a` is c*var + k with a constant c > 0 and k free of var, else None."""
    v = ir.Variable(ir.Int(32), var)
    c = ir.const_value(simplify(ir.Sub(ir.substitute({var: ir.Add(v, ir.i32(1))}, a), a)))
    if not isinstance(c, int) or c <= 0:
        return None
    rest = simplify(ir.Sub(a, ir.Mul(v, ir.i32(c))))
    return None if ir.uses_symbol(rest, var) else c


class _Replace(ir.IRMutator):
    def __init__(self, old, new):
        self.old = old
        self.new = new

    def mutate_Min(self, node):
        if node is self.old or node == self.old:
            return self.new
        return self.generic_mutate(node)


class _Partition(ir.IRMutator):
    def mutate_For(self, node):
        body = self.mutate(node.body)
        if node.kind is not ir.ForKind.SERIAL:
            return node if body is node.body else ir.For(node.sym, node.min, node.extent, node.kind, body)
        bound = _Bound()
        bound.visit(body)
        finder = _FindClamp(node.sym, bound.syms | {node.sym})
        finder.visit(body)
        if finder.found is None:
            return node if body is node.body else ir.For(node.sym, node.min, node.extent, node.kind, body)
        clamp, a, b, c = finder.found
        v = ir.Variable(ir.Int(32), node.sym)
        # a(var) = c*var + k <= b  <=>  var <= (b - k)/c  (floor division).
        k = simplify(ir.substitute({node.sym: ir.i32(0)}, a))
        last = ir.Div(ir.Sub(b, k), ir.i32(c))
        steady_sym = ir.Symbol(f"{node.sym.name}.steady_extent")
        steady = ir.Variable(ir.Int(32), steady_sym)
        count = ir.Max(ir.Min(ir.Add(ir.Sub(last, node.min), ir.i32(1)), node.extent), ir.i32(0))
        fast = ir.For(node.sym, node.min, steady, node.kind, simplify(_Replace(clamp, a).mutate(body)))
        rest = ir.For(node.sym, ir.Add(node.min, steady), ir.Sub(node.extent, steady), node.kind, body)
        return ir.LetStmt(steady_sym, simplify(count), ir.Block((fast, rest)))


def partition_loops(s: ir.Stmt) -> ir.Stmt:
    return _Partition().mutate(s)
