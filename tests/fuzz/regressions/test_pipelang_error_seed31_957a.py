"""Minimized by pipelang.testing.differential from program seed 31.
Failure: error: AttributeError: 'str' object has no attribute '_vars'
EXPECTED is the reference evaluator's output, indexed [x, y].
"""
import numpy as np

EXPECTED = np.array([[450]], dtype=np.int32)
TOLERANCE = 0.0


def run(hl):
    x, y = hl.Var("x"), hl.Var("y")
    in0 = hl.Buffer(np.random.default_rng(297836500).integers(0, 255, size=(7, 15), endpoint=True).astype(np.uint8), 'in0')
    in0.set_min([2, -3])
    f0 = hl.Func('f0')
    f0[x, y] = hl.i32(0)
    r0 = hl.RDom([hl.Range(-2, 2)], 'r0')
    f0[x, y] = f0[x, y] + hl.i32(in0[hl.clamp(r0.x, 2, 16), hl.i32(0)])
    rf0_1_1o = hl.RVar('rf0_1_1o')
    rf0_1_1i = hl.RVar('rf0_1_1i')
    f0.update(0).split(r0.x, rf0_1_1o, rf0_1_1i, 2, hl.TailStrategy.GuardWithIf)
    out = hl.Buffer(hl.Int(32), [1, 1])
    out.set_min([0, 0])
    f0.realize(out)
    return np.asarray(out).T


def test_regression(hl_module):
    got = run(hl_module)
    if TOLERANCE == 0:
        np.testing.assert_array_equal(got, EXPECTED)
    else:
        np.testing.assert_allclose(got, EXPECTED, rtol=1e-6, atol=4 * TOLERANCE)
