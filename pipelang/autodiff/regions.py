"""The region of every Func a pipeline output needs, from the output's region.

The gradient of a Func is zero outside the region its consumers read, and a
scatter that can't be turned into a gather runs an RDom over its consumer's
region; both come from here. It is Halide's bounds inference done on the
definitions (not on a loop nest): each stage's pure vars range over the Func's
region, each RVar over its domain, and every call widens its callee's box.
"""
from __future__ import annotations

from pipelang import ir
from pipelang.autodiff.errors import NotDifferentiableError
from pipelang.lowering.analysis.intervals import Interval, bounds_of_expr, interval_union
from pipelang.lowering.simplify import simplify
from pipelang.var import var_symbol


class _Calls(ir.IRVisitor):
    def __init__(self):
        self.calls = []

    def visit_Call(self, node):
        self.calls.append(node)
        self.generic_visit(node)


def stage_scope(fn, stage, region) -> dict:
    """{Symbol: Interval}: each pure var over the Func's region, each RVar over its domain."""
    scope = {var_symbol(name): region[d] for d, name in enumerate(fn.args)}
    for r in stage.rvars:
        scope[r.sym] = Interval(r.min, simplify(ir.Sub(ir.Add(r.min, r.extent), ir.i32(1))))
    return scope


def infer_regions(output_fn, output_region: list, order: list) -> dict:
    """{Symbol of a Func or buffer: [Interval per dimension]} that the output needs."""
    regions = {output_fn.sym: list(output_region)}
    for fn in reversed(order):
        region = regions.get(fn.sym)
        if region is None:
            continue
        for stage in fn.stages():
            scope = stage_scope(fn, stage, region)
            v = _Calls()
            for e in list(stage.args) + list(stage.values) + (
                    [stage.predicate] if stage.predicate is not None else []):
                v.visit(e)
            for call in v.calls:
                if call.fn is fn.sym:
                    continue
                box = [bounds_of_expr(a, scope) for a in call.args]
                old = regions.get(call.fn)
                regions[call.fn] = box if old is None else [
                    interval_union(a, b) for a, b in zip(old, box)]
    for sym, box in regions.items():
        for d, i in enumerate(box):
            if not i.is_bounded():
                raise NotDifferentiableError(
                    f"Can't differentiate through {sym.name}: the region of dimension {d} that "
                    f"the output needs is unbounded (an index that depends on data? clamp it)")
        regions[sym] = [Interval(simplify(i.min), simplify(i.max)) for i in box]
    return regions

