"""The arguments a pipeline takes: output buffers, input buffers, scalar Params.

Found by walking every definition and schedule expression for calls to
input buffers (an `ImageParam` or a `Buffer` used in the algorithm),
references to their dimensions, and `Param`s.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from pipelang import ir
from pipelang.buffer import field_owner
from pipelang.lowering import names as L
from pipelang.lowering.analysis.environment import definition_exprs
from pipelang.param import param_owner


@dataclass
class Arguments:
    outputs: list                                   # Function
    inputs: dict = field(default_factory=dict)      # Symbol -> Buffer or ImageParam
    params: dict = field(default_factory=dict)      # Symbol -> Param

    def strided_buffers(self) -> frozenset:
        """The input and output buffers whose dimension 0 may have a stride
        other than 1.

        ImageParams and output buffers have stride 1 there (Halide's default
        constraint, checked on entry) unless `dim(0).set_stride` says otherwise;
        an embedded Buffer's array (and so its strides) never changes, so the
        compiled code can rely on what it is now."""
        from pipelang.buffer import Buffer
        from pipelang.constraints import dense_dim0
        out = {L.buffer(fn, i) for fn in self.outputs for i in range(len(fn.output_types))
               if not dense_dim0(fn.output_constraints.get(i))}
        for sym, owner in self.inputs.items():
            if isinstance(owner, Buffer):
                if owner.dimensions() and owner.dim(0).stride() != 1 and owner.dim(0).extent() > 1:
                    out.add(sym)
            elif not dense_dim0(getattr(owner, "_constraints", None)):
                out.add(sym)
        return frozenset(out)

    def input_dims(self) -> dict:
        return {sym: owner.dimensions() for sym, owner in self.inputs.items()}

    def lowered_arguments(self) -> tuple:
        args = []
        for fn in self.outputs:
            for i, t in enumerate(fn.output_types):
                args.append(ir.Argument(L.buffer(fn, i), ir.ArgKind.BUFFER, t, len(fn.args)))
        for sym, owner in self.inputs.items():
            args.append(ir.Argument(sym, ir.ArgKind.BUFFER, owner.type(), owner.dimensions()))
        for sym, p in self.params.items():
            args.append(ir.Argument(sym, ir.ArgKind.SCALAR, p.type()))
        return tuple(args)


class _Find(ir.IRVisitor):
    def __init__(self, args: Arguments):
        self.args = args

    def visit_Call(self, node):
        if node.kind is ir.CallKind.IMAGE and node.fn not in self.args.inputs:
            self.args.inputs[node.fn] = field_owner[ir.buffer_host(node.fn)]
        self.generic_visit(node)

    def visit_Variable(self, node):
        p = param_owner.get(node.sym)
        if p is not None:
            self.args.params.setdefault(node.sym, p)
            return
        owner = field_owner.get(node.sym)
        if owner is not None and owner._sym not in self.args.inputs:
            self.args.inputs[owner._sym] = owner


def find_arguments(env: dict, outputs: list) -> Arguments:
    args = Arguments(list(outputs))
    v = _Find(args)
    for fn in env.values():
        for e in definition_exprs(fn):
            v.visit(e)
        for d in fn.stages():
            for s in d.schedule.splits:
                if s.factor is not None:
                    v.visit(s.factor)
            for p in d.schedule.prefetches:
                v.visit(p.offset)
        for b in fn.schedule.bounds:
            for e in (b.min, b.extent):
                if e is not None:
                    v.visit(e)
    return args
