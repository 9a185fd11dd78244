"""compile_to_callable / Callable, infer_arguments and invalidate_cache, with
Halide's semantics (the same program is run under real Halide where installed)."""
import importlib

import numpy as np
import pytest

import pipelang as hl


def _build(m):
    p16 = m.Param(m.Int(16), "p16", 42)
    pf = m.Param(m.Float(32), "pf", 1.0)
    img = m.ImageParam(m.UInt(8), 2, "img")
    x, y = m.Var("x"), m.Var("y")
    f = m.Func("cb_out")
    f[x, y] = img[x, y] + m.u8(p16 / pf)
    return f, img, p16, pf


def _calls(m):
    """Every call form and error case; returns what each printed."""
    f, img, p16, pf = _build(m)
    args = m.Pipeline(f).infer_arguments()
    seen = [[(a.name, a.kind.name, a.dimensions, str(a.type)) for a in args]]
    c = f.compile_to_callable([img, p16, pf])
    a = np.arange(100, dtype=np.uint8).reshape(10, 10)
    out = np.zeros((10, 10), np.uint8)

    def call(*args, **kwargs):
        try:
            c(*args, **kwargs)
            seen.append(out.copy().tolist())
        except m.HalideError as e:
            # Halide prefixes "Error: " and ends with a newline; the text is the same.
            seen.append(str(e).removeprefix("Error: ").strip())

    call(a, 42, 1.0, out)
    call(a, 22, 2.0, m.Buffer(out))
    call(img=a, p16=2, pf=1.0, cb_out=out)
    call(a, pf=0.5, cb_out=out, p16=3)
    call(a, 42, 1.0)
    call(a, 42, 1.0, out, out)
    call(a, 100000, 1.0, out)
    call(a, 1.5, 1.0, out)
    call("x", 42, 1.0, out)
    call(a, 42, 1.0, np.zeros((10, 10), np.float32))
    call(a, 42, 1.0, np.zeros((10,), np.uint8))
    call(np.zeros((10, 10), np.float32), 42, 1.0, out)
    call(a, 42, 1.0, cb_out=out, img=a)
    call(a, 42, 1.0, g=out)
    call(a, 42, cb_out=out)
    try:
        f.compile_to_callable([img, p16])
    except m.HalideError as e:
        seen.append(str(e).removeprefix("Error: ").strip())
    return seen


def test_callable_matches_halide():
    halide = pytest.importorskip("halide")
    ours, theirs = _calls(hl), _calls(halide)
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        assert o == t


def test_callable_results_and_reuse():
    f, img, p16, pf = _build(hl)
    c = f.compile_to_callable([img, p16, pf])
    a = np.arange(100, dtype=np.uint8).reshape(10, 10)
    out = hl.Buffer(hl.UInt(8), [10, 10])
    for k in (1, 2, 3):
        c(a, 10 * k, 1.0, out)
        np.testing.assert_array_equal(np.asarray(out), a + 10 * k)
    # The same Buffer whose array was replaced in place is seen again.
    b = np.zeros((10, 10), np.uint8)
    out._array = b
    c(a, 5, 1.0, out)
    np.testing.assert_array_equal(b, a + 5)
    # Later schedule changes don't affect an existing Callable.
    x = hl.Var("x")
    f.vectorize(hl.Var("x"), 4)
    c(a, 7, 1.0, out)
    np.testing.assert_array_equal(b, a + 7)
    # An unused listed Param still takes (and checks) a value.
    q = hl.Param(hl.Int(32), "unused")
    c2 = f.compile_to_callable([img, p16, pf, q])
    c2(a, 1, 1.0, 99, out)
    with pytest.raises(hl.HalideError, match="Unable to cast"):
        c2(a, 1, 1.0, "no", out)


def test_callable_read_only_output_and_aliasing():
    f, img, p16, pf = _build(hl)
    c = f.compile_to_callable(hl.Pipeline(f).infer_arguments())
    a = np.arange(100, dtype=np.uint8).reshape(10, 10)
    out = np.zeros((10, 10), np.uint8)
    c(a, 1, 1.0, out)
    frozen = np.zeros((10, 10), np.uint8)
    frozen.flags.writeable = False
    with pytest.raises(hl.HalideError, match="read-only"):
        c(a, 1, 1.0, frozen)
    c(a, 2, 1.0, out)                    # a failed call leaves nothing stale
    np.testing.assert_array_equal(out, a + 2)
    with pytest.raises(hl.HalideError, match="shares memory"):
        c(a, 1, 1.0, a)


def test_embedded_buffer_is_not_an_argument():
    x = hl.Var("x")
    data = hl.Buffer(np.arange(8, dtype=np.int32))
    p = hl.Param(hl.Int(32), "k")
    f = hl.Func("g")
    f[x] = data[x] * p
    args = hl.Pipeline(f).infer_arguments()
    assert [a.name for a in args] == ["k"]
    c = f.compile_to_callable(args)
    out = np.zeros(8, np.int32)
    c(3, out)
    np.testing.assert_array_equal(out, np.arange(8) * 3)


def test_invalidate_cache_recompiles():
    x = hl.Var("x")
    f = hl.Func("h")
    f[x] = x + 1
    p = hl.Pipeline(f)
    p.compile_jit()
    first = p._compiled
    p.compile_jit()
    assert p._compiled is first
    p.invalidate_cache()
    p.compile_jit()
    assert p._compiled is not first
    assert list(np.asarray(p.realize([3]))) == [1, 2, 3]


def test_realize_notices_changes_to_the_same_buffer():
    # The argument packer reuses what it packed for the same Buffer only while
    # its array and mins are unchanged. (A Buffer's shape is its own: reshaping
    # the numpy array it was made from in place doesn't change it, as in Halide.)
    x, y = hl.Var("x"), hl.Var("y")
    f = hl.Func("rn_out")
    f[x, y] = x + y * 10
    arr = np.zeros((4, 6), np.int32)
    buf = hl.Buffer(arr)
    f.realize(buf)
    np.testing.assert_array_equal(arr, np.add.outer(np.arange(4) * 10, np.arange(6)))
    buf.set_min([2, 1])
    f.realize(buf)
    np.testing.assert_array_equal(arr, np.add.outer(np.arange(1, 5) * 10, np.arange(2, 8)))
    arr.shape = (6, 4)                      # the same array object, reshaped in place
    buf.set_min([0, 0])
    f.realize(buf)
    assert (buf.width(), buf.height()) == (6, 4)
    np.testing.assert_array_equal(arr.reshape(4, 6), np.add.outer(np.arange(4) * 10, np.arange(6)))
    other = np.zeros((2, 3), np.int32)
    buf._array = other
    f.realize(buf)
    np.testing.assert_array_equal(other, np.add.outer(np.arange(2) * 10, np.arange(3)))
