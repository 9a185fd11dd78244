"""Minimized by pipelang.testing.differential from program seed 1080.
Failure: error: ScheduleError: Can't vectorize a loop whose inner loop f2$37.s0.x has bounds that depend on the vectorized variable
EXPECTED is the reference evaluator's output, indexed [x, y].
"""
import numpy as np

EXPECTED = np.array([[0.0]], dtype=np.float64)
TOLERANCE = 0.0


def run(hl):
    x, y = hl.Var("x"), hl.Var("y")
    f2 = hl.Func('f2')
    f2[x, y] = hl.u8(0)
    f3 = hl.Func('f3')
    f3[x, y] = hl.f64(0.0)
    r3 = hl.RDom([hl.Range(0, 3), hl.Range(-1, 3)], 'r3')
    r3.where((hl.f64(r3.x) != hl.f64(-1.0)))
    f3[x, y] = hl.min(f3[x, y], hl.f64(f2[x, r3.y]))
    rf3_1_0o = hl.RVar('rf3_1_0o')
    rf3_1_0i = hl.RVar('rf3_1_0i')
    f3.update(0).split(r3.y, rf3_1_0o, rf3_1_0i, 3, hl.TailStrategy.GuardWithIf)
    vf3_1_1o = hl.Var('vf3_1_1o')
    vf3_1_1i = hl.Var('vf3_1_1i')
    f3.update(0).split(x, vf3_1_1o, vf3_1_1i, 4, hl.TailStrategy.GuardWithIf)
    f3.update(0).vectorize(vf3_1_1i)
    f2.compute_at(f3, rf3_1_0o)
    out = hl.Buffer(hl.Float(64), [1, 1])
    out.set_min([0, 0])
    f3.realize(out)
    return np.asarray(out).T


def test_regression(hl_module):
    got = run(hl_module)
    if TOLERANCE == 0:
        np.testing.assert_array_equal(got, EXPECTED)
    else:
        np.testing.assert_allclose(got, EXPECTED, rtol=1e-6, atol=4 * TOLERANCE)
