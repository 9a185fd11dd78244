"""hl.print into a replaced sys.stdout, mux over Tuples, random numbers, evaluate."""
import contextlib
import io

import numpy as np
import pytest

import pipelang as hl


def test_print_goes_to_a_redirected_stdout():
    x = hl.Var("x")
    f = hl.Func("f")
    f[x] = hl.print_when(x == 3, hl.cast(hl.UInt(8), x * x), "is result at", x)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        f.realize(hl.Buffer(hl.UInt(8), [10]))
    assert out.getvalue() == "9 is result at 3\n"


def test_mux_of_a_tuple_valued_call():
    x, c = hl.Var("x"), hl.Var("c")
    g = hl.Func("g")
    g[x] = (123, 456, x + 7)
    f = hl.Func("f")
    f[x, c] = hl.mux(c, g[x])
    b = f.realize([2, 4])
    assert [b[1, i] for i in range(4)] == [123, 456, 8, 8]


def test_random_numbers_vary_by_point_and_call_and_repeat():
    x, y = hl.vars("x y")
    f = hl.Func("f")
    f[x, y] = hl.random_float()
    a = np.asarray(f.realize([100, 100]))
    assert a.dtype == np.float32 and 0 <= a.min() and a.max() < 1 and abs(a.mean() - 0.5) < 0.02
    assert len(np.unique(a)) > 9900
    np.testing.assert_array_equal(a, np.asarray(f.realize([100, 100])))     # a pure function
    g = hl.Func("g")
    g[x] = hl.random_int(x) - hl.random_int(x)        # two calls, two streams
    assert np.count_nonzero(np.asarray(g.realize([64]))) > 60
    h = hl.Func("h")
    h[x] = hl.random_uint(7)
    assert h.type() == hl.UInt(32)


def test_evaluate_tuples():
    assert hl.evaluate((hl.f32(-1.0) / 2, hl.i32(7) // 2)) == (-0.5, 3)
    assert hl.evaluate_may_gpu(hl.i32(6) * 7) == 42


def test_partition_policy_and_lambda_func():
    data = np.arange(64, dtype=np.uint8).reshape(8, 8)
    src = hl.Buffer(data)
    x, y = hl.vars("x y")
    outs = []
    for policy in (hl.Partition.Auto, hl.Partition.Never):
        f = hl.lambda_func(x, y, hl.BoundaryConditions.repeat_edge(f=src)[x, y])
        f.vectorize(x, 4).partition(x, policy).partition(y, policy)
        stmt = hl.Pipeline(f).lowered_stmt()
        assert ("steady_min" in stmt) == (policy is hl.Partition.Auto)
        out = hl.Buffer(hl.UInt(8), [12, 12])
        out.set_min([-2, -2])
        f.realize(out)
        outs.append(np.asarray(out).copy())
    ref = data[np.clip(np.arange(-2, 10), 0, 7)][:, np.clip(np.arange(-2, 10), 0, 7)]
    np.testing.assert_array_equal(outs[0], ref)
    np.testing.assert_array_equal(outs[1], ref)


def test_partition_always_fails_where_nothing_can_be_partitioned():
    x = hl.Var("x")
    f = hl.Func("plain")
    f[x] = x * 2
    f.partition(x, hl.Partition.Always)
    with pytest.raises(hl.ScheduleError, match="Loop Partition Policy is set to Always for plain.s0.x"):
        f.realize([8])


def test_boundary_conditions_take_halides_keywords():
    src = hl.Buffer(np.arange(6, dtype=np.int32))
    f = hl.BoundaryConditions.constant_exterior(f=src, exterior=-1, bounds=[(hl.Expr(), hl.Expr())])
    g = hl.BoundaryConditions.constant_exterior(f=src, exterior=-1)
    out = hl.Buffer(hl.Int(32), [3])
    out.set_min([4])
    g.realize(out)
    assert list(np.asarray(out)) == [4, 5, -1]
    assert f.realize([3])[2] == 2
