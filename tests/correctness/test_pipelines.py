"""Whole pipelines, Params, ImageParams and Buffers against numpy references.

Axis order: hl.Buffer(ndarray) reverses the numpy axes, so numpy (H, W) is
buffer (x, y) with x in [0, W); a planar numpy (C, H, W) is buffer (x, y, c);
an interleaved numpy (H, W, C) is buffer dims (C, W, H) unless transposed.
np.asarray(buffer) reverses them back.
"""

import re
import numpy as np
import pytest

import pipelang as hl

W, H = 17, 13  # odd sizes catch tail bugs


def rand(shape, dtype, lo=0, hi=256, seed=0):
    return np.random.default_rng(seed).integers(lo, hi, size=shape).astype(dtype)


# ---------------------------------------------------------------- multi-stage algorithms

def _three_stage(input_):
    """f = in * 3 + x; g = f(x+1) - f(x-1) + y; h = g * 2 + f  (all int32)."""
    x, y = hl.Var("x"), hl.Var("y")
    f, g, h = hl.Func("f"), hl.Func("g"), hl.Func("h")
    f[x, y] = hl.i32(input_[x, y]) * 3 + x
    g[x, y] = f[x + 1, y] - f[x - 1, y] + y
    h[x, y] = g[x, y] * 2 + f[x, y]
    return f, g, h


def _three_stage_reference(a):
    """a: numpy (H, W) uint8 input covering x in [-1, w+1)."""
    hh, ww = a.shape[0], a.shape[1] - 2
    xs = np.arange(-1, ww + 1)
    f = a.astype(np.int64) * 3 + xs[None, :]
    yy = np.arange(hh)[:, None]
    g = f[:, 2:] - f[:, :-2] + yy
    return (g * 2 + f[:, 1:-1]).astype(np.int32)


@pytest.mark.parametrize("schedule", ["inline", "compute_root_f", "compute_root_all"])
def test_three_stage_pipeline(schedule):
    a = rand((H, W + 2), np.uint8)
    buf = hl.Buffer(a)
    buf.set_min([-1, 0])  # the input covers exactly the region read
    f, g, h = _three_stage(buf)
    if schedule in ("compute_root_f", "compute_root_all"):
        f.compute_root()
    if schedule == "compute_root_all":
        g.compute_root()
    out = h.realize([W, H])
    assert out.type() == hl.Int(32)
    np.testing.assert_array_equal(np.asarray(out), _three_stage_reference(a))


def _box_blur_3x3(input_):
    x, y = hl.Var("x"), hl.Var("y")
    blur_x, blur_y = hl.Func("blur_x"), hl.Func("blur_y")
    blur_x[x, y] = (input_[x - 1, y] + input_[x, y] + input_[x + 1, y]) / 3
    blur_y[x, y] = (blur_x[x, y - 1] + blur_x[x, y] + blur_x[x, y + 1]) / 3
    return blur_x, blur_y


def _box_blur_reference(a):
    """a covers [-1, W+1) x [-1, H+1); uint16 arithmetic wraps, floor division by 3."""
    a = a.astype(np.int64)
    bx = ((a[:, :-2] + a[:, 1:-1] + a[:, 2:]) % 65536) // 3
    by = ((bx[:-2] + bx[1:-1] + bx[2:]) % 65536) // 3
    return by.astype(np.uint16)


@pytest.mark.parametrize("schedule", ["inline", "compute_root"])
@pytest.mark.parametrize("values", ["small", "wrapping"])
def test_box_blur_uint16(schedule, values):
    hi = 1000 if values == "small" else 65536  # the second set overflows uint16 in the sums
    a = rand((H + 2, W + 2), np.uint16, hi=hi, seed=1)
    buf = hl.Buffer(a)
    buf.set_min([-1, -1])
    blur_x, blur_y = _box_blur_3x3(buf)
    if schedule == "compute_root":
        blur_x.compute_root()
    out = blur_y.realize([W, H])
    assert out.type() == hl.UInt(16)
    np.testing.assert_array_equal(np.asarray(out), _box_blur_reference(a))


def test_brightness_and_gradient():
    """out = u8(min(in * 1.5 + x + y, 255)) computed in float32."""
    a = rand((H, W), np.uint8, seed=2)
    ip = hl.ImageParam(hl.UInt(8), 2, "input")
    x, y = hl.Var("x"), hl.Var("y")
    brighter = hl.Func("brighter")
    brighter[x, y] = hl.f32(ip[x, y]) * 1.5 + hl.f32(x + y)
    out = hl.Func("out")
    out[x, y] = hl.u8(hl.min(brighter[x, y], 255.0))
    ip.set(hl.Buffer(a))
    got = np.asarray(out.realize([W, H]))
    yy, xx = np.mgrid[0:H, 0:W]
    want = np.minimum(a.astype(np.float32) * np.float32(1.5) + (xx + yy).astype(np.float32), np.float32(255))
    np.testing.assert_array_equal(got, want.astype(np.uint8))  # float -> uint8 truncates


# ---------------------------------------------------------------- Params and ImageParams

PARAM_CASES = [
    (hl.Int(32), [5, -7, 2**31 - 1], np.int32),
    (hl.UInt(8), [200, 0, 255], np.uint8),
    (hl.Int(16), [-300, 32767, 1], np.int16),
    (hl.Float(32), [1.5, -0.25, 1e6], np.float32),
    # Values exactly representable in float32: Halide 21's Param.set passes a Python float
    # through float32 even for a Float(64) Param, and pipelang does the same.
    (hl.Float(64), [0.5, -3.75, 2.0**-20], np.float64),
]


@pytest.mark.parametrize("t,values,dt", PARAM_CASES, ids=[np.dtype(c[2]).name for c in PARAM_CASES])
def test_param_set_and_reset(t, values, dt):
    x = hl.Var("x")
    p = hl.Param(t, "p", values[0])
    assert p.type() == t
    f = hl.Func("f")
    f[x] = p + hl.cast(t, x)
    assert f.type() == t
    for i, v in enumerate(values):
        if i:
            p.set(v)
        got = np.asarray(f.realize([4]))
        with np.errstate(over="ignore"):
            want = (np.array(v, dt) + np.arange(4).astype(dt)).astype(dt)
        np.testing.assert_array_equal(got, want, err_msg=f"p = {v}")


def test_bool_param_in_select():
    x = hl.Var("x")
    flag = hl.Param(hl.Bool(), "flag", True)
    f = hl.Func("f")
    f[x] = hl.select(flag, x, -x)
    np.testing.assert_array_equal(np.asarray(f.realize([4])), [0, 1, 2, 3])
    flag.set(False)
    np.testing.assert_array_equal(np.asarray(f.realize([4])), [0, -1, -2, -3])


def test_several_params_in_one_expression():
    x = hl.Var("x")
    scale = hl.Param(hl.Float(32), "scale", 2.0)
    offset = hl.Param(hl.Int(32), "offset", 3)
    f = hl.Func("f")
    f[x] = hl.f32(x + offset) * scale
    np.testing.assert_array_equal(np.asarray(f.realize([3])), np.array([6, 8, 10], np.float32))
    scale.set(0.5)
    offset.set(-1)
    np.testing.assert_array_equal(np.asarray(f.realize([3])), np.array([-0.5, 0, 0.5], np.float32))


@pytest.mark.parametrize("dtype,t", [(np.uint8, hl.UInt(8)), (np.float32, hl.Float(32)), (np.int16, hl.Int(16))])
def test_image_param_reused_across_sizes(dtype, t):
    ip = hl.ImageParam(t, 2, "input")
    assert ip.dimensions() == 2
    assert ip.type() == t
    x, y = hl.Var("x"), hl.Var("y")
    f = hl.Func("f")
    f[x, y] = ip[x, y] * 2 + hl.cast(t, y)
    for seed, (h, w) in enumerate([(13, 17), (3, 5), (1, 1), (20, 9)]):
        a = rand((h, w), dtype, hi=100, seed=seed)
        ip.set(hl.Buffer(a))
        got = np.asarray(f.realize([w, h]))
        want = (a * 2 + np.arange(h)[:, None]).astype(dtype)
        np.testing.assert_array_equal(got, want, err_msg=f"{h}x{w}")


def test_image_param_reads_a_subregion():
    """The output may read only part of a larger input."""
    a = rand((H, W), np.uint8, seed=3)
    ip = hl.ImageParam(hl.UInt(8), 2, "input")
    ip.set(hl.Buffer(a))
    x, y = hl.Var("x"), hl.Var("y")
    f = hl.Func("f")
    f[x, y] = ip[x + 2, y + 3]
    got = np.asarray(f.realize([5, 4]))
    np.testing.assert_array_equal(got, a[3:7, 2:7])


def test_image_param_dimension_queries_in_algorithm():
    """ip.width()/height() are Exprs bound at realize time."""
    ip = hl.ImageParam(hl.UInt(8), 2, "input")
    x, y = hl.Var("x"), hl.Var("y")
    f = hl.Func("f")
    f[x, y] = ip[ip.width() - 1 - x, ip.height() - 1 - y]  # rotate by 180 degrees
    for h, w in [(4, 6), (7, 3)]:
        a = rand((h, w), np.uint8, seed=h)
        ip.set(hl.Buffer(a))
        np.testing.assert_array_equal(np.asarray(f.realize([w, h])), a[::-1, ::-1])


# ---------------------------------------------------------------- outputs

def test_pipeline_with_two_outputs_of_different_types():
    x, y = hl.Var("x"), hl.Var("y")
    f, g = hl.Func("f"), hl.Func("g")
    f[x, y] = hl.u8(x + 3 * y)
    g[x, y] = hl.f32(f[x, y]) * 0.5
    outs = hl.Pipeline([f, g]).realize([W, H])
    assert len(outs) == 2
    yy, xx = np.mgrid[0:H, 0:W]
    assert outs[0].type() == hl.UInt(8) and outs[1].type() == hl.Float(32)
    np.testing.assert_array_equal(np.asarray(outs[0]), (xx + 3 * yy).astype(np.uint8))
    np.testing.assert_array_equal(np.asarray(outs[1]), (xx + 3 * yy).astype(np.float32) * np.float32(0.5))


def test_pipeline_realize_into_preallocated_buffers():
    x, y = hl.Var("x"), hl.Var("y")
    f, g = hl.Func("f"), hl.Func("g")
    f[x, y] = hl.i16(x - y)
    g[x, y] = hl.i32(x * y)
    bf, bg = hl.Buffer(hl.Int(16), [5, 4]), hl.Buffer(hl.Int(32), [5, 4])
    bf.set_min([2, -3])
    bg.set_min([2, -3])
    hl.Pipeline([f, g]).realize([bf, bg])
    yy, xx = np.mgrid[-3:1, 2:7]
    np.testing.assert_array_equal(np.asarray(bf), xx - yy)
    np.testing.assert_array_equal(np.asarray(bg), xx * yy)


@pytest.mark.parametrize("mins", [(0, 0), (3, -2), (-5, 7)])
def test_realize_into_buffer_with_nonzero_min(mins):
    x, y = hl.Var("x"), hl.Var("y")
    f = hl.Func("f")
    f[x, y] = hl.u8(x * 7 + y * 3)
    out = hl.Buffer(hl.UInt(8), [W, H])
    out.set_min(list(mins))
    f.realize(out)
    assert [out.dim(0).min(), out.dim(1).min()] == list(mins)
    assert out[mins[0], mins[1]] == (mins[0] * 7 + mins[1] * 3) % 256
    yy, xx = np.mgrid[mins[1]:mins[1] + H, mins[0]:mins[0] + W]
    np.testing.assert_array_equal(np.asarray(out), ((xx * 7 + yy * 3) % 256).astype(np.uint8))


def test_input_buffer_with_nonzero_min():
    a = rand((4, 6), np.int32, seed=4)
    buf = hl.Buffer(a)
    buf.set_min([100, -50])
    assert buf[100, -50] == a[0, 0]
    assert buf[105, -47] == a[3, 5]
    x, y = hl.Var("x"), hl.Var("y")
    f = hl.Func("f")
    f[x, y] = buf[x + 100, y - 50] + 1
    np.testing.assert_array_equal(np.asarray(f.realize([6, 4])), a + 1)


def test_zero_dimensional_func():
    z = hl.Func("z")
    z[()] = hl.f32(2.5) * 2
    buf = z.realize([])
    assert buf.dimensions() == 0
    assert buf[()] == 5.0


# ---------------------------------------------------------------- numpy inputs and layouts

def _layouts():
    base = rand((12, 16), np.int16, hi=1000, seed=5)
    return {
        "contiguous": base,
        "step_slices": base[::2, 1::3],
        "transposed": base.T,
        "fortran": np.asfortranarray(base),
        "reversed_rows": base[::-1],
        "reversed_cols": base[:, ::-1],
        "sub_block": base[3:10, 2:13],
    }


@pytest.mark.parametrize("layout", list(_layouts()))
def test_non_contiguous_numpy_input(layout):
    arr = _layouts()[layout]
    buf = hl.Buffer(arr)
    assert buf.width() == arr.shape[1] and buf.height() == arr.shape[0]
    assert buf[1, 0] == arr[0, 1]
    x, y = hl.Var("x"), hl.Var("y")
    f = hl.Func("f")
    f[x, y] = buf[x, y] * 2 + hl.i16(x) - hl.i16(y)
    got = np.asarray(f.realize([buf.width(), buf.height()]))
    yy, xx = np.mgrid[0:arr.shape[0], 0:arr.shape[1]]
    np.testing.assert_array_equal(got, (arr * 2 + xx - yy).astype(np.int16))


def test_buffer_strides_follow_numpy():
    base = np.zeros((12, 16), np.int16)
    assert [hl.Buffer(base).dim(i).stride() for i in range(2)] == [1, 16]
    assert [hl.Buffer(base.T).dim(i).stride() for i in range(2)] == [16, 1]
    assert [hl.Buffer(base[::2, 1::3]).dim(i).stride() for i in range(2)] == [3, 32]
    assert [hl.Buffer(base[::-1]).dim(i).stride() for i in range(2)] == [1, -16]


@pytest.mark.parametrize("dims", [1, 2, 3, 4])
def test_funcs_of_one_to_four_dimensions(dims):
    vs = [hl.Var(n) for n in "xyzw"[:dims]]
    sizes = [5, 3, 4, 2][:dims]
    weights = [1, 10, 100, 1000][:dims]
    f = hl.Func("f")
    f[vs] = sum(v * k for v, k in zip(vs, weights)) - 7
    assert f.dimensions() == dims
    out = f.realize(sizes)
    assert out.dimensions() == dims
    assert [out.dim(i).extent() for i in range(dims)] == sizes
    arr = np.asarray(out)
    assert arr.shape == tuple(reversed(sizes))
    grids = np.meshgrid(*[np.arange(s) for s in sizes], indexing="ij")  # grids[i][x, y, ...]
    want = sum(g * k for g, k in zip(grids, weights)) - 7
    np.testing.assert_array_equal(arr, want.transpose(list(reversed(range(dims)))))


def test_buffer_axis_order_2d_and_3d():
    a = np.arange(5 * 7, dtype=np.uint8).reshape(5, 7)  # (H, W)
    b = hl.Buffer(a)
    assert (b.width(), b.height(), b.dimensions()) == (7, 5, 2)
    assert b[6, 4] == a[4, 6] and b[2, 1] == a[1, 2]

    planar = np.arange(3 * 5 * 7, dtype=np.uint8).reshape(3, 5, 7)  # (C, H, W) -> (x, y, c)
    p = hl.Buffer(planar)
    assert (p.width(), p.height(), p.channels()) == (7, 5, 3)
    assert p[6, 4, 2] == planar[2, 4, 6]

    interleaved = np.arange(5 * 7 * 3, dtype=np.uint8).reshape(5, 7, 3)  # (H, W, C)
    i = hl.Buffer(interleaved)  # all axes reversed: dim 0 is C
    assert [i.dim(d).extent() for d in range(3)] == [3, 7, 5]
    assert [i.dim(d).stride() for d in range(3)] == [1, 3, 21]
    assert i[2, 6, 4] == interleaved[4, 6, 2]
    # The interleaved image as (x, y, c): transpose the numpy view to (C, H, W).
    t = hl.Buffer(np.transpose(interleaved, (2, 0, 1)))
    assert (t.width(), t.height(), t.channels()) == (7, 5, 3)
    assert [t.dim(d).stride() for d in range(3)] == [3, 21, 1]
    assert t[6, 4, 2] == interleaved[4, 6, 2]


def test_interleaved_rgb_through_a_pipeline():
    """An interleaved (H, W, C) array, transposed to (C, H, W), is read with x stride 3.

    (A Buffer, not an ImageParam: an ImageParam requires dim(0).stride() == 1 by default.)
    """
    rgb = rand((H, W, 3), np.uint8, seed=6)  # (H, W, C)
    buf = hl.Buffer(np.transpose(rgb, (2, 0, 1)))
    x, y = hl.Var("x"), hl.Var("y")
    gray = hl.Func("gray")
    gray[x, y] = hl.u8((hl.u16(buf[x, y, 0]) + hl.u16(buf[x, y, 1]) * 2 + hl.u16(buf[x, y, 2])) / 4)
    got = np.asarray(gray.realize([W, H]))
    r, g, b = (rgb[..., k].astype(np.int64) for k in range(3))
    np.testing.assert_array_equal(got, ((r + 2 * g + b) // 4).astype(np.uint8))


def test_asarray_is_zero_copy():
    x, y = hl.Var("x"), hl.Var("y")
    f = hl.Func("f")
    f[x, y] = hl.i32(x + 10 * y)
    buf = f.realize([4, 3])
    view = np.asarray(buf)
    assert view.shape == (3, 4)
    view[2, 1] = -99
    assert buf[1, 2] == -99
    buf[3, 0] = 1234
    assert view[0, 3] == 1234
    assert np.asarray(buf)[0, 3] == 1234


def test_buffer_from_ndarray_is_zero_copy_for_inputs():
    a = np.zeros((3, 4), np.float32)
    buf = hl.Buffer(a)
    x, y = hl.Var("x"), hl.Var("y")
    f = hl.Func("f")
    f[x, y] = buf[x, y] + 1
    np.testing.assert_array_equal(np.asarray(f.realize([4, 3])), np.ones((3, 4), np.float32))
    a[1, 2] = 41  # the pipeline reads the same memory at the next realize
    assert buf[2, 1] == 41
    got = np.asarray(f.realize([4, 3]))
    assert got[1, 2] == 42 and got.sum() == 11 + 42


def test_buffer_element_access_and_copy():
    buf = hl.Buffer(hl.Int(16), [4, 3])
    for yy in range(3):
        for xx in range(4):
            buf[xx, yy] = xx - 10 * yy
    want = np.arange(4)[None, :] - 10 * np.arange(3)[:, None]
    np.testing.assert_array_equal(np.asarray(buf), want)
    c = buf.copy()
    c[0, 0] = 77
    assert buf[0, 0] == 0 and c[0, 0] == 77
    np.testing.assert_array_equal(np.asarray(c)[1:], want[1:])


def test_buffer_queries():
    buf = hl.Buffer(hl.UInt(8), [W, H, 3])
    assert buf.type() == hl.UInt(8)
    assert buf.dimensions() == 3
    assert (buf.width(), buf.height(), buf.channels()) == (W, H, 3)
    assert [buf.dim(i).extent() for i in range(3)] == [W, H, 3]
    assert [buf.dim(i).min() for i in range(3)] == [0, 0, 0]
    assert [buf.dim(i).stride() for i in range(3)] == [1, W, W * H]
    buf.set_min([-2, 5, 1])
    assert [buf.dim(i).min() for i in range(3)] == [-2, 5, 1]
    assert [buf.dim(i).extent() for i in range(3)] == [W, H, 3]
    assert np.asarray(buf).shape == (3, H, W)
    two_d = hl.Buffer(hl.Float(64), [5, 2])
    assert two_d.channels() == 1
    assert np.asarray(two_d).dtype == np.float64


# ---------------------------------------------------------------- realize repeatedly, compile_jit

def test_realize_twice_gives_the_same_result_and_follows_params():
    x, y = hl.Var("x"), hl.Var("y")
    k = hl.Param(hl.Int(32), "k", 3)
    f = hl.Func("f")
    f[x, y] = x * k + y
    first = np.asarray(f.realize([W, H])).copy()
    second = np.asarray(f.realize([W, H]))
    np.testing.assert_array_equal(first, second)
    yy, xx = np.mgrid[0:H, 0:W]
    np.testing.assert_array_equal(first, xx * 3 + yy)
    k.set(-2)
    np.testing.assert_array_equal(np.asarray(f.realize([W, H])), xx * -2 + yy)
    # A different output size reuses the compiled pipeline.
    np.testing.assert_array_equal(np.asarray(f.realize([3, 2])), (xx * -2 + yy)[:2, :3])


def test_compile_jit_then_realize():
    x = hl.Var("x")
    f = hl.Func("f")
    f[x] = x * x
    f.compile_jit()
    np.testing.assert_array_equal(np.asarray(f.realize([6])), [0, 1, 4, 9, 16, 25])
    p = hl.Pipeline([f])
    p.compile_jit()
    np.testing.assert_array_equal(np.asarray(p.realize([3])), [0, 1, 4])


def test_realize_with_explicit_jit_target():
    x = hl.Var("x")
    f = hl.Func("f")
    f[x] = x + 1
    assert isinstance(hl.get_host_target(), hl.Target)
    target = hl.get_jit_target_from_environment()
    np.testing.assert_array_equal(np.asarray(f.realize([3], target)), [1, 2, 3])


def test_func_queries():
    x, y = hl.vars("x y")
    f = hl.Func("my_func")
    assert not f.defined()
    f[x, y] = hl.f64(x) + y
    assert f.defined()
    assert re.fullmatch(r"my_func(\$\d+)?", f.name())     # $n when the name was used before
    assert f.dimensions() == 2
    assert f.type() == hl.Float(64)
    anon = hl.Func()
    anon[x] = x
    assert anon.name()  # a unique generated name
    assert anon.name() != hl.Func().name()


def test_func_used_by_two_consumers_and_as_output():
    """A Func can be both an intermediate and an output of the same Pipeline."""
    x = hl.Var("x")
    f, g, h = hl.Func("f"), hl.Func("g"), hl.Func("h")
    f[x] = x * 2
    g[x] = f[x] + f[x + 1]
    h[x] = f[x] * f[x - 1]
    outs = hl.Pipeline([f, g, h]).realize([W])
    xs = np.arange(W)
    np.testing.assert_array_equal(np.asarray(outs[0]), 2 * xs)
    np.testing.assert_array_equal(np.asarray(outs[1]), 2 * xs + 2 * (xs + 1))
    np.testing.assert_array_equal(np.asarray(outs[2]), 2 * xs * 2 * (xs - 1))
