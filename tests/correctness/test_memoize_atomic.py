"""memoize() (evaluation counts across realizations, like Halide's memoize
tests) and atomic() (race-free parallel and vectorized updates), against numpy."""
import numpy as np
import pytest

import pipelang as hl
from pipelang.backends.llvm import memoize as cache


def _evals(capfd, tag):
    return capfd.readouterr().out.count(tag)


def _memo_pipeline(tag):
    x, y = hl.Var("x"), hl.Var("y")
    p = hl.Param(hl.Float(32), tag + "_p", 1.0)
    f, g = hl.Func(tag + "_f"), hl.Func(tag + "_g")
    f[x, y] = hl.print(x * p + y, tag)
    f.compute_root().memoize()
    g[x, y] = f[x, y] * 2
    return g, p


def test_memoize_counts_like_halide(capfd):
    g, p = _memo_pipeline("mc")
    yy, xx = np.mgrid[0:2, 0:3]
    capfd.readouterr()
    runs = [(1.0, [3, 2], 6), (1.0, [3, 2], 0), (2.0, [3, 2], 6), (1.0, [3, 2], 0), (1.0, [4, 2], 8)]
    for value, size, evaluations in runs:
        p.set(value)
        out = np.asarray(g.realize(size))
        yy, xx = np.mgrid[0:size[1], 0:size[0]]
        np.testing.assert_allclose(out, (xx * value + yy) * 2)
        assert _evals(capfd, "mc") == evaluations, (value, size)


def test_memoize_compute_at_per_row(capfd):
    x, y = hl.Var("x"), hl.Var("y")
    f, g = hl.Func("mr_f"), hl.Func("mr_g")
    f[x, y] = hl.print(x + 10 * y, "mr")
    g[x, y] = f[x, y] + f[x + 1, y]
    f.compute_at(g, y).memoize()
    capfd.readouterr()
    want = np.fromfunction(lambda y, x: (x + 10 * y) * 2 + 1, (4, 5), dtype=int)
    np.testing.assert_array_equal(np.asarray(g.realize([5, 4])), want)
    assert _evals(capfd, "mr") == 4 * 6
    np.testing.assert_array_equal(np.asarray(g.realize([5, 4])), want)
    assert _evals(capfd, "mr") == 0      # every row's realization is cached


def test_memoize_tuple_and_update():
    x = hl.Var("x")
    r = hl.RDom([(0, 3)])
    f, g = hl.Func("mt_f"), hl.Func("mt_g")
    f[x] = (x, hl.f32(x) / 2)
    f[x] = (f[x][0] + r, f[x][1] * 2)
    f.compute_root().memoize()
    g[x] = f[x][0] + hl.i32(f[x][1])
    for _ in range(2):
        np.testing.assert_array_equal(np.asarray(g.realize([6])), np.arange(6) + 3 + np.arange(6) * 4)


def test_memoize_eviction(capfd):
    g, p = _memo_pipeline("me")
    old = cache.memoization_cache_size()
    try:
        cache.set_memoization_cache_size(1)    # keeps only the newest entry
        capfd.readouterr()
        for value, evaluations in [(1.0, 4), (2.0, 4), (2.0, 0), (1.0, 4)]:
            p.set(value)
            g.realize([2, 2])
            assert _evals(capfd, "me") == evaluations
    finally:
        cache.set_memoization_cache_size(old)


def test_memoize_errors():
    x = hl.Var("x")
    img = hl.ImageParam(hl.Int(32), 1, "me_img")
    f, g = hl.Func("me_f"), hl.Func("me_g")
    f[x] = img[x]
    g[x] = f[x]
    f.compute_root().memoize()
    img.set(hl.Buffer(np.arange(4, dtype=np.int32)))
    with pytest.raises(hl.HalideError, match="depends on the buffer me_img"):
        g.realize([4])
    h, k = hl.Func("me_h"), hl.Func("me_k")
    h[x] = x
    h.memoize()
    k[x] = h[x] + 1
    h.compute_root()
    with pytest.raises(hl.HalideError, match="outputs cannot be memoized"):
        h.realize([4])
    h.store_root().compute_at(k, x)
    with pytest.raises(hl.HalideError, match="must be stored where it is computed"):
        k.realize([4])


def test_memoize_inside_parallel_and_vectorized_loops():
    x, y = hl.Var("x"), hl.Var("y")
    p = hl.Param(hl.Int(32), "mp_p", 3)
    f, g = hl.Func("mp_f"), hl.Func("mp_g")
    f[x, y] = x + 10 * y + p
    g[x, y] = f[x, y] + f[x + 1, y]
    f.compute_at(g, y).memoize().vectorize(x, 4)
    g.parallel(y).vectorize(x, 8)
    want = np.fromfunction(lambda y, x: (x + 10 * y + 3) * 2 + 1, (50, 37), dtype=int)
    for _ in range(2):
        np.testing.assert_array_equal(np.asarray(g.realize([37, 50])), want)


# ---------------------------------------------------------------- atomic

def _histogram(n_bins, n, value=None, tag="h"):
    x = hl.Var("x")
    im, f = hl.Func(tag + "_im"), hl.Func(tag + "_f")
    im[x] = (x * x + 3 * x) % n_bins
    r = hl.RDom([(0, n)])
    f[x] = 0 if value is None else hl.f32(0)
    f[hl.Expr(im[r])] += 1 if value is None else hl.f32(1)
    return f, r, im


def _reference(n_bins, n):
    i = np.arange(n, dtype=np.int32)         # int32 arithmetic wraps, as in the pipeline
    return np.bincount((i * i + 3 * i) % n_bins, minlength=n_bins)


def test_atomic_parallel_histogram_uses_atomic_add():
    f, r, _ = _histogram(7, 200000, tag="ah")
    f.compute_root().update().atomic().parallel(r)
    np.testing.assert_array_equal(np.asarray(f.realize([7])), _reference(7, 200000))
    assert "atomicrmw add" in hl.Pipeline(f).llvm_ir()


def test_atomic_float_add_and_vectorized():
    f, r, _ = _histogram(5, 4000, value=1.0, tag="af")
    ro, ri = hl.RVar("ro"), hl.RVar("ri")
    f.compute_root().update().atomic().split(r, ro, ri, 8).parallel(ro).vectorize(ri)
    np.testing.assert_array_equal(np.asarray(f.realize([5])), _reference(5, 4000).astype(np.float32))
    assert "atomicrmw fadd" in hl.Pipeline(f).llvm_ir()


def test_atomic_compare_and_swap_for_max():
    x = hl.Var("x")
    r = hl.RDom([(0, 50000)])
    f = hl.Func("amax_f")
    f[x] = -1
    f[r % 3] = hl.max(f[r % 3], (r * 7919) % 10007)
    f.compute_root().update().atomic().parallel(r)
    i = np.arange(50000)
    want = [((i * 7919) % 10007)[i % 3 == k].max() for k in range(3)]
    np.testing.assert_array_equal(np.asarray(f.realize([3])), want)
    assert "cmpxchg" in hl.Pipeline(f).llvm_ir()


def test_atomic_tuple_update_under_a_lock():
    x = hl.Var("x")
    r = hl.RDom([(0, 30000)])
    f = hl.Func("atup_f")
    f[x] = (0, 0)
    f[r % 4] = (f[r % 4][0] + 1, f[r % 4][1] + r % 5)
    f.compute_root().update().atomic().parallel(r)
    a, b = f.realize([4])
    i = np.arange(30000)
    np.testing.assert_array_equal(np.asarray(a), np.bincount(i % 4))
    np.testing.assert_array_equal(np.asarray(b), [(i % 5)[i % 4 == k].sum() for k in range(4)])


def test_atomic_errors():
    _, r, _ = _histogram(5, 10, tag="ae")
    x = hl.Var("x")
    g = hl.Func("ae_g")
    g[x] = 0
    g[r] = g[r + 1] + 1
    with pytest.raises(hl.HalideError, match="cannot be given an atomic"):
        g.update().atomic()
    h, r2, _ = _histogram(5, 10, tag="ae2")
    with pytest.raises(hl.HalideError, match="may write the same point"):
        h.update().parallel(r2)


def test_atomic_loop_nest_matches_halide(capfd):
    halide = pytest.importorskip("halide")

    def nest(hl):
        x = hl.Var("x")
        im, f = hl.Func("aln_im"), hl.Func("aln_f")
        im[x] = (x * x) % 5
        r = hl.RDom([(0, 100)], "aln_r")
        f[x] = 0
        f[hl.Expr(im[r])] += 1
        ro, ri = hl.RVar("ro"), hl.RVar("ri")
        f.compute_root().update().atomic().split(r, ro, ri, 8).parallel(ro).vectorize(ri)
        capfd.readouterr()
        f.print_loop_nest()
        return capfd.readouterr().err, list(f.realize([5]))
    assert nest(hl) == nest(halide)
