"""Loop partitioning keeps the inner loops of a partitioned loop's peeled
copies whole (as Halide does), unless their schedule says Partition.Always."""
import re

import numpy as np
import pytest

import pipelang as hl


def _tiled(policy):
    data = (np.arange(70 * 30, dtype=np.int32) * 7 % 101).reshape(30, 70)
    src = hl.BoundaryConditions.repeat_edge(hl.Buffer(data))
    x, y, xo, yo, xi, yi = hl.vars("x y xo yo xi yi")
    g, f = hl.Func("g"), hl.Func("f")
    g[x, y] = src[x - 1, y] + 2 * src[x + 1, y]
    f[x, y] = g[x, y] + g[x + 2, y]
    f.tile(x, y, xo, yo, xi, yi, 16, 4).vectorize(xi, 8)
    g.compute_at(f, xo).vectorize(x, 8).partition(x, policy)
    return f, data


def _reference(data, x0, y0, w, h):
    ys = np.clip(np.arange(y0, y0 + h), 0, 29)
    at = lambda dx: data[ys][:, np.clip(np.arange(x0, x0 + w) + dx, 0, 69)]
    g = lambda dx: at(dx - 1) + 2 * at(dx + 1)
    return g(0) + g(2)


@pytest.mark.parametrize("policy, g_loops", [(hl.Partition.Auto, 5), (hl.Partition.Always, 9)])
def test_peeled_tiles_keep_their_inner_loops_whole(policy, g_loops):
    f, data = _tiled(policy)
    stmt = hl.Pipeline(f).lowered_stmt()
    # f's tile loop is partitioned into 3 loops. g's x loop inside it is
    # partitioned in the steady tiles; with Auto it stays whole in the
    # peeled first and last tiles (1 + 3 + 1 loops), with Always not (3 * 3).
    assert len(re.findall(r"for \(f(\$\d+)?\.s0\.x\.xo,", stmt)) == 3
    assert len(re.findall(r"for \(g(\$\d+)?\.s0\.x\.x,", stmt)) == g_loops
    out = hl.Buffer(hl.Int(32), [96, 40])
    out.set_min([-8, -4])
    f.realize(out)
    np.testing.assert_array_equal(np.asarray(out), _reference(data, -8, -4, 96, 40))
