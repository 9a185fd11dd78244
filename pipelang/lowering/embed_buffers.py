"""Embedded Buffers' shapes become constants.

A `Buffer` used in the algorithm (not an `ImageParam`) is the same array at
every call, so the compiled code can use its min, extent and stride as
constants, as Halide does: addresses of its loads fold (a filter tap read
along a vectorized dimension of stride 16 is a dense vector load, not a
gather at an unknown stride) and the entry checks on it fold away. An assert
on entry keeps this honest if the Buffer is changed in place (`set_min`,
`crop`) after compiling, with Halide's "Constraint violated" message.

Runs after storage flattening (which writes the loads' index from these
fields) and before the simplifier that folds them:

    b1[((x - b1.min.0) + (y - b1.min.1)*b1.stride.1)]
  =>
    assert(b1.stride.1 == 48, ...)  b1[(x + y*48) - 48]
"""
from __future__ import annotations

from pipelang import ir

_FIELDS = (("min", ir.buffer_min), ("extent", ir.buffer_extent), ("stride", ir.buffer_stride))


def embed_buffer_shapes(s: ir.Stmt, inputs: dict) -> ir.Stmt:
    """`inputs` is {symbol: Buffer or ImageParam}; only Buffers are embedded."""
    from pipelang.buffer import Buffer
    mapping, checks = {}, []
    for sym, owner in inputs.items():
        if not isinstance(owner, Buffer):
            continue
        for d in range(owner.dimensions()):
            dim = owner.dim(d)
            for (field, symbol_of), value in zip(_FIELDS, (dim.min(), dim.extent(), dim.stride())):
                field_sym = symbol_of(sym, d)
                var = ir.Variable(ir.Int(32), field_sym)
                const = ir.i32(int(value))
                mapping[field_sym] = const
                checks.append(ir.AssertStmt(
                    ir.EQ(var, const),
                    f"Constraint violated: {sym.name}.{field}.{d} ({{0}}) == {int(value)} ({{1}})",
                    (var, const)))
    if not mapping:
        return s
    return ir.block(*checks, _Substitute(mapping).mutate(s))


class _Substitute(ir.IRMutator):
    """`ir.substitute(mapping, s)`, but statements are walked, not asked for
    their symbols: a statement's symbols are every symbol below it, merged
    at each level (in local_laplacian, hundreds per statement, most of this
    pass's time), where an expression's are few and reused by the
    simplifier that follows."""

    def __init__(self, mapping: dict):
        self.mapping = mapping

    def mutate(self, node):
        if isinstance(node, ir.Expr):
            return ir.substitute(self.mapping, node)
        return ir.IRMutator.mutate(self, node)
