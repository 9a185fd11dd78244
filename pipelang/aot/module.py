"""Lower a pipeline once and build the LLVM module every AOT output comes from.

    m = build_module(funcs, [input, offset], "brighter", Target("arm-64-linux"))
    m.object_bytes(); m.assembly(); m.bitcode(); m.llvm_assembly(); m.header()

The module holds the pipeline (internal), Halide's exported entry points
(`abi.py`) and, unless the target has `no_runtime`, the runtime
(`runtime.py`), optimized at O3 for the target's machine.
"""
from __future__ import annotations

import dataclasses
import re
import llvmlite.binding as llvm

from pipelang import ir
from pipelang.aot.abi import (INPUT_BUFFER, INPUT_SCALAR, OUTPUT_BUFFER, AbiArgument,
                              AbiBuilder)
from pipelang.aot.runtime import runtime_module
from pipelang.aot.targets import machine_spec, target_machine
from pipelang.buffer import Buffer
from pipelang.errors import CompileError
from pipelang.lowering.names import buffer
from pipelang.target import Target

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")


def c_identifier(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def _llvm_lock():
    from pipelang.backends.llvm.jit import llvm_lock
    return llvm_lock


def abi_arguments(arguments, found, output_names=None) -> tuple[list, dict]:
    """Halide's argument list (the user's arguments, then the outputs) and the
    Buffers to embed. `found` is lowering's `Arguments`."""
    from pipelang.calling import Argument
    from pipelang.param import ImageParam, Param
    result, names, used = [], set(), set()
    strided = found.strided_buffers()
    for a in arguments:
        if isinstance(a, Argument):             # from infer_arguments()
            a = a._param
        if isinstance(a, Param):
            result.append(AbiArgument(a.name(), "_" + c_identifier(a.name()), INPUT_SCALAR,
                                      a.type(), 0, a._sym, a.get()))
        elif isinstance(a, (ImageParam, Buffer)):
            result.append(AbiArgument(a.name(), f"_{c_identifier(a.name())}_buffer", INPUT_BUFFER,
                                      a.type(), a.dimensions(), a._sym,
                                      dense=a._sym not in strided))
        else:
            raise CompileError(f"compile_to: the argument list holds {a!r}; expected Params, "
                               f"ImageParams or Buffers")
        if result[-1].name in names:
            raise CompileError(f"compile_to: the argument {a.name()} appears twice")
        names.add(result[-1].name)
        used.add(result[-1].sym)
    embedded = {}
    for sym, owner in found.inputs.items():
        if sym in used:
            continue
        if isinstance(owner, Buffer):
            embedded[sym] = owner
        else:
            raise CompileError(f"Generated code refers to image parameter {owner.name()}, which "
                               f"was not found in the argument list.")
    for sym, p in found.params.items():
        if sym not in used:
            raise CompileError(f"Generated code refers to parameter {p.name()}, which was not "
                               f"found in the argument list.")
    for k, fn in enumerate(found.outputs):
        base = output_names[k] if output_names else fn.name
        for i, t in enumerate(fn.output_types):
            name = base if len(fn.output_types) == 1 else f"{base}.{i}"
            result.append(AbiArgument(name, f"_{c_identifier(name)}_buffer", OUTPUT_BUFFER, t,
                                      len(fn.args), buffer(fn, i),
                                      dense=buffer(fn, i) not in strided))
    return result, embedded


def _parenthesized(text: str) -> bool:
    """Whether the whole of `text` is one parenthesized group."""
    if not (text.startswith("(") and text.endswith(")")):
        return False
    depth = 0
    for i, ch in enumerate(text):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0 and i < len(text) - 1:
            return False
    return True


def requirement_check(condition, args) -> ir.AssertStmt:
    """`Pipeline.add_requirement(condition, *args)` as a check run before the pipeline."""
    from pipelang.expr import to_ir
    cond = to_ir(condition)
    if cond.type != ir.Bool():
        raise CompileError(f"A requirement must be a boolean Expr, not {cond.type}: "
                           f"{ir.to_string(cond)}")
    text = ir.to_string(cond)
    if not _parenthesized(text):
        text = f"({text})"
    parts, values = [f"Requirement Failed: {text}"], []
    for a in args:
        if isinstance(a, str):
            parts.append(a.replace("{", "{{").replace("}", "}}"))
        else:
            parts.append("{%d}" % len(values))
            values.append(to_ir(a))
    return ir.AssertStmt(cond, " ".join(parts), tuple(values))


def bounds_query_function(inner, arguments, regions, fns):
    """A lowered function (the pipeline's arguments plus an int32 result buffer)
    storing, for each buffer argument k and dimension d, the min and extent of the
    region the pipeline touches at result[2 * (k * max_dims + d) + {0, 1}]."""
    from pipelang.lowering.simplify import simplify
    result = ir.Symbol(f"{inner.name}.bounds")
    max_dims = max([a.dimensions for a in arguments] + [1])
    out_boxes = {buffer(fn, i): regions.get(fn.sym)
                 for fn in fns for i in range(len(fn.output_types))}
    stores, has_region = [], []
    for k, a in enumerate(arguments):
        box = out_boxes.get(a.sym) if a.kind == OUTPUT_BUFFER else regions.get(a.sym)
        box = box if a.kind != INPUT_SCALAR else None
        has_region.append(box is not None)
        for d, iv in enumerate(box or ()):
            lo = iv.min if iv.min.type == ir.Int(32) else ir.Cast(ir.Int(32), iv.min)
            hi = iv.max if iv.max.type == ir.Int(32) else ir.Cast(ir.Int(32), iv.max)
            at = 2 * (k * max_dims + d)
            stores.append(ir.Store(result, simplify(lo), ir.i32(at)))
            stores.append(ir.Store(result, simplify(ir.Add(ir.Sub(hi, lo), ir.i32(1))),
                                   ir.i32(at + 1)))
    body = ir.block(*stores) if stores else ir.Evaluate(ir.i32(0))
    args = inner.args + (ir.Argument(result, ir.ArgKind.BUFFER, ir.Int(32), 1),)
    return (ir.LoweredFunc(f"{inner.name}_bounds_query", args, body), has_region, max_dims)


class AotModule:
    """One pipeline compiled for one target: the optimized LLVM module."""

    def __init__(self, fns, arguments, fn_name: str, target: Target, requirements=(),
                 output_names=None):
        from pipelang.backends.llvm.codegen import generate_module
        from pipelang.lowering.lower import lower
        if not _IDENT.match(fn_name):
            raise CompileError(f"The function name {fn_name!r} is not a C identifier")
        self.fn_name = fn_name
        self.target = target
        self.spec = machine_spec(target)
        if target.has_gpu_feature():
            raise CompileError(f"Can't compile {fn_name} ahead of time for {target}: pipelang's "
                               f"AOT output runs on the CPU only (GPU pipelines run through the "
                               f"JIT)")
        lowered, found, regions, _ = lower(fns, fn_name, target=target)
        self.lowered = lowered
        self.arguments, embedded = abi_arguments(arguments, found, output_names)
        # Arguments the algorithm never reads still get argv slots: requirements may read them.
        have = {la.sym for la in lowered.args}
        extra = tuple(ir.Argument(a.sym, ir.ArgKind.SCALAR if a.kind == INPUT_SCALAR
                                  else ir.ArgKind.BUFFER, a.type, a.dimensions)
                      for a in self.arguments if a.sym not in have)
        body = lowered.body
        if requirements:
            body = ir.block(*[requirement_check(c, args) for c, args in requirements], body)
        inner = dataclasses.replace(lowered, name=f"{fn_name}_pipeline", args=lowered.args + extra,
                                    body=body)
        self.inner, self.embedded = inner, embedded
        cg = generate_module(inner, self.spec.triple, self.spec.features)
        bounds = None
        if not target.has_feature("no_bounds_query"):
            query, has_region, max_dims = bounds_query_function(inner, self.arguments, regions,
                                                                fns)
            query_cg = generate_module(query, self.spec.triple, self.spec.features)
            bounds = (query_cg.name, max_dims, has_region)
        abi = AbiBuilder(cg, fn_name, self.arguments, embedded, target.to_string(),
                         target.has_feature("user_context"), bounds)
        abi.build()
        with _llvm_lock():
            mod = llvm.parse_assembly(str(cg.module))
            mod.link_in(llvm.parse_assembly(str(abi.m)))
            mod.get_function(cg.name).linkage = "internal"
            if bounds is not None:
                mod.link_in(llvm.parse_assembly(str(query_cg.module)))
                mod.get_function(query_cg.name).linkage = "internal"
            if not target.has_feature("no_runtime"):
                mod.link_in(llvm.parse_assembly(str(runtime_module(target))))
            self.tm = target_machine(target)
            mod.name = fn_name
            mod.triple = self.tm.triple
            mod.data_layout = str(self.tm.target_data)
            mod.verify()
            pto = llvm.create_pipeline_tuning_options(speed_level=3)
            pto.slp_vectorization = True
            pto.loop_vectorization = target.has_feature("enable_llvm_loop_opt")
            pb = llvm.create_pass_builder(self.tm, pto)
            pb.getModulePassManager().run(mod, pb)
            self.module = mod

    def object_bytes(self) -> bytes:
        with _llvm_lock():
            return self.tm.emit_object(self.module)

    def assembly(self) -> str:
        with _llvm_lock():
            return self.tm.emit_assembly(self.module)

    def bitcode(self) -> bytes:
        with _llvm_lock():
            return self.module.as_bitcode()

    def llvm_assembly(self) -> str:
        with _llvm_lock():
            return str(self.module)

    def header(self, filename: str = "") -> str:
        from pipelang.aot.header import header_text
        return header_text(self.fn_name, self.arguments, filename,
                           self.target.has_feature("user_context"))


def standalone_runtime(target: Target) -> bytes:
    """An object with only the runtime, for objects built with `no_runtime`."""
    with _llvm_lock():
        mod = llvm.parse_assembly(str(runtime_module(target)))
        tm = target_machine(target)
        mod.triple = tm.triple
        mod.data_layout = str(tm.target_data)
        mod.verify()
        return tm.emit_object(mod)

