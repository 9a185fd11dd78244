"""Outline each fused GPU kernel and launch it from the host (Halide's InjectGpuOffload).

Runs after `fuse_gpu_thread_loops`, for a `cuda` target run on a device.
Each kernel (outermost `gpu_block` loop) becomes a `KernelLaunch` host
statement holding a `Kernel`: its body, its closure (buffers first, by
name, then scalars by descending bit width, as Halide orders them), its
block size and shared-memory bytes; the launch carries the grid size (the
block loops' extents, evaluated on the host) and the scalar arguments.

    gpu_block y.yo (0, h/8) { gpu_block x.xo (0, w/32) { ..g[..] = in[..].. } }
  =>
    gpu_launch kernel_g_s0_y_yo<<<(w/32, h/8, 1), (32, 8, 1), 0>>>(g, in, g.min.0, ..)

Host code that still reads or writes memory (a Func computed on the CPU)
becomes `HostStage`s, each compiled by the LLVM backend and run between
launches; the runtime moves buffers between host and device by their dirty
bits (Halide's InjectHostDevBufferCopies, done at run time).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from pipelang import ir
from pipelang.errors import CompileError
from pipelang.lowering.gpu_fuse_thread_loops import kernel_thread_nest
from pipelang.lowering.gpu_loops import loop_owner

SHARED_ALIGN = 16


@dataclass(frozen=True)
class KernelParam:
    sym: ir.Symbol
    is_buffer: bool
    type: ir.Type               # element type for buffers
    written: bool = False


@dataclass(frozen=True, eq=False)
class Kernel:
    name: str
    body: ir.For                # the fused kernel: block loops, shared allocations, thread nest
    params: tuple               # KernelParam, in launch order
    block: tuple                # threads per block (x, y, z), constants
    shared: tuple               # (buffer symbol, element type, byte offset, bytes)
    shared_bytes: int
    func_name: str              # the Func whose block loop this kernel is


@dataclass(frozen=True, slots=True, eq=False)
class KernelLaunch(ir.Stmt):
    """Launch `kernel` over `grid` blocks (x, y, z) with the scalar `args` (host Exprs)."""
    kernel: Kernel
    grid: tuple
    args: tuple

    def print_lines(self) -> list:
        k = self.kernel
        grid = ", ".join(ir.to_string(g) for g in self.grid)
        names = ", ".join(p.sym.name for p in k.params)
        head = (f"gpu_launch {k.name}<<<({grid}), ({k.block[0]}, {k.block[1]}, {k.block[2]}), "
                f"{k.shared_bytes}>>>({names}) {{")
        body = ir.to_string(k.body).rstrip("\n").split("\n")
        return [head] + ["  " + line for line in body] + ["}"]


class _Closure(ir.IRVisitor):
    def __init__(self):
        self.bound: set = set()
        self.scalars: dict = {}
        self.buffers: dict = {}      # sym -> [type, written]
        self.local_bufs: set = set()

    def visit_Variable(self, node):
        if node.sym not in self.bound:
            self.scalars.setdefault(node.sym, node.type)

    def visit_LetStmt(self, node):
        self.visit(node.value)
        self.bound.add(node.sym)
        self.visit(node.body)

    visit_Let = visit_LetStmt

    def visit_For(self, node):
        self.visit(node.min)
        self.visit(node.extent)
        self.bound.add(node.sym)
        self.visit(node.body)

    def visit_Allocate(self, node):
        self.visit(node.size)
        self.local_bufs.add(node.buf)
        self.visit(node.body)

    def visit_Load(self, node):
        if node.buf not in self.local_bufs:
            self.buffers.setdefault(node.buf, [node.type, False])
        self.visit(node.index)

    def visit_Store(self, node):
        if node.buf not in self.local_bufs:
            entry = self.buffers.setdefault(node.buf, [node.value.type, True])
            entry[1] = True
        self.visit(node.value)
        self.visit(node.index)


@dataclass(frozen=True, slots=True, eq=False)
class HostStage(ir.Stmt):
    """Host code that reads or writes memory (a Func computed on the CPU):
    JIT-compiled by the LLVM backend and called between kernel launches, with
    the buffers it touches copied to the host first if the device has newer data."""
    body: ir.Stmt

    def print_lines(self) -> list:
        return ["host_stage {"] + ["  " + line for line in
                                   ir.to_string(self.body).rstrip("\n").split("\n")] + ["}"]


class _Touches(ir.IRVisitor):
    def __init__(self):
        self.memory = False
        self.kernels = False

    def visit_Load(self, node):
        self.memory = True

    def visit_Store(self, node):
        self.memory = True

    def visit_KernelLaunch(self, node):
        self.kernels = True


def _touches(node) -> _Touches:
    t = _Touches()
    t.visit(node)
    return t


def _host_stages(s):
    """Wrap each maximal piece of host code that touches memory and launches no kernel."""
    t = _touches(s)
    if not t.kernels:
        return HostStage(s) if t.memory else s
    for e in _uniform_exprs(s):
        if _touches(e).memory:
            raise CompileError(
                f"Host code reads memory to decide how kernels are launched ({ir.to_string(e)}); "
                f"pipelang's CUDA runtime needs launch sizes that depend only on shapes and parameters")
    if isinstance(s, ir.Block):
        return ir.Block(tuple(_host_stages(sub) for sub in s.stmts))
    if isinstance(s, ir.LetStmt):
        return ir.LetStmt(s.sym, s.value, _host_stages(s.body))
    if isinstance(s, ir.For):
        return ir.For(s.sym, s.min, s.extent, s.kind, _host_stages(s.body))
    if isinstance(s, ir.IfThenElse):
        other = _host_stages(s.else_case) if s.else_case is not None else None
        return ir.IfThenElse(s.condition, _host_stages(s.then_case), other)
    if isinstance(s, ir.Allocate):
        return ir.Allocate(s.buf, s.type, s.size, s.memory, _host_stages(s.body))
    return s


def _uniform_exprs(s) -> list:
    if isinstance(s, ir.LetStmt):
        return [s.value]
    if isinstance(s, ir.For):
        return [s.min, s.extent]
    if isinstance(s, ir.IfThenElse):
        return [s.condition]
    if isinstance(s, ir.Allocate):
        return [s.size]
    return []


class _Offload(ir.IRMutator):
    def __init__(self):
        self.names: set = set()

    def mutate_KernelLaunch(self, node):
        return node

    def mutate_For(self, node):
        if node.kind is not ir.ForKind.GPU_BLOCK:
            return self.generic_mutate(node)
        prefix, shared, threads, _ = kernel_thread_nest(node)
        blocks = [p for p in prefix if isinstance(p, ir.For)]
        # Grid: block loop extents, innermost is x, with the lets between them substituted.
        lets = {}
        grid = []
        block_syms = {b.sym for b in blocks}
        for p in prefix:
            if isinstance(p, ir.LetStmt):
                lets[p.sym] = ir.substitute(lets, p.value)
            else:
                ext = ir.substitute(lets, p.extent)
                if ir.free_symbols(ext) & block_syms:
                    raise CompileError(f"The number of GPU blocks of loop {p.sym.name} depends on an "
                                       f"enclosing block index; pipelang launches a rectangular grid")
                grid.append(ext)
        grid = list(reversed(grid)) + [ir.i32(1)] * (3 - len(grid))
        block = [ir.const_value(t.extent) for t in reversed(threads)] + [1] * (3 - len(threads))
        offsets, offset = [], 0
        for a in shared:
            nbytes = int(ir.const_value(a.size)) * a.type.bytes()
            offsets.append((a.buf, a.type, offset, nbytes))
            offset += -(-nbytes // SHARED_ALIGN) * SHARED_ALIGN
        c = _Closure()
        c.visit(node)
        for a in shared:
            c.buffers.pop(a.buf, None)
        bufs = sorted(c.buffers.items(), key=lambda kv: kv[0].name)
        scalars = sorted(c.scalars.items(), key=lambda kv: (-kv[1].bits(), kv[0].name))
        params = tuple([KernelParam(sym, True, t, w) for sym, (t, w) in bufs]
                       + [KernelParam(sym, False, t) for sym, t in scalars])
        base = "kernel_" + re.sub(r"[^A-Za-z0-9_]", "_", node.sym.name)
        name, n = base, 1
        while name in self.names:
            name, n = f"{base}_{n}", n + 1
        self.names.add(name)
        kernel = Kernel(name, node, params, tuple(block), tuple(offsets), offset,
                        loop_owner(node.sym)[0])
        args = tuple(ir.Variable(p.type, p.sym) for p in params if not p.is_buffer)
        return KernelLaunch(kernel, tuple(grid), args)


def offload_gpu_loops(s: ir.Stmt) -> ir.Stmt:
    return _host_stages(_Offload().mutate(s))


def kernels_of(s) -> list:
    """Every Kernel launched by a host statement, in order."""
    found = []

    class _Find(ir.IRVisitor):
        def visit_KernelLaunch(self, node):
            found.append(node.kernel)
    _Find().visit(s)
    return found
