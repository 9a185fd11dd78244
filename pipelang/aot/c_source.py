"""`compile_to_c` / `OutputFileType.c_source`: the whole pipeline as C source
(valid C99 with GNU statement expressions, and C++), with the same entry
point as the object file:

    int brighter(struct halide_buffer_t *_input_buffer, uint8_t _offset,
                 struct halide_buffer_t *_brighter_buffer) { ... }

plus `brighter_argv` and `brighter_metadata`. Expressions and statements
are printed by the C-family printer shared with the CUDA emitter
(`backends/c_like`); this dialect adds what a host function needs: heap
allocations through `halide_malloc`, failed checks reported through
`halide_error` with Halide's error codes, and parallel loops (printed as
serial loops: the C file carries no thread pool). The runtime functions it
calls come from any pipelang object, or `hl.compile_standalone_runtime`.

Vectorized schedules print as scalar code with the same semantics: each
vector statement becomes one statement per lane (`scalarize.py`), which the
C compiler may vectorize again.
"""
from __future__ import annotations

import dataclasses
import string

import numpy as np

from pipelang import ir
from pipelang.aot.abi import (BAD_DIMENSIONS, BAD_TYPE, BUFFER_ARGUMENT_IS_NULL,
                              CONSTRAINT_VIOLATED, HOST_IS_NULL, INPUT_BUFFER,
                              INPUT_SCALAR, OUT_OF_MEMORY, error_code, type_code)
from pipelang.aot.header import c_parameters, c_type, runtime_header
from pipelang.aot.scalarize import scalarize_vectors
from pipelang.backends.c_like import CodeGenError, CPrinter

OVERREAD_PAD = 64


class HostCPrinter(CPrinter):
    qualifier = "static inline"

    def __init__(self):
        super().__init__()
        self.heap: list = []          # C names of live halide_malloc allocations

    def _Ramp(self, e):
        raise CodeGenError("Internal error: vector code reached the C printer after scalarization")

    _Broadcast = _Shuffle = _Ramp

    def _Let(self, e):
        value = self.expr(e.value)
        token = self.bind(e.sym)
        name = self.scope[e.sym]
        body = self.expr(e.body)
        self.unbind(token)
        return f"({{ const {self.type_name(e.value.type)} {name} = {value}; {body}; }})"

    def fail_if(self, condition: str, code: int, fmt: str, values=()) -> None:
        """If `condition`: report through halide_error, free what is live, return `code`."""
        args = "".join(", " + v for v in values)
        self.line(f"if ({condition}) {{")
        self.depth += 1
        self.line("char pl_msg[1024];")
        self.line(f"snprintf(pl_msg, sizeof pl_msg, {_c_string(fmt)}{args});")
        self.line("halide_error(NULL, pl_msg);")
        for name in reversed(self.heap):
            self.line(f"halide_free(NULL, {name});")
        self.line(f"return {code};")
        self.depth -= 1
        self.line("}")

    def _s_AssertStmt(self, s):
        fmt, values = [], []
        for text, field, _, _ in string.Formatter().parse(s.message):
            fmt.append(text.replace("%", "%%"))
            if field is None:
                continue
            a = s.args[int(field) if field else len(values)]
            if a.type.is_float():
                fmt.append("%g")
                values.append(f"(double)({self.expr(a)})")
            elif a.type.is_uint() and a.type.bits() == 64:
                fmt.append("%llu")
                values.append(f"(unsigned long long)({self.expr(a)})")
            else:
                fmt.append("%lld")
                values.append(f"(long long)({self.expr(a)})")
        self.fail_if(f"!({self.expr(s.condition)})", error_code(s.message), "".join(fmt), values)

    def _s_PrefetchAddress(self, s):
        # The address in integers: a NonFaulting prefetch may name an element
        # outside the buffer, which C pointer arithmetic may not.
        self.line(f"__builtin_prefetch((const void *)((uintptr_t){self.name_of(s.buf)} + "
                  f"(uintptr_t)((int64_t)({self.expr(s.index)}) * {s.type.bytes()})), 0, 0);")

    def _s_For(self, s):
        if s.kind is ir.ForKind.PARALLEL:
            self.line("/* parallel loop, printed serially */")
            s = dataclasses.replace(s, kind=ir.ForKind.SERIAL)
        super()._s_For(s)

    def _s_Allocate(self, s):
        n = ir.const_value(s.size)
        tn = self.type_name(s.type)
        if n is not None and int(n) * s.type.bytes() <= 16 * 1024:
            return super()._s_Allocate(s)
        size = self.expr(s.size)
        token = self.bind(s.buf)
        name = self.scope[s.buf]
        self.line(f"{tn} *{name} = ({tn} *)halide_malloc(NULL, sizeof({tn}) * "
                  f"(size_t)(({size}) > 0 ? ({size}) : 0) + {OVERREAD_PAD});")
        self.fail_if(f"!{name}", OUT_OF_MEMORY, f"Out of memory allocating {s.buf.name}")
        self.heap.append(name)
        self.stmt(s.body)
        self.heap.pop()
        self.line(f"halide_free(NULL, {name});")
        self.unbind(token)


def _c_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def c_source(fn_name: str, lowered: ir.LoweredFunc, arguments, embedded: dict,
             target_string: str) -> str:
    """The C translation unit for one pipeline (see the module docstring)."""
    p = HostCPrinter()
    lowered_args = {a.sym: a for a in lowered.args}
    p.depth = 1
    p.lines = []
    for a in arguments:
        p.used_names.add(a.c_name)
    # Embedded Buffers become static arrays.
    statics = []
    for sym, buf in embedded.items():
        arr = np.ascontiguousarray(buf._array)
        name = p.fresh(sym)
        tn = p.type_name(buf.type())
        flat = arr.reshape(-1)
        values = ", ".join(p.int_const(buf.type(), int(v)) if not buf.type().is_float()
                           else p.float_const(buf.type(), float(v)) for v in flat)
        statics.append(f"static {tn} {name}[{max(flat.size, 1)}] = {{{values or '0'}}};")
        p.scope[sym] = name
        _bind_fields(p, sym, [str(m) for m in buf._mins],
                     [str(arr.shape[arr.ndim - 1 - d]) for d in range(arr.ndim)],
                     [str(arr.strides[arr.ndim - 1 - d] // arr.itemsize) for d in range(arr.ndim)])
    for a in arguments:
        if a.kind == INPUT_SCALAR:
            if a.sym in lowered_args:
                p.scope[a.sym] = p.fresh(a.sym)
                p.line(f"const {p.type_name(a.type)} {p.scope[a.sym]} = {a.c_name};")
            continue
        what = "Input buffer" if a.kind == INPUT_BUFFER else "Output buffer"
        b = a.c_name
        p.fail_if(f"!{b}", BUFFER_ARGUMENT_IS_NULL, f"{what} {a.name} is NULL.")
        p.fail_if(f"!{b}->host", HOST_IS_NULL, f"{what} {a.name} has a NULL host pointer (the C output does not "
                             f"answer bounds queries).")
        bits = 1 if a.type.is_bool() else a.type.bits()
        p.fail_if(f"{b}->type.code != {type_code(a.type)} || {b}->type.bits != {bits} || "
                  f"{b}->type.lanes != 1", BAD_TYPE, f"{what} {a.name} has type {a.type} but type of the buffer passed in "
                         f"is code %d bits %d", [f"(int){b}->type.code", f"(int){b}->type.bits"])
        p.fail_if(f"{b}->dimensions != {a.dimensions}", BAD_DIMENSIONS, f"{what} {a.name} requires a buffer of exactly {a.dimensions} "
                               f"dimensions, but the buffer passed in has %d dimensions",
               [f"{b}->dimensions"])
        if a.dimensions and a.dense:
            p.fail_if(f"{b}->dim[0].stride != 1 && {b}->dim[0].extent > 1", CONSTRAINT_VIOLATED, f"Constraint violated: {a.name}.stride.0 (%d) == 1 (1)",
                   [f"{b}->dim[0].stride"])
        if a.sym not in lowered_args:
            continue
        name = p.fresh(a.sym)
        p.scope[a.sym] = name
        tn = p.type_name(a.type)
        p.line(f"{tn} *{name} = ({tn} *){b}->host;")
        p.line(f"(void){name};")
        fields = []
        for k, what_field in enumerate(("min", "extent", "stride")):
            fields.append([f"{b}->dim[{d}].{what_field}" for d in range(a.dimensions)])
        _bind_fields(p, a.sym, *fields, declare=True)
    p.stmt(scalarize_vectors(lowered.body))
    p.line("return 0;")
    body = "\n".join(p.lines)

    params = c_parameters(arguments, False)
    argv_values = []
    for i, a in enumerate(arguments):
        if a.kind == INPUT_SCALAR:
            argv_values.append(f"*({c_type(a.type)} *)args[{i}]")
        else:
            argv_values.append(f"(struct halide_buffer_t *)args[{i}]")
    entries = []
    for a in arguments:
        bits = 1 if a.type.is_bool() else a.type.bits()
        entries.append(f'    {{"{a.name}", {a.kind}, {a.dimensions}, '
                       f'{{(halide_type_code_t){type_code(a.type)}, {bits}, 1}}, '
                       f'NULL, NULL, NULL, NULL, NULL}},')
    return f"""// Generated by pipelang (compile_to_c): pipeline {fn_name} for {target_string}.
// Link with a pipelang object or standalone runtime (halide_error, halide_malloc, halide_free).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

{runtime_header()}
#ifdef __cplusplus
extern "C" {{
#endif

{p.helpers_text()}
{chr(10).join(statics)}

int {fn_name}({params}) {{
{body}
}}

int {fn_name}_argv(void **args) {{
    return {fn_name}({", ".join(argv_values)});
}}

static const struct halide_filter_argument_t {fn_name}_arguments[{max(len(entries), 1)}] = {{
{chr(10).join(entries)}
}};

static const struct halide_filter_metadata_t {fn_name}_metadata_storage = {{
    1, {len(entries)}, {fn_name}_arguments, "{target_string}", "{fn_name}"
}};

const struct halide_filter_metadata_t *{fn_name}_metadata() {{
    return &{fn_name}_metadata_storage;
}}

#ifdef __cplusplus
}}  // extern "C"
#endif
"""


def _bind_fields(p, sym, mins, extents, strides, declare=False) -> None:
    """Bind a buffer's min/extent/stride symbols to C expressions (locals if `declare`)."""
    for d in range(len(mins)):
        for field, value in ((ir.buffer_min, mins[d]), (ir.buffer_extent, extents[d]),
                             (ir.buffer_stride, strides[d])):
            fsym = field(sym, d)
            if declare:
                name = p.fresh(fsym)
                p.line(f"const int32_t {name} = {value};")
                p.line(f"(void){name};")
                p.scope[fsym] = name
            else:
                p.scope[fsym] = f"((int32_t){value})"
