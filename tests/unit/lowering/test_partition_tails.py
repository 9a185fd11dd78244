"""Loop partitioning keeps the inner loops of a tail of a tail (a peeled copy
inside a peeled copy) whole, unless their schedule says Partition.Always."""
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
    g.compute_at(f, xo).split(x, gxo, gxi, 16).vectorize(gxi, 8).partition(gxi, policy)
    return f, data


def _reference(data, x0, y0, w, h):
    ys = np.clip(np.arange(y0, y0 + h), 0, 29)
    at = lambda dx: data[ys][:, np.clip(np.arange(x0, x0 + w) + dx, 0, 69)]
    g = lambda dx: at(dx - 1) + 2 * at(dx + 1)
    return g(0) + g(2)


def _loops(stmt, name):
    return len(re.findall(r"for \(" + re.escape(name) + ",", stmt))


@pytest.mark.parametrize("policy, inner_loops", [(hl.Partition.Auto, 19), (hl.Partition.Always, 27)])
def test_tails_of_tails_keep_their_inner_loops_whole(policy, inner_loops):
    f, data = _tiled(policy)
    stmt = hl.Pipeline(f).lowered_stmt()
    f_, g_ = f"f_{policy.name}.s0", f"g_{policy.name}.s0"
    # f's tile loop is partitioned into 3 loops, g's outer x loop in each of
    # them into 3. g's vector loop is partitioned in the 5 copies of g's
    # outer loop that are steady or in one tail (5 x 3), and with Auto stays
    # whole in the 4 tails of tails (4 x 1); with Always it is partitioned
    # in all 9 (9 x 3).
    assert _loops(stmt, f"{f_}.x.xo") == 3
    assert _loops(stmt, f"{g_}.x.gxo") == 9
    assert _loops(stmt, f"{g_}.x.gxi.gxi") == inner_loops
    out = hl.Buffer(hl.Int(32), [128, 40])
    out.set_min([-16, -4])
    f.realize(out)
    np.testing.assert_array_equal(np.asarray(out), _reference(data, -16, -4, 128, 40))
