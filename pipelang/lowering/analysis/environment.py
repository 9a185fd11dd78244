"""The Funcs a pipeline reaches, in realization order (producers first).

`find_environment(outputs)` walks Calls from the outputs' definitions (and
their RDom bounds, specialization conditions and schedule expressions) and returns every Function
reachable, keyed by symbol, plus a topological order matching Halide's:
a depth-first post-order that visits callees in order of first use.
"""
from __future__ import annotations

from pipelang import ir


class _Calls(ir.IRVisitor):
    def __init__(self):
        self.found = []

    def visit_Call(self, node):
        if node.kind is ir.CallKind.FUNC and node.fn not in self.found:
            self.found.append(node.fn)
        self.generic_visit(node)


def definition_exprs(fn) -> list:
    """Every Expr of every definition of `fn`: args, values, RDom bounds, predicates."""
    out = []
    for d in fn.stages():
        _add_definition(d, out)
    return out


def _add_definition(d, out: list) -> None:
    out.extend(d.args)
    out.extend(d.values)
    for r in d.rvars:
        out.extend((r.min, r.extent))
    if d.predicate is not None:
        out.append(d.predicate)
    for sp in d.specializations:
        out.append(sp.condition)
        _add_definition(sp.definition, out)


def direct_callees(fn) -> list:
    v = _Calls()
    for e in definition_exprs(fn):
        v.visit(e)
    return [s for s in v.found if s is not fn.sym]


def find_environment(outputs: list, registry: dict) -> tuple[dict, list]:
    """(env: {Symbol: Function}, order: [Function], producers before consumers).

    `registry` maps Func symbols to Functions for every Func the user created
    (Calls only hold symbols).
    """
    env: dict = {}
    order: list = []
    state: dict = {}
    for out in outputs:
        _visit(out, registry, env, order, state)
    return env, order


def _visit(fn, registry: dict, env: dict, order: list, state: dict) -> None:
    """Add `fn` and, first, the Funcs it calls. (A function of its own, not a
    recursive closure: compiled, that closure would hold itself, a cycle
    only the cycle collector frees.)"""
    if state.get(fn.sym) == "done":
        return
    if state.get(fn.sym) == "active":
        raise AssertionError(f"cycle through {fn.name}")
    state[fn.sym] = "active"
    env[fn.sym] = fn
    for callee_sym in direct_callees(fn):
        _visit(registry[callee_sym], registry, env, order, state)
    state[fn.sym] = "done"
    order.append(fn)
