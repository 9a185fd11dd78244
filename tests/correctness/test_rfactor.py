"""rfactor: an associative update split into an intermediate Func and a merge,
realized against numpy references under the schedules rfactor exists for
(parallel and vectorized reductions). Extents are prime or not multiples of
the split factors, so the intermediates' split-tail predicates matter.

Split names are plain Vars: Halide spells them `hl.RVar("rxo")`, which
pipelang's RVar cannot be built as yet; schedules match by name either way.
"""
import numpy as np
import pytest

import pipelang as hl

N = 10007          # prime: no split factor divides it


def _dims(stage):
    """The stage's loops, innermost first (the order of Halide's dump_argument_list)."""
    return [d.var for d in stage._sched.dims]


def _split_sum(inp, n, lo, factor, preserve):
    """f[()] = sum of inp over [lo, lo + n), split by `factor`, rfactor'd on rxo or rxi."""
    f = hl.Func("total")
    r = hl.RDom([(lo, n)], "r")
    f[()] = hl.cast(inp.type(), 0)
    f[()] += inp[r]
    rxo, rxi, u = hl.Var("rxo"), hl.Var("rxi"), hl.Var("u")
    f.update().split(r.x, rxo, rxi, factor)
    intm = f.update().rfactor(rxo if preserve == "rxo" else rxi, u)
    if preserve == "rxo":
        intm.compute_root().update().parallel(u)        # one partial sum per chunk, in parallel
    else:
        intm.compute_root().update().vectorize(u)       # one partial sum per lane
    return f, intm


@pytest.mark.parametrize("preserve", ["rxo", "rxi"])
def test_sum_int32_bit_exact(preserve):
    a = np.random.default_rng(1).integers(-2**31, 2**31, size=N, dtype=np.int64).astype(np.int32)
    f, intm = _split_sum(hl.Buffer(a), N, 0, 64, preserve)
    assert intm.dimensions() == 1 and _dims(f.update()) == [preserve]
    assert f.realize([])[()] == a.sum(dtype=np.int32)          # wraps like int32


@pytest.mark.parametrize("preserve", ["rxo", "rxi"])
def test_sum_float32_offset_domain(preserve):
    a = np.random.default_rng(2).random(N).astype(np.float32)
    lo, n = 5, N - 9                 # a domain that starts past 0 and ends before the input does
    f, _ = _split_sum(hl.Buffer(a), n, lo, 16, preserve)
    np.testing.assert_allclose(f.realize([])[()], a[lo:lo + n].astype(np.float64).sum(), rtol=1e-5)


def test_sum_2d_rfactor_ry_parallel():
    a = np.random.default_rng(3).integers(-1000, 1000, size=(23, 31)).astype(np.int32)
    x, v = hl.Var("x"), hl.Var("v")
    f = hl.Func("colsum")
    r = hl.RDom([(0, 31), (0, 23)], "r")
    f[x] = 0
    f[x] += hl.Buffer(a)[r.x, r.y] * (x + 1)
    intm = f.update().rfactor(r.y, v)
    intm.compute_root().update().parallel(v)
    assert _dims(intm.update()) == ["r$x", "v", "x"]           # Halide: Vars: r$x v x
    f.update().reorder(x, r.y).vectorize(x, 4)       # the merge reads intm[x, r.y]
    got = np.asarray(f.realize([10]))
    np.testing.assert_array_equal(got, a.sum(dtype=np.int64) * np.arange(1, 11))


def test_parallel_histogram():
    img = np.random.default_rng(4).integers(0, 256, size=(45, 37)).astype(np.uint8)
    x, v = hl.Var("x"), hl.Var("v")
    ryo, ryi = hl.Var("ryo"), hl.Var("ryi")
    hist = hl.Func("hist")
    r = hl.RDom([(0, 37), (0, 45)], "r")
    hist[x] = 0
    hist[hl.clamp(hl.cast(hl.Int(32), hl.Buffer(img)[r.x, r.y]), 0, 255)] += 1
    hist.update().split(r.y, ryo, ryi, 8)
    intm = hist.update().rfactor(ryo, v)               # one histogram per block of 8 rows
    intm.compute_root().update().parallel(v)
    hist.update().reorder(x, ryo).vectorize(x, 8)
    got = np.asarray(hist.realize([256]))
    np.testing.assert_array_equal(got, np.bincount(img.ravel(), minlength=256))


@pytest.mark.parametrize("op", ["max", "min_self_second", "product"])
def test_other_operators(op):
    rng = np.random.default_rng(5)
    n = 1001
    a = rng.integers(-10**6, 10**6, size=n).astype(np.int32)
    if op == "product":
        a = rng.choice(np.array([1, 2, 3, -1], np.int32), size=n)
    inp = hl.Buffer(a)
    f = hl.Func("red_" + op)
    r = hl.RDom([(0, n)], "r")
    if op == "max":
        f[()] = hl.Int(32).min()
        f[()] = hl.max(f[()], inp[r])
        want = a.max()
    elif op == "min_self_second":
        f[()] = hl.Int(32).max()
        f[()] = hl.min(inp[r] * 3, f[()])
        want = (a * 3).min()
    else:
        f[()] = 1
        f[()] *= inp[r]
        want = np.prod(a, dtype=np.int32)               # wraps like int32
    rxo, rxi, u = hl.Var("rxo"), hl.Var("rxi"), hl.Var("u")
    f.update().split(r.x, rxo, rxi, 8)
    intm = f.update().rfactor([(rxi, u)])
    intm.compute_root().update().vectorize(u)
    assert f.realize([])[()] == want


def test_float_max_identity_is_minus_infinity():
    a = np.full(37, -np.inf, np.float32)          # -inf, not -FLT_MAX, is max's identity
    f = hl.Func("fmax")
    r = hl.RDom([(0, 37)], "r")
    f[()] = hl.f32(-np.inf)
    f[()] = hl.max(f[()], hl.Buffer(a)[r])
    rxo, rxi, u = hl.Var("rxo"), hl.Var("rxi"), hl.Var("u")
    f.update().split(r.x, rxo, rxi, 4)
    f.update().rfactor((rxo, u)).compute_root()
    assert f.realize([])[()] == -np.inf


def test_where_fuse_and_two_preserved():
    """RDom.where survives; fused RVars bake into one; several RVars may be preserved."""
    a = np.random.default_rng(6).integers(0, 100, size=(9, 14)).astype(np.int32)
    inp = hl.Buffer(a)
    mask = (np.arange(14)[None, :] + np.arange(9)[:, None]) % 3 == 0

    f = hl.Func("masked")
    r = hl.RDom([(0, 14), (0, 9)], "r")
    r.where((r.x + r.y) % 3 == 0)
    f[()] = 0
    f[()] += inp[r.x, r.y]
    f.update().fuse(r.x, r.y, hl.Var("rf")).split(hl.Var("rf"), hl.Var("rfo"), hl.Var("rfi"), 5)
    f.update().rfactor(hl.Var("rfo"), hl.Var("u")).compute_root().update().parallel(hl.Var("u"))
    assert f.realize([])[()] == a[mask].sum()

    g = hl.Func("both")
    s = hl.RDom([(0, 14), (0, 9)], "s")
    g[()] = 0
    g[()] += inp[s.x, s.y]
    intm = g.update().rfactor([(s.x, hl.Var("a")), (s.y, hl.Var("b"))])
    assert intm.dimensions() == 2 and _dims(g.update()) == ["s$x", "s$y"]
    assert g.realize([])[()] == a.sum()


def test_non_associative_update_is_an_error():
    inp = hl.Buffer(np.arange(10, dtype=np.int32))
    r = hl.RDom([(0, 10)], "r")
    f = hl.Func("running_diff")
    f[()] = 0
    f[()] = f[()] - inp[r]
    with pytest.raises(hl.HalideError, match=r"running_diff\.update\(0\).*associativity"):
        f.update().rfactor(r.x, hl.Var("u"))

    x = hl.Var("x")
    g = hl.Func("scaled")
    g[x] = 0
    g[x] = g[x] * 2 + inp[r]                 # not op(g[x], e): the accumulator is scaled
    with pytest.raises(hl.HalideError, match=r"scaled.*associativity"):
        g.update().rfactor(r.x, hl.Var("u"))


def test_bad_preserved_vars_are_errors():
    inp = hl.Buffer(np.arange(10, dtype=np.int32))
    x = hl.Var("x")
    r = hl.RDom([(0, 10)], "r")
    f = hl.Func("acc")
    f[x] = 0
    f[x] += inp[r] + x
    with pytest.raises(hl.ScheduleError, match=r"acc\.update\(0\).*not in the reduction domain"):
        f.update().rfactor(hl.Var("nope"), hl.Var("u"))
    with pytest.raises(hl.ScheduleError, match=r"name x is already used"):
        f.update().rfactor(r.x, x)
    with pytest.raises(hl.ScheduleError, match="update definition"):
        hl.Stage(f.function, 0).rfactor(r.x, hl.Var("u"))
