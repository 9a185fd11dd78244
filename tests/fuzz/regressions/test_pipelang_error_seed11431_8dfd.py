"""Minimized by pipelang.testing.differential from program seed 11431.
Failure: error: free(): invalid pointer (heap corruption): a sliding window over a ShiftInwards-split dimension wrote before its storage
EXPECTED is the reference evaluator's output, indexed [x, y].
"""
import numpy as np

EXPECTED = np.array([[3, 1, 7, 1, 3], [3, 1, 7, 1, 3], [3, 1, 7, 1, 3], [3, 1, 7, 1, 3], [3, 1, 7, 1, 3], [3, 1, 7, 1, 3], [3, 1, 7, 1, 3]], dtype=np.uint8)
TOLERANCE = 0.0


def run(hl):
    x, y = hl.Var("x"), hl.Var("y")
    f1 = hl.Func('f1')
    f1[x, y] = hl.abs((~hl.u8(y)))
    f2 = hl.Func('f2')
    f2[x, y] = (f1[(x + 2), (y + 1)] ^ f1[(x + -1), y])
    f1.compute_at(f2, x)
    f1.store_at(f2, y)
    vf1_0_0xo = hl.Var('vf1_0_0xo')
    vf1_0_0yo = hl.Var('vf1_0_0yo')
    vf1_0_0xi = hl.Var('vf1_0_0xi')
    vf1_0_0yi = hl.Var('vf1_0_0yi')
    f1.tile(x, y, vf1_0_0xo, vf1_0_0yo, vf1_0_0xi, vf1_0_0yi, 5, 3, hl.TailStrategy.Auto)
    out = hl.Buffer(hl.UInt(8), [7, 5])
    out.set_min([-4, 1])
    f2.realize(out)
    return np.asarray(out).T


def test_regression(hl_module):
    got = run(hl_module)
    if TOLERANCE == 0:
        np.testing.assert_array_equal(got, EXPECTED)
    else:
        np.testing.assert_allclose(got, EXPECTED, rtol=1e-6, atol=4 * TOLERANCE)
