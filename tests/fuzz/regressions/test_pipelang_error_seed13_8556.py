"""Minimized by pipelang.testing.differential from program seed 13.
Failure: error: ScheduleError: Func 'f1$45' is computed at the following invalid location:
EXPECTED is the reference evaluator's output, indexed [x, y].
"""
import numpy as np

EXPECTED = np.array([[0]], dtype=np.int32)
TOLERANCE = 0.0


def run(hl):
    x, y = hl.Var("x"), hl.Var("y")
    f1 = hl.Func('f1')
    f1[x, y] = hl.f64(0.0)
    k3_1 = hl.RDom([hl.Range(0, 3)], 'k3_1')
    f3 = hl.Func('f3')
    f3[x, y] = hl.sum(hl.i32(f1[k3_1.x, hl.i32(0)]))
    f1.compute_at(f3, y)
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
