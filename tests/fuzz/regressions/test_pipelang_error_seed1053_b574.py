"""Minimized by pipelang.testing.differential from program seed 1053.
Failure: error: PipelineRuntimeError: Out of memory allocating f2$31
EXPECTED is the reference evaluator's output, indexed [x, y].
"""
import numpy as np

EXPECTED = np.array([[0]], dtype=np.uint16)
TOLERANCE = 0.0


def run(hl):
    x, y = hl.Var("x"), hl.Var("y")
    f1 = hl.Func('f1')
    f1[x, y] = hl.u32(0)
    r1 = hl.RDom([hl.Range(3, 2)], 'r1')
    f1[hl.Expr(r1.x), y] = hl.max(f1[(r1.x - 1), y], hl.u32(5))
    f2 = hl.Func('f2')
    f2[x, y] = hl.i32(0)
    r2 = hl.RDom([hl.Range(-2, 2)], 'r2')
    r2.where((hl.i8(-5) != hl.i8(127)))
    f2[hl.clamp(hl.i32(f1[(r2.x + -1), y]), 0, 5), y] = f2[hl.clamp(hl.i32(f1[(r2.x + -1), y]), 0, 5), y] + hl.i32(0)
    k3_1 = hl.RDom([hl.Range(-1, 1), hl.Range(-1, 3)], 'k3_1')
    f3 = hl.Func('f3')
    f3[x, y] = hl.sum(hl.u16(f2[x, k3_1.y]))
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
