"""Code-generation mechanisms that keep vectorized schedules vector code.

Speed itself is measured in the benchmark harness; these check that each
mechanism happens (in the lowered statement) and stays correct.
"""
import re

import numpy as np
import pytest

import pipelang as pl


def _fast_exp(hl, data):
    x = hl.Var("x")
    f = hl.Func("f")
    f[x] = hl.fast_exp(hl.Buffer(data)[x])
    f.vectorize(x, 16)
    return f


def test_fast_exp_is_vector_arithmetic_and_accurate():
    data = np.linspace(-80, 80, 2048).astype(np.float32)
    f = _fast_exp(pl, data)
    stmt = pl.Pipeline(f).lowered_stmt()
    assert "exp_f32" not in stmt and "floor_f32" in stmt, stmt
    got = np.asarray(f.realize([2048]))
    want = np.exp(data.astype(np.float64))
    np.testing.assert_allclose(got, want, rtol=2e-5)


def test_fast_exp_matches_halide_bit_for_bit():
    halide = pytest.importorskip("halide")
    data = np.linspace(-90, 90, 4096).astype(np.float32)
    got = np.asarray(_fast_exp(pl, data).realize([4096]))
    want = np.asarray(_fast_exp(halide, data).realize([4096]))
    np.testing.assert_array_equal(got, want)


def test_inline_reduction_in_a_vectorized_loop_is_vectorized():
    # hl.sum in a vectorized Func: as in Halide, the anonymous reduction is
    # computed inside the vector loop, one vector of partial sums, instead of
    # a scalar loop over the lanes before it.
    data = np.random.default_rng(1).uniform(-1, 1, size=(5, 64)).astype(np.float32)
    b = pl.Buffer(data)
    x = pl.Var("x")
    r = pl.RDom([(0, 5)], "r")
    f = pl.Func("f")
    f[x] = pl.sum(b[x, r.x] * b[x, r.x])
    f.vectorize(x, 16)
    stmt = pl.Pipeline(f).lowered_stmt()
    # The inline reduction's Func is "sum", or "sum$n" when the name is taken.
    assert not re.search(r"for \(sum(\$\d+)?\.s[01]\.x", stmt), stmt
    assert re.search(r"sum(\$\d+)?\[ramp\(0, 1, 16\)\]", stmt), stmt
    np.testing.assert_allclose(np.asarray(f.realize([64])), (data * data).sum(axis=0), rtol=1e-6)


def test_clamp_in_an_inner_loop_partitions_the_outer_loop():
    # nl_means' pattern: an inline sum over channels of a repeat_edge input,
    # computed per vector of x. The clamp sits in the channel loop but only x
    # moves it, so x's loop is partitioned and its steady state loads densely.
    rng = np.random.default_rng(2)
    data = rng.uniform(0, 1, size=(3, 20, 70)).astype(np.float32)   # c, y, x
    clamped = pl.BoundaryConditions.repeat_edge(pl.Buffer(data))
    x, y = pl.Var("x"), pl.Var("y")
    c = pl.RDom([(0, 3)], "c")
    f = pl.Func("f")
    f[x, y] = pl.sum(clamped[x - 1, y, c.x] * clamped[x + 2, y, c.x])
    f.vectorize(x, 16)
    stmt = pl.Pipeline(f).lowered_stmt()
    # (Func names may carry a $n suffix when other tests made an "f" first.)
    # Clamped at both ends, the loop branches to its steady state or to one
    # clamped copy.
    steady, clamped = stmt.split(".s0.x.x.steady_max))) {")[1].split("} else {")
    assert "max(min(ramp" not in steady and "ramp(" in steady, stmt
    assert "max(min(ramp" in clamped, stmt
    padded = np.pad(data, ((0, 0), (0, 0), (1, 2)), mode="edge")
    want = (padded[:, :, :70] * padded[:, :, 3:]).sum(axis=0)
    np.testing.assert_allclose(np.asarray(f.realize([70, 20])), want, rtol=1e-6)
