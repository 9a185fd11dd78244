"""Prints a pipeline description as Python source against Halide's API, and
builds it by executing that source, so what is tested is exactly what a
minimized regression test shows.

    in0 = hl.Buffer(np.random.default_rng(5).integers(...).astype(np.uint8))
    f1 = hl.Func("f1")
    f1[x, y] = (in0_bc[(x + 1), y] + hl.u8(3))
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .desc import (
    BinOp, Boundary, Call, Cast, Clamp, Const, InlineReduce, Input, Param, PipelineDesc, inline_rdoms,
    params, RVarRef, ReduceOp, Select, Un, UnOp, Var, make_input,
)

_INFIX = {BinOp.ADD, BinOp.SUB, BinOp.MUL, BinOp.DIV, BinOp.MOD, BinOp.AND, BinOp.OR,
          BinOp.XOR, BinOp.SHL, BinOp.SHR, BinOp.LT, BinOp.LE, BinOp.EQ, BinOp.NE}


def expr_source(e) -> str:
    if isinstance(e, Var):
        return e.name
    if isinstance(e, RVarRef):
        return f"{e.rdom}.{'xyzw'[e.dim]}"
    if isinstance(e, Const):
        return f"{e.ty.source()}({e.value!r})"
    if isinstance(e, Param):
        return e.name
    if isinstance(e, Cast):
        if e.ty.is_bool:
            return f"hl.cast(hl.Bool(), {expr_source(e.a)})"
        return f"{e.ty.source()}({expr_source(e.a)})"
    if isinstance(e, Call):
        call = f"{e.func}[{', '.join(expr_source(a) for a in e.args)}]"
        return call if e.index < 0 else f"{call}[{e.index}]"
    if isinstance(e, InlineReduce):
        fn = {ReduceOp.SUM: "sum", ReduceOp.MAX: "maximum", ReduceOp.MIN: "minimum",
              ReduceOp.ARGMAX: "argmax", ReduceOp.ARGMIN: "argmin"}[e.op]
        term = expr_source(e.term)
        args = {0: term, 1: f"{term}, {e.rdom_name + '_' + fn!r}", 2: f"{e.rdom_name}, {term}"}[e.form]
        if e.op in (ReduceOp.ARGMAX, ReduceOp.ARGMIN):
            k = e.index if 0 <= e.index < len(e.rdom) else len(e.rdom)
            return f"hl.{fn}({args})[{k}]"
        return f"hl.{fn}({args})"
    if isinstance(e, Select):
        # Halide's binding rejects hl.select(c, FuncRef, FuncRef): wrap calls.
        # (Indexing a Buffer already gives an Expr, and hl.Expr(Expr) fails.)
        t, f = (f"hl.Expr({expr_source(v)})" if isinstance(v, Call) and not _is_input(v.func)
                else expr_source(v) for v in (e.t, e.f))
        return f"hl.select({expr_source(e.cond)}, {t}, {f})"
    if isinstance(e, Clamp):
        return f"hl.clamp({_operand(e.a, e.lo)}, {_operand(e.lo, e.a)}, {_operand(e.hi, e.a)})"
    if isinstance(e, Un):
        if e.op is UnOp.NEG:
            return f"(-{expr_source(e.a)})"
        if e.op is UnOp.NOT:
            return f"(~{expr_source(e.a)})"
        return f"hl.{e.op.value}({expr_source(e.a)})"
    if e.op in (BinOp.LAND, BinOp.LOR):
        sym = "&" if e.op is BinOp.LAND else "|"
        return f"({expr_source(e.a)} {sym} {expr_source(e.b)})"
    if e.op in _INFIX:
        return f"({_operand(e.a, e.b)} {e.op.value} {_operand(e.b, e.a)})"
    return f"hl.{e.op.value}({_operand(e.a, e.b)}, {_operand(e.b, e.a)})"


def _is_input(name: str) -> bool:
    return name.startswith("in")  # the generator names inputs in0, in1, ...


def _operand(e, other) -> str:
    # An int32 constant next to a non-constant int32 Expr prints as a bare
    # literal (Halide coerces it to int32); everything else keeps its cast.
    if isinstance(e, Const) and e.ty.bits == 32 and e.ty.is_signed and not isinstance(other, Const):
        return repr(e.value)
    return expr_source(e)


def input_source(i: Input) -> list:
    dtype = np.dtype(i.ty.dtype).name
    w, h = i.size
    data = (f"np.random.default_rng({i.seed}).integers({i.lo}, {i.hi}, size=({h}, {w}), "
            f"endpoint=True)")
    if i.ty.is_float:
        data = f"({data} / {i.scale})"
    return [f"{i.name} = hl.Buffer({data}.astype(np.{dtype}), {i.name!r})",
            f"{i.name}.set_min([{i.min[0]}, {i.min[1]}])"]


def stage_source(s) -> list:
    if isinstance(s, Boundary):
        args = [s.source]
        if s.exterior is not None:
            args.append(expr_source(s.exterior))
        if not _is_input(s.source):
            args.append("[" + ", ".join(f"hl.Range({m}, {e})" for m, e in s.bounds) + "]")
        return [f"{s.name} = hl.BoundaryConditions.{s.kind.value}({', '.join(args)})"]
    rdoms = inline_rdoms(s.value)
    if s.value2 is not None:
        rdoms.update(inline_rdoms(s.value2))
    lines = [_rdom_line(name, rdom) for name, rdom in rdoms.items()]
    lines.append(f"{s.name} = hl.Func({s.name!r})")
    implicit = s.prints_implicit
    if not implicit:
        value = expr_source(s.value)
        if s.value2 is not None:
            value = f"({value}, {expr_source(s.value2)})"
        lines.append(f"{s.name}[x, y] = {value}")
    for k, u in enumerate(s.updates):
        lines.append(_rdom_line(u.rdom_name, u.rdom))
        if u.where is not None:
            lines.append(f"{u.rdom_name}.where({expr_source(u.where)})")
        # A bare RVar next to a Var on the LHS needs hl.Expr (pybind11 cannot
        # convert a mixed list of RVar and Var).
        lhs = ", ".join(f"hl.Expr({expr_source(a)})" if isinstance(a, RVarRef) else expr_source(a)
                        for a in u.lhs)
        read = f"{s.name}[{', '.join(expr_source(a) for a in u.read)}]"
        term = expr_source(u.term)
        if implicit and k == 0:  # Halide defines f as 0 first
            lines.append(f"{s.name}[{lhs}] += {term}")
            continue
        if s.value2 is not None:
            rhs = (f"({_combine_source(u.op, read + '[0]', term)}, "
                   f"{_combine_source(u.op2, read + '[1]', expr_source(u.term2))})")
        else:
            rhs = _combine_source(u.op, read, term)
        lines.append(f"{s.name}[{lhs}] = {rhs}")
    return lines


def _combine_source(op, read, term) -> str:
    return f"{read} + {term}" if op is ReduceOp.SUM else f"hl.{op.value}({read}, {term})"


def _rdom_line(name, rdom) -> str:
    ranges = ", ".join(f"hl.Range({m}, {e})" for m, e in rdom)
    return f"{name} = hl.RDom([{ranges}], {name!r})"


def pipeline_source(desc: PipelineDesc) -> list:
    """Lines of the body of `def build(hl)`: defines x, y, the inputs and
    every stage as a local of the same name."""
    lines = ['x, y = hl.Var("x"), hl.Var("y")']
    for p in params(desc):
        lines.append(f"{p.name} = hl.Param({p.ty.type_source()}, {p.name!r}, {p.value!r})")
    for i in desc.inputs:
        lines += input_source(i)
    for s in desc.stages:
        lines += stage_source(s)
    return lines


@dataclass
class Built:
    """The Funcs, Vars, RDoms and Buffers of one built pipeline, by name."""
    namespace: dict
    output: object

    def __getitem__(self, name):
        return self.namespace[name]


def build(desc: PipelineDesc, hl, schedule_lines=()) -> Built:
    src = "\n".join(pipeline_source(desc) + list(schedule_lines))
    ns = {"hl": hl, "np": np}
    exec(compile(src, "<pipeline>", "exec"), ns)
    return Built(ns, ns[desc.output.name])


def realize(hl, desc: PipelineDesc, built: Built) -> np.ndarray:
    """Realizes the output over desc's output box; returns it indexed [x, y]."""
    buf = hl.Buffer(_hl_type(hl, desc.output.ty), list(desc.out_size))
    buf.set_min(list(desc.out_min))
    built.output.realize(buf)
    return np.asarray(buf).T.copy()


def _hl_type(hl, t):
    if t.is_bool:
        return hl.Bool()
    return getattr(hl, t.code.value)(t.bits)


def input_arrays(desc: PipelineDesc) -> dict:
    """name -> (array indexed [x, y], min) for the reference evaluator."""
    return {i.name: (make_input(i).T, i.min) for i in desc.inputs}
