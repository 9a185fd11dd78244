"""Programs where pipelang once gave a wrong or refused result, run under
pipelang and real Halide 21; the outputs must be identical.

Each case is `case(hl) -> list of numpy arrays` written against Halide's
Python API only, so the same code runs under both modules.
"""
import numpy as np
import pytest

import pipelang

halide = pytest.importorskip("halide")

CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def _out(r):
    if isinstance(r, (list, tuple)) and not isinstance(r, np.ndarray):
        return [np.asarray(b).copy() for b in r]
    return [np.asarray(r).copy()]


@case
def tuple_update_over_rdom(hl):
    x = hl.Var("x")
    f = hl.Func("f")
    r = hl.RDom([hl.Range(0, 5)], "r")
    f[x] = (hl.i32(0), hl.f32(0))
    f[x] = (f[x][0] + r.x * x, f[x][1] + hl.f32(r.x) * 0.5)
    return _out(f.realize([4]))


@case
def tuple_update_where_scan(hl):
    x, y = hl.Var("x"), hl.Var("y")
    f = hl.Func("f")
    r = hl.RDom([hl.Range(1, 6)], "r")
    r.where(r.x % 2 == 1)
    f[x, y] = (x + y, hl.u8(x * 3))
    f[r.x, y] = (f[r.x - 1, y][0] * 2 + f[r.x, y][0], f[r.x - 1, y][1] ^ f[r.x, y][1])
    return _out(f.realize([7, 3]))


@case
def float_to_bool_casts(hl):
    x = hl.Var("x")
    vals = np.array([-3.5, -1.5, -1.0, -0.5, 0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 257.0],
                    dtype=np.float32)
    b = hl.Buffer(vals)
    f, g = hl.Func("f"), hl.Func("g")
    f[x] = hl.u8(hl.cast(hl.Bool(), b[x]))
    g[x] = hl.select(hl.cast(hl.Bool(), hl.f64(b[x]) * 0.5), 7, 3)
    g.vectorize(x, 4, hl.TailStrategy.GuardWithIf)
    return _out(f.realize([len(vals)])) + _out(g.realize([len(vals)]))


@case
def float64_params(hl):
    # A Python float reaches a Param through a C float in Halide's binding,
    # whatever the Param's type: Param(Float(64), "p", 0.1) is float32(0.1).
    x = hl.Var("x")
    p = hl.Param(hl.Float(64), "p", 1.25)
    q = hl.Param(hl.Float(64), "q")
    q.set(-2.5)
    r = hl.Param(hl.Float(64), "r", 0.1)
    s = hl.Param(hl.Float(64), "s")
    s.set(1e300)
    t = hl.Param(hl.Int(64), "t", 2 ** 40 + 1)
    f, g = hl.Func("f"), hl.Func("g")
    f[x] = hl.f32(p * x + q) + hl.f32(hl.cast(hl.Bool(), q))
    g[x] = r * x + s + hl.f64(t)
    return _out(f.realize([5])) + _out(g.realize([3]))


@case
def update_only_funcs(hl):
    x, y = hl.Var("x"), hl.Var("y")
    r = hl.RDom([hl.Range(0, 3)], "r")
    f, g, h = hl.Func("f"), hl.Func("g"), hl.Func("h")
    f[x] += x * r.x
    g[x, y] += x + y
    h[x] *= x + r.x
    k = hl.Func("k")
    k[x, y] = f[x] + g[x, y] - h[x]
    return _out(k.realize([4, 3]))


@case
def update_only_float_minus(hl):
    x = hl.Var("x")
    r = hl.RDom([hl.Range(0, 4)], "r")
    f = hl.Func("f")
    f[x] -= hl.f32(x) * 0.5 + hl.f32(r.x)
    return _out(f.realize([5]))


@case
def inline_reduction_forms(hl):
    x = hl.Var("x")
    r = hl.RDom([hl.Range(0, 3)], "r")
    g = hl.Func("g")
    g[x] = x * x - 3 * x
    f = hl.Func("f")
    f[x] = (hl.sum(g[x + r.x], "mysum") + hl.sum(r, x * r.x) + hl.maximum(r, g[r.x] + x, "mx")
            + hl.minimum(g[x - r.x]) + hl.product(r, x + r.x + 1, "pr"))
    return _out(f.realize([5]))


@case
def inline_reduction_foreign_rvar(hl):
    # With an explicit RDom, an RVar of another RDom is a free variable.
    x = hl.Var("x")
    r = hl.RDom([hl.Range(0, 3)], "r")
    s = hl.RDom([hl.Range(0, 4)], "s")
    f = hl.Func("f")
    f[x] = 0
    f[x] = f[x] + hl.sum(s, (x + 1) * s.x + r.x)
    return _out(f.realize([4]))


@case
def argmax_argmin_of_funcs(hl):
    x, y = hl.Var("x"), hl.Var("y")
    g = hl.Func("g")
    g[x, y] = (x * 7 + y * 3) % 11
    r = hl.RDom([hl.Range(0, 4), hl.Range(0, 4)], "r")
    f = hl.Func("f")
    a = hl.argmin(g[r.x + x, r.y])
    b = hl.argmax(r, g[r.x, r.y + x] - x, "am")
    f[x] = a[0] * 1000 + a[1] * 100 + a[2] + b[0] * 10 + b[1] + b[2]
    h = hl.Func("h")
    h[x] = hl.argmax(hl.f32(g[r.x, x]) * 0.5)
    return _out(f.realize([3])) + _out(h.realize([3]))


@case
def causal_scan_over_input(hl):
    x = hl.Var("x")
    inp = hl.ImageParam(hl.Int(32), 1, "inp")
    f = hl.Func("f")
    r = hl.RDom([hl.Range(1, 7)], "r")
    f[x] = inp[x]
    f[r.x] = f[r.x - 1] + inp[r.x]
    inp.set(hl.Buffer(np.arange(8, dtype=np.int32)))
    return _out(f.realize([8]))


@case
def rfactor_tuple_update(hl):
    x = hl.Var("x")
    g = hl.Func("g")
    g[x] = (x * 5) % 7
    f = hl.Func("f")
    r = hl.RDom([hl.Range(0, 8)], "r")
    f[()] = (hl.i32(0), hl.i32(-1000))
    f[()] = (f[()][0] + g[r.x], hl.max(f[()][1], g[r.x]))
    ro, ri = hl.RVar("ro"), hl.RVar("ri")
    u = hl.Var("u")
    f.update(0).split(r.x, ro, ri, 4)
    f.update(0).rfactor(ri, u).compute_root()
    return _out(f.realize([]))


@case
def rfactor_argmin(hl):
    x = hl.Var("x")
    g = hl.Func("g")
    g[x] = (x * 7) % 5 + 1
    f = hl.Func("f")
    r = hl.RDom([hl.Range(0, 16)], "r")
    f[()] = (hl.i32(1000), hl.i32(0))
    f[()] = (hl.min(f[()][0], g[r.x]), hl.select(f[()][0] < g[r.x], f[()][1], r.x))
    ro, ri = hl.RVar("ro"), hl.RVar("ri")
    u = hl.Var("u")
    f.update(0).split(r.x, ro, ri, 4)
    f.update(0).rfactor(ro, u).compute_root()
    return _out(f.realize([]))


@case
def rfactor_argmax_inner_and_product(hl):
    x, y = hl.Var("x"), hl.Var("y")
    g = hl.Func("g")
    g[x, y] = (x * 13 + y * 7) % 9
    f = hl.Func("f")
    r = hl.RDom([hl.Range(0, 10), hl.Range(0, 3)], "r")
    f[y] = (hl.i32(-100), hl.i32(0), hl.i32(0), hl.f32(1))
    f[y] = (hl.max(f[y][0], g[r.x, r.y + y]), hl.select(g[r.x, r.y + y] < f[y][0], f[y][1], r.x),
            hl.select(g[r.x, r.y + y] < f[y][0], f[y][2], r.y), f[y][3] * 1.5)
    ri, ro, u = hl.RVar("ri"), hl.RVar("ro"), hl.Var("u")
    f.update(0).split(r.x, ro, ri, 4)
    f.update(0).rfactor([(ri, u)]).compute_root().vectorize(u)
    return _out(f.realize([3]))


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_as_halide(name):
    want = CASES[name](halide)
    got = CASES[name](pipelang)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        np.testing.assert_array_equal(g, w)


def test_rfactor_refuses_what_halide_cannot_prove():
    for m in (halide, pipelang):
        x = m.Var("x")
        g, f = m.Func("g"), m.Func("f")
        g[x] = x % 5
        r = m.RDom([m.Range(0, 8)], "r")
        f[()] = (m.i32(0), m.i32(1000))
        f[()] = (m.select(g[r.x] < f[()][1], r.x, f[()][0]), m.min(f[()][1], g[r.x]))
        with pytest.raises(Exception, match="associativity"):
            f.update(0).rfactor(r.x, m.Var("u"))


_TRACE_SLIDING = """
import sys, importlib
hl = importlib.import_module(sys.argv[1])
x, y = hl.Var("x"), hl.Var("y")
p, c = hl.Func("p_sw"), hl.Func("c_sw")
p[x, y] = x * y
c[x, y] = p[x, y] + p[x, y + 1] + p[x + 1, y] + p[x + 1, y + 1]
p.store_root().compute_at(c, x if sys.argv[2] == "x" else y)
p.trace_stores()
c.trace_stores()
c.realize([4, 4])
sys.stdout.flush()
c.print_loop_nest()
"""


@pytest.mark.parametrize("at", ["x", "y"])
def test_sliding_window_trace_order_is_halides(at):
    """Lesson 08: store_root().compute_at() slides with the loop rewound,
    so the interleaving of producer and consumer stores is Halide's. (Each
    module runs in its own process: trace lines and Python prints share one
    stdout there, in order.)"""
    import os
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    outs = [subprocess.run([sys.executable, "-c", _TRACE_SLIDING, m, at], capture_output=True,
                           text=True, env=env, check=True).stdout for m in ("halide", "pipelang")]
    assert "Store p_sw" in outs[0]
    assert outs[1].splitlines() == outs[0].splitlines()


def _inline_schedule_warnings(hl):
    import contextlib
    import io
    i = hl.Var()
    f = hl.Func("f_w")
    f[i] = 0.0
    f.bound(i, 0, 127)
    f.split(i, hl.Var("io"), hl.Var("ii"), 4)
    g = hl.Func("g_w")
    g[i] = f[i * i]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        g.realize([16])
        g.realize([16])
    return out.getvalue()


def test_inline_schedule_warnings_as_halides():
    """Halide's correctness test realize_warnings: a bound (or split) on an
    inlined Func warns, on Python's stdout, as Halide does."""
    want = _inline_schedule_warnings(halide)
    got = _inline_schedule_warnings(pipelang)
    import re

    def norm(text):   # unnamed Vars and Func uniquifiers count differently
        return re.sub(r"\$\d+", "", re.sub(r"\bv\d+", "v#", text)).splitlines()
    assert len(want.splitlines()) == 4
    assert norm(got) == norm(want)
