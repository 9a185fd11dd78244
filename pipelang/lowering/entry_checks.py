"""Entry checks: assert, before anything runs, that every input buffer covers
what the pipeline reads and every output buffer what it writes.

Runs right after bounds inference, on the boxes touched by the whole
pipeline (`boxes_touched` of the statement, in terms of the output buffers
and Params only), so a buffer too small is a clear error naming it, never
an out-of-bounds access.

    s  =>  assert(input.min.0 <= f.min.0 - 1, "Input buffer input is accessed at ..."); s
"""
from __future__ import annotations

from pipelang import ir
from pipelang.errors import CompileError
from pipelang.lowering import names as L
from pipelang.lowering.simplify import simplify


def _check(cond, message, args, checks):
    cond = simplify(cond)
    if ir.is_const(cond, 1):
        return
    checks.append(ir.AssertStmt(cond, message, tuple(simplify(a) for a in args)))


def add_entry_checks(s: ir.Stmt, boxes: dict, outputs: list, inputs: dict) -> ir.Stmt:
    """`boxes`: what the statement touches (reads and writes) of each buffer;
    `inputs`: each input buffer's symbol and number of dimensions."""
    checks = []
    things = [(sym, "Input buffer", boxes.get(sym), dims) for sym, dims in inputs.items()]
    things += [(o.sym, "Output buffer", boxes.get(o.sym), len(o.args)) for o in outputs]
    buffers = {o.sym: L.buffer(o) for o in outputs}
    for sym, what, box, dims in things:
        name = sym.name
        sym = buffers.get(sym, sym)
        if box is None:
            continue
        for d, iv in enumerate(box):
            if iv.min is None or iv.max is None:
                raise CompileError(f"{what} {name} may be accessed at an unbounded location "
                                   f"in dimension {d}: clamp the index (e.g. hl.clamp) or use a "
                                   f"boundary condition")
            bmin = ir.Variable(ir.Int(32), ir.buffer_min(sym, d))
            bext = ir.Variable(ir.Int(32), ir.buffer_extent(sym, d))
            bmax = ir.Sub(ir.Add(bmin, bext), ir.i32(1))
            _check(ir.GE(iv.min, bmin),
                   f"{what} {name} is accessed at {{0}}, which is before the min ({{1}}) "
                   f"in dimension {d}", (iv.min, bmin), checks)
            _check(ir.LE(iv.max, bmax),
                   f"{what} {name} is accessed at {{0}}, which is beyond the max ({{1}}) "
                   f"in dimension {d}", (iv.max, bmax), checks)
    return ir.block(*checks, s) if checks else s


