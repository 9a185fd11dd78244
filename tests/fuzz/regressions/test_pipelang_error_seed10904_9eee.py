"""Minimized by pipelang.testing.differential from program seed 10904.
Failure: error: ScheduleError: Func 'repeat_image_in1_11' is computed at the following invalid location:
EXPECTED is the reference evaluator's output, indexed [x, y].
"""
import numpy as np

EXPECTED = np.array([[0, 0], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0], [0, 0], [2, 2], [2, 2], [0, 0]], dtype=np.int16)
TOLERANCE = 0.0


def run(hl):
    x, y = hl.Var("x"), hl.Var("y")
    p0 = hl.Param(hl.Int(16), 'p0', -2)
    p1 = hl.Param(hl.Float(32), 'p1', 3.0)
    in1 = hl.Buffer((np.random.default_rng(458807408).integers(-400, 400, size=(8, 16), endpoint=True) / 4).astype(np.float32), 'in1')
    in1.set_min([1, -2])
    f1 = hl.BoundaryConditions.repeat_image(in1)
    k2_1 = hl.RDom([hl.Range(-2, 2), hl.Range(0, 2)], 'k2_1')
    f2 = hl.Func('f2')
    f2[x, y] = hl.u8(hl.argmax(hl.u8(hl.clamp(f1[(x + k2_1.x), (y + k2_1.y)], hl.f32(0.0), hl.f32(255.0))))[1])
    f3 = hl.Func('f3')
    f3[x, y] = (hl.min(p0, hl.i16(x)), hl.f32(f2[(x + -2), (y + -2)]))
    f4 = hl.Func('f4')
    f4[x, y] = ((hl.i16(10) / hl.i16(f3[((x + -1) / 2), (y / 2)][1])) & hl.i16(p1))
    f2.compute_root()
    f2.vectorize(y, 4)
    f1.compute_at(f2, x)
    out = hl.Buffer(hl.Int(16), [12, 2])
    out.set_min([2, -2])
    f4.realize(out)
    return np.asarray(out).T


def test_regression(hl_module):
    # Fixed: the inline argmax (a Func with an update) is computed at the
    # innermost loop around its uses, f2's x, as in Halide -- it was computed
    # at the enclosing vectorized loop, so f1.compute_at(f2, x) was refused.
    got = run(hl_module)
    if TOLERANCE == 0:
        np.testing.assert_array_equal(got, EXPECTED)
    else:
        np.testing.assert_allclose(got, EXPECTED, rtol=1e-6, atol=4 * TOLERANCE)
