"""Minimized by pipelang.testing.differential from program seed 1083.
Failure: mismatch: int32 vs int32 at (x, y) = (12, 0): got 2774, expected 28775
EXPECTED is the reference evaluator's output, indexed [x, y].
"""
import numpy as np

EXPECTED = np.array([[22710], [14927], [2709], [26192], [31785], [27847], [11719], [22962], [1634], [2321], [32408], [28775], [28775]], dtype=np.int32)
TOLERANCE = 0.0


def run(hl):
    x, y = hl.Var("x"), hl.Var("y")
    in0 = hl.Buffer(np.random.default_rng(448839190).integers(-32768, 32767, size=(13, 14), endpoint=True).astype(np.int16), 'in0')
    in0.set_min([-2, -2])
    f1 = hl.Func('f1')
    f1[x, y] = hl.i32(hl.abs(hl.i32(in0[hl.clamp(x, -2, 11), hl.i32(0)])))
    vf1_0_0o = hl.Var('vf1_0_0o')
    vf1_0_0i = hl.Var('vf1_0_0i')
    f1.split(x, vf1_0_0o, vf1_0_0i, 5, hl.TailStrategy.GuardWithIf)
    f1.unroll(vf1_0_0i)
    out = hl.Buffer(hl.Int(32), [13, 1])
    out.set_min([0, 0])
    f1.realize(out)
    return np.asarray(out).T


def test_regression(hl_module):
    got = run(hl_module)
    if TOLERANCE == 0:
        np.testing.assert_array_equal(got, EXPECTED)
    else:
        np.testing.assert_allclose(got, EXPECTED, rtol=1e-6, atol=4 * TOLERANCE)
