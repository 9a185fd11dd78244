"""pipelang.imageio: Halide's planar/interleaved conventions, checked against
numpy and (where installed) against halide.imageio itself."""
import numpy as np
import pytest

import pipelang as hl
from pipelang import imageio

pytest.importorskip("imageio")


def rgb():
    return np.random.default_rng(3).integers(0, 256, (5, 7, 3), dtype=np.uint8)


def test_write_planar_read_planar(tmp_path):
    interleaved = rgb()
    planar = np.ascontiguousarray(np.moveaxis(interleaved, 2, 0))     # (c, y, x)
    imageio.imwrite(tmp_path / "a.png", planar)
    back = imageio.imread(tmp_path / "a.png")
    assert back.shape == (3, 5, 7) and back.flags.c_contiguous
    np.testing.assert_array_equal(back, planar)
    buf = hl.Buffer(back)
    assert (buf.width(), buf.height(), buf.channels()) == (7, 5, 3) and buf.dim(0).stride() == 1
    assert buf[6, 4, 2] == interleaved[4, 6, 2]


def test_interleaved_and_2d_pass_through(tmp_path):
    imageio.imwrite(tmp_path / "i.png", rgb())          # already interleaved: written as is
    np.testing.assert_array_equal(np.moveaxis(imageio.imread(tmp_path / "i.png"), 0, 2), rgb())
    gray = rgb()[:, :, 0].copy()
    imageio.imwrite(tmp_path / "g.png", gray)
    np.testing.assert_array_equal(imageio.imread(tmp_path / "g.png"), gray)
    assert imageio.copy_to_planar(gray) is gray and imageio.copy_to_interleaved(gray) is gray


def test_load_save_buffers(tmp_path):
    buf = hl.Buffer(np.ascontiguousarray(np.moveaxis(rgb(), 2, 0)))
    imageio.save(tmp_path / "b.png", buf)
    back = imageio.load(tmp_path / "b.png")
    assert isinstance(back, hl.Buffer) and np.array_equal(np.asarray(back), np.asarray(buf))


def test_16_bit_and_realized_output(tmp_path):
    x, y = hl.vars("x y")
    f = hl.Func("f")
    f[x, y] = hl.u16(x * 1000 + y * 100)
    out = f.realize([7, 5])
    imageio.imwrite(tmp_path / "w.png", out)
    np.testing.assert_array_equal(imageio.imread(tmp_path / "w.png"), np.asarray(out))


def test_same_arrays_as_halide_imageio(tmp_path):
    himageio = pytest.importorskip("halide.imageio")
    planar = np.ascontiguousarray(np.moveaxis(rgb(), 2, 0))
    himageio.imwrite(str(tmp_path / "h.png"), planar)
    imageio.imwrite(tmp_path / "p.png", planar)
    for name in ("h.png", "p.png"):
        a, b = himageio.imread(str(tmp_path / name)), imageio.imread(tmp_path / name)
        assert a.shape == b.shape and a.strides == b.strides and np.array_equal(a, b)
