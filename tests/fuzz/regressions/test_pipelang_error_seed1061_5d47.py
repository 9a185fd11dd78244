"""Minimized by pipelang.testing.differential from program seed 1061.
Failure: error: PipelineRuntimeError: Input buffer in0 is accessed at -2147483648, which is before the min (-1) in dimension 0
EXPECTED is the reference evaluator's output, indexed [x, y].
"""
import numpy as np

EXPECTED = np.array([[43203]], dtype=np.uint16)
TOLERANCE = 0.0


def run(hl):
    x, y = hl.Var("x"), hl.Var("y")
    in0 = hl.Buffer(np.random.default_rng(221717901).integers(0, 65535, size=(15, 7), endpoint=True).astype(np.uint16), 'in0')
    in0.set_min([-1, 1])
    f0 = hl.BoundaryConditions.repeat_edge(in0)
    f2 = hl.Func('f2')
    f2[x, y] = hl.i32(hl.absd(hl.i32(hl.i16(x)), 0))
    f3 = hl.Func('f3')
    f3[x, y] = (hl.u32(f2[x, hl.i32(0)]) & hl.u32(f2[x, hl.i32(0)]))
    f4 = hl.Func('f4')
    f4[x, y] = f0[hl.i32(f3[x, y]), hl.i32(0)]
    out = hl.Buffer(hl.UInt(16), [1, 1])
    out.set_min([0, 0])
    f4.realize(out)
    return np.asarray(out).T


def test_regression(hl_module):
    got = run(hl_module)
    if TOLERANCE == 0:
        np.testing.assert_array_equal(got, EXPECTED)
    else:
        np.testing.assert_allclose(got, EXPECTED, rtol=1e-6, atol=4 * TOLERANCE)
