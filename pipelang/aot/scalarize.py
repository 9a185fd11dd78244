"""Scalarize vector code for the C output: every vector statement becomes one
statement per lane, with the semantics of the vector one.

Runs on the final lowered statement (after vectorization, unrolling and loop
partitioning), for `compile_to_c`, whose printer is scalar. Lanes are
unrolled with constant lane numbers, so ramps, broadcasts and shuffles
resolve statically. A vector store evaluates every lane's value and index
before it writes any lane (a vector store reads all of its operands first),
and a vector let binds one scalar per lane. Loops still marked vectorized
(those vectorization kept as loops) run serially, as in the LLVM backend.

    f[ramp(x, 1, 2)] = g[ramp(x, 2, 2)] + x2(1)
  =>
    let v0 = g[x] + 1; let v1 = g[x + 2] + 1; let i0 = x; let i1 = x + 1
    f[i0] = v0; f[i1] = v1
"""
from __future__ import annotations

from pipelang import ir
from pipelang.ir import nodes as N


class _Scalarize:
    def __init__(self):
        self.lanes_of: dict = {}       # vector let Symbol -> per-lane scalar Variables

    # ------------------------------------------------------------ expressions

    def scalar(self, e):
        """A scalar Expr, whose parts may still be vectors (a lane of a shuffle)."""
        t = type(e)
        if t in (N.IntImm, N.UIntImm, N.FloatImm, N.StringImm):
            return e
        if t is N.Variable:
            assert e.sym not in self.lanes_of, e.sym
            return e
        if t is N.Shuffle:
            return self.lane(e, 0)
        if t is N.Let:
            if e.value.type.is_vector():
                return self._vector_let_expr(e, None)
            return N.Let(e.sym, self.scalar(e.value), self.scalar(e.body))
        if t is N.Load:
            return N.Load(e.type, e.buf, self.scalar(e.index))
        return self._map(e, self.scalar)

    def lane(self, e, i: int):
        """Lane `i` of the Expr `e` (a vector, or a scalar standing for every lane)."""
        if e.type.is_scalar():
            return self.scalar(e)
        t = type(e)
        if t is N.Ramp:
            base, stride = self.scalar(e.base), self.scalar(e.stride)
            if not i:
                return base
            c = ir.const_value(stride)
            step = N.make_const(stride.type, c * i) if c is not None else \
                N.Mul(stride, N.make_const(stride.type, i))
            return N.Add(base, step)
        if t is N.Broadcast:
            return self.scalar(e.value)
        if t is N.Variable:
            return self.lanes_of[e.sym][i]
        if t is N.Shuffle:
            k = e.indices[i]
            for v in e.vectors:
                n = v.type.lanes()
                if k < n:
                    return self.lane(v, k)
                k -= n
            raise AssertionError("shuffle index out of range")
        if t is N.Load:
            return N.Load(e.type.element_of(), e.buf, self.lane(e.index, i))
        if t is N.Let:
            if e.value.type.is_vector():
                return self._vector_let_expr(e, i)
            return N.Let(e.sym, self.scalar(e.value), self.lane(e.body, i))
        return self._map(e, lambda c: self.lane(c, i), e.type.element_of())

    def _vector_let_expr(self, e, i):
        """A let of a vector inside an expression: lane `i` of its body (None: a scalar body)."""
        value_lanes = e.value.type.lanes()
        syms = [ir.Symbol(f"{e.sym.name}.lane{k}") for k in range(value_lanes)]
        saved = self.lanes_of.get(e.sym)
        self.lanes_of[e.sym] = [N.Variable(e.value.type.element_of(), s) for s in syms]
        try:
            body = self.scalar(e.body) if i is None else self.lane(e.body, i)
        finally:
            if saved is None:
                del self.lanes_of[e.sym]
            else:
                self.lanes_of[e.sym] = saved
        used = ir.free_symbols(body)
        for k in reversed(range(value_lanes)):
            if syms[k] in used:
                body = N.Let(syms[k], self.lane(e.value, k), body)
        return body

    def _map(self, e, f, scalar_type=None):
        """`e` with `f` applied to each child Expr (and its type made scalar)."""
        t = type(e)
        if t is N.Cast:
            return N.Cast(scalar_type or e.type, f(e.value))
        if issubclass(t, (N.BinOp, N.CmpOp)):
            return t(f(e.a), f(e.b))
        if t is N.Not:
            return N.Not(f(e.a))
        if t is N.Select:
            return N.Select(f(e.condition), f(e.true_value), f(e.false_value))
        if t is N.Intrinsic:
            return N.Intrinsic(scalar_type or e.type, e.op, tuple(f(a) for a in e.args))
        raise AssertionError(f"scalarize: unexpected {t.__name__}")

    # ------------------------------------------------------------ statements

    def stmt(self, s):
        t = type(s)
        if t is N.Store:
            if s.value.type.is_scalar():
                return N.Store(s.buf, self.scalar(s.value), self.scalar(s.index))
            n = s.value.type.lanes()
            vals = [ir.Symbol(f"{s.buf.name}.value{k}") for k in range(n)]
            idxs = [ir.Symbol(f"{s.buf.name}.index{k}") for k in range(n)]
            elem = s.value.type.element_of()
            body = N.block(*[N.Store(s.buf, N.Variable(elem, vals[k]),
                                     N.Variable(ir.Int(32), idxs[k])) for k in range(n)])
            for k in reversed(range(n)):
                body = N.LetStmt(idxs[k], self.lane(s.index, k), body)
            for k in reversed(range(n)):
                body = N.LetStmt(vals[k], self.lane(s.value, k), body)
            return body
        if t is N.LetStmt:
            if s.value.type.is_scalar():
                return N.LetStmt(s.sym, self.scalar(s.value), self.stmt(s.body))
            n = s.value.type.lanes()
            syms = [ir.Symbol(f"{s.sym.name}.lane{k}") for k in range(n)]
            self.lanes_of[s.sym] = [N.Variable(s.value.type.element_of(), v) for v in syms]
            body = self.stmt(s.body)
            del self.lanes_of[s.sym]
            for k in reversed(range(n)):
                body = N.LetStmt(syms[k], self.lane(s.value, k), body)
            return body
        if t is N.For:
            kind = N.ForKind.SERIAL if s.kind is N.ForKind.VECTORIZED else s.kind
            return N.For(s.sym, self.scalar(s.min), self.scalar(s.extent), kind, self.stmt(s.body))
        if t is N.Block:
            return N.block(*[self.stmt(x) for x in s.stmts])
        if t is N.IfThenElse:
            return N.IfThenElse(self.scalar(s.condition), self.stmt(s.then_case),
                                None if s.else_case is None else self.stmt(s.else_case))
        if t is N.AssertStmt:
            return N.AssertStmt(self.scalar(s.condition), s.message,
                                tuple(self.scalar(a) for a in s.args))
        if t is N.Evaluate:
            if s.value.type.is_scalar():
                return N.Evaluate(self.scalar(s.value))
            return N.block(*[N.Evaluate(self.lane(s.value, k))
                             for k in range(s.value.type.lanes())])
        if t is N.Allocate:
            return N.Allocate(s.buf, s.type, self.scalar(s.size), s.memory, self.stmt(s.body))
        if t is N.Atomic:
            return N.Atomic(s.fn, self.stmt(s.body))
        if t is N.PrefetchAddress:
            return N.PrefetchAddress(s.buf, s.type, self.scalar(s.index))
        raise AssertionError(f"scalarize: unexpected {t.__name__}")


def scalarize_vectors(s: ir.Stmt) -> ir.Stmt:
    """`s` with no vector Exprs and no vectorized loops (see the module docstring)."""
    return _Scalarize().stmt(s)
