"""Minimized by pipelang.testing.differential from program seed 11255.
Failure: mismatch: uint64 vs uint64 at (x, y) = (4, 2): got 35, expected 10
EXPECTED is the reference evaluator's output, indexed [x, y].
Cause (fixed): the update's y was split by 5 (Auto: RoundUp) and its inner
var unrolled by 2; that second split's Auto tail also rounded up, so each
tile of 5 rows ran 6 and the next tile's first row got the update twice.
As Halide, a var stemming from an earlier inner var gets GuardWithIf.
"""
import numpy as np

EXPECTED = np.array([[15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15], [15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15], [15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15], [15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15], [10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10], [15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15], [15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15]], dtype=np.uint64)
TOLERANCE = 0.0


def run(hl):
    x, y = hl.Var("x"), hl.Var("y")
    f0 = hl.Func('f0')
    f0[x, y] = hl.i16(5)
    f1 = hl.Func('f1')
    f1[x, y] = (hl.f32(0.0), hl.i8(-4))
    r1 = hl.RDom([hl.Range(-1, 5)], 'r1')
    f1[hl.clamp(hl.i32(f0[(r1.x + -1), (y + -2)]), 0, 3), y] = (hl.min(f1[hl.clamp(hl.i32(f0[(r1.x + -1), (y + -2)]), 0, 3), y][0], hl.f32(0.0)), f1[hl.clamp(hl.i32(f0[(r1.x + -1), (y + -2)]), 0, 3), y][1] + hl.i8(f0[(r1.x + -1), (y + -2)]))
    f2 = hl.Func('f2')
    f2[x, y] = hl.absd(hl.i64(f1[(x + -1), y][1]), hl.i64(11))
    f1.compute_root()
    vf1_1_1o = hl.Var('vf1_1_1o')
    vf1_1_1i = hl.Var('vf1_1_1i')
    f1.update(0).split(y, vf1_1_1o, vf1_1_1i, 5, hl.TailStrategy.Auto)
    f1.update(0).unroll(vf1_1_1i, 2)
    out = hl.Buffer(hl.UInt(64), [7, 11])
    out.set_min([0, -3])
    f2.realize(out)
    return np.asarray(out).T


def test_regression(hl_module):
    got = run(hl_module)
    if TOLERANCE == 0:
        np.testing.assert_array_equal(got, EXPECTED)
    else:
        np.testing.assert_allclose(got, EXPECTED, rtol=1e-6, atol=4 * TOLERANCE)
