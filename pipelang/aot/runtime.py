"""The runtime an AOT object carries, so a C program needs nothing but libc
and pthreads: the JIT's thread pool (`backends/llvm/runtime.py`, the same
LLVM IR) plus Halide's error, print, allocation and thread-count entry
points.

Every function is `weak`, as in Halide's runtime: several pipelines linked
into one program share one copy, and a program overrides any of them
(`halide_error`, `halide_print`, `halide_malloc`, ...) by defining its own.
The pool's globals stay internal to the copy the linker keeps, since only
that copy's functions are ever called.

Initialization is lazy and thread-safe: `pl_aot_runtime_init` runs once
(an atomic 0 -> 1 -> 2 state; late callers spin until it is 2), sets up the
mutexes and condition variables, and sizes the pool from HL_NUM_THREADS or
the number of online CPUs.
"""
from __future__ import annotations

import llvmlite.ir as ll

from pipelang.backends.llvm.runtime import _Builder
from pipelang.target import Target, TargetOS

I8, I32, I64 = ll.IntType(8), ll.IntType(32), ll.IntType(64)
PTR = ll.PointerType()
VOID = ll.VoidType()
HEAP_ALIGN = 64


def _c(t, v):
    return ll.Constant(t, v)


def _cstring(m: ll.Module, name: str, text: str):
    data = bytearray(text.encode()) + b"\0"
    g = ll.GlobalVariable(m, ll.ArrayType(I8, len(data)), name)
    g.initializer = ll.Constant(ll.ArrayType(I8, len(data)), data)
    g.global_constant = True
    g.linkage = "internal"
    return g


class _RuntimeBuilder:
    def __init__(self, target: Target):
        self.target = target
        self.pool = _Builder()
        self.m = self.pool.build()

    def decl(self, name, ret, *args, var_arg=False):
        g = self.m.globals.get(name)
        if g is not None:
            return g
        return ll.Function(self.m, ll.FunctionType(ret, list(args), var_arg=var_arg), name)

    def function(self, name, ret, args):
        f = ll.Function(self.m, ll.FunctionType(ret, args), name)
        f.linkage = "weak"
        f.attributes.add("nounwind")
        return f, ll.IRBuilder(f.append_basic_block("entry"))

    def build(self) -> ll.Module:
        for f in self.m.functions:
            if not f.is_declaration and f.linkage != "internal":
                f.linkage = "weak"
        self.build_init()
        self.build_print_and_error()
        self.build_memory()
        self.build_threads()
        return self.m

    def build_init(self):
        m = self.m
        state = ll.GlobalVariable(m, I32, "pl_aot_init_state")
        state.initializer = _c(I32, 0)
        state.linkage = "internal"
        f, b = self.function("pl_aot_runtime_init", VOID, [])
        done, claim, init, spin = (f.append_basic_block(n) for n in ("done", "claim", "init", "spin"))
        b.cbranch(b.icmp_signed("==", b.load_atomic(state, "acquire", 4, typ=I32), _c(I32, 2)),
                  done, claim)
        b.position_at_end(claim)
        won = b.extract_value(b.cmpxchg(state, _c(I32, 0), _c(I32, 1), "acq_rel", "acquire"), 1)
        b.cbranch(won, init, spin)
        b.position_at_end(init)
        b.call(m.globals["pl_runtime_init"], [])
        getenv = self.decl("getenv", PTR, PTR)
        atoi = self.decl("atoi", I32, PTR)
        env = b.call(getenv, [b.bitcast(_cstring(m, "pl_env_threads", "HL_NUM_THREADS"), PTR)])
        have_env = b.icmp_unsigned("!=", env, _c(PTR, None))
        from_env = b.alloca(I32)
        b.store(_c(I32, 0), from_env)
        with b.if_then(have_env):
            b.store(b.call(atoi, [env]), from_env)
        n = b.load(from_env, typ=I32)
        with b.if_then(b.icmp_signed("<=", n, _c(I32, 0))):
            b.store(self.cpu_count(b), from_env)
        b.call(m.globals["pl_set_num_threads"], [b.load(from_env, typ=I32)])
        b.store_atomic(_c(I32, 2), state, "release", 4)
        b.branch(done)
        b.position_at_end(spin)
        again = b.icmp_signed("!=", b.load_atomic(state, "acquire", 4, typ=I32), _c(I32, 2))
        b.cbranch(again, spin, done)
        b.position_at_end(done)
        b.ret_void()

    def cpu_count(self, b):
        """sysconf(_SC_NPROCESSORS_ONLN); its number differs between C libraries."""
        os_ = self.target.os
        name = {TargetOS.OSX: 58, TargetOS.IOS: 58}.get(os_, 84)
        sysconf = self.decl("sysconf", I64, I32)
        n = b.trunc(b.call(sysconf, [_c(I32, name)]), I32)
        return b.select(b.icmp_signed("<", n, _c(I32, 1)), _c(I32, 1), n)

    def build_print_and_error(self):
        m = self.m
        handler_t = PTR
        write = self.decl("write", I64, I32, PTR, I64)
        strlen = self.decl("strlen", I64, PTR)

        f, b = self.function("halide_default_print", VOID, [PTR, PTR])
        b.call(write, [_c(I32, 1), f.args[1], b.call(strlen, [f.args[1]])])
        b.ret_void()
        default_print = f

        custom_print = ll.GlobalVariable(m, handler_t, "pl_custom_print")
        custom_print.initializer = default_print
        custom_print.linkage = "internal"
        f, b = self.function("halide_print", VOID, [PTR, PTR])
        b.call(b.load(custom_print, typ=ll.FunctionType(VOID, [PTR, PTR]).as_pointer()),
               [f.args[0], f.args[1]])
        b.ret_void()
        f, b = self.function("halide_set_custom_print", PTR, [PTR])
        old = b.load(custom_print, typ=PTR)
        b.store(f.args[0], custom_print)
        b.ret(old)

        # "Error: <msg>\n" through halide_print, as Halide's posix runtime does,
        # but returning (the caller gets the error code) instead of aborting.
        snprintf = self.decl("snprintf", I32, PTR, I64, PTR, var_arg=True)
        f, b = self.function("halide_default_error", VOID, [PTR, PTR])
        buf = b.alloca(ll.ArrayType(I8, 4096))
        fmt = _cstring(m, "pl_error_fmt", "Error: %s\n")
        b.call(snprintf, [buf, _c(I64, 4096), b.bitcast(fmt, PTR), f.args[1]])
        b.call(m.globals["halide_print"], [f.args[0], buf])
        b.ret_void()
        default_error = f

        handler = ll.GlobalVariable(m, handler_t, "pl_error_handler")
        handler.initializer = default_error
        handler.linkage = "internal"
        f, b = self.function("halide_error", VOID, [PTR, PTR])
        b.call(b.load(handler, typ=ll.FunctionType(VOID, [PTR, PTR]).as_pointer()),
               [f.args[0], f.args[1]])
        b.ret_void()
        f, b = self.function("halide_set_error_handler", PTR, [PTR])
        old = b.load(handler, typ=PTR)
        b.store(f.args[0], handler)
        b.ret(old)

    def build_memory(self):
        memalign = self.decl("posix_memalign", I32, PTR, I64, I64)
        free = self.decl("free", VOID, PTR)
        f, b = self.function("halide_malloc", PTR, [PTR, I64])
        slot = b.alloca(PTR)
        rc = b.call(memalign, [slot, _c(I64, HEAP_ALIGN), f.args[1]])
        b.ret(b.select(b.icmp_signed("==", rc, _c(I32, 0)), b.load(slot, typ=PTR), _c(PTR, None)))
        f, b = self.function("halide_free", VOID, [PTR, PTR])
        b.call(free, [f.args[1]])
        b.ret_void()

    def build_threads(self):
        m = self.m
        f, b = self.function("halide_set_num_threads", I32, [I32])
        b.call(m.globals["pl_aot_runtime_init"], [])
        old = b.call(m.globals["pl_get_num_threads"], [])
        n = f.args[0]
        # Halide: 0 means "the default" (HL_NUM_THREADS or the CPU count).
        n = b.select(b.icmp_signed("==", n, _c(I32, 0)), self.cpu_count(b), n)
        b.call(m.globals["pl_set_num_threads"], [n])
        b.ret(old)


def runtime_module(target: Target) -> ll.Module:
    """The standalone runtime as an llvmlite module (weak definitions)."""
    return _RuntimeBuilder(target).build()
