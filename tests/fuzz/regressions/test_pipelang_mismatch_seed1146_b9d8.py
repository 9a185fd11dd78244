"""Minimized by pipelang.testing.differential from program seed 1146.
Failure: mismatch: uint16 vs uint16 at (x, y) = (-2, 1): got 65472, expected 0
EXPECTED is the reference evaluator's output, indexed [x, y].
"""
import numpy as np

EXPECTED = np.array([[0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]], dtype=np.uint16)
TOLERANCE = 0.0


def run(hl):
    x, y = hl.Var("x"), hl.Var("y")
    in1 = hl.Buffer((np.random.default_rng(701629321).integers(-400, 400, size=(16, 3), endpoint=True) / 4).astype(np.float32), 'in1')
    in1.set_min([0, -1])
    f0 = hl.BoundaryConditions.repeat_image(in1)
    f1 = hl.Func('f1')
    f1[x, y] = hl.i32(0)
    r1 = hl.RDom([hl.Range(1, 3)], 'r1')
    r1.where((hl.i16(in1[hl.clamp((r1.x + -1), 0, 2), hl.clamp(y, -1, 14)]) != hl.i16(32767)))
    f1[hl.clamp(hl.i32(in1[hl.clamp((r1.x + -2), 0, 2), hl.clamp((y + -1), -1, 14)]), 0, 1), y] = f1[hl.clamp(hl.i32(in1[hl.clamp((r1.x + -2), 0, 2), hl.clamp((y + -1), -1, 14)]), 0, 1), y] + hl.i32(f0[r1.x, hl.i32(0)])
    f2 = hl.Func('f2')
    f2[x, y] = hl.u16(f1[x, y])
    k4_1 = hl.RDom([hl.Range(-1, 1), hl.Range(0, 2)], 'k4_1')
    f4 = hl.Func('f4')
    f4[x, y] = hl.minimum(f2[x, k4_1.y])
    f2.compute_at(f4, x)
    f2.store_at(f4, y)
    vf2_0_0o = hl.Var('vf2_0_0o')
    vf2_0_0i = hl.Var('vf2_0_0i')
    f2.split(x, vf2_0_0o, vf2_0_0i, 4, hl.TailStrategy.RoundUp)
    out = hl.Buffer(hl.UInt(16), [4, 10])
    out.set_min([-4, 1])
    f4.realize(out)
    return np.asarray(out).T


def test_regression(hl_module):
    got = run(hl_module)
    if TOLERANCE == 0:
        np.testing.assert_array_equal(got, EXPECTED)
    else:
        np.testing.assert_allclose(got, EXPECTED, rtol=1e-6, atol=4 * TOLERANCE)
