"""Minimized by pipelang.testing.differential from program seed 25.
Failure: error: AttributeError: 'str' object has no attribute '_vars'
EXPECTED is the reference evaluator's output, indexed [x, y].
"""
import numpy as np

EXPECTED = np.array([[0]], dtype=np.int8)
TOLERANCE = 0.0


def run(hl):
    x, y = hl.Var("x"), hl.Var("y")
    in0 = hl.Buffer(np.random.default_rng(549076497).integers(0, 255, size=(18, 12), endpoint=True).astype(np.uint8), 'in0')
    in0.set_min([-3, 3])
    f2 = hl.Func('f2')
    f2[x, y] = hl.i8(0)
    r2 = hl.RDom([hl.Range(3, 8)], 'r2')
    r2.where((hl.i32(in0[hl.clamp(r2.x, -3, 8), hl.clamp((y + -1), 3, 20)]) <= -1))
    f2[hl.Expr(r2.x), y] = f2[(r2.x - 1), y] + hl.i8(0)
    f3 = hl.Func('f3')
    f3[x, y] = hl.i8(hl.f32(f2[hl.i32(0), hl.i32(0)]))
    rf2_1_2o = hl.RVar('rf2_1_2o')
    rf2_1_2i = hl.RVar('rf2_1_2i')
    f2.update(0).split(r2.x, rf2_1_2o, rf2_1_2i, 4, hl.TailStrategy.GuardWithIf)
    out = hl.Buffer(hl.Int(8), [1, 1])
    out.set_min([0, 0])
    f3.realize(out)
    return np.asarray(out).T


def test_regression(hl_module):
    got = run(hl_module)
    if TOLERANCE == 0:
        np.testing.assert_array_equal(got, EXPECTED)
    else:
        np.testing.assert_allclose(got, EXPECTED, rtol=1e-6, atol=4 * TOLERANCE)
