"""Minimized by pipelang.testing.differential from program seed 24.
Failure: error: ScheduleError: Func 'f2' is computed at the following invalid location:
EXPECTED is the reference evaluator's output, indexed [x, y].
"""
import numpy as np

EXPECTED = np.array([[0]], dtype=np.int32)
TOLERANCE = 0.0


def run(hl):
    x, y = hl.Var("x"), hl.Var("y")
    f2 = hl.Func('f2')
    f2[x, y] = hl.u8(0)
    r2 = hl.RDom([hl.Range(-2, 3)], 'r2')
    f2[x, y] = hl.max(f2[x, y], hl.u8(0))
    f3 = hl.Func('f3')
    f3[x, y] = hl.i32(f2[hl.i32(0), hl.i32(0)])
    vf3_0_0o = hl.Var('vf3_0_0o')
    vf3_0_0i = hl.Var('vf3_0_0i')
    f3.split(y, vf3_0_0o, vf3_0_0i, 3, hl.TailStrategy.GuardWithIf)
    f2.compute_at(f3, vf3_0_0o)
    out = hl.Buffer(hl.Int(32), [1, 1])
    out.set_min([0, 0])
    f3.realize(out)
    return np.asarray(out).T


def test_regression(hl_module):
    got = run(hl_module)
    if TOLERANCE == 0:
        np.testing.assert_array_equal(got, EXPECTED)
    else:
        np.testing.assert_allclose(got, EXPECTED, rtol=1e-6, atol=4 * TOLERANCE)
