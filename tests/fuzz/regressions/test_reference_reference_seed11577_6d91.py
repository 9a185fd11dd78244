"""Minimized by pipelang.testing.differential from program seed 11577.
Failure: reference: reference evaluator: absd of uint64 above 2**63 read as int64 (pipelang and Halide agreed: 65524)
EXPECTED is the reference evaluator's output, indexed [x, y].
"""
import numpy as np

EXPECTED = np.array([[12, 12, 12, 12, 12, 12, 12, 12, 12, 12], [12, 12, 12, 12, 12, 12, 12, 12, 12, 12], [12, 12, 12, 12, 12, 12, 12, 12, 12, 12], [12, 12, 12, 12, 12, 12, 12, 12, 12, 12], [12, 12, 12, 12, 12, 12, 12, 12, 12, 12], [12, 12, 12, 12, 12, 12, 12, 12, 12, 12], [12, 12, 12, 12, 12, 12, 12, 12, 12, 12], [12, 12, 12, 12, 12, 12, 12, 12, 12, 12], [12, 12, 12, 12, 12, 12, 12, 12, 12, 12], [12, 12, 12, 12, 12, 12, 12, 12, 12, 12], [12, 12, 12, 12, 12, 12, 12, 12, 12, 12], [12, 12, 12, 12, 12, 12, 12, 12, 12, 12], [12, 12, 12, 12, 12, 12, 12, 12, 12, 12], [12, 12, 12, 12, 12, 12, 12, 12, 12, 12], [12, 12, 12, 12, 12, 12, 12, 12, 12, 12], [12, 12, 12, 12, 12, 12, 12, 12, 12, 12], [12, 12, 12, 12, 12, 12, 12, 12, 12, 12], [12, 12, 12, 12, 12, 12, 12, 12, 12, 12]], dtype=np.uint16)
TOLERANCE = 0.0


def run(hl):
    x, y = hl.Var("x"), hl.Var("y")
    p0 = hl.Param(hl.UInt(64), 'p0', 12)
    p1 = hl.Param(hl.UInt(64), 'p1', 7)
    f2 = hl.Func('f2')
    f2[x, y] = (-hl.u16(hl.absd((-p0), (hl.u64(0) % p1))))
    out = hl.Buffer(hl.UInt(16), [18, 10])
    out.set_min([5, -2])
    f2.realize(out)
    return np.asarray(out).T


def test_regression(hl_module):
    got = run(hl_module)
    if TOLERANCE == 0:
        np.testing.assert_array_equal(got, EXPECTED)
    else:
        np.testing.assert_allclose(got, EXPECTED, rtol=1e-6, atol=4 * TOLERANCE)
