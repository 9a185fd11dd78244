"""Loop partitioning goes outermost first: a tile loop's steady state keeps
one copy of each inner loop; a loop clamped at both ends keeps one clamped
copy (a branch in one loop); and a tail of a tail (a clamped copy inside a
clamped copy) keeps its inner loops whole unless their schedule says
Partition.Always."""
import re

import numpy as np
import pytest

import pipelang as hl


def _tiled(policy):
    data = (np.arange(70 * 30, dtype=np.int32) * 7 % 101).reshape(30, 70)
    src = hl.BoundaryConditions.repeat_edge(hl.Buffer(data))
    x, y, xo, yo, xi, yi, gxo, gxi = hl.vars("x y xo yo xi yi gxo gxi")
    g, f = hl.Func(f"g_{policy.name}"), hl.Func(f"f_{policy.name}")
    g[x, y] = src[x - 1, y] + 2 * src[x + 1, y]
    f[x, y] = g[x, y] + g[x + 2, y]
    f.tile(x, y, xo, yo, xi, yi, 32, 4).vectorize(xi, 8)
    # RoundUp: g's clamps move linearly with gxo, so gxo is partitioned too.
    g.compute_at(f, xo).split(x, gxo, gxi, 16, hl.TailStrategy.RoundUp).vectorize(gxi, 8).partition(gxi, policy)
    return f, data


def _reference(data, x0, y0, w, h):
    ys = np.clip(np.arange(y0, y0 + h), 0, 29)
    at = lambda dx: data[ys][:, np.clip(np.arange(x0, x0 + w) + dx, 0, 69)]
    g = lambda dx: at(dx - 1) + 2 * at(dx + 1)
    return g(0) + g(2)


def _loops(stmt, name):
    return len(re.findall(r"for \(" + re.escape(name) + ",", stmt))


@pytest.mark.parametrize("policy, loops", [
    # f's tile loop is clamped at both ends: one loop whose body branches to
    # the steady state or to the clamped copy. In the steady branch the
    # boundary clamps are gone before g's loops are looked at: one gxo loop
    # and one gxi loop, whole. In the clamped copy gxo is partitioned the same
    # way, and gxi stays whole in both of its branches (the clamped one is a
    # tail of a tail): 2 gxo loops, 3 gxi loops.
    (hl.Partition.Auto, (1, 2, 3)),
    # gxi must be partitioned, so the clamps it moves are left to it: f's tile
    # loop keeps only its ShiftInwards clamp, a scalar one that no inner
    # loop's bounds depend on, so it stays whole, as does gxo; gxi is
    # partitioned (one loop with a steady and a clamped branch).
    (hl.Partition.Always, (1, 1, 1)),
])
def test_outer_loops_first_and_tails_of_tails_keep_their_inner_loops_whole(policy, loops):
    f, data = _tiled(policy)
    stmt = hl.Pipeline(f).lowered_stmt()
    f_, g_ = f"{f.name()}.s0", f"{f.name().replace('f_', 'g_', 1)}.s0"
    found = (_loops(stmt, f"{f_}.x.xo"), _loops(stmt, f"{g_}.x.gxo"), _loops(stmt, f"{g_}.x.gxi.gxi"))
    assert found == loops, stmt
    if policy is hl.Partition.Always:
        assert stmt.count(f"{g_}.x.gxi.gxi.steady_min <= {g_}.x.gxi.gxi") == 1, stmt
    out = hl.Buffer(hl.Int(32), [128, 40])
    out.set_min([-16, -4])
    f.realize(out)
    np.testing.assert_array_equal(np.asarray(out), _reference(data, -16, -4, 128, 40))


def test_steady_tile_loads_are_dense():
    """The steady branch of f's tile loop has no clamp left: its loads of
    the input are dense vectors, not gathers through max/min of a ramp; the
    clamped branch keeps them."""
    f, _ = _tiled(hl.Partition.Auto)
    stmt = hl.Pipeline(f).lowered_stmt()
    steady, clamped = stmt.split("} else {", 1)
    steady = steady.split(f"{f.name()}.s0.x.xo.steady_max))) {{", 1)[1]
    assert re.search(r"b\d+\[ramp\(", steady) and "min(ramp" not in steady and "max(ramp" not in steady, stmt
    assert "min(ramp" in clamped, stmt


def test_scalar_clamp_alone_does_not_copy_a_loop_around_loops():
    """A ShiftInwards base is the only clamp of the channel loop `co`, whose
    body holds an inline reduction's loop that does not depend on it: `co`
    stays one loop (a copy of its body would buy one scalar min per
    iteration; Halide marks such a base likely only in an innermost loop)."""
    data = (np.arange(20 * 12, dtype=np.int32) * 5 % 37).reshape(12, 20)   # x, c
    src = hl.Buffer(data)
    c, x, co, ci = hl.vars("c x co ci")
    r = hl.RDom([(0, 3)], "r")
    f = hl.Func("f_shift_only")
    f[c, x] = hl.sum(src[c, x + r.x])
    f.split(c, co, ci, 8).vectorize(ci)
    stmt = hl.Pipeline(f).lowered_stmt()
    assert _loops(stmt, f"{f.name()}.s0.c.co") == 1, stmt
    assert "steady_min" not in stmt, stmt
    out = np.asarray(f.realize([20, 10]))
    want = sum(data[k:k + 10, :] for k in range(3))
    np.testing.assert_array_equal(out, want)
