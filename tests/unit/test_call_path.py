"""realize(buffer)'s repeat-call path: values unchanged since the last call
are not packed again, and any change (a Param's value, an ImageParam's
buffer, the output's min or array) is seen."""
import numpy as np
import pytest

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


def test_realize_sizes_repeat_path_sees_changes():
    # Repeated realize(sizes) of the same sizes writes only the new output's
    # address; new sizes, a new Param value or a realize into another buffer
    # in between are all seen.
    p, k, im = _pipeline()
    a = np.arange(48, dtype=np.int32).reshape(6, 8)
    im.set(hl.Buffer(a))
    outs = [p.realize([4, 3]) for _ in range(3)]
    assert len({np.asarray(o).__array_interface__["data"][0] for o in outs}) == 3
    for o in outs:
        np.testing.assert_array_equal(np.asarray(o), _expected(3, a))
    np.asarray(outs[0])[:] = 0
    np.testing.assert_array_equal(np.asarray(outs[1]), _expected(3, a))   # not shared
    k.set(7)
    np.testing.assert_array_equal(np.asarray(p.realize([4, 3])), _expected(7, a))
    np.testing.assert_array_equal(np.asarray(p.realize([3, 2])), _expected(7, a, w=3, h=2))
    mine = hl.Buffer(hl.Int(32), [4, 3])
    mine.set_min([1, 2])
    p.realize(mine)
    np.testing.assert_array_equal(np.asarray(mine), _expected(7, a, 1, 2))
    again = p.realize([3, 2])
    assert again.dim(0).min() == 0
    np.testing.assert_array_equal(np.asarray(again), _expected(7, a, w=3, h=2))
    again.set_min([1, 1])                    # the caller's Buffer: the next call is unaffected
    np.testing.assert_array_equal(np.asarray(p.realize([3, 2])), _expected(7, a, w=3, h=2))


def test_a_repeated_failing_call_fails_each_time():
    p, k, im = _pipeline()
    im.set(hl.Buffer(np.zeros((2, 2), np.int32)))      # too small for a 4 x 3 output
    out = hl.Buffer(hl.Int(32), [4, 3])
    for _ in range(2):
        with pytest.raises(hl.HalideError, match="im"):
            p.realize(out)
    for _ in range(2):
        with pytest.raises(hl.HalideError, match="im"):
            p.realize([4, 3])


def test_callable_repeat_calls_see_every_change():
    p, k, im = _pipeline()
    c = p.compile_to_callable([im, k])
    a = np.arange(48, dtype=np.int32).reshape(6, 8)
    out = np.zeros((3, 4), np.int32)
    for _ in range(2):
        c(a, 3, out)
        np.testing.assert_array_equal(out, _expected(3, a))
    big = 1 << 20                                        # an int that is a new object each time
    c(a, big + 1, out)
    np.testing.assert_array_equal(out, _expected(big + 1, a))
    c(a, big + 1, out)
    np.testing.assert_array_equal(out, _expected(big + 1, a))
    a.shape = (8, 6)                                     # the same array, reshaped in place
    c(a, 3, out)
    np.testing.assert_array_equal(out, _expected(3, a))
    view = a.view(np.float32)                            # same bytes, another type: refused
    with pytest.raises(hl.HalideError, match="type"):
        c(view, 3, out)
    c(a, 3, out)
    a.dtype = np.float32                                 # the same array, retyped in place
    with pytest.raises(hl.HalideError, match="type"):
        c(a, 3, out)
    a.dtype = np.int32
    b, outbuf = hl.Buffer(a), hl.Buffer(out)
    c(b, 3, outbuf)
    outbuf.set_min([1, 2])                               # the same Buffer, moved
    c(b, 3, outbuf)
    np.testing.assert_array_equal(out, _expected(3, a, 1, 2))
    c(im=b, k=2, **{"f": outbuf})                        # by name: the general path
    np.testing.assert_array_equal(out, _expected(2, a, 1, 2))
    with pytest.raises(hl.HalideError, match="shares memory"):
        c(a, 3, a)


def test_threads_have_their_own_arguments():
    import threading
    p, k, im = _pipeline()
    a = np.arange(48, dtype=np.int32).reshape(6, 8)
    im.set(hl.Buffer(a))
    results, errors = {}, []

    def work(t):
        try:
            out = hl.Buffer(hl.Int(32), [4, 3])
            out.set_min([t % 3, 0])
            for _ in range(200):
                p.realize(out)
                sized = p.realize([4, 3])
            results[t] = (np.asarray(out).copy(), np.asarray(sized).copy())
        except Exception as e:               # noqa: BLE001 - reported below
            errors.append(e)
    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [], [repr(e) for e in errors]
    for t, (out, sized) in results.items():
        np.testing.assert_array_equal(out, _expected(3, a, t % 3, 0))
        np.testing.assert_array_equal(sized, _expected(3, a))


def test_generated_call_paths_do_not_keep_code_alive():
    # The code generated for repeat calls holds no reference cycle: a pipeline
    # nobody references is freed at once, with its machine code, without
    # waiting for a garbage collection.
    import gc
    import weakref
    p, k, im = _pipeline()
    im.set(hl.Buffer(np.zeros((6, 8), np.int32)))
    out = hl.Buffer(hl.Int(32), [4, 3])
    p.realize(out)
    p.realize([4, 3])
    c = p.compile_to_callable([im, k])
    c(im.get(), 3, out)
    c(im.get(), 3, out)
    code = weakref.ref(p._compiled.jit._code)
    gc.disable()
    try:
        del p, c
        assert code() is None
    finally:
        gc.enable()


def test_realize_sizes_of_an_output_that_may_grow():
    # An output whose region can exceed the sizes asked (a RoundUp split) is
    # grown when it must be; sizes seen not to grow take the short path after,
    # and every result is right.
    x, y, xo, xi = hl.Var("x"), hl.Var("y"), hl.Var("xo"), hl.Var("xi")
    f = hl.Func("grow_f")
    f[x, y] = x + 10 * y
    f.split(x, xo, xi, 8, hl.TailStrategy.RoundUp).vectorize(xi)
    p = hl.Pipeline(f)
    for w, h in ((16, 4), (13, 3), (16, 4), (13, 3), (8, 1), (16, 4)):
        out = np.asarray(p.realize([w, h]))
        assert out.shape == (h, w)
        np.testing.assert_array_equal(out, np.add.outer(np.arange(h) * 10, np.arange(w)))
    assert p._compiled.growth_by_sizes == {(16, 4): False, (13, 3): True, (8, 1): False}


def test_realize_sizes_growth_that_depends_on_a_param_is_not_cached():
    x, xo, xi = hl.Var("x"), hl.Var("xo"), hl.Var("xi")
    k = hl.Param(hl.Int(32), "split_k", 4)
    f = hl.Func("grow_k")
    f[x] = x * 3
    f.split(x, xo, xi, k, hl.TailStrategy.RoundUp)
    p = hl.Pipeline(f)
    for factor in (4, 8, 3, 8):
        k.set(factor)
        for _ in range(2):
            np.testing.assert_array_equal(np.asarray(p.realize([12])), np.arange(12) * 3)
    assert p._compiled.growth_by_sizes is None
