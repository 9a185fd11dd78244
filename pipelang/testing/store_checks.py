"""Bounds-checked stores to intermediate Funcs, for tests.

Inside `checked_stores()`, every pipeline compiled gets, before each write to
a realized Func, an assertion that the point lies in the Func's storage (the
Realize's bounds right after sliding window, before storage folding makes
every index in range). A schedule that would write outside an allocation then
fails with a pipelang error naming the Func, the dimension and the point,
instead of corrupting the heap (fuzz seeds 11431, 11702).

    with checked_stores():
        f.realize([64, 64])      # compiled here: stores checked
"""
from __future__ import annotations

import contextlib
import os

from pipelang import ir


class _CheckStores(ir.IRMutator):
    def __init__(self):
        self.bounds = {}

    def mutate_Realize(self, node):
        self.bounds[node.fn] = node.bounds
        return self.generic_mutate(node)

    def mutate_Provide(self, node):
        bounds = self.bounds.get(node.fn)
        if bounds is None:
            return node
        checks = []
        for d, (arg, r) in enumerate(zip(node.args, bounds)):
            inside = ir.And(ir.LE(r.min, arg), ir.LT(arg, ir.Add(r.min, r.extent)))
            checks.append(ir.AssertStmt(
                inside, f"store to {node.fn.name} outside its storage in dimension {d}: "
                        f"at {{0}}, storage min {{1}}, extent {{2}}", (arg, r.min, r.extent)))
        return ir.block(*checks, node)


@contextlib.contextmanager
def checked_stores():
    """Compile pipelines with every store to an intermediate Func checked
    against its storage (see the module docstring). The compile cache is off
    meanwhile: a cached, unchecked build of the same pipeline must not be used."""
    from pipelang.lowering import lower as lower_module
    slide = lower_module.sliding_window
    cache = os.environ.get("PIPELANG_CACHE")

    def checked(s, env):
        return _CheckStores().mutate(slide(s, env))
    lower_module.sliding_window = checked
    os.environ["PIPELANG_CACHE"] = "0"
    try:
        yield
    finally:
        lower_module.sliding_window = slide
        if cache is None:
            del os.environ["PIPELANG_CACHE"]
        else:
            os.environ["PIPELANG_CACHE"] = cache
