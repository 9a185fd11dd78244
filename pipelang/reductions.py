"""Inline reductions: `hl.sum`, `hl.product`, `hl.maximum`, `hl.minimum`,
`hl.argmax`, `hl.argmin`.

Each builds an anonymous Func over the free pure Vars of its argument,
with a pure definition (the identity) and one update over the RDom the
argument uses, and returns a call to it — as Halide does.
"""
from __future__ import annotations

from pipelang import ir
from pipelang.errors import CompileError
from pipelang.expr import Expr, to_ir
from pipelang.rdom import rvar_info
from pipelang.var import Var, var_symbol


class _Free(ir.IRVisitor):
    def __init__(self):
        self.pure: list = []
        self.rvars: list = []

    def visit_Variable(self, node):
        if rvar_info(node.sym) is not None:
            if node.sym not in self.rvars:
                self.rvars.append(node.sym)
        elif node.sym is var_symbol(node.sym.name) and node.sym.name not in self.pure:
            self.pure.append(node.sym.name)


def _reduce(kind: str, e, name: str | None):
    from pipelang.func import Func
    from pipelang import operators as op
    value = to_ir(e)
    free = _Free()
    free.visit(value)
    if not free.rvars:
        raise CompileError(f"hl.{kind}() needs an expression that uses an RDom")
    args = [Var(n) for n in free.pure]
    f = Func(name or f"{kind}")
    t = value.type
    v = Expr(value)
    if kind == "sum":
        f[tuple(args)] = Expr(ir.make_const(t, 0))
        f[tuple(args)] = f[tuple(args)] + v
    elif kind == "product":
        f[tuple(args)] = Expr(ir.make_const(t, 1))
        f[tuple(args)] = f[tuple(args)] * v
    elif kind in ("maximum", "minimum"):
        f[tuple(args)] = Expr(t.min() if kind == "maximum" else t.max()) if not t.is_float() else \
            Expr(ir.make_const(t, float("-inf") if kind == "maximum" else float("inf")))
        f[tuple(args)] = (op.max if kind == "maximum" else op.min)(f[tuple(args)], v)
    else:
        rsyms = free.rvars
        rdom = rvar_info(rsyms[0])[0]
        rv = [rdom[i] for i in range(rdom.dimensions())]
        init_pos = [Expr(0) for _ in rv]          # Halide starts the index at 0
        worst = (Expr(t.min()) if kind == "argmax" else Expr(t.max())) if not t.is_float() else \
            Expr(ir.make_const(t, float("-inf") if kind == "argmax" else float("inf")))
        f[tuple(args)] = tuple(init_pos + [worst])
        best = f[tuple(args)][len(rv)]
        better = (v > best) if kind == "argmax" else (v < best)
        f[tuple(args)] = tuple([op.select(better, Expr(r._to_ir()), f[tuple(args)][i])
                                for i, r in enumerate(rv)] + [op.select(better, v, best)])
    call = f[tuple(args)]
    if kind in ("argmax", "argmin"):
        return tuple(call[i] for i in range(len(f.types())))
    return Expr(call._to_ir())


def sum(e, name: str | None = None):
    return _reduce("sum", e, name)


def product(e, name: str | None = None):
    return _reduce("product", e, name)


def maximum(e, name: str | None = None):
    return _reduce("maximum", e, name)


def minimum(e, name: str | None = None):
    return _reduce("minimum", e, name)


def argmax(e, name: str | None = None):
    return _reduce("argmax", e, name)


def argmin(e, name: str | None = None):
    return _reduce("argmin", e, name)
