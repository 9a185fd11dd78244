"""Minimized by pipelang.testing.differential from program seed 12.
Failure: error: ScheduleError: Func 'f0' is computed at the following invalid location:
EXPECTED is the reference evaluator's output, indexed [x, y].
"""
import numpy as np

EXPECTED = np.array([[0]], dtype=np.uint8)
TOLERANCE = 0.0


def run(hl):
    x, y = hl.Var("x"), hl.Var("y")
    f0 = hl.Func('f0')
    f0[x, y] = hl.i32(0)
    r0 = hl.RDom([hl.Range(0, 1)], 'r0')
    f0[x, y] = f0[x, y] + hl.i32(0)
    f1 = hl.Func('f1')
    f1[x, y] = hl.u8(f0[hl.i32(0), hl.i32(0)])
    f0.compute_at(f1, y)
    out = hl.Buffer(hl.UInt(8), [1, 1])
    out.set_min([0, 0])
    f1.realize(out)
    return np.asarray(out).T


def test_regression(hl_module):
    got = run(hl_module)
    if TOLERANCE == 0:
        np.testing.assert_array_equal(got, EXPECTED)
    else:
        np.testing.assert_allclose(got, EXPECTED, rtol=1e-6, atol=4 * TOLERANCE)
