"""Minimized by pipelang.testing.differential from program seed 1299.
Failure: mismatch: int8 vs int8 at (x, y) = (0, 0): got 0, expected 98
EXPECTED is the reference evaluator's output, indexed [x, y].
"""
import numpy as np

EXPECTED = np.array([[98, 33, 20, 0]], dtype=np.int8)
TOLERANCE = 0.0


def run(hl):
    x, y = hl.Var("x"), hl.Var("y")
    in0 = hl.Buffer((np.random.default_rng(770925855).integers(-400, 400, size=(8, 7), endpoint=True) / 4).astype(np.float32), 'in0')
    in0.set_min([-1, -1])
    f0 = hl.BoundaryConditions.mirror_interior(in0)
    f2 = hl.Func('f2')
    f2[x, y] = hl.u8(hl.clamp(f0[x, y], hl.f32(0.0), hl.f32(255.0)))
    f3 = hl.Func('f3')
    f3[x, y] = hl.i8(f2[x, y])
    f2.compute_root()
    vf2_0_0o = hl.Var('vf2_0_0o')
    vf2_0_0i = hl.Var('vf2_0_0i')
    f2.split(x, vf2_0_0o, vf2_0_0i, 4, hl.TailStrategy.GuardWithIf)
    f2.vectorize(y, 8)
    f0.compute_at(f2, vf2_0_0o)
    out = hl.Buffer(hl.Int(8), [1, 4])
    out.set_min([0, 0])
    f3.realize(out)
    return np.asarray(out).T


def test_regression(hl_module):
    got = run(hl_module)
    if TOLERANCE == 0:
        np.testing.assert_array_equal(got, EXPECTED)
    else:
        np.testing.assert_allclose(got, EXPECTED, rtol=1e-6, atol=4 * TOLERANCE)
