"""Func.in_ / clone_in / ImageParam.in_: values against numpy, names and loop
nests against real Halide 21 (each builder runs unchanged under both)."""
import numpy as np
import pytest

import pipelang


def _loop_nest(hl, build, capfd):
    out = build(hl)
    capfd.readouterr()
    out.print_loop_nest()
    return capfd.readouterr().err


def _same_as_halide(build, capfd):
    halide = pytest.importorskip("halide")
    ours = _loop_nest(pipelang, build, capfd)
    theirs = _loop_nest(halide, build, capfd)
    assert ours == theirs, f"pipelang:\n{ours}\nHalide:\n{theirs}"


def _xy(hl):
    return hl.Var("x"), hl.Var("y")


def _local(hl):
    x, y = _xy(hl)
    f, g = hl.Func("f_local"), hl.Func("g_local")
    f[x, y] = x + y
    g[x, y] = 2 * f[x, y] + 3
    f.compute_root()
    w = f.in_(g)
    w.compute_root()
    assert "_in_g_local" in w.name()
    return g


def _global(hl):
    x, y = _xy(hl)
    f, g, h = hl.Func("f_global"), hl.Func("g_global"), hl.Func("h_global")
    f[x, y] = x + y
    g[x, y] = 2 * f[x, y]
    h[x, y] = 3 + g[x, y] - f[x, y]
    f.compute_root(), g.compute_root(), h.compute_root()
    f.in_().compute_root()
    return h


def _per_consumer(hl):
    x, y = _xy(hl)
    xo, xi = hl.Var("xo"), hl.Var("xi")
    f, g, h = hl.Func("f_sched"), hl.Func("g_sched"), hl.Func("h_sched")
    f[x, y] = x + y
    g[x, y] = 2 * f[x, y]
    h[x, y] = 3 + g[x, y] - f[x + 93, y - 87]
    g.compute_root(), h.compute_root()
    f.in_(g).compute_at(g, y)
    f.in_(h).compute_at(h, y)
    # (Explicit inner vars: the generated ones are numbered by process-wide counters.)
    f.in_(g).split(x, x, xi, 4).vectorize(xi)
    f.in_(h).split(x, xo, xi, 2).reorder(xo, xi)
    return h


def _shared_list(hl):
    x, y = _xy(hl)
    f, g, h, out = hl.Func("sl_f"), hl.Func("sl_g"), hl.Func("sl_h"), hl.Func("sl_out")
    f[x, y] = x * y
    g[x, y] = f[x, y] + 1
    h[x, y] = f[x, y] * 2
    out[x, y] = g[x, y] + h[x, y] + f[x, y]
    g.compute_root(), h.compute_root()
    w = f.in_([g, h])
    assert f.in_([g, h]).name() == w.name()
    w.compute_root()
    return out


def _clone(hl):
    x, y = _xy(hl)
    f, g, h = hl.Func("cl_f"), hl.Func("cl_g"), hl.Func("cl_h")
    f[x, y] = x + 2 * y
    f[x, y] += 1
    g[x, y] = f[x, y] * 3
    h[x, y] = f[x, y] + g[x, y]
    f.compute_root()
    c = f.clone_in(g)
    xi = hl.Var("xi")
    c.compute_at(g, y).split(x, x, xi, 4).vectorize(xi)
    g.compute_root()
    return h


def _image(hl):
    x, y = _xy(hl)
    xo, yo, xi, yi = (hl.Var(n) for n in ("xo", "yo", "xi", "yi"))
    img = hl.ImageParam(hl.Int(32), 2, "wr_img")
    blur = hl.Func("wr_blur")
    blur[x, y] = img[x - 1, y] + img[x, y] + img[x + 1, y + 1]
    blur.compute_root().tile(x, y, xo, yo, xi, yi, 8, 8)
    w = img.in_(blur)
    assert "_im_in_wr_blur" in w.name() or "_im$" in w.name()
    _0 = hl.Var("_0")
    w.compute_at(blur, xo).split(_0, _0, xi, 4).vectorize(xi)
    a = np.arange(34 * 34, dtype=np.int32).reshape(34, 34)
    buf = hl.Buffer(a)
    buf.set_min([-1, -1])
    img.set(buf)
    return blur


def _chain(hl):
    x = hl.Var("x")
    f, g = hl.Func("fc"), hl.Func("gc")
    f[x] = x * 5
    g[x] = f[x] + 1
    a = f.in_(g)
    b = a.in_(g)
    a.compute_root(), b.compute_root()
    return g


# _chain is checked by value only: Halide's name counters are buckets of a
# string hash, so in a long process its "fc" may become "fc$1" by collision.
BUILDERS = [_local, _global, _per_consumer, _shared_list, _clone, _image]


@pytest.mark.parametrize("build", BUILDERS, ids=lambda b: b.__name__.strip("_"))
def test_loop_nest_matches_halide(build, capfd):
    _same_as_halide(build, capfd)


def test_values_against_numpy():
    yy, xx = np.mgrid[0:8, 0:8]
    np.testing.assert_array_equal(np.asarray(_local(pipelang).realize([8, 8])), 2 * (xx + yy) + 3)
    np.testing.assert_array_equal(np.asarray(_global(pipelang).realize([8, 8])), 3 + (xx + yy))
    np.testing.assert_array_equal(np.asarray(_per_consumer(pipelang).realize([8, 8])),
                                  3 + 2 * (xx + yy) - (xx + 93 + yy - 87))
    np.testing.assert_array_equal(np.asarray(_shared_list(pipelang).realize([8, 8])),
                                  (xx * yy + 1) + 2 * xx * yy + xx * yy)
    f = xx + 2 * yy + 1
    np.testing.assert_array_equal(np.asarray(_clone(pipelang).realize([8, 8])), f + 3 * f)
    a = np.arange(34 * 34, dtype=np.int32).reshape(34, 34)
    want = a[1:33, 0:32] + a[1:33, 1:33] + a[2:34, 2:34]
    np.testing.assert_array_equal(np.asarray(_image(pipelang).realize([32, 32])), want)
    np.testing.assert_array_equal(np.asarray(_chain(pipelang).realize([6])), np.arange(6) * 5 + 1)


def test_wrapper_names_match_halide():
    halide = pytest.importorskip("halide")

    def names(hl):
        x = hl.Var("x")
        f, g, h = hl.Func("nf"), hl.Func("ng"), hl.Func("nh")
        f[x] = x
        g[x] = f[x]
        h[x] = f[x] + g[x]
        out = [f.in_(g).name(), f.in_().name(), f.in_(g).name(), f.in_([h]).name(),
               f.in_(g).in_(h).name()]
        # (Halide fails on clone_in of a Func that already has any wrapper.)
        c, k = hl.Func("nc"), hl.Func("nk")
        c[x] = x
        k[x] = c[x] + f[x]
        out += [c.clone_in(k).name(), c.clone_in(k).name()]
        return out
    assert names(pipelang) == names(halide)


def test_wrapper_only_where_its_consumer_is(capfd):
    """A pipeline without the wrapper's consumer does not compute the wrapper."""
    hl = pipelang
    x = hl.Var("x")
    f, g, h = hl.Func("only_f"), hl.Func("only_g"), hl.Func("only_h")
    f[x] = x + 1
    g[x] = f[x] * 2
    h[x] = f[x] * 3
    f.in_(g).compute_root()
    np.testing.assert_array_equal(np.asarray(h.realize([4])), (np.arange(4) + 1) * 3)
    np.testing.assert_array_equal(np.asarray(g.realize([4])), (np.arange(4) + 1) * 2)
    assert "only_f_in_only_g" not in _loop_nest(hl, lambda _: h, capfd)
    assert "produce only_f_in_only_g" in _loop_nest(hl, lambda _: g, capfd)
