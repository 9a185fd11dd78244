"""Minimized by pipelang.testing.differential from program seed 18.
Failure: error: AttributeError: 'str' object has no attribute '_vars'
EXPECTED is the reference evaluator's output, indexed [x, y].
"""
import numpy as np

EXPECTED = np.array([[165]], dtype=np.int32)
TOLERANCE = 0.0


def run(hl):
    x, y = hl.Var("x"), hl.Var("y")
    in0 = hl.Buffer((np.random.default_rng(1051226185).integers(-400, 400, size=(13, 17), endpoint=True) / 4).astype(np.float32), 'in0')
    in0.set_min([-2, -2])
    f0 = hl.BoundaryConditions.repeat_edge(in0)
    f1 = hl.Func('f1')
    f1[x, y] = hl.i32(0)
    r1 = hl.RDom([hl.Range(0, 3), hl.Range(-2, 3)], 'r1')
    f1[x, y] = f1[x, y] + hl.i32(f0[hl.i32(0), r1.y])
    rf1_1_1o = hl.RVar('rf1_1_1o')
    rf1_1_1i = hl.RVar('rf1_1_1i')
    f1.update(0).split(r1.y, rf1_1_1o, rf1_1_1i, 4, hl.TailStrategy.Auto)
    out = hl.Buffer(hl.Int(32), [1, 1])
    out.set_min([0, 0])
    f1.realize(out)
    return np.asarray(out).T


def test_regression(hl_module):
    got = run(hl_module)
    if TOLERANCE == 0:
        np.testing.assert_array_equal(got, EXPECTED)
    else:
        np.testing.assert_allclose(got, EXPECTED, rtol=1e-6, atol=4 * TOLERANCE)
