"""Minimized by pipelang.testing.differential from program seed 1077.
Failure: error: ScheduleError: Can't vectorize a loop whose inner loop repeat_edge_in0_26.s0._0 has bounds that depend on the vectorized variable
EXPECTED is the reference evaluator's output, indexed [x, y].
"""
import numpy as np

EXPECTED = np.array([[62814.0]], dtype=np.float32)
TOLERANCE = 0.0


def run(hl):
    x, y = hl.Var("x"), hl.Var("y")
    in0 = hl.Buffer(np.random.default_rng(881615257).integers(0, 65535, size=(17, 14), endpoint=True).astype(np.uint16), 'in0')
    in0.set_min([-2, -1])
    f0 = hl.BoundaryConditions.repeat_edge(in0)
    f1 = hl.Func('f1')
    f1[x, y] = hl.f32(f0[x, y])
    vf1_0_0o = hl.Var('vf1_0_0o')
    vf1_0_0i = hl.Var('vf1_0_0i')
    f1.split(x, vf1_0_0o, vf1_0_0i, 3, hl.TailStrategy.GuardWithIf)
    f1.vectorize(vf1_0_0i)
    vf1_0_1o = hl.Var('vf1_0_1o')
    vf1_0_1i = hl.Var('vf1_0_1i')
    f1.split(vf1_0_0o, vf1_0_1o, vf1_0_1i, 5, hl.TailStrategy.Predicate)
    vf1_0_2o = hl.Var('vf1_0_2o')
    vf1_0_2i = hl.Var('vf1_0_2i')
    f1.split(y, vf1_0_2o, vf1_0_2i, 3, hl.TailStrategy.Predicate)
    f1.reorder(vf1_0_1i, vf1_0_2o, vf1_0_1o, vf1_0_2i, vf1_0_0i)
    f0.compute_at(f1, vf1_0_1i)
    out = hl.Buffer(hl.Float(32), [1, 1])
    out.set_min([0, 0])
    f1.realize(out)
    return np.asarray(out).T


def test_regression(hl_module):
    got = run(hl_module)
    if TOLERANCE == 0:
        np.testing.assert_array_equal(got, EXPECTED)
    else:
        np.testing.assert_allclose(got, EXPECTED, rtol=1e-6, atol=4 * TOLERANCE)
