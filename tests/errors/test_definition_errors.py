"""Errors Halide raises for definitions and schedules that pipelang once
accepted (or reported with a bare AssertionError / a misleading message).
Each is checked against real Halide raising too, where it is installed."""
import importlib

import numpy as np
import pytest

import pipelang as hl


def _halide():
    try:
        return importlib.import_module("halide")
    except ImportError:
        return None


def _both(build, pattern, exc=hl.HalideError):
    """`build(module)` must raise under pipelang (a pipelang error matching
    `pattern`) and, where installed, under real Halide."""
    with pytest.raises(exc, match=pattern):
        build(hl)
    h = _halide()
    if h is not None:
        with pytest.raises(Exception):
            build(h)


def test_func_depending_on_itself_through_another():
    def build(m):
        x = m.Var("x")
        f, g = m.Func("f"), m.Func("g")
        f[x] = x
        g[x] = f[x] + 1
        f[x] = g[x] * 2          # f would call g, which calls f
        f.realize([4])
    _both(build, r"Func f\S* cannot be given a new update definition.*used in the definition "
                 r"of another Func \(Func g\S* calls it\)")


def test_redefining_a_realized_func():
    def build(m):
        x = m.Var("x")
        f = m.Func("f")
        f[x] = x
        m.Pipeline(f)
        f[x] += 1
    _both(build, r"Func f\S* cannot be given a new update definition.*Pipeline outputs it")


def test_where_after_the_rdom_is_used():
    def build(m):
        x = m.Var("x")
        r = m.RDom([m.Range(0, 4)], "r")
        f = m.Func("f")
        f[x] = x
        f[r.x] = f[r.x] + 1
        r.where(r.x > 1)
    _both(build, r"RDom r cannot be given a new predicate")


def test_realize_with_a_float_size():
    x = hl.Var("x")
    f = hl.Func("f")
    f[x] = x
    with pytest.raises(TypeError, match=r"non-integer size 4\.5"):
        f.realize([4.5])
    with pytest.raises(hl.HalideError, match=r"non-integer size"):
        f.realize([3, 2.0])


def test_shift_inwards_on_an_update():
    def build(m):
        x, xo, xi = m.Var("x"), m.Var("xo"), m.Var("xi")
        f = m.Func("f")
        f[x] = x
        f[x] += 1
        f.update(0).split(x, xo, xi, 3, m.TailStrategy.ShiftInwards)
        f.realize([10])
    _both(build, r"ShiftInwards is not a legal tail strategy for update definitions")


def test_round_up_of_an_inner_var_in_an_update():
    def build(m):
        x, xo, xi, xio, xii = (m.Var(n) for n in ("x", "xo", "xi", "xio", "xii"))
        f = m.Func("f")
        f[x] = x
        f[x] += 1
        f.update(0).split(x, xo, xi, 8).split(xi, xio, xii, 3, m.TailStrategy.RoundUp)
        f.realize([16])
    _both(build, r"RoundUp.*update definition.*inner var of a prior split")


def test_rvar_split_must_not_round_up():
    def build(m):
        x = m.Var("x")
        r = m.RDom([m.Range(0, 10)], "r")
        ro, ri = m.RVar("ro"), m.RVar("ri")
        f = m.Func("f")
        f[x] = x
        f[r.x] += 1
        f.update(0).split(r.x, ro, ri, 4, m.TailStrategy.RoundUp)
        f.realize([10])
    _both(build, r"tail strategy must be GuardWithIf, Predicate, or Auto")


def test_bound_smaller_than_the_region_needed():
    def build(m):
        x = m.Var("x")
        g, f = m.Func("g"), m.Func("f")
        g[x] = x
        f[x] = g[x] + g[x + 1]
        g.compute_root().bound(x, 0, 4)
        f.realize([4])
    _both(build, r"Bounds given for g\S* in x \(from 0 to 3\) do not cover required region "
                 r"\(from 0 to 4\)")


def test_bound_that_covers_the_region_is_fine():
    x = hl.Var("x")
    g, f = hl.Func("g"), hl.Func("f")
    g[x] = x
    f[x] = g[x] + g[x + 1]
    g.compute_root().bound(x, 0, 5)
    np.testing.assert_array_equal(np.asarray(f.realize([4])), [1, 3, 5, 7])
