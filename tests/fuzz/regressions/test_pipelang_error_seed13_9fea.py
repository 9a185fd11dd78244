"""Minimized by pipelang.testing.differential from program seed 13.
Failure: error: ScheduleError: Func 'f0' is computed at the following invalid location:
EXPECTED is the reference evaluator's output, indexed [x, y].
"""
import numpy as np

EXPECTED = np.array([[0.0]], dtype=np.float64)
TOLERANCE = 0.0


def run(hl):
    x, y = hl.Var("x"), hl.Var("y")
    in0 = hl.Buffer((np.random.default_rng(316023504).integers(-400, 400, size=(8, 24), endpoint=True) / 4).astype(np.float32), 'in0')
    in0.set_min([2, -2])
    f0 = hl.Func('f0')
    f0[x, y] = hl.i16(0)
    r0 = hl.RDom([hl.Range(0, 3)], 'r0')
    f0[hl.clamp(hl.i32(in0[hl.clamp(r0.x, 2, 25), hl.clamp(y, -2, 5)]), 0, 1), y] = f0[hl.clamp(hl.i32(in0[hl.clamp(r0.x, 2, 25), hl.clamp(y, -2, 5)]), 0, 1), y] + hl.i16(0)
    f1 = hl.Func('f1')
    f1[x, y] = hl.f64(f0[hl.i32(0), hl.i32(0)])
    f0.compute_at(f1, y)
    out = hl.Buffer(hl.Float(64), [1, 1])
    out.set_min([0, 0])
    f1.realize(out)
    return np.asarray(out).T


def test_regression(hl_module):
    got = run(hl_module)
    if TOLERANCE == 0:
        np.testing.assert_array_equal(got, EXPECTED)
    else:
        np.testing.assert_allclose(got, EXPECTED, rtol=1e-6, atol=4 * TOLERANCE)
