"""Minimized by pipelang.testing.differential from program seed 10904.
Failure: error: ValueError: Operands must be the same type, got (i32, <4 x i32>)
EXPECTED is the reference evaluator's output, indexed [x, y].
Cause (fixed): f2 is computed inside f3's vectorized y loop; its region's
extent depends on the lane only nominally (min and max both move with y), but
after widening the allocation size was a vector and codegen failed. An
allocation inside a vectorized loop now takes the largest size over the lanes.
"""
import numpy as np

EXPECTED = np.array([[0, 0], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0]], dtype=np.int16)
TOLERANCE = 0.0


def run(hl):
    x, y = hl.Var("x"), hl.Var("y")
    p1 = hl.Param(hl.Float(32), 'p1', 3.0)
    f2 = hl.Func('f2')
    f2[x, y] = hl.u8(0)
    f3 = hl.Func('f3')
    f3[x, y] = (hl.i16(0), hl.f32(f2[(x + -2), (y + -2)]))
    f4 = hl.Func('f4')
    f4[x, y] = ((hl.i16(10) / hl.i16(f3[((x + -1) / 2), (y / 2)][1])) & hl.i16(p1))
    f3.compute_at(f4, x)
    vf3_0_0o = hl.Var('vf3_0_0o')
    vf3_0_0i = hl.Var('vf3_0_0i')
    f3.split(x, vf3_0_0o, vf3_0_0i, 2, hl.TailStrategy.GuardWithIf)
    f3.vectorize(y, 4)
    f3.reorder(y, vf3_0_0o, vf3_0_0i)
    f3.unroll(vf3_0_0o, 2)
    f2.compute_at(f3, vf3_0_0o)
    vf2_0_0f = hl.Var('vf2_0_0f')
    f2.fuse(x, y, vf2_0_0f)
    out = hl.Buffer(hl.Int(16), [12, 2])
    out.set_min([2, -2])
    f4.realize(out)
    return np.asarray(out).T


def test_regression(hl_module):
    got = run(hl_module)
    if TOLERANCE == 0:
        np.testing.assert_array_equal(got, EXPECTED)
    else:
        np.testing.assert_allclose(got, EXPECTED, rtol=1e-6, atol=4 * TOLERANCE)
