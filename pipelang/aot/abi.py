"""Halide's calling convention around a lowered pipeline.

The LLVM backend's entry point takes one packed int64 argv (see
`backends/llvm/jit.py`). For ahead-of-time use this module builds, in a
module of its own that calls the pipeline's (linked into one by
`aot/module.py`), what Halide's generated objects export:

    int NAME(halide_buffer_t *in..., T scalar..., halide_buffer_t *out...)
    int NAME_argv(void **args)
    const halide_filter_metadata_t *NAME_metadata(void)

`NAME` checks each buffer (not null, its type and dimensions, a dense
dimension 0 unless its `dim(0).set_stride` lifted that), packs the argv, calls the pipeline, and turns a failed check
inside it into a message for `halide_error` and Halide's error code.
"""
from __future__ import annotations

import string
from dataclasses import dataclass

import llvmlite.ir as ll
import numpy as np

from pipelang import ir

I1, I8, I16, I32, I64 = ll.IntType(1), ll.IntType(8), ll.IntType(16), ll.IntType(32), ll.IntType(64)
PTR = ll.PointerType()
TYPE_T = ll.LiteralStructType([I8, I8, I16])
# halide_buffer_t: device, device_interface, host, flags, type, dimensions, dim, padding.
BUFFER_T = ll.LiteralStructType([I64, PTR, PTR, I64, TYPE_T, I32, PTR, PTR])
DIM_T = ll.LiteralStructType([I32, I32, I32, I32])
ARGUMENT_T = ll.LiteralStructType([PTR, I32, I32, TYPE_T, PTR, PTR, PTR, PTR, PTR])
METADATA_T = ll.LiteralStructType([I32, I32, PTR, PTR, PTR])
MESSAGE_BYTES = 1024


def llvm_type(t: ir.Type):
    """The llvmlite.ir type of a scalar argument of type `t` (bool is i1)."""
    if t.is_handle():
        return PTR
    if t.is_float():
        return {16: ll.HalfType(), 32: ll.FloatType(), 64: ll.DoubleType()}[t.bits()]
    return ll.IntType(t.bits())

# halide_error_code_t values used here.
GENERIC_ERROR = -1
BAD_TYPE = -3
ACCESS_OUT_OF_BOUNDS = -4
CONSTRAINT_VIOLATED = -8
OUT_OF_MEMORY = -11
BUFFER_ARGUMENT_IS_NULL = -12
REQUIREMENT_FAILED = -27
SPECIALIZE_FAIL = -31
HOST_IS_NULL = -34
BAD_DIMENSIONS = -43

INPUT_SCALAR, INPUT_BUFFER, OUTPUT_BUFFER = 0, 1, 2


@dataclass
class AbiArgument:
    """One argument of the exported function, in Halide's order."""
    name: str           # as the user named it (Halide's metadata name)
    c_name: str         # the parameter's name in the header
    kind: int           # INPUT_SCALAR, INPUT_BUFFER or OUTPUT_BUFFER
    type: ir.Type
    dimensions: int = 0
    sym: ir.Symbol | None = None    # the lowered argument it feeds (None: unused)
    default: object = None          # a scalar's default value
    dense: bool = True              # a buffer that must have stride 1 in dimension 0


def type_code(t: ir.Type) -> int:
    if t.is_float():
        return 2
    if t.is_handle():
        return 3
    return 0 if t.is_int() else 1


def type_name(t: ir.Type) -> str:
    return str(t)


def error_code(message: str) -> int:
    """The halide_error_code_t for a failed check with this message."""
    if "is accessed at" in message:
        return ACCESS_OUT_OF_BOUNDS
    if message.startswith("Out of memory"):
        return OUT_OF_MEMORY
    if message.startswith("Constraint violated"):
        return CONSTRAINT_VIOLATED
    if message.startswith("Requirement Failed"):
        return REQUIREMENT_FAILED
    if "specializ" in message:
        return SPECIALIZE_FAIL
    return GENERIC_ERROR


def _c(t, v):
    return ll.Constant(t, v)


class AbiBuilder:
    """The exported functions for `cg` (a finished `CodeGen`), in the
    llvmlite module `self.m`, which declares the pipeline's function: link it
    with `cg.module` and make that function internal."""

    def __init__(self, cg, fn_name: str, arguments: list, embedded: dict, target_string: str,
                 user_context: bool, bounds=None):
        self.cg = cg
        # (function name, dims per argument, [argument has a region]) of the bounds query.
        self.bounds = bounds
        self.m = ll.Module(f"{fn_name}_abi")
        self.fn_name = fn_name
        self.arguments = arguments
        self.embedded = embedded        # Symbol -> Buffer compiled into the object
        self.target_string = target_string
        self.user_context = user_context
        self._strings = {}

    def build(self) -> None:
        inner = ll.Function(self.m, ll.FunctionType(I32, [PTR, PTR]), self.cg.name)
        self.halide_error = self._declare("halide_error", ll.VoidType(), PTR, PTR)
        self.snprintf = ll.Function(self.m, ll.FunctionType(I32, [PTR, I64, PTR], var_arg=True),
                                    "snprintf") if "snprintf" not in self.m.globals else \
            self.m.globals["snprintf"]
        self.init = self._declare("pl_aot_runtime_init", ll.VoidType())
        entry = self.build_entry(inner)
        self.build_argv(entry)
        self.build_metadata()

    # ------------------------------------------------------------ helpers

    def _declare(self, name, ret, *args):
        g = self.m.globals.get(name)
        return g if g is not None else ll.Function(self.m, ll.FunctionType(ret, list(args)), name)

    def cstring(self, text: str):
        if text not in self._strings:
            data = bytearray(text.encode()) + b"\0"
            g = ll.GlobalVariable(self.m, ll.ArrayType(I8, len(data)),
                                  self.m.get_unique_name(f"{self.fn_name}.str"))
            g.initializer = ll.Constant(ll.ArrayType(I8, len(data)), data)
            g.global_constant = True
            g.linkage = "private"
            g.type = PTR    # an opaque pointer, so strings of any length mix (select)
            self._strings[text] = g
        return self._strings[text]

    def fail(self, b, code: int, fmt: str, *values):
        """Report `fmt % values` through halide_error and return `code`."""
        buf = b.alloca(ll.ArrayType(I8, MESSAGE_BYTES))
        b.call(self.snprintf, [buf, _c(I64, MESSAGE_BYTES), self.cstring(fmt)] + list(values))
        b.call(self.halide_error, [self.uc, buf])
        b.ret(_c(I32, code))

    def check(self, b, ok, code: int, fmt: str, *values):
        with b.if_then(b.not_(ok), likely=False):
            self.fail(b, code, fmt, *values)

    # ------------------------------------------------------------ NAME(...)

    def param_types(self) -> list:
        types = [PTR] if self.user_context else []
        for a in self.arguments:
            types.append(PTR if a.kind != INPUT_SCALAR else llvm_type(a.type))
        return types

    def build_entry(self, inner):
        cg = self.cg
        fn = ll.Function(self.m, ll.FunctionType(I32, self.param_types()), self.fn_name)
        fn.attributes.add("nounwind")
        params = list(fn.args)
        self.uc = params.pop(0) if self.user_context else _c(PTR, None)
        b = ll.IRBuilder(fn.append_basic_block("entry"))
        # One more buffer slot after the pipeline's: the bounds query's result.
        argv = b.alloca(ll.ArrayType(I64, cg.argv_size + 4), name="argv")
        err = b.alloca(ll.ArrayType(I64, max(cg.err_slots, 1)), name="err")
        b.call(self.init, [])
        offsets = {a.sym: off for a, off in zip(cg.lowered.args, cg.arg_offsets)}
        lowered = {a.sym: a for a in cg.lowered.args}

        def slot(i):
            return b.gep(argv, [_c(I32, 0), _c(I32, i)], inbounds=True)

        query = _c(I1, 0)
        for a, value in zip(self.arguments, params):
            value.name = a.c_name
            if a.kind == INPUT_SCALAR:
                if a.sym in offsets:
                    b.store(self.scalar_slot(b, value, a.type), slot(offsets[a.sym]))
                continue
            query = b.or_(query, self.check_buffer(b, a, value))
            if a.sym in offsets:
                self.unpack_buffer(b, value, lowered[a.sym].dimensions, offsets[a.sym], slot)
        for sym, buf in self.embedded.items():
            self.embed_buffer(b, sym, buf, offsets[sym], slot)
        if self.bounds is not None:
            with b.if_then(query, likely=False):
                self.bounds_query(b, params, argv, err, slot)

        rc = b.call(inner, [b.bitcast(argv, PTR), b.bitcast(err, PTR)])
        ok_block = fn.append_basic_block("ok")
        fail_block = fn.append_basic_block("failed")
        b.cbranch(b.icmp_signed("==", rc, _c(I32, 0)), ok_block, fail_block)
        b.position_at_end(ok_block)
        b.ret(_c(I32, 0))
        b.position_at_end(fail_block)
        default = fn.append_basic_block("unknown_error")
        switch = b.switch(rc, default)
        for code, info in enumerate(cg.errors, start=1):
            case = fn.append_basic_block(f"error_{code}")
            switch.add_case(_c(I32, code), case)
            b.position_at_end(case)
            fmt, values = self.message_format(b, info, err)
            self.fail(b, error_code(info.message), fmt, *values)
        b.position_at_end(default)
        self.fail(b, GENERIC_ERROR, f"Pipeline {self.fn_name} failed with internal code %d", rc)
        return fn

    def scalar_slot(self, b, v, t: ir.Type):
        if t.is_handle():
            return b.ptrtoint(v, I64)
        if t.is_float():
            bits = b.bitcast(v, ll.IntType(t.bits()))
            return bits if t.bits() == 64 else b.zext(bits, I64)
        if t.bits() == 64:
            return v
        return b.sext(v, I64) if t.is_int() else b.zext(v, I64)

    def bounds_query(self, b, params, argv, err, slot):
        """Halide's bounds query: a buffer with a NULL host gets, in place of data,
        the region the pipeline would read (an input) or write (an output), with
        dense strides; nothing runs."""
        name, max_dims, has_region = self.bounds
        n = max(1, 2 * max_dims * len(self.arguments))
        result = b.alloca(ll.ArrayType(I32, n), name="bounds")
        off = self.cg.argv_size
        b.store(b.ptrtoint(result, I64), slot(off))
        for k, v in ((1, 0), (2, n), (3, 1)):
            b.store(_c(I64, v), slot(off + k))
        query_fn = self._declare(name, I32, PTR, PTR)
        rc = b.call(query_fn, [b.bitcast(argv, PTR), b.bitcast(err, PTR)])
        with b.if_then(b.icmp_signed("!=", rc, _c(I32, 0)), likely=False):
            self.fail(b, GENERIC_ERROR, f"The bounds query of {self.fn_name} failed")
        for k, (a, buf) in enumerate(zip(self.arguments, params)):
            if a.kind == INPUT_SCALAR or not has_region[k]:
                continue
            host = b.load(self.field(b, buf, 2), typ=PTR)
            with b.if_then(b.icmp_unsigned("==", host, _c(PTR, None))):
                dim = b.load(self.field(b, buf, 6), typ=PTR)
                stride = _c(I32, 1)
                for d in range(a.dimensions):
                    def at(i):
                        return b.load(b.gep(result, [_c(I32, 0), _c(I32, i)], inbounds=True),
                                      typ=I32)
                    mn, ext = at(2 * (k * max_dims + d)), at(2 * (k * max_dims + d) + 1)
                    for field, value in ((0, mn), (1, ext), (2, stride)):
                        b.store(value, b.gep(dim, [_c(I32, d), _c(I32, field)], inbounds=True,
                                             source_etype=DIM_T))
                    stride = b.mul(stride, ext)
        b.ret(_c(I32, 0))

    def check_buffer(self, b, a: AbiArgument, buf):
        """Check a buffer argument; whether it asks for a bounds query (NULL host)."""
        what = "Input buffer" if a.kind == INPUT_BUFFER else "Output buffer"
        self.check(b, b.icmp_unsigned("!=", buf, _c(PTR, None)), BUFFER_ARGUMENT_IS_NULL,
                   f"{what} {a.name} is NULL.")
        host = b.load(self.field(b, buf, 2), typ=PTR)
        is_query = b.icmp_unsigned("==", host, _c(PTR, None))
        if self.bounds is None:
            self.check(b, b.not_(is_query), HOST_IS_NULL,
                       f"{what} {a.name} has a NULL host pointer (a bounds query), but this "
                       f"pipeline was built without bounds queries.")
        typ = self.field(b, buf, 4)
        code = b.load(b.gep(typ, [_c(I32, 0), _c(I32, 0)], inbounds=True,
                                 source_etype=TYPE_T), typ=I8)
        bits = b.load(b.gep(typ, [_c(I32, 0), _c(I32, 1)], inbounds=True,
                                 source_etype=TYPE_T), typ=I8)
        lanes = b.load(b.gep(typ, [_c(I32, 0), _c(I32, 2)], inbounds=True,
                                 source_etype=TYPE_T), typ=I16)
        t = a.type
        want_bits = 1 if t.is_bool() else t.bits()
        same = b.and_(b.and_(b.icmp_unsigned("==", code, _c(I8, type_code(t))),
                             b.icmp_unsigned("==", bits, _c(I8, want_bits))),
                      b.icmp_unsigned("==", lanes, _c(I16, 1)))
        names = [self.cstring(n) for n in ("int", "uint", "float", "handle", "bfloat")]
        code_name = self.cstring("type")
        for k, n in enumerate(names):
            code_name = b.select(b.icmp_unsigned("==", code, _c(I8, k)), n, code_name)
        self.check(b, same, BAD_TYPE,
                   f"{what} {a.name} has type {type_name(t)} but type of the buffer passed in "
                   f"is %s%d", code_name, b.zext(bits, I32))
        dims = b.load(self.field(b, buf, 5), typ=I32)
        self.check(b, b.icmp_signed("==", dims, _c(I32, a.dimensions)), BAD_DIMENSIONS,
                   f"{what} {a.name} requires a buffer of exactly {a.dimensions} dimensions, "
                   f"but the buffer passed in has %d dimensions", dims)
        if a.dimensions and a.dense:
            dim0 = b.load(self.field(b, buf, 6), typ=PTR)
            extent = b.load(b.gep(dim0, [_c(I32, 0), _c(I32, 1)], inbounds=True,
                                  source_etype=DIM_T), typ=I32)
            stride = b.load(b.gep(dim0, [_c(I32, 0), _c(I32, 2)], inbounds=True,
                                  source_etype=DIM_T), typ=I32)
            dense = b.or_(b.or_(b.icmp_signed("==", stride, _c(I32, 1)),
                                b.icmp_signed("<=", extent, _c(I32, 1))), is_query)
            self.check(b, dense, CONSTRAINT_VIOLATED,
                       f"Constraint violated: {a.name}.stride.0 (%d) == 1 (1)", stride)
        return is_query

    @staticmethod
    def field(b, buf, i):
        return b.gep(buf, [_c(I32, 0), _c(I32, i)], inbounds=True, source_etype=BUFFER_T)

    def unpack_buffer(self, b, buf, dims: int, off: int, slot):
        b.store(b.ptrtoint(b.load(self.field(b, buf, 2), typ=PTR), I64), slot(off))
        dim = b.load(self.field(b, buf, 6), typ=PTR)
        for d in range(dims):
            for k in range(3):
                p = b.gep(dim, [_c(I32, d), _c(I32, k)], inbounds=True, source_etype=DIM_T)
                b.store(b.sext(b.load(p, typ=I32), I64), slot(off + 1 + 3 * d + k))

    def embed_buffer(self, b, sym, buf, off: int, slot):
        """A Buffer used by the algorithm is compiled into the object (as Halide does)."""
        arr = buf._array
        data = bytearray(np.ascontiguousarray(arr).tobytes()) or bytearray(1)
        g = ll.GlobalVariable(self.m, ll.ArrayType(I8, len(data)),
                              self.m.get_unique_name(f"{self.fn_name}.{sym.name}.data"))
        g.initializer = ll.Constant(ll.ArrayType(I8, len(data)), data)
        g.global_constant = True
        g.linkage = "private"
        g.align = 64
        b.store(b.ptrtoint(g, I64), slot(off))
        n = arr.ndim
        strides = np.ascontiguousarray(arr).strides
        mins = buf._mins
        for d in range(n):
            axis = n - 1 - d
            b.store(_c(I64, int(mins[d])), slot(off + 1 + 3 * d))
            b.store(_c(I64, arr.shape[axis]), slot(off + 2 + 3 * d))
            b.store(_c(I64, strides[axis] // max(arr.itemsize, 1)), slot(off + 3 + 3 * d))

    def message_format(self, b, info, err):
        """printf format and values for a failed assertion's message."""
        fmt, values = [], []
        for text, field, spec, _ in string.Formatter().parse(info.message):
            fmt.append(text.replace("%", "%%"))
            if field is None:
                continue
            i = int(field) if field else len(values)
            t = info.arg_types[i]
            raw = b.load(b.gep(err, [_c(I32, 0), _c(I32, i)], inbounds=True), typ=I64)
            if t.is_float():
                fmt.append("%g")
                values.append(b.bitcast(raw, ll.DoubleType()))
            else:
                fmt.append("%llu" if t.is_uint() and t.bits() == 64 else "%lld")
                values.append(raw)
        return "".join(fmt), values

    # ------------------------------------------------------------ NAME_argv

    def build_argv(self, entry):
        fn = ll.Function(self.m, ll.FunctionType(I32, [PTR]), self.fn_name + "_argv")
        fn.attributes.add("nounwind")
        b = ll.IRBuilder(fn.append_basic_block("entry"))
        values = []
        args = ([AbiArgument("__user_context", "", INPUT_SCALAR, ir.Handle())]
                if self.user_context else []) + self.arguments
        for i, a in enumerate(args):
            p = b.load(b.gep(fn.args[0], [_c(I32, i)], source_etype=PTR), typ=PTR)
            if a.kind != INPUT_SCALAR:
                values.append(p)
            elif a.type.is_bool():
                values.append(b.trunc(b.load(p, typ=I8), I1))
            else:
                values.append(b.load(p, typ=llvm_type(a.type)))
        b.ret(b.call(entry, values))

    # ------------------------------------------------------------ NAME_metadata

    def scalar_value(self, t: ir.Type, value):
        if value is None:
            return _c(PTR, None)
        if t.is_float():
            raw = np.array([value], np.float32 if t.bits() == 32 else np.float64)
            bits = int(raw.view(np.uint32 if t.bits() == 32 else np.uint64)[0])
        else:
            bits = int(value) & ((1 << 64) - 1)
        g = ll.GlobalVariable(self.m, I64, self.m.get_unique_name(f"{self.fn_name}.scalar"))
        g.initializer = _c(I64, bits)
        g.global_constant = True
        g.linkage = "private"
        return g

    def build_metadata(self):
        entries = []
        for a in self.arguments:
            t = a.type
            typ = ll.Constant(TYPE_T, [_c(I8, type_code(t)), _c(I8, 1 if t.is_bool() else t.bits()),
                                       _c(I16, 1)])
            default = self.scalar_value(t, a.default) if a.kind == INPUT_SCALAR else _c(PTR, None)
            entries.append(ll.Constant(ARGUMENT_T, [
                self.cstring(a.name), _c(I32, a.kind), _c(I32, a.dimensions), typ,
                default, _c(PTR, None), _c(PTR, None), _c(PTR, None), _c(PTR, None)]))
        array_t = ll.ArrayType(ARGUMENT_T, len(entries))
        args = ll.GlobalVariable(self.m, array_t, f"{self.fn_name}.arguments")
        args.initializer = ll.Constant(array_t, entries)
        args.global_constant = True
        args.linkage = "private"
        meta = ll.GlobalVariable(self.m, METADATA_T, f"{self.fn_name}.metadata")
        meta.initializer = ll.Constant(METADATA_T, [
            _c(I32, 1), _c(I32, len(entries)), args, self.cstring(self.target_string),
            self.cstring(self.fn_name)])
        meta.global_constant = True
        meta.linkage = "private"
        fn = ll.Function(self.m, ll.FunctionType(PTR, []), self.fn_name + "_metadata")
        fn.attributes.add("nounwind")
        ll.IRBuilder(fn.append_basic_block("entry")).ret(meta)
