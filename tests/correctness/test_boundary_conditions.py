"""hl.BoundaryConditions against numpy's np.pad, over regions larger than the input.

The correspondence (checked on Halide 21):
    constant_exterior(b, v) == np.pad(..., mode="constant", constant_values=v)
    repeat_edge              == np.pad(..., mode="edge")
    repeat_image             == np.pad(..., mode="wrap")
    mirror_image             == np.pad(..., mode="symmetric")   # edge pixel repeated: 1 0 | 0 1 2
    mirror_interior          == np.pad(..., mode="reflect")     # edge pixel once:     2 1 | 0 1 2
A numpy array of shape (H, W) is a buffer with x in [0, W) and y in [0, H).
(hl.Buffer(ndarray) reverses the numpy axis order.)
"""

import numpy as np
import pytest

import pipelang as hl

BC = hl.BoundaryConditions

MODES = {
    "constant_exterior": "constant",
    "repeat_edge": "edge",
    "repeat_image": "wrap",
    "mirror_image": "symmetric",
    "mirror_interior": "reflect",
}
EXTERIOR = {np.uint8: 200, np.int16: -7, np.float32: -1.5}
HL_TYPE = {np.uint8: hl.UInt(8), np.int16: hl.Int(16), np.float32: hl.Float(32)}


def make_input(h, w, dtype):
    rng = np.random.default_rng(h * 100 + w)
    return rng.integers(0, 100, size=(h, w)).astype(dtype)


def wrap_with(mode, src, dtype):
    if mode == "constant_exterior":
        return BC.constant_exterior(src, EXTERIOR[dtype])
    return getattr(BC, mode)(src)


def padded(a, pad_y, pad_x, mode, dtype):
    kw = {"constant_values": EXTERIOR[dtype]} if mode == "constant_exterior" else {}
    return np.pad(a, (pad_y, pad_x), mode=MODES[mode], **kw)


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("mode", list(MODES))
def test_buffer_into_shifted_output(mode, dtype):
    """Input 7x5; output buffer covers x in [-4, 11), y in [-3, 8) via set_min."""
    a = make_input(5, 7, dtype)
    x, y = hl.Var("x"), hl.Var("y")
    clamped = wrap_with(mode, hl.Buffer(a), dtype)
    f = hl.Func("f")
    f[x, y] = clamped[x, y]
    out = hl.Buffer(HL_TYPE[dtype], [15, 11])
    out.set_min([-4, -3])
    f.realize(out)
    assert out.dim(0).min() == -4 and out.dim(1).min() == -3
    assert out.dim(0).extent() == 15 and out.dim(1).extent() == 11
    np.testing.assert_array_equal(np.asarray(out), padded(a, (3, 3), (4, 4), mode, dtype))


@pytest.mark.parametrize("mode", list(MODES))
def test_image_param_with_offset_coordinates(mode):
    """The same boundary condition on an ImageParam, realized at [0, 15) x [0, 11) by reading x - 4, y - 3."""
    dtype = np.uint8
    ip = hl.ImageParam(hl.UInt(8), 2, "input")
    x, y = hl.Var("x"), hl.Var("y")
    clamped = wrap_with(mode, ip, dtype)
    f = hl.Func("f")
    f[x, y] = clamped[x - 4, y - 3]
    # The boundary follows the bound buffer's actual size, rebinding between realizes.
    for h, w in [(5, 7), (3, 9), (6, 4)]:
        a = make_input(h, w, dtype)
        ip.set(hl.Buffer(a))
        out = np.asarray(f.realize([w + 8, h + 6]))
        np.testing.assert_array_equal(out, padded(a, (3, 3), (4, 4), mode, dtype), err_msg=f"{h}x{w}")


@pytest.mark.parametrize("mode", list(MODES))
def test_padding_wider_than_the_input(mode):
    """Reads several periods away from a 3x2 input (for mirror modes the pattern keeps reflecting)."""
    dtype = np.uint8
    a = np.arange(6, dtype=dtype).reshape(2, 3)
    x, y = hl.Var("x"), hl.Var("y")
    clamped = wrap_with(mode, hl.Buffer(a), dtype)
    f = hl.Func("f")
    f[x, y] = clamped[x - 8, y - 5]
    out = np.asarray(f.realize([19, 12]))
    np.testing.assert_array_equal(out, padded(a, (5, 5), (8, 8), mode, dtype))


@pytest.mark.parametrize("mode", list(MODES))
def test_input_with_nonzero_min(mode):
    """Boundaries are relative to the buffer's own min, not to 0."""
    dtype = np.uint8
    a = make_input(4, 6, dtype)
    buf = hl.Buffer(a)
    buf.set_min([10, 20])
    x, y = hl.Var("x"), hl.Var("y")
    clamped = wrap_with(mode, buf, dtype)
    f = hl.Func("f")
    f[x, y] = clamped[x + 10 - 3, y + 20 - 2]
    out = np.asarray(f.realize([12, 8]))
    np.testing.assert_array_equal(out, padded(a, (2, 2), (3, 3), mode, dtype))


def test_boundary_condition_feeding_a_blur():
    """repeat_edge makes a 3x3 box blur well defined at the border; compare with np.pad + sums."""
    a = make_input(13, 17, np.uint16)
    x, y = hl.Var("x"), hl.Var("y")
    clamped = BC.repeat_edge(hl.Buffer(a))
    blur = hl.Func("blur")
    blur[x, y] = sum(clamped[x + i, y + j] for i in (-1, 0, 1) for j in (-1, 0, 1)) / 9
    out = np.asarray(blur.realize([17, 13]))
    p = np.pad(a, 1, mode="edge").astype(np.int64)
    want = sum(p[1 + j:1 + j + 13, 1 + i:1 + i + 17] for i in (-1, 0, 1) for j in (-1, 0, 1)) // 9
    np.testing.assert_array_equal(out, want.astype(np.uint16))


def test_explicit_bounds_on_a_func():
    """A Func has no bounds of its own: pass them as ranges (min, extent)."""
    x, y = hl.Var("x"), hl.Var("y")
    src = hl.Func("src")
    src[x, y] = x + 10 * y
    clamped = BC.repeat_edge(src, [hl.Range(0, 7), hl.Range(0, 5)])
    f = hl.Func("f")
    f[x, y] = clamped[x - 2, y - 2]
    out = np.asarray(f.realize([11, 9]))
    yy, xx = np.mgrid[0:5, 0:7]
    np.testing.assert_array_equal(out, np.pad(xx + 10 * yy, ((2, 2), (2, 2)), mode="edge"))


def test_constant_exterior_3d_image_param():
    """All dimensions of a 3-D ImageParam are bounded.

    hl.Buffer(ndarray) reverses the numpy axes, so a planar (C, H, W) array is buffer (x, y, c).
    """
    a = make_input(3, 4, np.uint8)
    planar = np.stack([a, a + 1, a + 2])  # (C, H, W)
    ip = hl.ImageParam(hl.UInt(8), 3, "rgb")
    ip.set(hl.Buffer(planar))
    x, y, c = hl.Var("x"), hl.Var("y"), hl.Var("c")
    clamped = BC.constant_exterior(ip, 0)
    f = hl.Func("f")
    f[x, y, c] = clamped[x - 1, y - 1, c - 1]
    out = np.asarray(f.realize([6, 5, 5]))  # numpy view of the (x, y, c) output is (C, H, W)
    np.testing.assert_array_equal(out, np.pad(planar, 1, mode="constant"))
