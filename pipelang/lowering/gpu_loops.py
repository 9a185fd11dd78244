"""Check GPU loop nests (Halide's CanonicalizeGPUVars, as a legality check).

Runs after storage flattening and simplification (so loop extents are as
simple as they get) and before vectorization. A *kernel* is an outermost
`gpu_block` loop; inside it up to three block loops nest directly (only
lets between them), then stages whose `gpu_thread` loops (up to three,
perfectly nested) say which thread computes which point. Every other shape
is a `ScheduleError` naming the Func and the loop, as in Halide:

    gpu_thread f.s0.x            -> error: must be inside a GPU block loop
    gpu_block g.s0.y.yo {        -> a kernel: 1 block dim, then
      gpu_thread g.s0.y.yi {       2 thread dims (x is innermost)
        gpu_thread g.s0.x.xi { g[..] = .. } } }

It also refuses GPU loops on a target without the `cuda` feature (Halide's
"requires <Default_GPU>" error). The IR is returned unchanged; later GPU
passes rely on the shape checked here. Helpers shared by the GPU passes
(the Func owning a loop, constant upper bounds under lets) live here too.
"""
from __future__ import annotations

import re

from pipelang import ir
from pipelang.errors import ScheduleError
from pipelang.lowering.analysis.const_bounds import constant_bounds

MAX_BLOCK_DIMS = 3
MAX_THREAD_DIMS = 3
MAX_THREADS_PER_BLOCK = 1024
_THREADS = (ir.ForKind.GPU_THREAD, ir.ForKind.GPU_LANE)


def loop_owner(sym: ir.Symbol) -> tuple:
    """(Func name, loop name) of a stage loop symbol: `g.s0.x.xo` -> ("g", "x.xo")."""
    m = re.match(r"^(.*?)\.s\d+\.(.*)$", sym.name)
    return (m.group(1), m.group(2)) if m else (sym.name, sym.name)


def is_thread_loop(s) -> bool:
    return isinstance(s, ir.For) and s.kind in _THREADS


class Bounds:
    """Constant bounds of the lets and loop variables in scope (a stack)."""

    def __init__(self):
        self.known: dict = {}
        self.values: dict = {}      # let symbol -> value, to see through let chains

    def push(self, sym, lo, hi, value=None):
        old = (self.known.get(sym), self.values.get(sym))
        self.known[sym] = (lo, hi)
        if value is not None:
            self.values[sym] = value
        else:
            self.values.pop(sym, None)
        return sym, old

    def pop(self, token):
        sym, (old, value) = token
        if old is None:
            self.known.pop(sym, None)
        else:
            self.known[sym] = old
        if value is None:
            self.values.pop(sym, None)
        else:
            self.values[sym] = value

    def upper(self, e) -> int | None:
        """A constant upper bound of max(`e`, 0), seeing through the lets in
        scope (`max - min + 1` of a region is constant though neither end is)."""
        from pipelang.lowering.simplify import simplify
        _, hi = self.of(e)
        if hi is not None:
            return hi
        if isinstance(e, ir.Mul):
            # Sizes and extents: a negative factor means empty, so clamping each
            # factor at 0 still bounds max(e, 0), which is all callers need.
            ha, hb = self.upper(e.a), self.upper(e.b)
            return None if ha is None or hb is None else max(ha, 0) * max(hb, 0)
        for _ in range(16):
            free = ir.free_symbols(e) & self.values.keys()
            if not free:
                break
            e = simplify(ir.substitute({s: self.values[s] for s in free}, e))
            _, hi = self.of(e)
            if hi is not None:
                return hi
        return self.of(simplify(_distribute(simplify(e))))[1]


    def of(self, e) -> tuple:
        if not (e.type.is_int() or e.type.is_uint()):
            return None, None
        return constant_bounds(e, self.known, depth=8)

    def let(self, s):
        return self.push(s.sym, *self.of(s.value), s.value)

    def loop(self, s):
        lo, _ = self.of(s.min)
        _, hi = self.of(s.min)
        _, ext = self.of(s.extent)
        return self.push(s.sym, lo, None if hi is None or ext is None else hi + ext - 1)


def thread_extent_bound(loop: ir.For, bounds: Bounds) -> int:
    """A constant upper bound of a GPU thread loop's extent, or a ScheduleError."""
    hi = bounds.upper(loop.extent)
    if hi is None:
        fn, name = loop_owner(loop.sym)
        raise ScheduleError(
            f"GPU thread loop over {name} of Func {fn} has extent {ir.to_string(loop.extent)}, "
            f"which has no constant upper bound: the CUDA block size must be known when the "
            f"kernel is compiled. Split it by a constant factor, or bound() the Func.")
    return max(hi, 1)


class _Check(ir.IRVisitor):
    def __init__(self, target):
        self.target = target
        self.bounds = Bounds()
        self.block_depth = 0        # block loops enclosing, within the current kernel
        self.thread_depth = 0       # thread loops enclosing
        self.thread_outer = None    # the outermost enclosing thread loop
        self.kernel = None          # the kernel's outermost block loop
        self.direct = False         # the node visited sits right inside a GPU loop (lets between)

    def visit_LetStmt(self, node):
        token = self.bounds.let(node)
        self.visit(node.value)
        self.visit(node.body)
        self.bounds.pop(token)

    def generic_visit(self, node):
        if isinstance(node, ir.Stmt):
            self.direct = False
        super().generic_visit(node)

    def visit_For(self, node):
        fn, name = loop_owner(node.sym)
        kind = node.kind
        direct, self.direct = self.direct, False
        if kind.is_gpu() and not self.target.has_feature("cuda"):
            raise ScheduleError(
                f"Schedule for Func {fn} requires <Default_GPU> but no compatible target feature is "
                f"enabled in target {self.target}")
        if kind is ir.ForKind.GPU_BLOCK:
            if self.thread_depth:
                raise ScheduleError(f"GPU block loop over {name} of Func {fn} is inside a GPU thread "
                                    f"loop ({self.thread_outer.sym.name}): blocks must enclose threads")
            if self.block_depth and not direct:
                raise ScheduleError(
                    f"GPU block loop over {name} of Func {fn} is not directly inside the block loop "
                    f"{self.kernel.sym.name}: no Func may be computed between the block loops of a kernel")
            if self.block_depth >= MAX_BLOCK_DIMS:
                raise ScheduleError(f"Func {fn} has more than {MAX_BLOCK_DIMS} nested GPU block loops "
                                    f"(at {name})")
        elif kind in _THREADS:
            if not self.block_depth:
                raise ScheduleError(f"GPU thread loop over {fn}.{name} must be inside a GPU block loop "
                                    f"(schedule a gpu_blocks loop of Func {fn} around it, or gpu_tile)")
            if self.thread_depth and not direct:
                raise ScheduleError(
                    f"GPU thread loop over {name} of Func {fn} is inside the GPU thread loop "
                    f"{self.thread_outer.sym.name} with other work between them: thread loops of a "
                    f"stage must be perfectly nested, and a Func computed inside a thread loop "
                    f"cannot have thread loops of its own")
            if self.thread_depth >= MAX_THREAD_DIMS:
                raise ScheduleError(f"Func {fn} has more than {MAX_THREAD_DIMS} nested GPU thread loops "
                                    f"(at {name})")
            ext = thread_extent_bound(node, self.bounds)
            if kind is ir.ForKind.GPU_LANE and (ir.const_value(node.extent) is None or ext > 32):
                raise ScheduleError(f"gpu_lanes loop over {name} of Func {fn} needs a constant extent "
                                    f"of at most 32, not {ir.to_string(node.extent)}")
            if ext > MAX_THREADS_PER_BLOCK:
                raise ScheduleError(f"GPU thread loop over {name} of Func {fn} has {ext} iterations; "
                                    f"a CUDA block has at most {MAX_THREADS_PER_BLOCK} threads")
        elif self.block_depth and kind in (ir.ForKind.VECTORIZED, ir.ForKind.PARALLEL):
            what = "vectorized" if kind is ir.ForKind.VECTORIZED else "parallel"
            raise ScheduleError(
                f"Loop over {name} of Func {fn} is {what} inside the GPU kernel of "
                f"{self.kernel.sym.name}: pipelang's CUDA backend runs one scalar lane per GPU "
                f"thread. Use gpu_threads (or unroll) for this loop instead.")
        self.visit(node.min)
        self.visit(node.extent)
        token = self.bounds.loop(node)
        outer = (self.block_depth, self.thread_depth, self.thread_outer, self.kernel)
        if kind is ir.ForKind.GPU_BLOCK:
            self.kernel = self.kernel or node
            self.block_depth += 1
        elif kind in _THREADS:
            self.thread_outer = self.thread_outer or node
            self.thread_depth += 1
        self.direct = kind.is_gpu()
        self.visit(node.body)
        self.direct = False
        self.block_depth, self.thread_depth, self.thread_outer, self.kernel = outer
        self.bounds.pop(token)


def check_gpu_loops(s: ir.Stmt, target) -> ir.Stmt:
    """`s` unchanged, or a ScheduleError for an illegal GPU schedule."""
    _Check(target).visit(s)
    return s


def _distribute(e):
    """Move `+ c` and `- c` into min/max operands (`min(a + 31, b) - a` -> `min(31, b - a)`),
    which the simplifier leaves alone but which bounds a GuardWithIf tile's extent."""
    if isinstance(e, (ir.Add, ir.Sub)):
        a, b = _distribute(e.a), _distribute(e.b)
        op = type(e)
        if isinstance(a, (ir.Min, ir.Max)):
            return type(a)(_distribute(op(a.a, b)), _distribute(op(a.b, b)))
        if op is ir.Add and isinstance(b, (ir.Min, ir.Max)):
            return type(b)(_distribute(op(a, b.a)), _distribute(op(a, b.b)))
        return op(a, b)
    if isinstance(e, ir.Mul) and (ir.const_value(e.b) or 0) > 0:
        a = _distribute(e.a)
        if isinstance(a, (ir.Min, ir.Max)):
            return type(a)(ir.Mul(a.a, e.b), ir.Mul(a.b, e.b))
        return ir.Mul(a, e.b)
    return e
