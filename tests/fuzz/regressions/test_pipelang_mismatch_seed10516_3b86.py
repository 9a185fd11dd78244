"""Minimized by pipelang.testing.differential from program seed 10516.
Failure: mismatch: uint16 vs uint16 at (x, y) = (0, 1): got 0, expected 1
EXPECTED is the reference evaluator's output, indexed [x, y].
"""
import numpy as np

EXPECTED = np.array([[0, 1, 2, 3, 4, 5]], dtype=np.uint16)
TOLERANCE = 0.0


def run(hl):
    x, y = hl.Var("x"), hl.Var("y")
    p0 = hl.Param(hl.UInt(16), 'p0', 6)
    f1 = hl.Func('f1')
    f1[x, y] = hl.i32(0)
    f2 = hl.Func('f2')
    f2[x, y] = (hl.i32(0), hl.select(hl.cast(hl.Bool(), hl.clamp(hl.ceil(hl.f32(2.0)), hl.f32(-1000.0), hl.f32(1000.0))), ((hl.u16(0) / p0) + hl.u16(x)), hl.max((hl.u16(y) | hl.u16(0)), hl.select((hl.i16(-2) == hl.i16(9)), hl.u16(f1[(y + -2), x]), hl.u16(f1[(y + 1), (x + 2)])))))
    f3 = hl.Func('f3')
    f3[x, y] = f2[x, y][1]
    out = hl.Buffer(hl.UInt(16), [1, 6])
    out.set_min([0, 0])
    f3.realize(out)
    return np.asarray(out).T


def test_regression(hl_module):
    got = run(hl_module)
    if TOLERANCE == 0:
        np.testing.assert_array_equal(got, EXPECTED)
    else:
        np.testing.assert_allclose(got, EXPECTED, rtol=1e-6, atol=4 * TOLERANCE)
