"""Optimize and JIT a generated module, and call it.

argv layout (one int64 array, arguments in order): a buffer takes
1 + 3*dims slots [host pointer, min0, extent0, stride0, min1, ...] (strides in
elements, dimension 0 innermost); a scalar takes one slot: ints sign-extended,
uints zero-extended, bool 0/1, float32 as its IEEE bits in the low 32 bits,
float64 as its bits.
"""
from __future__ import annotations

import contextlib
import functools
import threading
import time

import cffi
import llvmlite.binding as llvm
import numpy as np

from pipelang.errors import PipelineRuntimeError
from pipelang.ir import nodes as N
from pipelang.ir.nodes import ArgKind
from pipelang.ir.types import Type
from pipelang.backends.llvm.codegen import generate_module

# Compiled entry points are called through cffi: a call through a cffi
# function pointer with ready-made pointer arguments costs less than ctypes'.
ffi = cffi.FFI()
# The C types, parsed once at import (cffi's first parse of a type string
# costs milliseconds: not a cost of each compile or cache hit).
VOID_P = ffi.typeof("void *")
ENTRY_FN = ffi.typeof("int32_t (*)(void *, void *)")
# llvmlite releases the GIL inside LLVM, whose global context is not thread-safe.
llvm_lock = threading.RLock()


# LLVM tuning for every x86 target pipelang builds for. pipelang's code
# generator chooses vector memory accesses itself (a load at an index vector
# with no constant stride is one llvm.masked.gather, which this tuning has
# LLVM load lane by lane, as Halide's gathers are), so the only hardware
# gathers would be ones LLVM's SLP vectorizer makes from unrolled scalar
# loads -- code the schedule asked to be scalar. LLVM 22 does that where LLVM 21 (Halide's) does not: in
# apps/hist it packs the four unrolled rows' luma loads of the histogram
# update into a 4-lane vgatherqps, 5x slower on Zen 4 than scalar loads
# (the gather waits for the data-dependent increments before it).
X86_TUNING = "+prefer-no-gather"

# LLVM command-line options pipelang compiles with: {option: (pipelang's
# value, LLVM's default)}. Each turns off work that costs LLVM far more on
# pipelang's IR than it gains there (measured on the 20 apps of the
# benchmark suite: their outputs stayed bit for bit the same).
#
# -disable-lsr: Loop Strength Reduction, in the machine-code pipeline. It
# was over half of the machine-code time of the deep pipelines
# (local_laplacian: LSR 374 of 708 ms; blur 16 of 42 ms), two to three
# times what it spends on Halide's IR of the same pipelines in the same
# LLVM (164 and 5 ms): the indices `ExprCodeGen.index64` computes in 64
# bits show SCEV every load of a loop as an affine recurrence whose start
# is a polynomial of many loop-invariant unknowns, and LSR's search over
# the formulae of such uses grows steeply with their count (Halide's
# indices, widened from 32-bit lets, leave it a few uses per loop). Halide
# runs LSR; without it LLVM's time fell by up to 31% per app
# (local_laplacian, lens_blur, blur), and run times stayed within 2% (one
# thread, processor time, interleaved) except local_laplacian and
# conv_layer (7-8% faster) and bilateral_grid (1.5% slower).
#
# -enable-gvn-memdep=false: GVN's load elimination through memory
# dependence analysis, the optimizer's costliest part after InstCombine on
# stencil_chain (83 of 293 ms) and camera_pipe. pipelang's code generator
# already computes equal loads of a statement once, and EarlyCSE and LICM
# (on MemorySSA) remove the rest: the machine code of 17 apps is the same
# without it, that of camera_pipe, interpolate and lens_blur runs within
# the noise (0-1.8%), and the optimizer takes 0-25% less time
# (stencil_chain 333 -> 250 ms, camera_pipe 303 -> 234, local_laplacian
# 968 -> 889). Halide's pipeline runs it.
LLVM_OPTIONS = {"-disable-lsr": ("true", "false"), "-enable-gvn-memdep": ("false", "true")}

# More options, as LLVM_OPTIONS, for the optimizer when LLVM's loop
# vectorizer is off (`optimize(loop_opt=False)`, pipelang's default as
# Halide's).
#
# -enable-mem-access-versioning=false: loop access analysis (run by
# LoopLoadElimination on every innermost loop) then no longer collects
# the loads and stores whose stride is a symbolic value, which only let a
# pass version a loop on "stride == 1". The loop vectorizer is that
# pass's user; LoopLoadElimination versioned no loop of the 20 apps that
# way: their machine code is the same without it, and the optimizer
# takes 1.8% less time on local_laplacian (680 -> 668 ms) and 2.5% on
# lens_blur (518 -> 505 ms), the two with the most loops.
NO_LOOP_OPT_OPTIONS = {"-enable-mem-access-versioning": ("false", "true")}


@contextlib.contextmanager
def llvm_options(loop_opt: bool = True):
    """`LLVM_OPTIONS` (with `NO_LOOP_OPT_OPTIONS` unless `loop_opt`) set
    for what LLVM does in this block; LLVM's defaults again after it.
    LLVM's options are process-wide, so they hold only while pipelang
    compiles (under `llvm_lock`): llvmlite's other users in the process,
    such as numba's JIT, keep LLVM's defaults."""
    options = LLVM_OPTIONS if loop_opt else {**LLVM_OPTIONS, **NO_LOOP_OPT_OPTIONS}
    with llvm_lock:
        for option, (value, _) in options.items():
            llvm.set_option("pipelang", f"{option}={value}")
        try:
            yield
        finally:
            for option, (_, default) in options.items():
                llvm.set_option("pipelang", f"{option}={default}")


@functools.cache
def _host():
    from pipelang.target import host_cpu_feature_map
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    target = llvm.Target.from_triple(llvm.get_process_triple())
    features = host_cpu_feature_map().flatten()
    return target, llvm.get_host_cpu_name(), f"{features},{X86_TUNING}" if is_x86(target) else features


def is_x86(target) -> bool:
    return target.name in ("x86-64", "x86")


def host_description() -> tuple:
    """(triple, CPU name, CPU features): what code for this host depends on."""
    target, cpu, features = _host()
    return target.triple, cpu, features


def new_target_machine():
    """A target machine for the host CPU (name and features), at O3.

    An MCJIT engine takes ownership of its target machine, so each gets a new one.
    """
    target, cpu, features = _host()
    return target.create_target_machine(cpu=cpu, features=features, opt=3,
                                        codemodel="jitdefault", jit=True)


def _loading_target_machine():
    """A target machine for an engine that only loads object code: no CPU
    name or features, which nothing but the code generator reads (a new
    target machine parses the host's two hundred features: 0.2 of the
    0.3 ms it takes to make one, twice in a cache hit). Owned by the
    engine, as `new_target_machine`'s."""
    target, _, _ = _host()
    return target.create_target_machine(opt=3, codemodel="jitdefault", jit=True)


@functools.cache
def target_machine():
    """The shared target machine for optimizing, emitting object code and printing
    assembly (never given away)."""
    return new_target_machine()


def optimize(module_text: str, name: str = "module", loop_opt: bool = True, context=None):
    """Parse, verify and run the O3 pipeline with the SLP vectorizer.

    `loop_opt` turns on LLVM's loop vectorizer, interleaving and unrolling.
    They speed up loops that lowering left scalar, at a compile-time cost
    that grows with every such loop (several times slower when their
    accesses have unknown strides, which LLVM versions and gathers). Halide
    leaves them off by default (its EnableLLVMLoopOpt feature).
    """
    tm = target_machine()
    mod = llvm.parse_assembly(module_text, context)
    mod.name = name
    mod.triple = tm.triple
    mod.data_layout = str(tm.target_data)
    mod.verify()
    # The options hold while the pipeline is built too: LLVM reads some
    # (which passes the O3 pipeline has, LICM's caps) only then.
    with llvm_options(loop_opt):
        pto = llvm.create_pipeline_tuning_options(speed_level=3)
        pto.loop_vectorization = loop_opt
        pto.loop_interleaving = loop_opt
        pto.loop_unrolling = loop_opt
        pto.slp_vectorization = True
        pb = llvm.create_pass_builder(tm, pto)
        mpm = pb.getModulePassManager()
        try:
            mpm.run(mod, pb)
        finally:
            _dispose_module_pass_manager(mpm)
            pb.close()
            pto.close()
    return mod


def _dispose_module_pass_manager(mpm) -> None:
    """Free `mpm`. (llvmlite 0.50's ModulePassManager.close() frees nothing:
    ObjectRef's empty _dispose comes first in its method order, so every O3
    pipeline built stayed allocated: with what its passes kept after running,
    most of the 130 KB each compile used to leave behind.)"""
    from llvmlite.binding import ffi as llvm_ffi
    if not mpm._closed:
        llvm_ffi.lib.LLVMPY_DisposeNewModulePassManger(mpm)
        mpm.detach()


def emit_object(mod) -> bytes:
    """The object code of optimized module `mod`, for `load_object`.

    The shared target machine emits it: the same object, byte for byte, as
    an MCJIT engine given the module makes (checked on the 20 apps),
    without the engine's two runs of the IR verifier over the optimized
    module (LLVM built with assertions has MCJIT verify what it compiles)
    and without keeping the optimized module alive beside the code.
    Emitting and loading took 1-3 ms less than MCJIT on the apps."""
    with llvm_options():
        return target_machine().emit_object(mod)


def load_object(data: bytes) -> "Code":
    """Object code (see `emit_object`), loaded into an MCJIT engine.

    The engine needs a module to start from; the object is handed to it as
    that (empty) module's compiled form, through its object cache, rather
    than added beside it: MCJIT then loads the object instead of running
    its code generator on the empty module, which cost more than loading
    (0.6-1.4 ms of each load, twice in a cache hit: the runtime's and the
    pipeline's code)."""
    context = llvm.create_context()
    engine = llvm.create_mcjit_compiler(llvm.parse_assembly("", context), _loading_target_machine())
    engine.set_object_cache(None, lambda _module: data)
    engine.finalize_object()
    engine.set_object_cache()
    return Code(engine, context)


class Code:
    """Machine code in an MCJIT engine, with the LLVM context its module
    lives in: a context of its own, so that everything LLVM made for this
    module (types, constants, metadata) is freed with it, not kept in the
    global context for the life of the process."""

    def __init__(self, engine, context=None):
        self.engine = engine
        self.context = None
        if context is not None:
            # Disposed here, after the engine, never by its own finalizer: the
            # garbage collector may finalize the two in either order.
            self.context = context._ptr
            context._owned = True

    permanent = False    # see keep_forever

    def keep_forever(self) -> "Code":
        """Never free this code, not even at interpreter exit: for code that
        threads may still be running then (the runtime's thread pool: its
        workers spin in it after a parallel loop, and would jump into freed
        memory if the module were disposed under them)."""
        self.permanent = True
        return self

    def close(self) -> None:
        if self.permanent:
            return
        # The engine owns the module, which must go before its context.
        with llvm_lock:
            if self.engine is not None:
                self.engine.close()
                self.engine = None
            if self.context is not None:
                from llvmlite.binding import ffi
                ffi.lib.LLVMPY_ContextDispose(self.context)
                self.context = None

    def __del__(self):
        try:
            self.close()
        except Exception:       # noqa: BLE001 - interpreter shutdown: llvmlite may be gone
            pass


class ModuleSource:
    """The LLVM IR a module of machine code was compiled from, and how: what
    it takes to show the optimized IR of that code later.

    The optimized IR is made again on request rather than printed on every
    compile (printing it was 1% of LLVM's time on the deep pipelines, for
    text that only `llvm_ir()` and `assembly()` read). LLVM's optimizer is
    deterministic: the same text, options and target give the same module
    the machine code was made from."""

    __slots__ = ("text", "name", "loop_opt")

    def __init__(self, text: str, name: str, loop_opt: bool):
        self.text, self.name, self.loop_opt = text, name, loop_opt

    def optimized_text(self) -> str:
        return self._with_optimized(str)

    def assembly(self) -> str:
        """The assembly of the optimized module, as `emit_object` emits its code."""
        def emit(mod):
            with llvm_options():
                return target_machine().emit_assembly(mod)
        return self._with_optimized(emit)

    def _with_optimized(self, use):
        """use(the optimized module), in a context of its own freed after."""
        with llvm_lock:
            context = llvm.create_context()
            mod = optimize(self.text, self.name, self.loop_opt, context)
            try:
                return use(mod)
            finally:
                mod.close()             # (before its context)
                context.close()


def compile_module(module_text, name: str, loop_opt: bool = True, cache=None, tag: str = "",
                   key: str | None = None):
    """(Code, ModuleSource or None, object key or None) for LLVM IR `module_text`.

    The `ModuleSource` gives the optimized IR and assembly on request. With
    a `CompileCache`, the object code is looked up by a hash of the
    unoptimized IR, the options and the toolchain (see `pipelang.cache`),
    and stored after a miss; a hit skips LLVM's optimizer and code
    generator (and gives no `ModuleSource`). `key` replaces that hash
    when the caller knows what the IR depends on; then `module_text` may be
    a function making the text, called only on a miss."""
    if cache is not None:
        if key is None:
            from pipelang.cache import make_key, toolchain_key
            key = make_key(toolchain_key(), "llvm-object", tag, int(loop_opt), module_text)
        data = cache.get(key)
        if data is not None:
            with llvm_lock:
                return load_object(data), None, key
    if callable(module_text):
        module_text = module_text()
    with llvm_lock:
        context = llvm.create_context()
        mod = optimize(module_text, name, loop_opt, context)
        try:
            data = emit_object(mod)
        finally:
            mod.close()                 # (before its context)
            context.close()
        code = load_object(data)
    if cache is not None:
        cache.put(key, data)
    return code, ModuleSource(module_text, name, loop_opt), key


class CodeInfo:
    """What calling compiled code needs besides the code: plain data, kept
    beside the object code in the compile cache (as JSON)."""

    def __init__(self, name, args, arg_offsets, argv_size, err_slots, errors):
        self.name = name
        self.args = tuple(args)             # ir.Argument, in argv order
        self.arg_offsets = list(arg_offsets)
        self.argv_size = argv_size
        self.err_slots = err_slots
        self.errors = list(errors)          # ErrorInfo, by error code - 1

    def to_json(self) -> dict:
        t = lambda ty: [ty.code().value, ty.bits(), ty.lanes()]
        return {"name": self.name, "arg_offsets": self.arg_offsets, "argv_size": self.argv_size,
                "err_slots": self.err_slots,
                "args": [[a.kind.value, t(a.type), a.dimensions] for a in self.args],
                "errors": [[e.message, [t(x) for x in e.arg_types]] for e in self.errors]}

    @staticmethod
    def from_json(d: dict, args) -> "CodeInfo":
        """`args`: this process's lowered arguments; they must match the record."""
        from pipelang.backends.llvm.codegen import ErrorInfo
        from pipelang.ir.types import TypeCode
        t = lambda v: Type(TypeCode(v[0]), v[1], v[2])
        stored = [(k, t(ty), dims) for k, ty, dims in d["args"]]
        if stored != [(a.kind.value, a.type, a.dimensions) for a in args]:
            raise ValueError("cached code was compiled for other arguments")
        errors = [ErrorInfo(m, tuple(t(x) for x in types)) for m, types in d["errors"]]
        return CodeInfo(d["name"], args, d["arg_offsets"], d["argv_size"], d["err_slots"], errors)


class JITFunction:
    """A compiled pipeline: call it with the packed argv (see the module docstring)."""

    def __init__(self, lowered: N.LoweredFunc, loop_opt: bool = True, cache=None):
        from pipelang.backends.llvm.runtime import ensure_runtime
        ensure_runtime()
        start, cpu_start = time.perf_counter(), time.process_time()
        triple, _, features = host_description()
        cg = generate_module(lowered, triple, features)
        text = str(cg.module)
        cg.module.release()
        info = CodeInfo(cg.name, lowered.args, cg.arg_offsets, cg.argv_size, cg.err_slots, cg.errors)
        cpu_mid = time.process_time()
        code, self._source, self.object_key = compile_module(text, cg.name, loop_opt, cache)
        self._llvm_ir = None
        self._setup(code, info)
        self.compile_seconds = time.perf_counter() - start
        # (step, processor seconds): making the LLVM IR, then LLVM (optimizer
        # and machine code).
        self.timings = [("codegen", cpu_mid - cpu_start), ("llvm", time.process_time() - cpu_mid)]

    @classmethod
    def from_object(cls, data: bytes, info: CodeInfo) -> "JITFunction":
        """Code loaded from the compile cache (no optimized IR text kept)."""
        from pipelang.backends.llvm.runtime import ensure_runtime
        ensure_runtime()
        start = time.perf_counter()
        self = cls.__new__(cls)
        self.timings = []
        with llvm_lock:
            code = load_object(data)
        self._source = self._llvm_ir = None
        self.object_key = None
        self._setup(code, info)
        self.compile_seconds = time.perf_counter() - start
        return self

    def _setup(self, code: Code, info: CodeInfo) -> None:
        self._code = code
        with llvm_lock:
            address = code.engine.get_function_address(info.name)
        if not address:
            raise RuntimeError(f"compiled code has no function {info.name}")
        self.info = info
        self.name = info.name
        self.args = info.args
        self.arg_offsets = info.arg_offsets
        self.argv_size = info.argv_size
        self._errors = info.errors
        # One err array per JITFunction: concurrent calls of the same function
        # from several Python threads may mix up error values (never codes).
        self._err = np.zeros(max(info.err_slots, 1), np.int64)
        self._err_ptr = self._err.ctypes.data
        self.err_c = ffi.cast(VOID_P, self._err_ptr)
        self.fn = ffi.cast(ENTRY_FN, address)

    def __call__(self, argv: np.ndarray) -> None:
        assert argv.dtype == np.int64 and argv.size >= self.argv_size and argv.flags.c_contiguous
        rc = self.fn(ffi.cast(VOID_P, argv.ctypes.data), self.err_c)
        if rc:
            self._raise(rc)

    def call_ptr(self, argv) -> None:
        """As calling, with argv given as a cffi pointer (as `ArgPacker` keeps
        one) or an address: no checks, the cheapest call."""
        if type(argv) is int:
            argv = ffi.cast(VOID_P, argv)
        rc = self.fn(argv, self.err_c)
        if rc:
            self._raise(rc)

    def _raise(self, rc: int):
        assert 0 < rc <= len(self._errors), f"unknown error code {rc} from {self.name}"
        info = self._errors[rc - 1]
        values = [_from_slot(int(self._err[i]), t) for i, t in enumerate(info.arg_types)]
        raise PipelineRuntimeError(info.message.format(*values))

    @property
    def llvm_ir(self) -> str | None:
        """The optimized LLVM IR of this code (None for code loaded from the
        compile cache), made on first use (see `ModuleSource`)."""
        if self._llvm_ir is None and self._source is not None:
            self._llvm_ir = self._source.optimized_text()
        return self._llvm_ir

    def assembly(self) -> str:
        if self._source is None:
            raise RuntimeError("no LLVM IR kept for code loaded from the compile cache")
        return self._source.assembly()

    def make_argv(self, *values) -> np.ndarray:
        return pack_argv(self.args, values)


def _from_slot(raw: int, t: Type):
    if t.is_float():
        return float(np.array([raw], np.int64).view(np.float64)[0])
    if t.is_uint() and t.bits() == 64:
        return raw & ((1 << 64) - 1)
    return raw


def pack_scalar(value, t: Type) -> int:
    """The int64 slot value of scalar `value` of type `t`."""
    if t.is_float():
        if t.bits() == 32:
            return int(np.array([value], np.float32).view(np.uint32)[0])
        return int(np.array([value], np.float64).view(np.int64)[0])
    if t.is_bool():
        return int(bool(value))
    v = int(value) & ((1 << t.bits()) - 1)
    if t.is_int() and v >= 1 << (t.bits() - 1):
        v -= 1 << t.bits()
    if v >= 1 << 63:
        v -= 1 << 64
    return v


def pack_argv(args, values) -> np.ndarray:
    """argv for `args` from numpy arrays (buffers) and Python numbers (scalars).

    A buffer's dimension 0 is the array's last axis (Halide's x is innermost);
    every min is 0. Pass `(array, mins)` to give mins (in dimension order).
    The result holds references to the arrays, so they outlive it.
    """
    slots, keep = [], []
    for a, v in zip(args, values, strict=True):
        if a.kind is ArgKind.BUFFER:
            arr, mins = v if isinstance(v, tuple) else (v, (0,) * a.dimensions)
            assert arr.ndim == a.dimensions, (a.sym.name, arr.shape)
            keep.append(arr)
            slots.append(arr.ctypes.data)
            for d in range(a.dimensions):
                axis = arr.ndim - 1 - d
                slots += [mins[d], arr.shape[axis], arr.strides[axis] // arr.itemsize]
        else:
            slots.append(pack_scalar(v, a.type))
    argv = np.array(slots, dtype=np.int64).reshape(-1).view(_Argv)
    argv.arrays = keep
    return argv


class _Argv(np.ndarray):
    """An argv that keeps the arrays whose addresses it holds alive."""
    arrays: list
