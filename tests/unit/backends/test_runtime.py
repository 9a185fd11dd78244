"""The parallel runtime: parallel loops, nesting, thread counts, errors in tasks."""
import os
import re
import subprocess
import sys
import threading

import numpy as np
import pytest

from pipelang.backends.llvm import compile_lowered, get_num_threads, set_num_threads
from pipelang.errors import PipelineRuntimeError
from pipelang.ir import Float, Int
from pipelang.ir.nodes import (
    GE, Add, Allocate, ArgKind, Argument, AssertStmt, Block, Broadcast, Cast, Div, For,
    ForKind, IfThenElse, LetStmt, Load, LoweredFunc, LT, MemoryType, Mul, Ramp, Store,
    Symbol, Variable, buffer_extent, i32, var,
)

P, S = ForKind.PARALLEL, ForKind.SERIAL


@pytest.fixture(params=[1, 4], ids=["1-thread", "4-threads"])
def threads(request):
    old = get_num_threads()
    set_num_threads(request.param)
    yield request.param
    set_num_threads(old)


def buf(sym, t, dims=1):
    return Argument(sym, ArgKind.BUFFER, t, dims)


def scale_function(kind=P, lanes=1):
    """out[x] = float(in[x]) * k + 1 with x parallel; k is a scalar argument."""
    inp, out, x, k = Symbol("in"), Symbol("out"), Symbol("x"), Symbol("k")
    n = Variable(Int(32), buffer_extent(out, 0))
    idx = Ramp(Mul(var(x), i32(lanes)), i32(1), lanes) if lanes > 1 else var(x)
    kk = Variable(Float(32), k)
    value = Add(Mul(Cast(Float(32, lanes), Load(Int(32, lanes), inp, idx)),
                    Broadcast(kk, lanes) if lanes > 1 else kk),
                Broadcast(Cast(Float(32), i32(1)), lanes) if lanes > 1 else Cast(Float(32), i32(1)))
    body = For(x, i32(0), Div(n, i32(lanes)), kind, Store(out, value, idx))
    args = (buf(inp, Int(32)), Argument(k, ArgKind.SCALAR, Float(32)), buf(out, Float(32)))
    return compile_lowered(LoweredFunc("scale", args, body))


def test_parallel_loop_over_a_million_elements_repeated(threads):
    jf = scale_function()
    a = np.arange(10**6, dtype=np.int32)
    expected = a.astype(np.float32) * np.float32(0.5) + 1
    for i in range(200):
        out = np.zeros(10**6, np.float32)
        jf(jf.make_argv(a, 0.5, out))
        np.testing.assert_array_equal(out, expected, err_msg=f"run {i}")


def test_vectorized_parallel_loop(threads):
    jf = scale_function(lanes=8)
    a = np.arange(8 * 1000, dtype=np.int32)
    out = np.zeros(len(a), np.float32)
    jf(jf.make_argv(a, 3.0, out))
    np.testing.assert_array_equal(out, a.astype(np.float32) * 3 + 1)


@pytest.mark.parametrize("outer,inner", [(P, P), (P, S), (S, P)])
def test_nested_parallel_loops(threads, outer, inner):
    # for y: let row = y * w in (allocate tmp[w]: for x: tmp[x] = in[row + x] * 2;
    #                            for x: out[row + x] = tmp[x] + y)
    inp, out, tmp, x, y, row = (Symbol(n) for n in ("in", "out", "tmp", "x", "y", "row"))
    w = Variable(Int(32), buffer_extent(inp, 0))
    h = Variable(Int(32), buffer_extent(inp, 1))
    at = lambda e: Add(var(row), e)
    fill = For(x, i32(0), w, inner, Store(tmp, Mul(Load(Int(32), inp, at(var(x))), i32(2)), var(x)))
    use = For(x, i32(0), w, inner, Store(out, Add(Load(Int(32), tmp, var(x)), var(y)), at(var(x))))
    body = For(y, i32(0), h, outer,
               LetStmt(row, Mul(var(y), w),
                       Allocate(tmp, Int(32), w, MemoryType.HEAP, Block((fill, use)))))
    jf = compile_lowered(LoweredFunc("nested", (buf(inp, Int(32), 2), buf(out, Int(32), 2)), body))
    a = np.arange(300 * 257, dtype=np.int32).reshape(300, 257)
    for _ in range(20):
        o = np.zeros_like(a)
        jf(jf.make_argv(a, o))
        np.testing.assert_array_equal(o, a * 2 + np.arange(300)[:, None])


def test_triple_nesting_with_many_small_jobs(threads):
    # out[z*64 + y*8 + x] = z*100 + y*10 + x, every level parallel.
    out, x, y, z = Symbol("out"), Symbol("x"), Symbol("y"), Symbol("z")
    idx = Add(Add(Mul(var(z), i32(64)), Mul(var(y), i32(8))), var(x))
    val = Add(Add(Mul(var(z), i32(100)), Mul(var(y), i32(10))), var(x))
    body = For(z, i32(0), i32(8), P, For(y, i32(0), i32(8), P, For(x, i32(0), i32(8), P, Store(out, val, idx))))
    jf = compile_lowered(LoweredFunc("triple", (buf(out, Int(32)),), body))
    expected = (np.arange(8)[:, None, None] * 100 + np.arange(8)[:, None] * 10 + np.arange(8)).ravel()
    for _ in range(50):
        o = np.zeros(512, np.int32)
        jf(jf.make_argv(o))
        np.testing.assert_array_equal(o, expected)


def failing_function():
    """Parallel over y; row y asserts in[y] < 1000, inside a heap allocation and a nested loop."""
    inp, out, tmp, x, y = Symbol("in"), Symbol("out"), Symbol("tmp"), Symbol("x"), Symbol("y")
    n = Variable(Int(32), buffer_extent(inp, 0))
    v = Load(Int(32), inp, var(y))
    check = AssertStmt(LT(v, i32(1000)), "row {} has value {}", (var(y), v))
    inner = For(x, i32(0), i32(4), P, IfThenElse(GE(var(x), i32(2)), check))
    body = For(y, i32(0), n, P,
               Allocate(tmp, Int(32), i32(100_000), MemoryType.HEAP,
                        Block((Store(tmp, v, i32(0)), inner,
                               Store(out, Load(Int(32), tmp, i32(0)), var(y))))))
    return compile_lowered(LoweredFunc("failing", (buf(inp, Int(32)), buf(out, Int(32))), body))


def test_errors_inside_tasks_propagate(threads):
    jf = failing_function()
    a = np.arange(500, dtype=np.int32)
    a[123] = 5000
    for _ in range(50):
        with pytest.raises(PipelineRuntimeError, match="row 123 has value 5000"):
            jf(jf.make_argv(a, np.zeros_like(a)))
    a[123] = 0
    o = np.zeros_like(a)
    jf(jf.make_argv(a, o))
    np.testing.assert_array_equal(o, a)


def test_concurrent_errors_report_one_consistent_failure(threads):
    jf = failing_function()
    a = np.full(64, 2000, np.int32)
    a[::2] = 3000
    for _ in range(50):
        with pytest.raises(PipelineRuntimeError, match=r"row (\d+) has value (\d+)") as info:
            jf(jf.make_argv(a, np.zeros_like(a)))
        row, value = map(int, re.search(r"row (\d+) has value (\d+)", str(info.value)).groups())
        assert a[row] == value


def test_calls_from_several_python_threads(threads):
    jf = scale_function()
    a = np.arange(10**5, dtype=np.int32)
    errors = []

    def work(k):
        for _ in range(20):
            out = np.zeros(len(a), np.float32)
            jf(jf.make_argv(a, float(k), out))
            if not np.array_equal(out, a.astype(np.float32) * k + 1):
                errors.append(k)
    ts = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors


def test_set_and_get_num_threads():
    old = get_num_threads()
    set_num_threads(3)
    assert get_num_threads() == 3
    set_num_threads(0)
    assert get_num_threads() == 1
    set_num_threads(old)


def test_thread_count_comes_from_the_environment():
    code = "from pipelang.backends.llvm import get_num_threads; print(get_num_threads())"
    env = dict(os.environ, HL_NUM_THREADS="3")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
                             os.path.abspath(__file__))))), check=True)
    assert out.stdout.strip() == "3"


@pytest.mark.parametrize("nthreads", [2, 3])
def test_owner_helps_while_waiting_for_an_unbalanced_nested_loop(nthreads):
    # Outer parallel loop of 2 iterations: iteration 0 is empty, iteration 1
    # runs a parallel loop of 64 x 64 parallel rows. The thread that finishes
    # iteration 0 first (the owner, or a worker) waits for the other, and now
    # works on that iteration's inner jobs meanwhile (pl_find_open); every row
    # is written once, and nothing deadlocks however the iterations fall.
    old = get_num_threads()
    set_num_threads(nthreads)
    try:
        out, x, y, z = Symbol("out"), Symbol("x"), Symbol("y"), Symbol("z")
        idx = Add(Mul(var(y), i32(64)), var(x))
        val = Add(Mul(var(y), i32(1000)), var(x))
        rows = For(y, i32(0), Mul(var(z), i32(64)), P, For(x, i32(0), i32(64), P, Store(out, val, idx)))
        body = For(z, i32(0), i32(2), P, rows)
        jf = compile_lowered(LoweredFunc("unbalanced", (buf(out, Int(32)),), body))
        expected = (np.arange(64)[:, None] * 1000 + np.arange(64)).ravel()
        for _ in range(100):
            o = np.zeros(64 * 64, np.int32)
            jf(jf.make_argv(o))
            np.testing.assert_array_equal(o, expected)
    finally:
        set_num_threads(old)


def test_waiting_owners_look_for_other_jobs():
    # The runtime's IR: pl_par_for's wait for helpers calls pl_find_open (and
    # pl_help) before sleeping, and pushing a job wakes waiting owners too.
    from pipelang.backends.llvm.runtime import _Builder
    text = str(_Builder().build())
    par_for = text[text.index('define i32 @"pl_par_for"'):]
    par_for = par_for[:par_for.index("\n}\n")]
    assert '@"pl_find_open"' in par_for and '@"pl_help"' in par_for
    assert par_for.count('@"pthread_cond_broadcast"') >= 2
