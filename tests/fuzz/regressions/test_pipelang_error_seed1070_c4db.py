"""Minimized by pipelang.testing.differential from program seed 1070.
Failure: error: ScheduleError: Can't vectorize a loop whose inner loop constant_exterior_in1_46.s0._1 has bounds that depend on the vectorized variable
EXPECTED is the reference evaluator's output, indexed [x, y].
"""
import numpy as np

EXPECTED = np.array([[-4]], dtype=np.int16)
TOLERANCE = 0.0


def run(hl):
    x, y = hl.Var("x"), hl.Var("y")
    in0 = hl.Buffer(np.random.default_rng(327642241).integers(0, 255, size=(3, 18), endpoint=True).astype(np.uint8), 'in0')
    in0.set_min([2, -1])
    in1 = hl.Buffer(np.random.default_rng(897301078).integers(0, 255, size=(5, 16), endpoint=True).astype(np.uint8), 'in1')
    in1.set_min([-2, 1])
    f1 = hl.BoundaryConditions.constant_exterior(in1, hl.u8(11))
    f2 = hl.Func('f2')
    f2[x, y] = hl.i16(-4)
    r2 = hl.RDom([hl.Range(0, 2)], 'r2')
    r2.where((hl.u32(11) != hl.u32(in0[hl.clamp((x + r2.x), 2, 19), hl.clamp((y + 0), -1, 1)])))
    f2[x, y] = hl.min(f2[x, y], hl.i16(f1[hl.i32(0), y]))
    vf2_1_0o = hl.Var('vf2_1_0o')
    vf2_1_0i = hl.Var('vf2_1_0i')
    f2.update(0).split(y, vf2_1_0o, vf2_1_0i, 4, hl.TailStrategy.GuardWithIf)
    f2.update(0).vectorize(vf2_1_0i)
    f1.compute_at(f2, x)
    out = hl.Buffer(hl.Int(16), [1, 1])
    out.set_min([0, 0])
    f2.realize(out)
    return np.asarray(out).T


def test_regression(hl_module):
    got = run(hl_module)
    if TOLERANCE == 0:
        np.testing.assert_array_equal(got, EXPECTED)
    else:
        np.testing.assert_allclose(got, EXPECTED, rtol=1e-6, atol=4 * TOLERANCE)
