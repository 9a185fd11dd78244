"""Minimized by pipelang.testing.differential from program seed 11070.
Failure: mismatch: uint64 vs uint64 at (x, y) = (3, -1): got 122070, expected 122078
EXPECTED is the reference evaluator's output, indexed [x, y].
"""
import numpy as np

EXPECTED = np.array([[122078, 122078, 122078, 122078, 122078, 122078, 122078, 122078, 122078], [122078, 122078, 122078, 122078, 122070, 122078, 122078, 122078, 122078]], dtype=np.uint64)
TOLERANCE = 0.0


def run(hl):
    x, y = hl.Var("x"), hl.Var("y")
    p0 = hl.Param(hl.Int(32), 'p0', 6)
    p1 = hl.Param(hl.UInt(8), 'p1', 12)
    p2 = hl.Param(hl.UInt(64), 'p2', 0)
    in0 = hl.Buffer(np.random.default_rng(650874675).integers(0, 65535, size=(10, 7), endpoint=True).astype(np.uint16), 'in0')
    in0.set_min([2, -2])
    f0 = hl.Func('f0')
    f0[x, y] = hl.i64(in0[hl.i32(2), hl.clamp((y + -1), -2, 7)])
    r0 = hl.RDom([hl.Range(-1, 10)], 'r0')
    r0.where((hl.i8(y) <= hl.i8(in0[hl.clamp((r0.x + 2), 2, 8), hl.clamp((y + 1), -2, 7)])))
    f0[hl.clamp(hl.i32(in0[hl.clamp((r0.x + 1), 2, 8), hl.clamp((y + 2), -2, 7)]), 0, 4), y] = hl.min(f0[hl.clamp(hl.i32(in0[hl.clamp((r0.x + 1), 2, 8), hl.clamp((y + 2), -2, 7)]), 0, 4), y], hl.i64(in0[hl.clamp((r0.x + -2), 2, 8), hl.clamp(y, -2, 7)]))
    f1 = hl.BoundaryConditions.repeat_image(f0, [hl.Range(0, 9), hl.Range(-1, 2)])
    f2 = hl.Func('f2')
    f2[x, y] = hl.i32(0)
    r2 = hl.RDom([hl.Range(0, 1)], 'r2')
    f2[x, y] = hl.max(f2[x, y], hl.clamp((hl.i32(f0[(x + r2.x), (y + 0)]) / p0), -5, 12))
    f3 = hl.Func('f3')
    f3[x, y] = (hl.i16(hl.u16(2)), hl.absd(hl.trunc(hl.abs(hl.f64(f1[((x * 2) + 1), ((y * 2) + -1)]))), hl.trunc(hl.f64(p1))))
    f4 = hl.Func('f4')
    f4[x, y] = (hl.abs(((hl.u64(f3[x, y][1]) * hl.u64(3)) ^ hl.u64(6))) | ((hl.min(hl.u64(f3[hl.clamp(hl.i32(f3[x, y][1]), 8, 21), (y + 1)][1]), hl.u64(f2[x, (y + 2)])) * hl.min(hl.u64(f2[hl.clamp(hl.i32(f3[x, y][1]), 2, 18), y]), hl.u64(6))) % hl.absd((hl.u64(0) * hl.u64(f3[(x + -2), (y + -2)][1])), (~p2))))
    f3.compute_root()
    rf2_1_0o = hl.RVar('rf2_1_0o')
    rf2_1_0i = hl.RVar('rf2_1_0i')
    f2.update(0).split(r2.x, rf2_1_0o, rf2_1_0i, 2, hl.TailStrategy.GuardWithIf)
    f0.compute_root()
    vf0_0_0o = hl.Var('vf0_0_0o')
    vf0_0_0i = hl.Var('vf0_0_0i')
    f0.split(y, vf0_0_0o, vf0_0_0i, 4, hl.TailStrategy.ShiftInwardsAndBlend)
    f0.update(0).reorder(r0.x, y)
    out = hl.Buffer(hl.UInt(64), [2, 9])
    out.set_min([3, -5])
    f4.realize(out)
    return np.asarray(out).T


def test_regression(hl_module):
    # Fixed: f0's values (int64, unbounded) cast to float64 were bounded by
    # +-2^63, so the region of f2 read at clamp(int32(...), 2, 18) had an
    # int32(9.2e18) end -- an overflowing cast, garbage at run time (see
    # test_intervals.py::test_wide_int_to_float_leaves_type_limits_unbounded).
    got = run(hl_module)
    if TOLERANCE == 0:
        np.testing.assert_array_equal(got, EXPECTED)
    else:
        np.testing.assert_allclose(got, EXPECTED, rtol=1e-6, atol=4 * TOLERANCE)
