"""Code generation details that change how much IR LLVM reads: a parallel
task's closure is a named struct type, defined once per module; Broadcast,
Ramp, Cast and Load nodes equal in structure are generated once (and nodes
that differ only in lanes or type are not); error exits share one free of
each heap allocation. Hand-built lowered IR, parsed by LLVM and checked
against numpy. Also: `Pipeline` lowers and generates code on one thread."""
import re
import threading

import llvmlite.binding as llvm
import numpy as np
import pytest

import pipelang as hl
from pipelang.backends.llvm import compile_lowered
from pipelang.backends.llvm import textir as ll
from pipelang.backends.llvm.codegen import generate_module
from pipelang.ir import Float, Int, type_of_dtype
from pipelang.errors import PipelineRuntimeError
from pipelang.ir.nodes import (LT, Add, Allocate, ArgKind, Argument, AssertStmt, Block, Broadcast,
                               Cast, For, ForKind, Load, LoweredFunc, MemoryType, Mul, Ramp, Store,
                               Symbol, Variable, buffer_extent, i32, var)


def _buffer(sym, dtype=np.int32, dims=1):
    return Argument(sym, ArgKind.BUFFER, type_of_dtype(dtype), dims)


def _text(body, args):
    return str(generate_module(LoweredFunc("cg10", args, body)).module)


def _count(text, pattern):
    return sum(1 for line in text.splitlines() if re.search(pattern, line))


def test_an_identified_struct_type_is_defined_once_and_named_where_used():
    module = ll.Module("m")
    i32t = ll.IntType(32)
    closure = ll.IdentifiedStructType(module, "closure.1", [ll.PointerType(), i32t])
    fn = ll.Function(module, ll.FunctionType(i32t, [ll.PointerType()]), "second")
    b = ll.IRBuilder(fn.append_basic_block("entry"))
    ptr = b.gep(fn.args[0], [ll.Constant(i32t, 0), ll.Constant(i32t, 1)], inbounds=True,
                source_etype=closure)
    b.ret(b.load(ptr, typ=i32t))
    text = str(module)
    assert text.count('%"closure.1" = type {ptr, i32}') == 1
    assert 'getelementptr inbounds %"closure.1", ptr' in text
    mod = llvm.parse_assembly(text)
    mod.verify()


def _nested_parallel(out):
    """out[y, x] = x * 3 + y, both loops parallel: two tasks, one inside the other."""
    x, y = Symbol("x"), Symbol("y")
    w = Variable(Int(32), buffer_extent(out, 0))
    h = Variable(Int(32), buffer_extent(out, 1))
    store = Store(out, Add(Mul(var(x), i32(3)), var(y)), Add(Mul(var(y), w), var(x)))
    inner = For(x, i32(0), w, ForKind.PARALLEL, store)
    return For(y, i32(0), h, ForKind.PARALLEL, inner)


def test_each_task_of_nested_parallel_loops_has_its_own_closure_type():
    out = Symbol("out")
    args = (_buffer(out, dims=2),)
    body = _nested_parallel(out)
    text = _text(body, args)
    definitions = re.findall(r'^(%"closure\.\d+") = type \{', text, re.M)
    assert len(definitions) == 2 and len(set(definitions)) == 2
    # Every closure access names its type rather than spelling the struct out.
    assert _count(text, r"getelementptr inbounds \{") == 0
    jf = compile_lowered(LoweredFunc("cg10", args, body))
    result = np.zeros((5, 7), np.int32)
    jf(jf.make_argv(result))
    ys, xs = np.mgrid[0:5, 0:7]
    np.testing.assert_array_equal(result, xs * 3 + ys)


def test_equal_broadcasts_ramps_casts_and_loads_are_generated_once():
    inp, out, x = Symbol("in"), Symbol("out"), Symbol("x")
    # Two structurally equal (not identical) copies of each kind in one store.
    index = lambda: Ramp(Mul(var(x), i32(8)), i32(1), 8)
    loaded = lambda: Cast(Float(32, 8), Load(Int(32, 8), inp, index()))
    scale = lambda: Broadcast(Cast(Float(32), Variable(Int(32), buffer_extent(inp, 0))), 8)
    value = Add(Mul(loaded(), scale()), Mul(loaded(), scale()))
    body = For(x, i32(0), i32(3), ForKind.SERIAL, Store(out, value, index()))
    args = (_buffer(inp), _buffer(out, np.float32))
    text = _text(body, args)
    assert _count(text, r"= load <8 x i32>") == 1
    assert _count(text, r"= sitofp <8 x i32>") == 1
    assert _count(text, r"= sitofp i32") == 1
    assert _count(text, r"= fmul") == 1
    jf = compile_lowered(LoweredFunc("cg10", args, body))
    a, result = np.arange(24, dtype=np.int32), np.zeros(24, np.float32)
    jf(jf.make_argv(a, result))
    np.testing.assert_array_equal(result, 2 * a.astype(np.float32) * np.float32(24))


def test_broadcasts_and_casts_differing_in_lanes_or_type_stay_apart():
    inp, out, wide = Symbol("in"), Symbol("out"), Symbol("wide")
    v = lambda: Variable(Int(32), buffer_extent(inp, 0))
    body = Block((Store(out, Cast(Float(32, 4), Broadcast(v(), 4)), Ramp(i32(0), i32(1), 4)),
                  Store(out, Cast(Float(32, 8), Broadcast(v(), 8)), Ramp(i32(8), i32(1), 8)),
                  Store(wide, Cast(Float(64, 4), Broadcast(v(), 4)), Ramp(i32(0), i32(1), 4))))
    args = (_buffer(inp), _buffer(out, np.float32), _buffer(wide, np.float64))
    text = _text(body, args)
    assert _count(text, r"= sitofp <4 x i32> .* to <4 x float>") == 1
    assert _count(text, r"= sitofp <8 x i32> .* to <8 x float>") == 1
    assert _count(text, r"= sitofp <4 x i32> .* to <4 x double>") == 1
    jf = compile_lowered(LoweredFunc("cg10", args, body))
    a, result, doubles = np.zeros(6, np.int32), np.zeros(16, np.float32), np.zeros(4, np.float64)
    jf(jf.make_argv(a, result, doubles))
    np.testing.assert_array_equal(result, np.r_[np.full(4, 6), np.zeros(4), np.full(8, 6)])
    np.testing.assert_array_equal(doubles, np.full(4, 6, np.float64))


def test_a_pipeline_lowers_and_generates_code_on_one_thread(monkeypatch):
    import pipelang.backends.llvm as backend
    import pipelang.lowering.lower as lowering
    seen = {}
    real_lower, real_compile = lowering.lower, backend.compile_lowered

    def lower(*args, **kwargs):
        seen["lower"] = threading.get_ident()
        return real_lower(*args, **kwargs)

    def compile_lowered_(*args, **kwargs):
        seen["codegen"] = threading.get_ident()
        return real_compile(*args, **kwargs)
    monkeypatch.setattr(lowering, "lower", lower)
    monkeypatch.setattr(backend, "compile_lowered", compile_lowered_)
    monkeypatch.setenv("PIPELANG_CACHE", "0")
    x = hl.Var("x")
    f = hl.Func("cg10_one_thread")
    f[x] = x * 2 + 1
    out = hl.Pipeline(f).realize([8])
    np.testing.assert_array_equal(np.asarray(out), np.arange(8) * 2 + 1)
    assert seen["lower"] == seen["codegen"]


def _mapped_bytes() -> int:
    """The process's virtual memory (a leaked allocation counts, touched or not)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * 4096


def test_error_exits_share_one_free_of_each_heap_allocation():
    # Two nested heap allocations of 4 MB, three checks inside each: every
    # failing check leaves through one chain of exits, which frees the inner
    # allocation and then the outer one.
    inp, out, outer, inner = Symbol("in"), Symbol("out"), Symbol("outer"), Symbol("inner")
    n = Variable(Int(32), buffer_extent(inp, 0))
    value = lambda k: Load(Int(32), inp, i32(k))
    checks = lambda base: tuple(
        AssertStmt(LT(value(base + k), i32(100)), f"in[{base + k}] is {{}}", (value(base + k),))
        for k in range(3))
    mb4 = i32(1 << 20)
    body = Allocate(outer, Int(32), mb4, MemoryType.HEAP, Block((
        *checks(0),
        Store(outer, n, i32(0)),
        Allocate(inner, Int(32), mb4, MemoryType.HEAP, Block((
            *checks(3),
            Store(inner, Load(Int(32), outer, i32(0)), i32(0)),
            Store(out, Load(Int(32), inner, i32(0)), i32(0))))))))
    args = (_buffer(inp), _buffer(out))
    text = _text(body, args)
    # One free of each allocation where it ends, and one in the exits.
    assert _count(text, r'call void @"free"') == 4
    assert _count(text, r"^\s*ret i32 %") == 1
    jf = compile_lowered(LoweredFunc("cg10", args, body))
    a, result = np.zeros(6, np.int32), np.zeros(1, np.int32)
    jf(jf.make_argv(a, result))
    assert result[0] == 6
    start = _mapped_bytes()
    for k in range(6):
        a[:] = 0
        a[k] = 500
        for _ in range(40):
            with pytest.raises(PipelineRuntimeError, match=rf"in\[{k}\] is 500"):
                jf(jf.make_argv(a, result))
    # 240 failures, each after allocating 4 or 8 MB: freed, they leave no trace.
    assert _mapped_bytes() - start < 64 << 20
