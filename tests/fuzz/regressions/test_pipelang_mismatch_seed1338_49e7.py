"""Minimized by pipelang.testing.differential from program seed 1338.
Failure: mismatch: float32 vs float32 at (x, y) = (-3, 2): got 0.0, expected 16.0
EXPECTED is the reference evaluator's output, indexed [x, y].
"""
import numpy as np

EXPECTED = np.array([[16.0]], dtype=np.float32)
TOLERANCE = 0.0


def run(hl):
    x, y = hl.Var("x"), hl.Var("y")
    in0 = hl.Buffer((np.random.default_rng(583730050).integers(-400, 400, size=(17, 18), endpoint=True) / 4).astype(np.float32), 'in0')
    in0.set_min([1, 1])
    f0 = hl.BoundaryConditions.mirror_interior(in0)
    f1 = hl.Func('f1')
    f1[x, y] = hl.u16(x)
    r1 = hl.RDom([hl.Range(0, 1)], 'r1')
    f1[x, y] = hl.min(f1[x, y], hl.u16(hl.clamp(f0[(x + r1.x), hl.i32(0)], hl.f32(0.0), hl.f32(65535.0))))
    f2 = hl.Func('f2')
    f2[x, y] = hl.f32(f1[x, hl.i32(0)])
    f1.update(0).vectorize(x, 8)
    f0.compute_at(f1, r1.x)
    out = hl.Buffer(hl.Float(32), [1, 1])
    out.set_min([-3, 2])
    f2.realize(out)
    return np.asarray(out).T


def test_regression(hl_module):
    got = run(hl_module)
    if TOLERANCE == 0:
        np.testing.assert_array_equal(got, EXPECTED)
    else:
        np.testing.assert_allclose(got, EXPECTED, rtol=1e-6, atol=4 * TOLERANCE)
