"""Bad input at every place user data enters a pipeline: a clear exception
naming the thing, never a crash, and nothing written to the output."""
import numpy as np
import pytest

import pipelang as hl


def _copy_pipeline(name="iv_out"):
    x, y = hl.Var("x"), hl.Var("y")
    inp = hl.ImageParam(hl.UInt(8), 2, "iv_in")
    f = hl.Func(name)
    f[x, y] = inp[x, y] + 1
    return inp, f


def test_read_only_array_as_output():
    inp, f = _copy_pipeline()
    inp.set(hl.Buffer(np.zeros((4, 5), np.uint8)))
    out = np.zeros((4, 5), np.uint8)
    out.flags.writeable = False
    with pytest.raises(hl.HalideError, match="read-only"):
        f.realize(hl.Buffer(out))


def test_output_aliasing_the_input_is_refused_and_untouched():
    inp, f = _copy_pipeline()
    data = np.arange(20, dtype=np.uint8).reshape(4, 5)
    inp.set(hl.Buffer(data))
    before = data.copy()
    with pytest.raises(hl.HalideError, match="shares memory"):
        f.realize(hl.Buffer(data))
    np.testing.assert_array_equal(data, before)


def test_input_too_small_writes_nothing():
    x, y = hl.Var("x"), hl.Var("y")
    inp = hl.ImageParam(hl.UInt(8), 2, "iv_small")
    f = hl.Func("iv_shift")
    f[x, y] = inp[x + 1, y]
    inp.set(hl.Buffer(np.zeros((4, 5), np.uint8)))
    out = np.full((4, 5), 7, np.uint8)
    with pytest.raises(hl.HalideError, match="iv_small.*dimension 0"):
        f.realize(hl.Buffer(out))
    assert (out == 7).all()


def test_zero_sized_realize_is_empty():
    inp, f = _copy_pipeline()
    inp.set(hl.Buffer(np.zeros((3, 1), np.uint8)))
    out = np.asarray(f.realize([0, 3]))
    assert out.shape == (3, 0)


def test_negative_size_is_an_error():
    inp, f = _copy_pipeline()
    with pytest.raises(hl.HalideError, match="negative"):
        f.realize([-1, 3])


def test_enormous_size_is_an_error_not_a_crash():
    inp, f = _copy_pipeline()
    with pytest.raises(hl.HalideError, match="TiB"):
        f.realize([1 << 30, 1 << 30])


def test_wrong_numpy_dtype_for_an_image_param():
    inp, f = _copy_pipeline()
    with pytest.raises(hl.HalideError, match="iv_in.*uint8.*int16"):
        inp.set(np.zeros((4, 5), np.int16))


def test_negative_and_non_unit_strides_of_an_embedded_buffer_work():
    base = np.arange(60, dtype=np.int32).reshape(6, 10)
    view = base[::-2, ::3]           # negative row stride, x stride 3
    x, y = hl.Var("x"), hl.Var("y")
    f = hl.Func("iv_strided")
    f[x, y] = hl.Buffer(view)[x, y] * 2
    np.testing.assert_array_equal(np.asarray(f.realize([view.shape[1], view.shape[0]])), view * 2)


def test_param_value_out_of_range_and_wrong_kind():
    p = hl.Param(hl.Int(8), "iv_p")
    with pytest.raises(hl.HalideError, match="200.*int8"):
        p.set(200)
    with pytest.raises(hl.HalideError, match="2.5.*int8"):
        p.set(2.5)


def test_func_name_must_be_a_string_and_duplicates_are_renamed():
    with pytest.raises(TypeError):
        hl.Var(3)
    a, b = hl.Func("iv_dup"), hl.Func("iv_dup")
    assert a.name() != b.name()
