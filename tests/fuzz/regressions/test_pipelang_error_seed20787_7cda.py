"""Minimized by pipelang.testing.differential from program seed 20787.
Failure: error: CompileError: Internal error: lowered pipeline uses undefined variables: f2$51.s0.x.vf2_0_1o.loop_extent
(loop partitioning of f3's PredicateStores loop took a limit from the recorded whole
range of f2's partitioned inner loop, which names f2's loop-extent let, bound inside).
EXPECTED is the reference evaluator's output, indexed [x, y].
"""
import numpy as np

EXPECTED = np.array([[24, 1, 1, 50, 35, 20, 15, 1, 1, 1, 52, 1], [24, 1, 1, 50, 42, 20, 15, 1, 1, 1, 52, 1], [24, 1, 1, 50, 35, 20, 15, 1, 1, 11, 52, 1], [24, 1, 1, 50, 35, 20, 15, 1, 1, 1, 52, 1], [24, 1, 1, 50, 35, 20, 15, 1, 1, 1, 52, 1], [24, 1, 1, 50, 63, 20, 15, 1, 1, 1, 52, 1], [24, 1, 1, 50, 35, 20, 15, 0, 1, 1, 52, 1], [24, 1, 1, 50, 35, 20, 15, 1, 1, 1, 52, 1], [24, 1, 1, 50, 35, 20, 15, 1, 1, 1, 52, 1], [24, 1, 1, 50, 35, 20, 15, 1, 1, 1, 52, 1]], dtype=np.int8)
TOLERANCE = 0.0


def run(hl):
    x, y = hl.Var("x"), hl.Var("y")
    p2 = hl.Param(hl.Int(8), 'p2', 4)
    p0 = hl.Param(hl.UInt(16), 'p0', 1)
    p5 = hl.Param(hl.UInt(8), 'p5', 255)
    p1 = hl.Param(hl.Int(8), 'p1', 2)
    in0 = hl.Buffer(np.random.default_rng(344419760).integers(-100000, 100000, size=(17, 12), endpoint=True).astype(np.int32), 'in0')
    in0.set_min([0, -3])
    in1 = hl.Buffer(np.random.default_rng(716248140).integers(0, 255, size=(6, 7), endpoint=True).astype(np.uint8), 'in1')
    in1.set_min([-3, 0])
    f0 = hl.BoundaryConditions.mirror_image(in1)
    f1 = hl.Func('f1')
    f1[x, y] = hl.i64(4)
    k2_1 = hl.RDom([hl.Range(0, 1), hl.Range(-2, 1)], 'k2_1')
    f2 = hl.Func('f2')
    f2[x, y] = hl.i8(hl.clamp(((hl.f32((hl.i8(in1[hl.clamp(x, -3, 3), hl.clamp((y + 2), 0, 5)]) + hl.i8((((hl.i32((~hl.i8(x))) + hl.i32(hl.select((hl.i8((((hl.i32(hl.i8(f1[(x + 1), (y + 1)])) + 1) + hl.i32(hl.i8(9))) >> 1)) != hl.i8(3)), hl.max(hl.i8((((hl.i32(hl.i8(f1[(x + 1), (y + 1)])) + 1) + hl.i32(hl.i8(9))) >> 1)), p2), hl.max(p2, hl.i8((((hl.i32(hl.i8(f1[(x + 1), (y + 1)])) + 1) + hl.i32(hl.i8(9))) >> 1)))))) + 1) >> 1)))) * hl.f32(0.25)) + (hl.f32((hl.min(f0[(x + -2), (y + -2)], in1[hl.clamp((x + 2), -3, 3), hl.clamp((y + 2), 0, 5)]) ^ hl.sum(k2_1, (hl.u8(f1[(x + k2_1.x), (y + k2_1.y)]) + in1[hl.clamp((x + k2_1.x), -3, 3), hl.clamp((y + k2_1.y), 0, 5)])))) * hl.f32(0.5))), hl.f32(-32), hl.f32(127.0)))
    f3 = hl.Func('f3')
    f3[x, y] = (hl.u64(2), hl.i8((((hl.i32(((hl.u16(f2[hl.clamp(in0[hl.clamp(x, 0, 11), hl.clamp(y, -3, 13)], 0, 9), y]) / hl.u16(in0[hl.clamp(hl.clamp(hl.i32(f2[x, y]), 3, 13), 0, 11), hl.clamp((y + 1), -3, 13)])) % (p0 / hl.u16(in0[hl.clamp(hl.clamp(hl.i32(f1[x, y]), 4, 18), 0, 11), hl.clamp((y + 1), -3, 13)])))) * hl.i32(((hl.u8(7) * p5) | hl.u8(x)))) + (hl.i32(hl.u16(((hl.i32(hl.clamp(hl.i16(f1[(x + -2), (y + 1)]), hl.i16(2), hl.i16(32767))) * hl.i32(hl.i8(5))) + (hl.i32((p0 >> hl.u16(2))) * hl.i32(hl.i8(hl.abs(hl.i8(3)))))))) * hl.i32(((f2[hl.clamp(hl.i32(f1[x, y]), -3, 9), (y + -1)] / p1) & (~hl.i8(6)))))) + (hl.i32(f0[hl.clamp(hl.i32(f2[x, y]), 0, 5), y]) * hl.i32(hl.u8(y))))))
    k4_2 = hl.RDom([hl.Range(-1, 1)], 'k4_2')
    f4 = hl.Func('f4')
    f4[x, y] = hl.select(((hl.maximum(f3[(x + k4_2.x), (y + 0)][1]) / hl.i8(2)) == hl.i8(5)), hl.min((hl.maximum(f3[(x + k4_2.x), (y + 0)][1]) / hl.i8(2)), hl.min(hl.i8(1), hl.i8(hl.absd(hl.i8(hl.absd(hl.i8(2), hl.i8(in1[hl.clamp(x, -3, 3), hl.clamp(y, 0, 5)]))), (hl.i8(y) ^ p2))))), hl.max(hl.min(hl.i8(1), hl.i8(hl.absd(hl.i8(hl.absd(hl.i8(2), hl.i8(in1[hl.clamp(x, -3, 3), hl.clamp(y, 0, 5)]))), (hl.i8(y) ^ p2)))), (hl.maximum(f3[(x + k4_2.x), (y + 0)][1]) / hl.i8(2))))
    f3.compute_at(f4, y)
    vf3_0_0xo = hl.Var('vf3_0_0xo')
    vf3_0_0yo = hl.Var('vf3_0_0yo')
    vf3_0_0xi = hl.Var('vf3_0_0xi')
    vf3_0_0yi = hl.Var('vf3_0_0yi')
    f3.tile(x, y, vf3_0_0xo, vf3_0_0yo, vf3_0_0xi, vf3_0_0yi, 3, 3, hl.TailStrategy.RoundUp)
    vf3_0_1o = hl.Var('vf3_0_1o')
    vf3_0_1i = hl.Var('vf3_0_1i')
    f3.split(vf3_0_0xo, vf3_0_1o, vf3_0_1i, 5, hl.TailStrategy.PredicateStores)
    f2.compute_at(f3, vf3_0_1i)
    vf2_0_1o = hl.Var('vf2_0_1o')
    vf2_0_1i = hl.Var('vf2_0_1i')
    f2.split(x, vf2_0_1o, vf2_0_1i, 5, hl.TailStrategy.ShiftInwards)
    f2.vectorize(vf2_0_1i, 3)
    out = hl.Buffer(hl.Int(8), [10, 12])
    out.set_min([-4, 1])
    f4.realize(out)
    return np.asarray(out).T


def test_regression(hl_module):
    got = run(hl_module)
    if TOLERANCE == 0:
        np.testing.assert_array_equal(got, EXPECTED)
    else:
        np.testing.assert_allclose(got, EXPECTED, rtol=1e-6, atol=4 * TOLERANCE)
