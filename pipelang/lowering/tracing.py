"""Tracing: print each store to (and load from) Funcs marked with
`trace_stores()` / `trace_loads()`, in Halide's format.

Runs after bounds inference (the printed coordinates must not widen any
region) and before storage flattening, while Funcs are still multi-dimensional.

    f(x, y) = e   =>   let t = e; print("Store f.0(", x, ", ", y, ") = ", t); f(x, y) = t
"""
from __future__ import annotations

from pipelang import ir

_TRUE = ir.make_const(ir.Bool(), 1)


def _coords(prefix: str, name: str, index: int, args) -> list:
    pieces = [ir.StringImm(ir.Handle(), f"{prefix} {name}.{index}(")]
    for i, a in enumerate(args):
        if i:
            pieces.append(ir.StringImm(ir.Handle(), ", "))
        pieces.append(a)
    pieces.append(ir.StringImm(ir.Handle(), ") = "))
    return pieces


class _Trace(ir.IRMutator):
    def __init__(self, env):
        self.env = env

    def mutate_Provide(self, node):
        node = self.generic_mutate(node)
        fn = self.env.get(node.fn)
        if fn is None or not fn.schedule.trace_stores:
            return node
        lets, values, prints = [], [], []
        for i, v in enumerate(node.values):
            sym = ir.Symbol(f"{fn.name}.traced{i}")
            tv = ir.Variable(v.type, sym)
            lets.append((sym, v))
            values.append(tv)
            pieces = _coords("Store", fn.name, i, node.args) + [tv]
            prints.append(ir.Evaluate(ir.Intrinsic(ir.Int(32), ir.Op.PRINT,
                                                   (ir.i32(0), _TRUE, *pieces))))
        out = ir.block(*prints, ir.Provide(node.fn, tuple(values), node.args))
        for sym, v in reversed(lets):
            out = ir.LetStmt(sym, v, out)
        return out

    def mutate_Call(self, node):
        node = self.generic_mutate(node)
        fn = self.env.get(node.fn) if node.kind is ir.CallKind.FUNC else None
        if fn is None or not fn.schedule.trace_loads:
            return node
        sym = ir.Symbol(f"{fn.name}.loaded")
        tv = ir.Variable(node.type, sym)
        pieces = _coords("Load", fn.name, node.value_index, node.args) + [tv]
        return ir.Let(sym, node, ir.Intrinsic(node.type, ir.Op.PRINT, (tv, _TRUE, *pieces)))


def inject_tracing(s: ir.Stmt, env: dict) -> ir.Stmt:
    if not any(fn.schedule.trace_stores or fn.schedule.trace_loads for fn in env.values()):
        return s
    return _Trace(env).mutate(s)
