"""Minimized by pipelang.testing.differential from program seed 22.
Failure: error: ScheduleError: Can't vectorize a loop whose inner loop maximum$21.s0.y has bounds that depend on the vectorized variable
EXPECTED is the reference evaluator's output, indexed [x, y].
"""
import numpy as np

EXPECTED = np.array([[0]], dtype=np.uint16)
TOLERANCE = 0.0


def run(hl):
    x, y = hl.Var("x"), hl.Var("y")
    f0 = hl.Func('f0')
    f0[x, y] = hl.u8(0)
    k1_1 = hl.RDom([hl.Range(-1, 1)], 'k1_1')
    f1 = hl.Func('f1')
    f1[x, y] = hl.maximum(hl.u16(f0[k1_1.x, y]))
    vf1_0_0o = hl.Var('vf1_0_0o')
    vf1_0_0i = hl.Var('vf1_0_0i')
    f1.split(y, vf1_0_0o, vf1_0_0i, 4, hl.TailStrategy.GuardWithIf)
    f1.vectorize(vf1_0_0i)
    out = hl.Buffer(hl.UInt(16), [1, 1])
    out.set_min([0, 0])
    f1.realize(out)
    return np.asarray(out).T


def test_regression(hl_module):
    got = run(hl_module)
    if TOLERANCE == 0:
        np.testing.assert_array_equal(got, EXPECTED)
    else:
        np.testing.assert_allclose(got, EXPECTED, rtol=1e-6, atol=4 * TOLERANCE)
