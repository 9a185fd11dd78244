"""Lowered IR -> an LLVM module (text, built through `textir`).

The module defines `i32 <name>(i64* argv, i64* err)` (see `jit.py` for the
argv layout). Each parallel loop becomes an internal task function
`i32 task(i8* closure, i32 index)` handed to the runtime's `pl_par_for`.

Error protocol: the entry function keeps an i32 `flag` on its stack and
passes it (and `err`) to every task through the closure. A failing check
claims `flag` with a compare-and-swap of 0 -> its code; only the winner
writes `err`, so concurrent failures in tasks never tear the values. Every
error exit frees the heap allocations live in its own function and returns
nonzero; the entry function returns the code in `flag`. Codes 1..n are the
AssertStmts in pre-order; n+1.. are out-of-memory failures.

Each buffer gets its own TBAA type (as in Halide), so LLVM may assume that
different buffers never overlap: arguments of one call must not alias.

Invariants relied on: symbols are unique (lowering guarantees it), loop
variables and indices are Int(32), and VECTORIZED/UNROLLED loops are gone.
"""
from __future__ import annotations

import re


from pipelang.errors import ScheduleError
from pipelang.ir import nodes as N
from pipelang.ir.nodes import ArgKind, ForKind, MemoryType
from pipelang.ir.types import Type
from pipelang.ir.visitor import IRMutator, IRVisitor, uses_symbol
from pipelang.lowering.analysis.linear import _field_names
from pipelang.lowering.analysis.const_bounds import constant_bounds, float_bounds
from pipelang.backends.llvm import textir as ll
from pipelang.backends.llvm.exprs import ExprCodeGen, llvm_type, mem_type, splat, x86_vector_bits

I8, I32, I64 = ll.IntType(8), ll.IntType(32), ll.IntType(64)
PTR = ll.PointerType()
TASK_TYPE = ll.FunctionType(I32, [PTR, I32])
# Allocations with a constant size up to this many bytes live on the stack.
STACK_LIMIT = 16 * 1024
HEAP_ALIGN = 64
# Padding after every allocation, so a vector read past the end stays inside it.
OVERREAD_PAD = 64


class ErrorInfo:
    """What the Python side needs to turn an error code into a message."""

    def __init__(self, message: str, arg_types: tuple):
        self.message = message
        self.arg_types = arg_types


def _asserts(s, found: list) -> list:
    """The AssertStmts in `s`, in the order codegen meets them (a statement
    shared by two places counts twice, as it is generated twice)."""
    cls = type(s)
    if cls is N.AssertStmt:
        found.append(s)
        return found
    for name in _field_names(cls):
        v = getattr(s, name)
        if isinstance(v, N.Stmt):
            _asserts(v, found)
        elif type(v) is tuple:
            for x in v:
                if isinstance(x, N.Stmt):
                    _asserts(x, found)
    return found


class _Captured(dict):
    """A task's variables or buffers: those bound in the task itself, and
    those of the enclosing function, each taken into the task's closure
    the first time the task uses it (`capture(outer value)` gives the
    task's value). So the closure holds what the task uses without a walk
    of the task's body beforehand (a fifth of lens_blur's IR generation:
    its parallel loops' bodies are large graphs of shared expressions)."""

    def __init__(self, outer: dict, capture, rank: int):
        super().__init__()
        self.outer, self.capture, self.rank = outer, capture, rank
        self.keys: dict = {}        # captured symbol: its closure field's sort key
        self._order = None

    def get(self, sym, default=None):
        v = dict.get(self, sym, _MISSING)
        if v is _MISSING:
            v = self.outer.get(sym, _MISSING)
            if v is _MISSING:
                return default
            key = self.keys[sym] = (self.rank, self._outer_position(sym))
            v = self[sym] = self.capture(v, key)
        return v

    def position(self, sym):
        """Where `sym` comes in this scope, as a plain scope's order would
        have it: captured symbols first, in their closure's order."""
        key = self.keys.get(sym)
        if key is not None:
            return (0, key)
        return (1, list(self).index(sym))

    def _outer_position(self, sym):
        # Closure fields follow the enclosing scope's order, as a walk of
        # the body would have found them.
        if isinstance(self.outer, _Captured):
            return self.outer.position(sym)
        if self._order is None:
            self._order = {s: i for i, s in enumerate(self.outer)}
        return self._order[sym]

    def __missing__(self, sym):
        v = self.get(sym, _MISSING)
        if v is _MISSING:
            raise KeyError(sym)
        return v


def _is_const_int(e):
    return isinstance(e, (N.IntImm, N.UIntImm))


class _FunctionState:
    """Per-LLVM-function codegen state (the entry function or one task)."""

    def __init__(self, fn, err, flag):
        self.fn = fn
        # Allocas go in `entry`, which only branches to `body` (see `finish`).
        self.entry = fn.append_basic_block("entry")
        self.builder = ll.IRBuilder(fn.append_basic_block("body"))
        self.err = err
        self.flag = flag
        self.env = {}        # Symbol -> llvm value
        self.buffers = {}    # Symbol -> host pointer
        self.heap = []       # live heap allocations, innermost last
        self.exits = {}      # live heap allocations (their refs): the error exit freeing them

    def finish(self):
        ll.IRBuilder(self.entry).branch(self.fn.blocks[1])


class CodeGen(ExprCodeGen):
    def __init__(self, lowered: N.LoweredFunc, triple: str = "", features: str = ""):
        """`triple` and `features`: the LLVM target the code is for (with
        none, only target-independent IR is made)."""
        self.lowered = lowered
        self.x86_vector_bits = x86_vector_bits(triple, features)
        # For `expr`'s reuse of equal expressions (see ExprCodeGen.expr).
        self._numbers: dict = {}
        self._numbers_by_id: dict = {}   # id(node): (number, kind) (see _value_number)
        self._numbered: list = []         # the nodes numbered, kept alive
        self._values: dict = {}
        self._stmt_values: dict = {}
        self._masks: list = []            # by value number: the bits of the variables it uses
        self._sym_bits: dict = {}         # variable symbol: its bit
        self._next_bit = 1                # the bit of the next variable numbered
        self._keys_by_mask: dict = {}     # mask: the keys of `_values` with that mask
        self._geps: dict = {}             # (buffer pointer, index, type): (address, its block)
        self._bound_once: set = set()     # (scope, symbol) bound by a _Binding
        self._last_bound: dict = {}       # (scope, symbol): the value bound last
        self.name = re.sub(r"[^A-Za-z0-9_]", "_", lowered.name) or "pipeline"
        self.module = ll.Module(self.name)
        self.errors: list[ErrorInfo] = []
        self.err_slots = 1
        self._ntasks = 0
        self._assert_index = 0
        self.arg_offsets = []
        self.argv_size = 0
        # Constant (lo, hi) bounds of the integer lets and loop variables in
        # scope, so an allocation of varying but bounded size can live on the
        # stack (as Halide finds a constant upper bound for it).
        self.bounds: dict = {}

    # ------------------------------------------------------------ entry point

    def generate(self) -> ll.Module:
        for a in _asserts(self.lowered.body, []):
            self.errors.append(ErrorInfo(a.message, tuple(x.type for x in a.args)))
            self.err_slots = max(self.err_slots, len(a.args))

        fn = ll.Function(self.module, ll.FunctionType(I32, [PTR, PTR]), self.name)
        fn.args[0].name, fn.args[1].name = "argv", "err"
        for arg in fn.args:
            arg.add_attribute("noalias")
        fn.attributes.add("nounwind")
        argv, err = fn.args
        self.st = _FunctionState(fn, err, None)
        b = self.st.builder
        self.st.flag = self._entry_alloca(I32, "error_flag")
        b.store(ll.Constant(I32, 0), self.st.flag)
        self._unpack_arguments(argv)
        self.stmt(self.lowered.body)
        b.ret(ll.Constant(I32, 0))
        self.st.finish()
        return self.module

    def _unpack_arguments(self, argv):
        b = self.st.builder
        offset = 0

        def slot(i, name):
            return b.load(b.gep(argv, [ll.Constant(I64, i)], inbounds=True, source_etype=I64),
                          name=name, typ=I64)
        for a in self.lowered.args:
            self.arg_offsets.append(offset)
            name = a.sym.name
            if a.kind is ArgKind.BUFFER:
                host = b.inttoptr(slot(offset, name + ".host"), PTR)
                self.st.buffers[a.sym] = host
                self.st.env[N.buffer_host(a.sym)] = host
                for d in range(a.dimensions):
                    fields = (N.buffer_min, N.buffer_extent, N.buffer_stride)
                    for k, field in enumerate(fields):
                        sym = field(a.sym, d)
                        self.st.env[sym] = b.trunc(slot(offset + 1 + 3 * d + k, sym.name), I32)
                offset += 1 + 3 * a.dimensions
            else:
                self.st.env[a.sym] = self._scalar_from_slot(slot(offset, name), a.type)
                offset += 1
        self.argv_size = offset

    def _scalar_from_slot(self, raw, t: Type):
        b = self.st.builder
        if t.is_handle():
            return b.inttoptr(raw, PTR)
        if t.is_float():
            if t.bits() == 64:
                return b.bitcast(raw, ll.DoubleType())
            return b.bitcast(b.trunc(raw, ll.IntType(t.bits())), llvm_type(t))
        return raw if t.bits() == 64 else b.trunc(raw, llvm_type(t))

    # ------------------------------------------------------------ statements

    def stmt(self, s):
        self.forget_values(statement_only=True)
        getattr(self, "_" + type(s).__name__)(s)

    def _Block(self, s):
        for x in s.stmts:
            self.stmt(x)

    def _LetStmt(self, s):
        with self.bind(s.sym, self.expr(s.value)), self.bound(s.sym, s.value):
            self.stmt(s.body)

    def _Evaluate(self, s):
        self.expr(s.value)

    def _PrefetchAddress(self, s):
        """`llvm.prefetch` of the element's address: a read, no temporal
        locality, into the data cache (Halide's `_halide_prefetch`). The
        address is computed without `inbounds`: a NonFaulting prefetch may
        name an element outside the buffer, which a prefetch never touches."""
        b = self.st.builder
        base = self.st.buffers.get(s.buf)
        assert base is not None, f"buffer {s.buf.name} is not defined at this point"
        index = s.index
        if index.type.is_vector():          # (not made by lowering: the first lane's line)
            index = index.base if isinstance(index, N.Ramp) else (
                index.value if isinstance(index, N.Broadcast) else N.Shuffle((index,), (0,)))
        ptr = b.gep(base, [self.index64(index)], inbounds=False,
                    source_etype=mem_type(s.type.element_of()))
        fn = self._declare("llvm.prefetch.p0", ll.FunctionType(ll.VoidType(), [PTR, I32, I32, I32]))
        b.call(fn, [ptr, ll.Constant(I32, 0), ll.Constant(I32, 0), ll.Constant(I32, 1)])

    def _IfThenElse(self, s):
        b = self.st.builder
        cond = self.expr(s.condition)
        if s.else_case is None:
            with b.if_then(cond):
                self.stmt(s.then_case)
        else:
            with b.if_else(cond) as (then, otherwise):
                with then:
                    self.stmt(s.then_case)
                with otherwise:
                    self.stmt(s.else_case)

    def _AssertStmt(self, s):
        code = self._assert_index + 1
        self._assert_index += 1
        b = self.st.builder
        ok = self.expr(s.condition)
        fail = self.st.fn.append_basic_block("assert_failed")
        cont = self.st.fn.append_basic_block("assert_ok")
        b.cbranch(ok, cont, fail)
        b.position_at_end(fail)
        self._fail(code, s.args)
        b.position_at_end(cont)

    def _fail(self, code: int, args=()):
        """Claim the error flag with `code`, record `args` if first, and exit."""
        b = self.st.builder
        old = b.cmpxchg(self.st.flag, ll.Constant(I32, 0), ll.Constant(I32, code),
                        "seq_cst", "seq_cst")
        won = b.extract_value(old, 1)
        with b.if_then(won):
            for i, a in enumerate(args):
                b.store(self._as_err_slot(self.expr(a), a.type),
                        b.gep(self.st.err, [ll.Constant(I64, i)], source_etype=I64), align=8)
        self._error_exit()

    def _as_err_slot(self, v, t: Type):
        b = self.st.builder
        if t.is_float():
            return b.bitcast(b.fpext(v, ll.DoubleType()) if t.bits() < 64 else v, I64)
        if t.bits() == 64:
            return v
        return b.sext(v, I64) if t.is_int() else b.zext(v, I64)

    def _error_exit(self):
        """Free this function's live heap allocations and return the error code:
        a branch to the function's exit for these allocations. The exits form
        a chain, each freeing one allocation and going on to the exit of the
        allocations outside it, so that every error shares one `free` of
        each allocation and one return, as Halide's destructor block does.
        (Freeing all of them at each error would repeat the calls at every
        check -- 282 of the 328 calls of `free` local_laplacian would have,
        cold code that LLVM optimizes and compiles at every exit; shared,
        its LLVM time is ~2% less, 904 -> 885 ms, for outputs and run
        times that stay the same.)"""
        b = self.st.builder
        b.branch(self._exit_for(tuple(self.st.heap)))

    def _exit_for(self, heap: tuple):
        """The block that frees `heap` (innermost last) and returns the error code."""
        st = self.st
        key = tuple(p.ref for p in heap)
        block = st.exits.get(key)
        if block is not None:
            return block
        block = st.exits[key] = st.fn.append_basic_block("error_exit")
        b = ll.IRBuilder(block)
        if heap:
            b.call(self._libc("free"), [heap[-1]])
            b.branch(self._exit_for(heap[:-1]))
        else:
            b.ret(b.load_atomic(st.flag, "seq_cst", 4, typ=I32))
        return block

    def _For(self, s):
        assert s.kind in (ForKind.SERIAL, ForKind.PARALLEL), (
            f"{s.kind} loop over {s.sym.name} reached codegen; lowering must remove it")
        if s.kind is ForKind.PARALLEL:
            return self._parallel_for(s)
        b = self.st.builder
        lo = self.expr(s.min)
        hi = b.add(lo, self.expr(s.extent), name=s.sym.name + ".end")
        pre = b.block
        body = self.st.fn.append_basic_block(s.sym.name + ".loop")
        done = self.st.fn.append_basic_block(s.sym.name + ".done")
        b.cbranch(b.icmp_signed("<", lo, hi), body, done)
        b.position_at_end(body)
        i = b.phi(I32, name=s.sym.name)
        i.add_incoming(lo, pre)
        with self.bind(s.sym, i), self.bound_loop(s):
            self.stmt(s.body)
        nxt = b.add(i, ll.Constant(I32, 1), flags=("nsw",))
        i.add_incoming(nxt, b.block)
        b.cbranch(b.icmp_signed("<", nxt, hi), body, done)
        b.position_at_end(done)

    # ------------------------------------------------------------ parallel loops

    def _parallel_for(self, s):
        outer = self.st
        self._ntasks += 1
        index = self._ntasks
        task_name = f"{self.name}.par_for.{s.sym.name}.{index}"
        task = ll.Function(self.module, TASK_TYPE, task_name)
        task.linkage = "internal"
        task.attributes.add("nounwind")
        st = _FunctionState(task, None, None)
        # The closure: (value in the enclosing function, its value in the
        # task), loaded in the task's entry block once its layout is known.
        captured = []

        def capture(v, order):
            inner = ll.Value(v.type, task.temp())
            captured.append((order, len(captured), v, inner))
            return inner
        st.err, st.flag = capture(outer.err, (0, 0)), capture(outer.flag, (0, 1))
        st.env = _Captured(outer.env, capture, 1)
        st.buffers = _Captured(outer.buffers, capture, 2)
        st.env[s.sym] = task.args[1]
        self.st = st
        with self.bound_loop(s):
            self.stmt(s.body)
        st.builder.ret(ll.Constant(I32, 0))
        captured = [(v, inner) for _, _, v, inner in sorted(captured, key=lambda c: c[:2])]
        closure_type = ll.IdentifiedStructType(self.module, f"closure.{index}",
                                               [v.type for v, _ in captured])
        lines = st.entry.lines
        for i, (_, inner) in enumerate(captured):
            ptr = task.temp()
            lines.append(f"{ptr} = getelementptr inbounds {closure_type.s}, ptr {task.args[0].ref}, "
                         f"i32 0, i32 {i}")
            lines.append(f"{inner.ref} = load {inner.type.s}, ptr {ptr}")
        st.finish()
        self.st = outer

        b = outer.builder
        closure = self._entry_alloca(closure_type, "closure")
        for i, (v, _) in enumerate(captured):
            b.store(v, b.gep(closure, [ll.Constant(I32, 0), ll.Constant(I32, i)],
                             inbounds=True, source_etype=closure_type))
        par_for = self._declare("pl_par_for", ll.FunctionType(I32, [PTR, PTR, I32, I32]))
        r = b.call(par_for, [task, closure, self.expr(s.min), self.expr(s.extent)])
        with b.if_then(b.icmp_signed("!=", r, ll.Constant(I32, 0)), likely=False):
            self._error_exit()

    # ------------------------------------------------------------ atomic updates

    def _Atomic(self, s):
        """One store: an atomic read-modify-write (atomicrmw add/fadd for `f = f + e`,
        else a compare-and-swap loop). Several stores (a Tuple): a spin lock."""
        stores = _stores(s.body)
        if len(stores) == 1 and stores[0].value.type.is_scalar() and stores[0].index.type.is_scalar():
            previous = self.st.__dict__.get("atomic_store")
            self.st.atomic_store = stores[0]
            self.stmt(s.body)
            self.st.atomic_store = previous
            return
        b = self.st.builder
        lock = self.module.globals.get("pl.atomic.lock")
        if lock is None:
            lock = ll.GlobalVariable(self.module, I32, "pl.atomic.lock")
            lock.linkage = "internal"
            lock.initializer = ll.Constant(I32, 0)
        spin = self.st.fn.append_basic_block("atomic.lock")
        held = self.st.fn.append_basic_block("atomic.held")
        b.branch(spin)
        b.position_at_end(spin)
        got = b.cmpxchg(lock, ll.Constant(I32, 0), ll.Constant(I32, 1), "acquire", "monotonic")
        b.cbranch(b.extract_value(got, 1), held, spin)
        b.position_at_end(held)
        self.stmt(s.body)
        b.store_atomic(ll.Constant(I32, 0), lock, "release", 4)

    def _Store(self, s):
        if self.st.__dict__.get("atomic_store") is not s:
            return super()._Store(s)
        b = self.st.builder
        t = s.value.type
        _, ptr = self._address(s.buf, t, s.index)
        old = N.Variable(t, N.Symbol("atomic.old"))
        value = _ReplaceLoad(s.buf, s.index, old).mutate(s.value)
        mem = mem_type(t)
        bits = ll.IntType(t.bytes() * 8)
        added = _added_to(value, old)
        if added is not None and not t.is_bool():
            e = self.expr(added)
            b.atomic_rmw("fadd" if t.is_float() else "add", ptr, e, "monotonic")
            return
        pre = b.block
        loop = self.st.fn.append_basic_block("atomic.cas")
        done = self.st.fn.append_basic_block("atomic.done")
        first = b.load(ptr, typ=bits, align=t.bytes())
        b.branch(loop)
        b.position_at_end(loop)
        cur = b.phi(bits)
        cur.add_incoming(first, pre)
        as_value = b.bitcast(cur, mem) if t.is_float() else cur
        if t.is_bool():
            as_value = b.trunc(as_value, llvm_type(t))
        with self.bind(old.sym, as_value):
            new = self.expr(value)
        if t.is_bool():
            new = b.zext(new, mem)
        new = b.bitcast(new, bits) if t.is_float() else new
        res = b.cmpxchg(ptr, cur, new, "monotonic", "monotonic")
        cur.add_incoming(b.extract_value(res, 0), b.block)
        b.cbranch(b.extract_value(res, 1), done, loop)
        b.position_at_end(done)

    # ------------------------------------------------------------ memoization

    def _Memoized(self, s):
        """Look the realization up in the memoization cache; compute and store it on a miss."""
        from pipelang.backends.llvm.memoize import ensure_memoize_runtime
        ensure_memoize_runtime()
        b = self.st.builder
        n, m = len(s.key), len(s.buffers)
        keys = self._entry_alloca(ll.ArrayType(I64, n), "memo.key")
        for i, k in enumerate(s.key):
            v = self.expr(k)
            if k.type.is_float():
                v = b.bitcast(v, ll.IntType(k.type.bits()))
            if k.type.bits() < 64:
                v = b.zext(v, I64) if (k.type.is_uint() or k.type.is_float()) else b.sext(v, I64)
            b.store(v, b.gep(keys, [ll.Constant(I32, 0), ll.Constant(I32, i)],
                             source_etype=ll.ArrayType(I64, n)))
        bufs = self._entry_alloca(ll.ArrayType(PTR, m), "memo.buffers")
        sizes = self._entry_alloca(ll.ArrayType(I64, m), "memo.sizes")
        for i, (buf, size) in enumerate(zip(s.buffers, s.sizes)):
            idx = [ll.Constant(I32, 0), ll.Constant(I32, i)]
            b.store(self.st.buffers[buf], b.gep(bufs, idx, source_etype=ll.ArrayType(PTR, m)))
            b.store(self.expr(size), b.gep(sizes, idx, source_etype=ll.ArrayType(I64, m)))
        sig = ll.FunctionType(I32, [PTR, I32, PTR, PTR, I32])
        args = [keys, ll.Constant(I32, n), bufs, sizes, ll.Constant(I32, m)]
        hit = b.call(self._declare("pl_memoize_lookup", sig), args)
        with b.if_then(b.icmp_signed("==", hit, ll.Constant(I32, 0))):
            self.stmt(s.body)
            store = self._declare("pl_memoize_store", ll.FunctionType(ll.VoidType(), sig.args))
            b.call(store, args)

    # ------------------------------------------------------------ allocations

    def _Allocate(self, s):
        b = self.st.builder
        elem_bytes = s.type.element_of().bytes() * s.type.lanes()
        const_size = s.size.value if _is_const_int(s.size) else None
        if const_size is None and s.memory is not MemoryType.HEAP:
            const_size = constant_bounds(s.size, self.bounds)[1]  # an upper bound
        register = s.memory is MemoryType.REGISTER
        if register and const_size is None:
            raise ScheduleError(f"Allocation {s.buf.name} has a dynamic size. Only fixed-size "
                                f"allocations can be stored in registers. Try storing on the "
                                f"heap or stack instead.")
        small = const_size is not None and max(const_size, 0) * elem_bytes <= STACK_LIMIT
        if (small and s.memory is not MemoryType.HEAP) or register:
            nbytes = max(const_size, 0) * elem_bytes + OVERREAD_PAD
            ptr = self._entry_alloca(ll.ArrayType(I8, nbytes), s.buf.name, align=HEAP_ALIGN)
            with self.bind_buffer(s.buf, ptr):
                self.stmt(s.body)
            return
        size = b.sext(self.expr(s.size), I64)
        size = b.select(b.icmp_signed("<", size, ll.Constant(I64, 0)), ll.Constant(I64, 0), size)
        nbytes = b.add(b.mul(size, ll.Constant(I64, elem_bytes)), ll.Constant(I64, OVERREAD_PAD))
        if s.memory is MemoryType.STACK:
            saved = b.call(self._declare("llvm.stacksave.p0", ll.FunctionType(PTR, [])), [])
            ptr = b.alloca(I8, size=nbytes, name=s.buf.name)
            ptr.type = PTR
            ptr.align = HEAP_ALIGN
            with self.bind_buffer(s.buf, ptr):
                self.stmt(s.body)
            b.call(self._declare("llvm.stackrestore.p0", ll.FunctionType(ll.VoidType(), [PTR])),
                   [saved])
            return
        slot = self._entry_alloca(PTR, s.buf.name + ".slot")
        rc = b.call(self._libc("posix_memalign"), [slot, ll.Constant(I64, HEAP_ALIGN), nbytes])
        with b.if_then(b.icmp_signed("!=", rc, ll.Constant(I32, 0)), likely=False):
            self._fail(self._oom_code(s), ())
        ptr = b.load(slot, typ=PTR, name=s.buf.name)
        self.st.heap.append(ptr)
        with self.bind_buffer(s.buf, ptr):
            self.stmt(s.body)
        self.st.heap.pop()
        b.call(self._libc("free"), [ptr])

    def _oom_code(self, s) -> int:
        self.errors.append(ErrorInfo(f"Out of memory allocating {s.buf.name}", ()))
        return len(self.errors)

    def _entry_alloca(self, typ, name, align=None):
        a = ll.IRBuilder(self.st.entry).alloca(typ, name=name)
        a.type = PTR  # llvmlite mistypes GEPs on typed pointers
        if align:
            a.align = align
        return a

    def _libc(self, name):
        types = {
            "posix_memalign": ll.FunctionType(I32, [PTR, I64, I64]),
            "free": ll.FunctionType(ll.VoidType(), [PTR]),
        }
        return self._declare(name, types[name])

    def _rebinding(self, scope: dict, sym, old, new) -> None:
        """A binding of `sym` in `scope` to `new` starts (`old`: what it
        replaces) or ends: values `expr` computed may use an earlier binding
        of `sym`, so they are forgotten when `sym` is bound again to another
        value. Bound again to the value it had last (an unrolled body's copies
        each bind the same let to the same sum, invariant in the unrolled
        variable), they stay: each copy's index arithmetic is generated
        once, not once per copy."""
        key = (id(scope), sym)
        last = self._last_bound.get(key, _MISSING)
        if (old is not _MISSING or key in self._bound_once) and not _same_value(last, new):
            if scope is self.st.buffers:
                self.forget_values()
            else:
                self.forget_uses(sym)      # a variable's value or its constant bounds
        self._bound_once.add(key)
        self._last_bound[key] = new

    def bind_buffer(self, sym, ptr):
        return _Binding(self.st.buffers, sym, ptr, self._rebinding)

    def bind(self, sym, value):
        return _Binding(self.st.env, sym, value, self._rebinding)

    def bound(self, sym, value):
        """Record the constant bounds of an integer or float let for its scope."""
        if value.type.is_scalar() and (value.type.is_int() or value.type.is_uint()):
            return _Binding(self.bounds, sym, constant_bounds(value, self.bounds), self._rebinding)
        if value.type.is_float():
            return _Binding(self.bounds, sym, float_bounds(value, self.bounds), self._rebinding)
        return _Binding(self.bounds, sym, (None, None), self._rebinding)

    def bound_loop(self, s):
        """Record the constant bounds of a loop variable for the loop's body."""
        min_lo, min_hi = constant_bounds(s.min, self.bounds)
        ext_hi = constant_bounds(s.extent, self.bounds)[1]
        hi = None if min_hi is None or ext_hi is None else min_hi + ext_hi - 1
        return _Binding(self.bounds, s.sym, (min_lo, hi), self._rebinding)


def _stores(s) -> list:
    found = []

    class _Find(IRVisitor):
        def visit_Store(self, node):
            found.append(node)
            self.generic_visit(node)
    _Find().visit(s)
    return found


class _ReplaceLoad(IRMutator):
    """The value a store writes, with reads of the point it writes replaced by `old`."""

    def __init__(self, buf, index, old):
        self.buf, self.index, self.old = buf, index, old

    def mutate_Load(self, node):
        if node.buf is self.buf and node.index == self.index and node.type == self.old.type:
            return self.old
        return self.generic_mutate(node)


def _added_to(value, old):
    """`e` if `value` is `old + e` (or `e + old`) with `e` free of `old`, else None."""
    if not isinstance(value, N.Add):
        return None
    for a, e in ((value.a, value.b), (value.b, value.a)):
        if a == old and not uses_symbol(e, old.sym):
            return e
    return None


class _Binding:
    """Bind `sym` in a scope dict for the duration of a `with` block."""

    def __init__(self, scope, sym, value, changed=None):
        self.scope, self.sym, self.value = scope, sym, value
        self.changed = changed      # called with (scope, sym, old, new) as a binding starts or ends

    def __enter__(self):
        self.old = self.scope.get(self.sym, _MISSING)
        if self.changed is not None:
            self.changed(self.scope, self.sym, self.old, self.value)
        self.scope[self.sym] = self.value

    def __exit__(self, *exc):
        if self.changed is not None and self.old is not _MISSING:
            self.changed(self.scope, self.sym, self.value, self.old)     # the old binding is back
        if self.old is _MISSING:
            del self.scope[self.sym]
        else:
            self.scope[self.sym] = self.old


_MISSING = object()


def _same_value(a, b) -> bool:
    """Whether bound values `a` and `b` are one value: LLVM values (an
    instruction's result is one object; equal constants may be two) or
    constant bounds (tuples of numbers)."""
    if a is b:
        return True
    if type(a) is tuple:
        return a == b
    return (type(a) is ll.Constant and type(b) is ll.Constant and a.ref == b.ref
            and str(a.type) == str(b.type))


def generate_module(lowered: N.LoweredFunc, triple: str = "", features: str = "") -> CodeGen:
    cg = CodeGen(lowered, triple, features)
    cg.generate()
    return cg


__all__ = ["CodeGen", "ErrorInfo", "generate_module", "llvm_type", "mem_type", "splat"]
