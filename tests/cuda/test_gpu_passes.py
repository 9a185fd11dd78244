"""The GPU passes on their own: kernel shape after fusion and offload."""
import pipelang as hl
from pipelang import ir
from pipelang.lowering.gpu_fuse_thread_loops import is_barrier
from pipelang.lowering.gpu_offload import kernels_of
from pipelang.lowering.lower import lower

x, y, xo, yo, xi, yi = hl.vars("x y xo yo xi yi")
CUDA = hl.Target("host-cuda")


def _kernels(f):
    lowered = lower([f.function], f.name(), target=CUDA, emulate_gpu=False)[0]
    return lowered, kernels_of(lowered.body)


def _count(node, pred):
    found = []

    class V(ir.IRVisitor):
        def visit_Evaluate(self, n):
            if pred(n):
                found.append(n)
    V().visit(node)
    return len(found)


def test_shared_producer_kernel():
    inp = hl.ImageParam(hl.UInt(16), 2, "gp_in")
    bx, by = hl.Func("gp_bx"), hl.Func("gp_by")
    bx[x, y] = inp[x, y] + inp[x + 1, y]
    by[x, y] = bx[x, y] + bx[x, y + 1] + bx[x, y + 2]
    by.gpu_tile(x, y, xo, yo, xi, yi, 16, 4)
    bx.compute_at(by, xo).gpu_threads(x, y)
    _, (k,) = _kernels(by)
    assert k.block == (16, 6, 1)                 # the producer needs 4 + 2 rows
    assert k.shared_bytes == 16 * 6 * 2
    assert _count(k.body, is_barrier) == 1
    # Buffers first (by name), then scalars by descending width, then name.
    kinds = [p.is_buffer for p in k.params]
    assert kinds == sorted(kinds, reverse=True)
    assert [p.sym.name for p in k.params if p.is_buffer] == ["gp_by", "gp_in"]
    assert [p.written for p in k.params if p.is_buffer] == [True, False]


def test_scalar_params_ordered_by_width():
    inp = hl.ImageParam(hl.Float(32), 1, "gp_v")
    a, b = hl.Param(hl.Float(64), "gp_a", 1.0), hl.Param(hl.Int(16), "gp_b", 2)
    f = hl.Func("gp_f")
    f[x] = hl.f32(hl.f64(inp[x]) * a) + hl.f32(b)
    f.gpu_tile(x, xi, 32)
    _, (k,) = _kernels(f)
    bits = [p.type.bits() for p in k.params if not p.is_buffer]
    assert bits == sorted(bits, reverse=True) and bits[0] == 64 and bits[-1] == 16


def test_block_level_loop_has_one_barrier_per_iteration():
    inp = hl.ImageParam(hl.UInt(16), 2, "gp_in2")
    bx, by = hl.Func("gp_rows_x"), hl.Func("gp_rows_y")
    bx[x, y] = inp[x, y] * 2
    by[x, y] = bx[x, y] + bx[x, y + 1]
    by.split(x, xo, xi, 32).split(y, yo, yi, 4).reorder(xi, yi, xo, yo).gpu_blocks(xo, yo).gpu_threads(xi)
    bx.compute_at(by, yi).gpu_threads(x)
    _, (k,) = _kernels(by)
    assert k.block == (32, 1, 1)
    loops = []

    class V(ir.IRVisitor):
        def visit_For(self, n):
            if n.kind is ir.ForKind.SERIAL and isinstance(n.body, ir.Block) and is_barrier(n.body.stmts[-1]):
                loops.append(n)
            self.generic_visit(n)
    V().visit(k.body)
    assert loops, "the serial loop over yi ends each iteration with a barrier"


def test_single_thread_kernel():
    f = hl.Func("gp_single")
    f[x] = x * 3
    f.gpu_single_thread()
    lowered, (k,) = _kernels(f)
    assert k.block == (1, 1, 1)
    assert "gpu_launch" in ir.to_string(lowered)
