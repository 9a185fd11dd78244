"""Minimized by pipelang.testing.differential from program seed 11276.
Failure: mismatch: float32 vs float32 at (x, y) = (2, 1): got 1.5, expected 0.5
EXPECTED is the reference evaluator's output, indexed [x, y].
Cause (fixed, as seed 11255): f3's update splits x (RoundUpAndBlend) and then
its inner var by 5 with Auto, which rounded up instead of guarding, so the
update (+ p1) ran twice on some points.
"""
import numpy as np

EXPECTED = np.array([[1.5, 1.5], [1.5, 1.5], [19.58553695678711, 19.58553695678711], [19.58553695678711, 19.58553695678711], [19.58553695678711, 19.58553695678711], [19.58553695678711, 19.58553695678711], [0.5, 0.5], [0.5, 0.5], [19.58553695678711, 19.58553695678711], [1.5, 1.5]], dtype=np.float32)
TOLERANCE = 0.00014157326829113064


def run(hl):
    x, y = hl.Var("x"), hl.Var("y")
    p0 = hl.Param(hl.UInt(8), 'p0', 255)
    p1 = hl.Param(hl.UInt(8), 'p1', 1)
    p2 = hl.Param(hl.Float(32), 'p2', 3.0)
    in0 = hl.Buffer((np.random.default_rng(642015375).integers(-400, 400, size=(12, 6), endpoint=True) / 4).astype(np.float32), 'in0')
    in0.set_min([-2, 0])
    f0 = hl.BoundaryConditions.mirror_image(in0)
    f1 = hl.Func('f1')
    f1[x, y] = f0[(x + 1), (y + 1)]
    r1 = hl.RDom([hl.Range(-1, 5)], 'r1')
    f1[hl.Expr(r1.x), y] = f1[(r1.x - 1), y] + hl.abs(hl.round(f0[r1.x, y]))
    f3 = hl.Func('f3')
    f3[x, y] = (hl.u8(hl.clamp(in0[hl.clamp(x, -2, 3), hl.clamp(y, 0, 11)], hl.f32(0.0), hl.f32(255.0))), hl.u8(hl.clamp(f1[x, y], hl.f32(0.0), hl.f32(255.0))))
    r3 = hl.RDom([hl.Range(-2, 2), hl.Range(-2, 2)], 'r3')
    f3[x, y] = (hl.min(f3[x, y][0], p0), f3[x, y][1] + hl.clamp(p1, hl.u8(0), hl.u8(12)))
    f4 = hl.Func('f4')
    f4[x, y] = hl.absd(hl.clamp(hl.exp(hl.clamp(hl.f32(0.10000000149011612), hl.f32(-8.0), hl.f32(8.0))), hl.f32(0.0), hl.f32(0.5)), hl.select((f3[x, y][1] < hl.u8(10)), (hl.f32(f3[x, y][1]) + hl.f32(f3[x, y][1])), hl.exp(hl.clamp(p2, hl.f32(-8.0), hl.f32(8.0)))))
    f3.compute_root()
    vf3_0_1o = hl.Var('vf3_0_1o')
    vf3_0_1i = hl.Var('vf3_0_1i')
    f3.split(y, vf3_0_1o, vf3_0_1i, 4, hl.TailStrategy.Auto)
    vf3_1_0o = hl.Var('vf3_1_0o')
    vf3_1_0i = hl.Var('vf3_1_0i')
    f3.update(0).split(x, vf3_1_0o, vf3_1_0i, 3, hl.TailStrategy.RoundUpAndBlend)
    vf3_1_1o = hl.Var('vf3_1_1o')
    vf3_1_1i = hl.Var('vf3_1_1i')
    f3.update(0).split(vf3_1_0i, vf3_1_1o, vf3_1_1i, 5, hl.TailStrategy.Auto)
    f1.compute_at(f3, vf3_0_1o)
    vf1_0_0o = hl.Var('vf1_0_0o')
    vf1_0_0i = hl.Var('vf1_0_0i')
    f1.split(x, vf1_0_0o, vf1_0_0i, 3, hl.TailStrategy.Auto)
    f1.unroll(vf1_0_0i, 2)
    vf1_0_2f = hl.Var('vf1_0_2f')
    f1.fuse(vf1_0_0o, y, vf1_0_2f)
    out = hl.Buffer(hl.Float(32), [10, 2])
    out.set_min([-4, 1])
    f4.realize(out)
    return np.asarray(out).T


def test_regression(hl_module):
    got = run(hl_module)
    if TOLERANCE == 0:
        np.testing.assert_array_equal(got, EXPECTED)
    else:
        np.testing.assert_allclose(got, EXPECTED, rtol=1e-6, atol=4 * TOLERANCE)
