"""Minimized by pipelang.testing.differential from program seed 0.
Failure: error: AssertionError: variable minimum$43.s1.k4_1$x is not defined at this point
EXPECTED is the reference evaluator's output, indexed [x, y].
"""
import numpy as np

EXPECTED = np.array([[52.0]], dtype=np.float32)
TOLERANCE = 0.0


def run(hl):
    x, y = hl.Var("x"), hl.Var("y")
    in0 = hl.Buffer(np.random.default_rng(651359108).integers(0, 255, size=(19, 11), endpoint=True).astype(np.uint8), 'in0')
    in0.set_min([0, 0])
    f2 = hl.Func('f2')
    f2[x, y] = hl.f32(in0[(x + 1), hl.i32(0)])
    f3 = hl.BoundaryConditions.repeat_edge(f2, [hl.Range(-1, 9), hl.Range(3, 4)])
    k4_1 = hl.RDom([hl.Range(-2, 2), hl.Range(0, 1)], 'k4_1')
    f4 = hl.Func('f4')
    f4[x, y] = hl.minimum(f3[(x + k4_1.x), hl.i32(0)])
    out = hl.Buffer(hl.Float(32), [1, 1])
    out.set_min([0, 0])
    f4.realize(out)
    return np.asarray(out).T


def test_regression(hl_module):
    got = run(hl_module)
    if TOLERANCE == 0:
        np.testing.assert_array_equal(got, EXPECTED)
    else:
        np.testing.assert_allclose(got, EXPECTED, rtol=1e-6, atol=4 * TOLERANCE)
