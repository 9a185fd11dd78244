"""Minimized by pipelang.testing.differential from program seed 1003.
Failure: error: CompileError: Internal error: lowered pipeline uses undefined variables: f2$31.min.0, f2$31.min.1, f2$31.stride.1
EXPECTED is the reference evaluator's output, indexed [x, y].
"""
import numpy as np

EXPECTED = np.array([[0]], dtype=np.uint16)
TOLERANCE = 0.0


def run(hl):
    x, y = hl.Var("x"), hl.Var("y")
    f2 = hl.Func('f2')
    f2[x, y] = hl.i32(0)
    r2 = hl.RDom([hl.Range(1, 10)], 'r2')
    f2[hl.Expr(r2.x), y] = f2[(r2.x - 1), y] + hl.i32(0)
    f3 = hl.Func('f3')
    f3[x, y] = hl.select((hl.f32(f2[hl.clamp(f2[x, y], 2, 18), hl.i32(0)]) < hl.f32(-0.75)), hl.u16(0), hl.u16(0))
    out = hl.Buffer(hl.UInt(16), [1, 1])
    out.set_min([0, 0])
    f3.realize(out)
    return np.asarray(out).T


def test_regression(hl_module):
    got = run(hl_module)
    if TOLERANCE == 0:
        np.testing.assert_array_equal(got, EXPECTED)
    else:
        np.testing.assert_allclose(got, EXPECTED, rtol=1e-6, atol=4 * TOLERANCE)
