"""realize's repeat-call paths for several outputs: a Func whose value is a
Tuple, and a Pipeline of several Funcs. Repeats of the same Buffers or sizes
skip packing; any change (an output buffer, its min, a Param, the sizes, an
output buffer that no longer covers its Tuple's region) is seen, and every
result is checked against numpy."""
import numpy as np
import pytest

import pipelang as hl
from pipelang.errors import HalideError


def _tuple_pipeline(name, vector=None):
    x, y = hl.Var("x"), hl.Var("y")
    k = hl.Param(hl.Int(32), f"{name}_k", 3)
    f = hl.Func(name)
    f[x, y] = (x + 10 * y + k, hl.f32(x) * 0.5 + hl.f32(y))
    if vector:
        xo, xi = hl.Var("xo"), hl.Var("xi")
        f.split(x, xo, xi, vector, hl.TailStrategy.RoundUp).vectorize(xi)
    return hl.Pipeline(f), k


def _expected(k, w, h, x0=0, y0=0):
    ys, xs = np.mgrid[y0:y0 + h, x0:x0 + w]
    return (xs + 10 * ys + k).astype(np.int32), (xs * 0.5 + ys).astype(np.float32)


def _check(outs, k, w, h, x0=0, y0=0):
    a, b = _expected(k, w, h, x0, y0)
    np.testing.assert_array_equal(np.asarray(outs[0]), a)
    np.testing.assert_array_equal(np.asarray(outs[1]), b)


def test_tuple_realize_sizes_repeats_give_new_right_buffers():
    p, k = _tuple_pipeline("cpo_sizes")
    results = [p.realize([5, 3]) for _ in range(3)]
    for r in results:
        assert isinstance(r, tuple) and len(r) == 2
        _check(r, 3, 5, 3)
    addresses = {np.asarray(b).__array_interface__["data"][0] for r in results for b in r}
    assert len(addresses) == 6                      # nothing shared between calls
    np.asarray(results[0][0])[:] = 0
    _check(results[1], 3, 5, 3)
    k.set(9)                                        # a new Param value
    _check(p.realize([5, 3]), 9, 5, 3)
    _check(p.realize([2, 4]), 9, 2, 4)              # new sizes
    assert p._compiled.fast_sizes


def test_tuple_realize_buffers_repeats_see_every_change():
    p, k = _tuple_pipeline("cpo_buffers")
    outs = [hl.Buffer(hl.Int(32), [4, 3]), hl.Buffer(hl.Float(32), [4, 3])]
    for _ in range(3):
        assert p.realize(outs) is None
        _check(outs, 3, 4, 3)
    assert p.realize(tuple(outs)) is None
    k.set(4)
    p.realize(outs)
    _check(outs, 4, 4, 3)
    for b in outs:
        b.set_min([2, 1])                           # both outputs moved
    p.realize(outs)
    _check(outs, 4, 4, 3, 2, 1)
    outs[1].set_min([0, 0])                         # the Tuple's buffers now disagree
    with pytest.raises(HalideError, match="must all cover the same region"):
        p.realize(outs)
    with pytest.raises(HalideError, match="must all cover the same region"):
        p.realize(outs)                             # and again: never run on a stale record
    with pytest.raises(HalideError, match="type"):
        p.realize([outs[1], outs[0]])               # swapped element types
    outs[1].set_min([2, 1])
    p.realize(outs)
    _check(outs, 4, 4, 3, 2, 1)
    assert p._compiled.fast_buffers


def test_sizes_after_a_buffer_call_that_changed_one_output():
    # realize(sizes) writes only the new outputs' addresses when nothing else
    # changed since its last call; a realize into buffers in between, even one
    # that keeps the first output, makes it pack everything again.
    p, k = _tuple_pipeline("cpo_mixed")
    first = p.realize([4, 3])
    other = hl.Buffer(hl.Float(32), [4, 3])
    p.realize([first[0], other])                    # the same first output, a new second
    _check((first[0], other), 3, 4, 3)
    moved = [hl.Buffer(hl.Int(32), [4, 3]), hl.Buffer(hl.Float(32), [4, 3])]
    moved[0].set_min([1, 1])
    moved[1].set_min([1, 1])
    p.realize(moved)
    _check(moved, 3, 4, 3, 1, 1)
    again = p.realize([4, 3])
    _check(again, 3, 4, 3)
    assert all(b.dim(0).min() == 0 and b.dim(1).min() == 0 for b in again)


def test_tuple_that_may_grow():
    p, k = _tuple_pipeline("cpo_grow", vector=8)
    for w, h in ((16, 2), (13, 3), (16, 2), (13, 3), (8, 1)):
        r = p.realize([w, h])
        assert np.asarray(r[0]).shape == (h, w) and np.asarray(r[1]).shape == (h, w)
        _check(r, 3, w, h)
    assert p._compiled.growth_by_sizes == {(16, 2): False, (13, 3): True, (8, 1): False}


def test_several_funcs_as_outputs():
    x, y = hl.Var("x"), hl.Var("y")
    g, h = hl.Func("cpo_g"), hl.Func("cpo_h")
    g[x, y] = x * y
    h[x, y] = hl.u8(g[x, y] + 1)
    p = hl.Pipeline([g, h])
    ys, xs = np.mgrid[0:3, 0:6]
    for _ in range(3):
        rg, rh = p.realize([6, 3])
        np.testing.assert_array_equal(np.asarray(rg), xs * ys)
        np.testing.assert_array_equal(np.asarray(rh), (xs * ys + 1).astype(np.uint8))
    bg, bh = hl.Buffer(hl.Int(32), [6, 3]), hl.Buffer(hl.UInt(8), [6, 3])
    for _ in range(2):
        p.realize([bg, bh])
        np.testing.assert_array_equal(np.asarray(bh), (xs * ys + 1).astype(np.uint8))
    with pytest.raises(HalideError, match="output buffers"):
        p.realize([bg])


def test_tuple_realize_sizes_errors_are_unchanged():
    p, k = _tuple_pipeline("cpo_errors")
    p.realize([4, 3])
    with pytest.raises(HalideError, match="dimensions"):
        p.realize([4, 3, 2])
    with pytest.raises(HalideError, match="negative"):
        p.realize([4, -1])
