"""Minimized by pipelang.testing.differential from program seed 1106.
Failure: error: AssertionError: ('Add', <pipelang.Type int32>, <pipelang.Type int32x4>)
EXPECTED is the reference evaluator's output, indexed [x, y].
"""
import numpy as np

EXPECTED = np.array([[0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0]], dtype=np.uint16)
TOLERANCE = 0.0


def run(hl):
    x, y = hl.Var("x"), hl.Var("y")
    f1 = hl.Func('f1')
    f1[x, y] = hl.u16(0)
    f1.vectorize(y, 4)
    f1.vectorize(x, 3)
    out = hl.Buffer(hl.UInt(16), [4, 7])
    out.set_min([0, 0])
    f1.realize(out)
    return np.asarray(out).T


def test_regression(hl_module):
    got = run(hl_module)
    if TOLERANCE == 0:
        np.testing.assert_array_equal(got, EXPECTED)
    else:
        np.testing.assert_allclose(got, EXPECTED, rtol=1e-6, atol=4 * TOLERANCE)
