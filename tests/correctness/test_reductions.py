"""Reductions against numpy: histograms, scans, IIR, integral images,
convolutions via RDom, inline reductions, RDom.where, Tuples."""
import numpy as np

import pipelang as hl

RNG = np.random.default_rng(11)
IMG = RNG.integers(0, 256, (23, 31)).astype(np.uint8)


def test_histogram():
    b = hl.Buffer(IMG)
    r = hl.RDom([(0, IMG.shape[1]), (0, IMG.shape[0])])
    x = hl.Var("x")
    h = hl.Func("rd_hist")
    h[x] = 0
    h[hl.i32(b[r.x, r.y])] += 1
    np.testing.assert_array_equal(np.asarray(h.realize([256])), np.bincount(IMG.ravel(), minlength=256))


def test_cumulative_sum_scan():
    a = RNG.integers(-50, 50, 40).astype(np.int32)
    x = hl.Var("x")
    c = hl.Func("rd_cumsum")
    c[x] = hl.Buffer(a)[x]
    r = hl.RDom([(1, 39)])
    c[r] = c[r] + c[r - 1]
    np.testing.assert_array_equal(np.asarray(c.realize([40])), np.cumsum(a))


def test_iir_filter_along_rows_with_parallel_columns():
    img = RNG.random((17, 29)).astype(np.float32)
    x, y = hl.Var("x"), hl.Var("y")
    f = hl.Func("rd_iir")
    f[x, y] = hl.Buffer(img)[x, y]
    r = hl.RDom([(1, 16)])
    f[x, r] = f[x, r] * 0.5 + f[x, r - 1] * 0.5
    f.update().vectorize(x, 8, hl.TailStrategy.GuardWithIf)   # Auto rounds up, as in Halide
    want = img.copy()
    for i in range(1, 17):
        want[i] = want[i] * np.float32(0.5) + want[i - 1] * np.float32(0.5)
    np.testing.assert_array_equal(np.asarray(f.realize([29, 17])), want)


def test_integral_image():
    x, y = hl.Var("x"), hl.Var("y")
    f = hl.Func("rd_integral")
    f[x, y] = hl.i32(hl.Buffer(IMG)[x, y])
    rx = hl.RDom([(1, IMG.shape[1] - 1)])
    f[rx, y] += f[rx - 1, y]
    ry = hl.RDom([(1, IMG.shape[0] - 1)])
    f[x, ry] += f[x, ry - 1]
    f.update(1).vectorize(x, 8, hl.TailStrategy.GuardWithIf)
    want = IMG.astype(np.int64).cumsum(axis=1).cumsum(axis=0)
    np.testing.assert_array_equal(np.asarray(f.realize([IMG.shape[1], IMG.shape[0]])), want)


def test_separable_and_2d_convolution_via_rdom():
    k = np.array([1, 2, 3, 2, 1], np.int32)
    x, y = hl.Var("x"), hl.Var("y")
    src = hl.BoundaryConditions.repeat_edge(hl.Buffer(IMG))
    kb = hl.Buffer(k)
    r = hl.RDom([(0, 5)])
    cx, cy = hl.Func("rd_cx"), hl.Func("rd_cy")
    cx[x, y] = hl.sum(hl.i32(src[x + r - 2, y]) * kb[r])
    cy[x, y] = hl.sum(cx[x, y + r - 2] * kb[r])
    cx.compute_root().vectorize(x, 8)
    r2 = hl.RDom([(0, 5), (0, 5)])
    c2 = hl.Func("rd_c2")
    c2[x, y] = hl.sum(hl.i32(src[x + r2.x - 2, y + r2.y - 2]) * kb[r2.x] * kb[r2.y])
    p = np.pad(IMG.astype(np.int64), 2, mode="edge")
    want = sum(k[i] * k[j] * p[j:j + 23, i:i + 31] for i in range(5) for j in range(5))
    np.testing.assert_array_equal(np.asarray(cy.realize([31, 23])), want)
    np.testing.assert_array_equal(np.asarray(c2.realize([31, 23])), want)


def test_matmul_with_a_scheduled_update():
    A = RNG.random((24, 16)).astype(np.float32)
    B = RNG.random((16, 20)).astype(np.float32)
    x, y = hl.Var("x"), hl.Var("y")
    k = hl.RDom([(0, 16)])
    mm = hl.Func("rd_mm")
    mm[x, y] = hl.f32(0)
    mm[x, y] += hl.Buffer(A)[k, y] * hl.Buffer(B)[x, k]
    mm.vectorize(x, 8).parallel(y)
    mm.update().reorder(x, k, y).vectorize(x, 4, hl.TailStrategy.GuardWithIf).parallel(y)
    np.testing.assert_allclose(np.asarray(mm.realize([20, 24])), A @ B, rtol=1e-5)


def test_argmax_argmin_and_window_sum_maximum():
    b = hl.Buffer(IMG)
    x, y = hl.Var("x"), hl.Var("y")
    r = hl.RDom([(0, IMG.shape[1])])
    am = hl.Func("rd_argmax")
    am[y] = hl.argmax(b[r, y])
    idx, val = am.realize([IMG.shape[0]])
    np.testing.assert_array_equal(np.asarray(idx), IMG.argmax(axis=1))
    np.testing.assert_array_equal(np.asarray(val), IMG.max(axis=1))
    an = hl.Func("rd_argmin")
    an[y] = hl.argmin(b[r, y])
    np.testing.assert_array_equal(np.asarray(an.realize([IMG.shape[0]])[0]), IMG.argmin(axis=1))
    w = hl.RDom([(0, 3), (0, 3)])
    s, m = hl.Func("rd_wsum"), hl.Func("rd_wmax")
    s[x, y] = hl.sum(hl.u16(b[x + w.x, y + w.y]))
    m[x, y] = hl.maximum(b[x + w.x, y + w.y])
    views = [IMG[j:j + 21, i:i + 29] for i in range(3) for j in range(3)]
    np.testing.assert_array_equal(np.asarray(s.realize([29, 21])), sum(v.astype(np.uint16) for v in views))
    np.testing.assert_array_equal(np.asarray(m.realize([29, 21])), np.max(views, axis=0))


def test_rdom_where_triangular_sum():
    a = RNG.integers(0, 100, (12, 12)).astype(np.int32)
    r = hl.RDom([(0, 12), (0, 12)])
    r.where(r.x <= r.y)
    t = hl.Func("rd_tri")
    t[()] = 0
    t[()] += hl.Buffer(a)[r.x, r.y]
    assert np.asarray(t.realize([])).item() == np.tril(a).sum()


def test_tuple_valued_func_and_update():
    x = hl.Var("x")
    a = RNG.integers(0, 1000, 50).astype(np.int32)
    r = hl.RDom([(0, 50)])
    f = hl.Func("rd_tuple")
    f[x] = (hl.i32(0), hl.i32(-1))       # (count of values below x*100, largest of them)
    v = hl.Buffer(a)[r]
    below = v < x * 100
    f[x] = (f[x][0] + hl.select(below, 1, 0), hl.select(below, hl.max(f[x][1], v), f[x][1]))
    count, largest = f.realize([11])
    xs = np.arange(11)
    np.testing.assert_array_equal(np.asarray(count), [(a < k * 100).sum() for k in xs])
    np.testing.assert_array_equal(np.asarray(largest), [a[a < k * 100].max(initial=-1) for k in xs])
