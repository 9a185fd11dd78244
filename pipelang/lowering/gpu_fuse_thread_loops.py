"""Fuse the thread loops of each GPU kernel into one thread nest (Halide's FuseGPUThreadLoops).

Runs last among the loop passes (after partitioning), on IR that
`check_gpu_loops` accepted. Within each kernel (its block loops), every
stage's thread loops become one shared nest over fresh thread ids whose
extents are the block size: the per-dimension maximum over all stages.

  * a stage's thread loop over `v` becomes `let v = tid + min` under
    `if (tid < extent)` unless the extent is the block size;
  * a stage with fewer thread dimensions runs where the extra ids are 0;
  * block-level work outside any thread loop (a Func computed at the block
    without gpu_threads) runs in thread 0 only;
  * a barrier follows every block-level statement that does work, and ends
    every iteration of a block-level serial loop that contains one;
  * allocations at block level move to shared memory (`gpu_shared`), hoisted
    between the block loops and the thread nest; their size must have a
    constant bound. Allocations inside thread loops stay per thread.

    gpu_block b {                      gpu_block b { allocate f in gpu_shared
      allocate f {                       gpu_thread ty < 10 { gpu_thread tx < 32 {
        gpu_thread y < 10 { .. f .. }      if (ty < 10) { let y = ty; .. f .. }
        gpu_thread y < 8 { .. g .. } }     gpu_thread_barrier()
                                           if (ty < 8) { let y = ty; .. g .. } } } }
"""
from __future__ import annotations

from pipelang import ir
from pipelang.errors import ScheduleError
from pipelang.lowering.gpu_loops import (MAX_THREADS_PER_BLOCK, Bounds, is_thread_loop, loop_owner,
                                         thread_extent_bound)

BARRIER = ir.Evaluate(ir.Intrinsic(ir.Int(32), ir.Op.GPU_BARRIER, ()))
_DIMS = "xyz"


def is_barrier(s) -> bool:
    return isinstance(s, ir.Evaluate) and isinstance(s.value, ir.Intrinsic) and \
        s.value.op is ir.Op.GPU_BARRIER


def _ends_with_barrier(s) -> bool:
    """A block-level loop whose every iteration ends with a barrier needs none after it."""
    if not isinstance(s, ir.For):
        return False
    body = s.body
    return isinstance(body, ir.Block) and is_barrier(body.stmts[-1])


def _thread_chain(loop: ir.For) -> list:
    """The perfectly nested thread loops starting at `loop`, outermost first."""
    chain = []
    s = loop
    while True:
        if is_thread_loop(s):
            chain.append(s)
            s = s.body
        elif isinstance(s, ir.LetStmt):
            s = s.body
        else:
            return chain


class _Work(ir.IRVisitor):
    """Whether a statement stores to memory, and whether it has thread loops."""

    def __init__(self):
        self.stores = False
        self.threads = False

    def visit_Store(self, node):
        self.stores = True

    def visit_For(self, node):
        if is_thread_loop(node):
            self.threads = True
        self.generic_visit(node)

    def visit_Evaluate(self, node):
        self.stores = True      # a print or other effect


def _work(s) -> _Work:
    w = _Work()
    w.visit(s)
    return w


class _BlockSize(ir.IRVisitor):
    """The block size: per dimension (x innermost), the max thread-loop extent bound."""

    def __init__(self, bounds):
        self.bounds = bounds
        self.dims = [1, 1, 1]
        self.depth = 1              # the most thread dimensions any stage uses

    def visit_LetStmt(self, node):
        token = self.bounds.let(node)
        self.visit(node.body)
        self.bounds.pop(token)

    def visit_For(self, node):
        if is_thread_loop(node):
            chain = _thread_chain(node)
            self.depth = max(self.depth, len(chain))
            for d, loop in enumerate(reversed(chain)):
                self.dims[d] = max(self.dims[d], thread_extent_bound(loop, self.bounds))
        token = self.bounds.loop(node)
        self.visit(node.body)
        self.bounds.pop(token)


class _Fuse:
    """Rewrite one kernel's block-level body (see the module docstring)."""

    def __init__(self, dims, tids, kernel_name, bounds):
        self.dims = dims
        self.tids = tids
        self.kernel_name = kernel_name
        self.shared: list = []       # hoisted block-level allocations (buf, type, size)
        self.bounds = bounds

    def tid(self, d):
        return ir.Variable(ir.Int(32), self.tids[d])

    def single_thread(self, s):
        cond = None
        for d in range(3):
            if self.dims[d] > 1:
                c = ir.EQ(self.tid(d), ir.i32(0))
                cond = c if cond is None else ir.And(cond, c)
        return s if cond is None else ir.IfThenElse(cond, s)

    def threads(self, loop: ir.For) -> ir.Stmt:
        """A stage's thread loops as guarded lets of the thread ids."""
        chain = _thread_chain(loop)
        n = len(chain)

        def rebuild(s, i):
            if i < n and s is chain[i]:
                d = n - 1 - i
                body = rebuild(s.body, i + 1)
                at = self.tid(d) if ir.is_const(s.min, 0) else ir.Add(self.tid(d), s.min)
                body = ir.LetStmt(s.sym, at, body)
                ext = ir.const_value(s.extent)
                if ext != self.dims[d]:
                    body = ir.IfThenElse(ir.LT(self.tid(d), s.extent), body)
                return body
            if isinstance(s, ir.LetStmt):
                return ir.LetStmt(s.sym, s.value, rebuild(s.body, i))
            return s
        body = rebuild(loop, 0)
        unused = [ir.LT(self.tid(d), ir.i32(1)) for d in range(n, 3) if self.dims[d] > 1]
        for c in reversed(unused):
            body = ir.IfThenElse(c, body)
        return body

    def block_level(self, s) -> tuple:
        """(rewritten statement, whether it did work), for a statement at block level."""
        if is_thread_loop(s):
            return self.threads(s), True
        w = _work(s)
        if not w.threads:
            return (self.single_thread(s), True) if w.stores else (s, False)
        if isinstance(s, ir.Block):
            out = []
            for sub in s.stmts:
                new, did = self.block_level(sub)
                out.append(new)
                if did and not _ends_with_barrier(new):
                    out.append(BARRIER)
            if out and is_barrier(out[-1]):
                out.pop()
            return ir.block(*out), True
        if isinstance(s, ir.LetStmt):
            token = self.bounds.let(s)
            body, did = self.block_level(s.body)
            self.bounds.pop(token)
            return ir.LetStmt(s.sym, s.value, body), did
        if isinstance(s, ir.IfThenElse):
            then, _ = self.block_level(s.then_case)
            other = self.block_level(s.else_case)[0] if s.else_case is not None else None
            return ir.IfThenElse(s.condition, then, other), True
        if isinstance(s, ir.For):
            # A serial loop at block level runs in every thread; a barrier
            # ends each iteration so the next one may overwrite what this read.
            token = self.bounds.loop(s)
            body, _ = self.block_level(s.body)
            self.bounds.pop(token)
            return ir.For(s.sym, s.min, s.extent, ir.ForKind.SERIAL, ir.block(body, BARRIER)), True
        if isinstance(s, ir.Allocate):
            hi = self.bounds.upper(s.size)
            if hi is None:
                raise ScheduleError(
                    f"{s.buf.name} is computed at the block level of GPU kernel {self.kernel_name}, so "
                    f"it lives in shared memory, but its size {ir.to_string(s.size)} has no constant "
                    f"bound. Split the consumer by constant factors, or bound() the Func.")
            # Loop partitioning may have copied the allocation into each
            # partition; the copies run one after the other and share a buffer.
            for n, (buf, t, size) in enumerate(self.shared):
                if buf is s.buf:
                    self.shared[n] = (buf, t, max(size, hi))
                    break
            else:
                self.shared.append((s.buf, s.type, max(hi, 0)))
            return self.block_level(s.body)
        raise AssertionError(f"unexpected {type(s).__name__} at block level of a GPU kernel")


class _IndexZero(ir.IRMutator):
    def __init__(self, buf):
        self.buf = buf

    def mutate_Load(self, node):
        if node.buf is self.buf and not ir.is_const(node.index, 0):
            return ir.Load(node.type, node.buf, ir.i32(0))
        return self.generic_mutate(node)

    def mutate_Store(self, node):
        node = self.generic_mutate(node)
        if node.buf is self.buf and not ir.is_const(node.index, 0):
            return ir.Store(node.buf, node.value, ir.i32(0))
        return node


class _ConstantSizes(ir.IRMutator):
    """Per-thread allocations get a constant size (their bound), so they can live
    in registers; the index arithmetic, from the realized extents, is unchanged."""

    def __init__(self, bounds):
        self.bounds = bounds

    def mutate_LetStmt(self, node):
        token = self.bounds.let(node)
        out = self.generic_mutate(node)
        self.bounds.pop(token)
        return out

    def mutate_For(self, node):
        token = self.bounds.loop(node)
        out = self.generic_mutate(node)
        self.bounds.pop(token)
        return out

    def mutate_Allocate(self, node):
        body = self.mutate(node.body)
        size = node.size
        if ir.const_value(size) is None:
            hi = self.bounds.upper(size)
            if hi is not None:
                size = ir.i32(max(hi, 0))
        if ir.const_value(size) == 1:
            # The only element is element 0: say so, and it becomes a register.
            body = _IndexZero(node.buf).mutate(body)
        if size is node.size and body is node.body:
            return node
        return ir.Allocate(node.buf, node.type, size, node.memory, body)


class _Kernels(ir.IRMutator):
    def __init__(self):
        self.count = 0
        self.bounds = Bounds()      # the lets and loops around the kernel, for constant bounds

    def mutate_LetStmt(self, node):
        token = self.bounds.let(node)
        out = self.generic_mutate(node)
        self.bounds.pop(token)
        return out

    def mutate_For(self, node):
        if node.kind is not ir.ForKind.GPU_BLOCK:
            return self.generic_mutate(node)
        self.count += 1
        # Peel the block loops (and the lets between them).
        peeled = []
        body = node
        while isinstance(body, ir.LetStmt) or (isinstance(body, ir.For)
                                               and body.kind is ir.ForKind.GPU_BLOCK):
            peeled.append(body)
            body = body.body
        tokens = [self.bounds.let(p) if isinstance(p, ir.LetStmt) else self.bounds.loop(p)
                  for p in peeled]
        sizes = _BlockSize(self.bounds)
        sizes.visit(body)
        dims = sizes.dims
        if dims[0] * dims[1] * dims[2] > MAX_THREADS_PER_BLOCK:
            raise ScheduleError(
                f"The GPU kernel of {loop_owner(node.sym)[0]} (block loop {node.sym.name}) needs "
                f"{dims[0]}x{dims[1]}x{dims[2]} threads per block (the largest extent of each thread "
                f"dimension over its stages); a CUDA block has at most {MAX_THREADS_PER_BLOCK}")
        tids = [ir.Symbol(f"{node.sym.name}.thread_id_{_DIMS[d]}") for d in range(3)]
        fuse = _Fuse(dims, tids, node.sym.name, self.bounds)
        inner, _ = fuse.block_level(body)
        inner = _ConstantSizes(self.bounds).mutate(inner)
        for token in reversed(tokens):
            self.bounds.pop(token)
        for d in range(3):
            inner = ir.For(tids[d], ir.i32(0), ir.i32(dims[d]), ir.ForKind.GPU_THREAD, inner) \
                if d < sizes.depth or dims[d] > 1 else inner
        for buf, t, size in reversed(fuse.shared):
            inner = ir.Allocate(buf, t, ir.i32(size), ir.MemoryType.GPU_SHARED, inner)
        for p in reversed(peeled):
            if isinstance(p, ir.LetStmt):
                inner = ir.LetStmt(p.sym, p.value, inner)
            else:
                inner = ir.For(p.sym, p.min, p.extent, p.kind, inner)
        return inner


def fuse_gpu_thread_loops(s: ir.Stmt) -> ir.Stmt:
    return _Kernels().mutate(s)


def kernel_thread_nest(kernel: ir.For) -> tuple:
    """(prefix: the block loops and the lets between them, outer to inner;
    shared allocations; thread loops outer to inner; the body) of a fused kernel."""
    prefix, shared, threads = [], [], []
    s = kernel
    while True:
        if isinstance(s, ir.For) and s.kind is ir.ForKind.GPU_BLOCK or (
                isinstance(s, ir.LetStmt) and not shared and not threads):
            prefix.append(s)
        elif isinstance(s, ir.Allocate) and s.memory is ir.MemoryType.GPU_SHARED and not threads:
            shared.append(s)
        elif isinstance(s, ir.For) and s.kind is ir.ForKind.GPU_THREAD:
            threads.append(s)
        else:
            return prefix, shared, threads, s
        s = s.body
