"""Func.store_in(hl.MemoryType): where a Func's storage lives, as in Halide."""
import numpy as np
import pytest

import pipelang as hl


def _pipeline(memory_type, bounded=False):
    x, y = hl.Var("x"), hl.Var("y")
    f, g = hl.Func("f"), hl.Func("g")
    f[x, y] = x + y * 3
    g[x, y] = f[x, y] + f[x + 1, y]
    assert f.compute_at(g, y).store_in(memory_type) is f
    if bounded:
        g.bound(x, 0, 16)
    return g


def _expected(w, h):
    yy, xx = np.mgrid[0:h, 0:w]
    return ((xx + yy * 3) + (xx + 1 + yy * 3)).astype(np.int32)


def test_memory_types_are_halides():
    assert [m.name for m in hl.MemoryType] == [
        "Auto", "Heap", "Stack", "Register", "GPUShared", "GPUTexture", "LockedCache", "VTCM"]
    assert str(hl.MemoryType.Stack) == "MemoryType.Stack"


@pytest.mark.parametrize("memory_type", list(hl.MemoryType))
def test_every_memory_type_computes_the_same(memory_type):
    g = _pipeline(memory_type, bounded=True)
    assert np.array_equal(np.asarray(g.realize([16, 8])), _expected(16, 8))


def test_where_the_allocation_goes():
    # (Allocations are named by buffer; f's is "f" or "f$N".)
    heap = hl.Pipeline(_pipeline(hl.MemoryType.Heap)).lowered_stmt()
    stack = hl.Pipeline(_pipeline(hl.MemoryType.Stack)).lowered_stmt()
    assert " in heap" in heap and " in stack" in stack
    ir_heap = hl.Pipeline(_pipeline(hl.MemoryType.Heap, bounded=True)).llvm_ir()
    ir_stack = hl.Pipeline(_pipeline(hl.MemoryType.Stack)).llvm_ir()
    ir_register = hl.Pipeline(_pipeline(hl.MemoryType.Register, bounded=True)).llvm_ir()
    assert "posix_memalign" in ir_heap          # malloc'd even though it is small and fixed
    assert "posix_memalign" not in ir_stack     # a dynamic size, still on the stack
    assert "posix_memalign" not in ir_register
    # Both answers still right.
    assert np.array_equal(np.asarray(_pipeline(hl.MemoryType.Stack).realize([40, 5])), _expected(40, 5))


def test_register_needs_a_fixed_size():
    g = _pipeline(hl.MemoryType.Register)
    with pytest.raises(hl.HalideError, match="has a dynamic size. Only fixed-size allocations "
                                             "can be stored in registers"):
        g.realize([16, 8])


def test_store_in_needs_a_memory_type():
    f = hl.Func("f")
    f[hl.Var("x")] = 1
    with pytest.raises(TypeError, match='store_in\\(\\) of Func "f.*" needs an hl.MemoryType'):
        f.store_in("Stack")


def test_hoisted_storage_keeps_its_memory_type():
    x, y = hl.Var("x"), hl.Var("y")
    f, g = hl.Func("f"), hl.Func("g")
    f[x, y] = x * y
    g[x, y] = f[x, y] + f[x, y + 1]
    f.compute_at(g, y).hoist_storage_root().store_in(hl.MemoryType.Heap)
    assert " in heap" in hl.Pipeline(g).lowered_stmt()
    yy, xx = np.mgrid[0:6, 0:9]
    assert np.array_equal(np.asarray(g.realize([9, 6])), (xx * yy + xx * (yy + 1)).astype(np.int32))


def test_same_as_halide():
    halide = pytest.importorskip("halide")
    results = []
    for hl_ in (halide, hl):
        x, y = hl_.Var("x"), hl_.Var("y")
        f, g = hl_.Func("f"), hl_.Func("g")
        f[x, y] = x * 2 + y
        g[x, y] = f[x, y] * f[x + 2, y]
        f.compute_at(g, y).store_in(hl_.MemoryType.Stack).vectorize(x, 4)
        results.append(np.asarray(g.realize([13, 7])))
    assert np.array_equal(results[0], results[1])
