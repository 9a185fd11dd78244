"""Run fused GPU kernels on the CPU (`PIPELANG_CUDA_EMULATE=1`), a debugging aid.

Runs instead of `offload_gpu_loops`, on kernels `fuse_gpu_thread_loops`
produced. Each kernel becomes ordinary CPU loops the LLVM backend runs:
the outermost block loop is parallel (the others serial), shared-memory
allocations are per-block stack or heap buffers, and the thread nest is
split at every barrier into one serial loop over all threads per piece
(thread-loop fission). This is exact because barriers sit only at block
level, where every value is the same in all threads of a block (checked
by construction in the fusion pass), so a serial loop or `if` there can be
run once per block around per-thread loops:

    gpu_thread tx < 32 { A; barrier; for r { B; barrier } }
  =>
    for tx < 32 { A }  for r { for tx < 32 { B } }

Races between threads are not detected: a schedule that races on a GPU
may give the same result here.
"""
from __future__ import annotations

from pipelang import ir
from pipelang.lowering.gpu_fuse_thread_loops import is_barrier, kernel_thread_nest


class _HasBarrier(ir.IRVisitor):
    def __init__(self):
        self.found = False

    def visit_Evaluate(self, node):
        if is_barrier(node):
            self.found = True


def _has_barrier(s) -> bool:
    v = _HasBarrier()
    v.visit(s)
    return v.found


def _fission(s, threads):
    """`s` run by every thread of a block, barriers becoming loop boundaries."""
    if not _has_barrier(s):
        for t in reversed(threads):
            s = ir.For(t.sym, t.min, t.extent, ir.ForKind.SERIAL, s)
        return s
    if isinstance(s, ir.Block):
        pieces, current = [], []
        for sub in s.stmts:
            if is_barrier(sub):
                if current:
                    pieces.append(_fission(ir.block(*current), threads))
                current = []
            elif _has_barrier(sub):
                if current:
                    pieces.append(_fission(ir.block(*current), threads))
                current = []
                pieces.append(_fission(sub, threads))
            else:
                current.append(sub)
        if current:
            pieces.append(_fission(ir.block(*current), threads))
        return ir.block(*pieces)
    if is_barrier(s):
        return ir.Block(())
    if isinstance(s, ir.LetStmt):
        return ir.LetStmt(s.sym, s.value, _fission(s.body, threads))
    if isinstance(s, ir.For):
        return ir.For(s.sym, s.min, s.extent, s.kind, _fission(s.body, threads))
    if isinstance(s, ir.IfThenElse):
        other = _fission(s.else_case, threads) if s.else_case is not None else None
        return ir.IfThenElse(s.condition, _fission(s.then_case, threads), other)
    if isinstance(s, ir.Allocate):
        return ir.Allocate(s.buf, s.type, s.size, s.memory, _fission(s.body, threads))
    raise AssertionError(f"barrier inside {type(s).__name__} in an emulated GPU kernel")


class _Emulate(ir.IRMutator):
    def mutate_For(self, node):
        if node.kind is not ir.ForKind.GPU_BLOCK:
            return self.generic_mutate(node)
        prefix, shared, threads, body = kernel_thread_nest(node)
        s = _fission(body, threads)
        for a in reversed(shared):
            s = ir.Allocate(a.buf, a.type, a.size, ir.MemoryType.AUTO, s)
        for p in reversed(prefix):
            if isinstance(p, ir.LetStmt):
                s = ir.LetStmt(p.sym, p.value, s)
            else:
                kind = ir.ForKind.PARALLEL if p is node else ir.ForKind.SERIAL
                s = ir.For(p.sym, p.min, p.extent, kind, s)
        return s


def emulate_gpu_kernels(s: ir.Stmt) -> ir.Stmt:
    return _Emulate().mutate(s)
