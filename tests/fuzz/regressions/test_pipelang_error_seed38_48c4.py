"""Minimized by pipelang.testing.differential from program seed 38.
Failure: error: AttributeError: 'str' object has no attribute '_vars'
EXPECTED is the reference evaluator's output, indexed [x, y].
"""
import numpy as np

EXPECTED = np.array([[2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0], [2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0], [2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0], [2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0], [2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0], [2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0], [2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0], [2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0], [2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0], [2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0], [2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0], [2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0], [2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0], [2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0]], dtype=np.float32)
TOLERANCE = 0.0


def run(hl):
    x, y = hl.Var("x"), hl.Var("y")
    in0 = hl.Buffer((np.random.default_rng(995027023).integers(-400, 400, size=(5, 6), endpoint=True) / 4).astype(np.float32), 'in0')
    in0.set_min([-1, 2])
    f0 = hl.BoundaryConditions.mirror_interior(in0)
    f1 = hl.Func('f1')
    f1[x, y] = (hl.i16(y) << hl.i16(15))
    r1 = hl.RDom([hl.Range(-1, 10)], 'r1')
    r1.where((hl.i16(f0[(r1.x + 1), (y + 1)]) < hl.i16(6)))
    f1[hl.clamp(hl.i32(in0[hl.clamp((r1.x + -1), -1, 4), hl.clamp((y + 1), 2, 6)]), 0, 1), y] = hl.min(f1[hl.clamp(hl.i32(in0[hl.clamp((r1.x + -1), -1, 4), hl.clamp((y + 1), 2, 6)]), 0, 1), y], hl.i16(hl.u8(hl.clamp(f0[(r1.x + 2), (y + 2)], hl.f32(0.0), hl.f32(255.0)))))
    f2 = hl.Func('f2')
    f2[x, y] = (2 + (y * hl.i32(hl.u8(f1[((x * 2) + -1), ((y * 2) + -1)]))))
    f3 = hl.Func('f3')
    f3[x, y] = hl.f32(f2[(x + 1), (y + 1)])
    r3 = hl.RDom([hl.Range(-2, 2)], 'r3')
    r3.where((hl.u8(hl.clamp(f0[(x + r3.x), (y + 0)], hl.f32(0.0), hl.f32(255.0))) == hl.u8(y)))
    f3[x, y] = hl.max(f3[x, y], hl.abs(hl.max(hl.f32(f2[(x + r3.x), (y + 0)]), hl.f32(f2[(x + r3.x), (y + 0)]))))
    vf3_0_0o = hl.Var('vf3_0_0o')
    vf3_0_0i = hl.Var('vf3_0_0i')
    f3.split(x, vf3_0_0o, vf3_0_0i, 8, hl.TailStrategy.GuardWithIf)
    f3.vectorize(vf3_0_0i)
    vf3_0_1o = hl.Var('vf3_0_1o')
    vf3_0_1i = hl.Var('vf3_0_1i')
    f3.split(vf3_0_0o, vf3_0_1o, vf3_0_1i, 4, hl.TailStrategy.GuardWithIf)
    f3.vectorize(vf3_0_1i)
    vf3_1_0o = hl.Var('vf3_1_0o')
    vf3_1_0i = hl.Var('vf3_1_0i')
    f3.update(0).split(x, vf3_1_0o, vf3_1_0i, 4, hl.TailStrategy.GuardWithIf)
    f3.update(0).vectorize(vf3_1_0i)
    f1.compute_root()
    rf1_1_0o = hl.RVar('rf1_1_0o')
    rf1_1_0i = hl.RVar('rf1_1_0i')
    f1.update(0).split(r1.x, rf1_1_0o, rf1_1_0i, 4, hl.TailStrategy.Auto)
    out = hl.Buffer(hl.Float(32), [14, 11])
    out.set_min([2, 2])
    f3.realize(out)
    return np.asarray(out).T


def test_regression(hl_module):
    got = run(hl_module)
    if TOLERANCE == 0:
        np.testing.assert_array_equal(got, EXPECTED)
    else:
        np.testing.assert_allclose(got, EXPECTED, rtol=1e-6, atol=4 * TOLERANCE)
