"""A Pipeline's outputs may differ in shape and dimensionality (Halide allows
it when output buffers are given): a producer they share is computed once,
over the union of what they need. A Tuple's elements still share one region."""
import numpy as np
import pytest

import pipelang as hl


def _program(hlm):
    x, y = hlm.Var("x"), hlm.Var("y")
    f = hlm.Func("f")
    f[x, y] = x + 10 * y
    g = hlm.Func("g")
    g[x] = f[x, 0] + f[x + 1, 1]
    h = hlm.Func("h")
    h[x, y] = f[x, y] * 2
    f.compute_root()
    bg, bh = hlm.Buffer(hlm.Int(32), [5]), hlm.Buffer(hlm.Int(32), [3, 7])
    hlm.Pipeline([g, h]).realize([bg, bh])
    return np.asarray(bg).copy(), np.asarray(bh).copy()


def test_outputs_of_different_shapes():
    g, h = _program(hl)
    xs = np.arange(5)
    np.testing.assert_array_equal(g, xs + (xs + 1 + 10))
    yy, xx = np.mgrid[0:7, 0:3]
    np.testing.assert_array_equal(h, 2 * (xx + 10 * yy))


def test_outputs_of_different_shapes_match_halide():
    halide = pytest.importorskip("halide")
    for got, want in zip(_program(hl), _program(halide)):
        np.testing.assert_array_equal(got, want)


def test_tuple_elements_must_share_a_region():
    x = hl.Var("x")
    t = hl.Func("t")
    t[x] = (x, x * 2)
    with pytest.raises(hl.HalideError, match="Tuple Func t"):
        hl.Pipeline([t]).realize([hl.Buffer(hl.Int(32), [4]), hl.Buffer(hl.Int(32), [5])])
