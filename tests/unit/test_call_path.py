"""realize(buffer)'s repeat-call path: values unchanged since the last call
are not packed again, and any change (a Param's value, an ImageParam's
buffer, the output's min or array) is seen."""
import numpy as np

import pipelang as hl


def _pipeline():
    x, y = hl.Var("x"), hl.Var("y")
    k = hl.Param(hl.Int(32), "k", 3)
    im = hl.ImageParam(hl.Int(32), 2, "im")
    f = hl.Func("f")
    f[x, y] = x + 10 * y + k + im[x, y]
    p = hl.Pipeline(f)
    return p, k, im


def _expected(k, data, x0=0, y0=0, w=4, h=3):
    ys, xs = np.mgrid[y0:y0 + h, x0:x0 + w]
    return xs + 10 * ys + k + data[ys, xs]


def test_repeat_calls_see_every_change():
    p, k, im = _pipeline()
    a = np.arange(48, dtype=np.int32).reshape(6, 8)
    b = a * 7
    im.set(hl.Buffer(a))
    out = hl.Buffer(hl.Int(32), [4, 3])
    for _ in range(3):                        # the same values: the fast path
        assert p.realize(out) is None     # as Halide: the result is in `out`
        np.testing.assert_array_equal(np.asarray(out), _expected(3, a))
    k.set(5)                                  # a new scalar value
    p.realize(out)
    np.testing.assert_array_equal(np.asarray(out), _expected(5, a))
    im.set(hl.Buffer(b))                      # a new input buffer
    p.realize(out)
    np.testing.assert_array_equal(np.asarray(out), _expected(5, b))
    out.set_min([2, 1])                       # the output moved
    p.realize(out)
    np.testing.assert_array_equal(np.asarray(out), _expected(5, b, 2, 1))
    other = hl.Buffer(hl.Int(32), [4, 3])     # another output buffer, then back
    p.realize(other)
    np.testing.assert_array_equal(np.asarray(other), _expected(5, b))
    p.realize(out)
    np.testing.assert_array_equal(np.asarray(out), _expected(5, b, 2, 1))


def test_realize_sizes_gives_new_buffers():
    p, k, im = _pipeline()
    a = np.arange(48, dtype=np.int32).reshape(6, 8)
    im.set(hl.Buffer(a))
    first = p.realize([4, 3])
    second = p.realize([4, 3])
    assert first is not second
    np.testing.assert_array_equal(np.asarray(first), _expected(3, a))
    np.testing.assert_array_equal(np.asarray(second), _expected(3, a))
    third = p.realize([2, 2])
    np.testing.assert_array_equal(np.asarray(third), _expected(3, a, w=2, h=2))
