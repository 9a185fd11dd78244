"""Inline reductions: `hl.sum`, `hl.product`, `hl.maximum`, `hl.minimum`,
`hl.argmax`, `hl.argmin`, in every form Halide's Python API accepts:

    hl.sum(e)            hl.sum(e, "name")            hl.sum(e, func)
    hl.sum(r, e)         hl.sum(r, e, "name")         hl.sum(r, e, func)

Each defines a Func over the free variables of `e` — a pure definition (the
identity) and one update over the RDom — and returns a call to it, as Halide
does. Without an explicit RDom, `e` must use exactly one RDom; with one, RVars
of any other RDom in `e` are free variables of the reduction, like pure Vars
(the update then runs once per value of that outer RVar).
"""
from __future__ import annotations

from pipelang import ir
from pipelang.errors import CompileError
from pipelang.expr import Expr, to_ir
from pipelang.rdom import RDom, RVar, rvar_info
from pipelang.var import Var, unique_name, var_symbol


class _FreeVars(ir.IRMutator):
    """Halide's FindFreeVars: finds the reduction domain of `e` (or checks
    against an explicit one) and the free variables a call must pass.
    Foreign RVars (with an explicit RDom) become fresh pure Vars."""

    def __init__(self, kind: str, rdom: RDom | None):
        self.kind = kind
        self.rdom = rdom
        self.explicit = rdom is not None
        self.free: list = []        # pure var names of the reduction Func
        self.call_args: list = []   # what the caller passes for each
        self._renamed: dict = {}

    def mutate_Variable(self, node):
        info = rvar_info(node.sym)
        if info is not None:
            owner = info[0]
            if self.explicit:
                if owner is self.rdom:
                    return node
                if node.sym not in self._renamed:
                    name = unique_name("v")
                    self._renamed[node.sym] = ir.Variable(node.type, var_symbol(name))
                    self.free.append(name)
                    self.call_args.append(Expr(node))
                return self._renamed[node.sym]
            if self.rdom is None:
                self.rdom = owner
            elif owner is not self.rdom:
                raise CompileError(
                    f'Inline reduction "{self.kind}" refers to reduction variables from '
                    f'multiple reduction domains: {node.sym.name}, {self.rdom[0].name()}')
            return node
        if node.sym is var_symbol(node.sym.name) and node.sym.name not in self.free:
            self.free.append(node.sym.name)
            self.call_args.append(Var(node.sym.name))
        return node


def _parse(kind: str, args: tuple):
    """(rdom or None, expression, Func or name or None) from Halide's forms."""
    from pipelang.func import Func
    if not args or len(args) > 3:
        raise TypeError(f"hl.{kind}() takes (expr[, name]) or (rdom, expr[, name]); "
                        f"got {len(args)} arguments")
    rdom = None
    if isinstance(args[0], RDom) and len(args) >= 2:
        rdom, args = args[0], args[1:]
    elif isinstance(args[0], RVar) and args[0].domain() is not None and len(args) >= 2 \
            and not isinstance(args[1], (str, Func)):
        rdom, args = args[0].domain(), args[1:]
    if len(args) > 2:
        raise TypeError(f"hl.{kind}() takes (expr[, name]) or (rdom, expr[, name])")
    e, target = args[0], (args[1] if len(args) == 2 else None)
    if target is not None and not isinstance(target, (str, Func)):
        raise TypeError(f"hl.{kind}(): the name must be a str or a Func, not {type(target).__name__}")
    return rdom, e, target


def _reduce(kind: str, args: tuple):
    from pipelang.func import Func
    from pipelang import operators as op
    rdom, e, target = _parse(kind, args)
    if isinstance(target, Func):
        if target.defined():
            raise CompileError(f'Func {target.name()} passed to {kind} already has a definition')
        f = target
    else:
        f = Func(target or kind)
    finder = _FreeVars(kind, rdom)
    value = finder.mutate(to_ir(e))
    if finder.rdom is None:
        raise CompileError(f"Expression passed to {kind} must reference a reduction domain")
    pure = tuple(Var(n) for n in finder.free)
    t = value.type
    v = Expr(value)
    if kind == "sum":
        f[pure] = Expr(ir.make_const(t, 0))
        f[pure] = f[pure] + v
    elif kind == "product":
        f[pure] = Expr(ir.make_const(t, 1))
        f[pure] = f[pure] * v
    elif kind in ("maximum", "minimum"):
        f[pure] = _extreme(t, lowest=kind == "maximum")
        f[pure] = (op.max if kind == "maximum" else op.min)(f[pure], v)
    else:
        rv = [finder.rdom[i] for i in range(finder.rdom.dimensions())]
        f[pure] = tuple([Expr(0) for _ in rv] + [_extreme(t, lowest=kind == "argmax")])
        best = f[pure][len(rv)]
        better = (v > best) if kind == "argmax" else (v < best)
        f[pure] = tuple([op.select(better, Expr(r._to_ir()), f[pure][i]) for i, r in enumerate(rv)]
                        + [op.select(better, v, best)])
    call = f[tuple(finder.call_args)]
    if kind in ("argmax", "argmin"):
        return tuple(call[i] for i in range(len(f.types())))
    return Expr(call._to_ir())


def _extreme(t: ir.Type, lowest: bool) -> Expr:
    """Halide's Type.min()/max(): -inf/+inf for floats."""
    if t.is_float():
        return Expr(ir.make_const(t, float("-inf") if lowest else float("inf")))
    return Expr(ir.make_const(t, t.min_value() if lowest else t.max_value()))


def sum(*args):
    return _reduce("sum", args)


def product(*args):
    return _reduce("product", args)


def maximum(*args):
    return _reduce("maximum", args)


def minimum(*args):
    return _reduce("minimum", args)


def argmax(*args):
    return _reduce("argmax", args)


def argmin(*args):
    return _reduce("argmin", args)
