"""hl.print into a replaced sys.stdout, mux over Tuples, random numbers, evaluate."""
import contextlib
import io

import numpy as np

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
