"""Minimized by pipelang.testing.differential from program seed 11702.
Failure: error: process aborted: double free or corruption (out)
EXPECTED is the reference evaluator's output, indexed [x, y].
Schedule 3 of the program, not minimized (the failure aborted the process).
Cause (fixed): f3 slides along r4.y inside f4's GuardWithIf-split update; on
an iteration past the guard the region is empty (max < min), and the slid
min (one past the previous max) then lay before f3's storage, so the
producer wrote before it. The slid min is now never below the iteration's
own min.
"""
import numpy as np

EXPECTED = np.array([[-2, -3, -4, -5, -6, -7, -8, -9, -10]], dtype=np.int32)
TOLERANCE = 0.0


def run(hl):
    x, y = hl.Var("x"), hl.Var("y")
    f3 = hl.Func('f3')
    f3[x, y] = hl.min(hl.u16(y), hl.u16(x))
    f4 = hl.Func('f4')
    f4[x, y] = y
    r4 = hl.RDom([hl.Range(0, 1), hl.Range(0, 2)], 'r4')
    f4[x, y] = hl.min(f4[x, y], (-hl.i32(f3[(x + r4.x), (y + r4.y)])))
    vf4_0_0xo = hl.Var('vf4_0_0xo')
    vf4_0_0yo = hl.Var('vf4_0_0yo')
    vf4_0_0xi = hl.Var('vf4_0_0xi')
    vf4_0_0yi = hl.Var('vf4_0_0yi')
    f4.tile(x, y, vf4_0_0xo, vf4_0_0yo, vf4_0_0xi, vf4_0_0yi, 3, 2, hl.TailStrategy.Predicate)
    vf4_1_0o = hl.Var('vf4_1_0o')
    vf4_1_0i = hl.Var('vf4_1_0i')
    f4.update(0).split(y, vf4_1_0o, vf4_1_0i, 3, hl.TailStrategy.GuardWithIf)
    f4.update(0).vectorize(vf4_1_0i)
    vf4_1_2o = hl.Var('vf4_1_2o')
    vf4_1_2i = hl.Var('vf4_1_2i')
    f4.update(0).split(vf4_1_0o, vf4_1_2o, vf4_1_2i, 4, hl.TailStrategy.GuardWithIf)
    f3.compute_at(f4, r4.x)
    f3.store_at(f4, x)
    vf3_0_0o = hl.Var('vf3_0_0o')
    vf3_0_0i = hl.Var('vf3_0_0i')
    f3.split(y, vf3_0_0o, vf3_0_0i, 3, hl.TailStrategy.PredicateLoads)
    f3.parallel(vf3_0_0i)
    vf3_0_2o = hl.Var('vf3_0_2o')
    vf3_0_2i = hl.Var('vf3_0_2i')
    f3.split(x, vf3_0_2o, vf3_0_2i, 5, hl.TailStrategy.Predicate)
    out = hl.Buffer(hl.Int(32), [1, 9])
    out.set_min([-3, 1])
    f4.realize(out)
    return np.asarray(out).T


def test_regression(hl_module):
    got = run(hl_module)
    if TOLERANCE == 0:
        np.testing.assert_array_equal(got, EXPECTED)
    else:
        np.testing.assert_allclose(got, EXPECTED, rtol=1e-6, atol=4 * TOLERANCE)


def test_stores_stay_in_storage():
    # Heap corruption need not crash: check every store against its storage.
    import pipelang
    from pipelang.testing.store_checks import checked_stores
    with checked_stores():
        got = run(pipelang)
    np.testing.assert_array_equal(got, EXPECTED)
