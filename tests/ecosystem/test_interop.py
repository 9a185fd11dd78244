"""DLPack in and out (numpy, PyTorch) and how Buffers, Funcs and Pipelines show in Jupyter."""
import numpy as np
import pytest

import pipelang as hl

x, y, c = hl.Var("x"), hl.Var("y"), hl.Var("c")


def test_numpy_round_trip_shares_memory():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    b = hl.Buffer(a)
    back = np.from_dlpack(b)
    assert back.shape == (3, 4)
    back[1, 2] = -7.0                     # write through one view, read through the others
    assert a[1, 2] == -7.0 and b[2, 1] == -7.0
    b2 = hl.Buffer(back)
    b2[0, 0] = 99.0
    assert a[0, 0] == 99.0


def test_dlpack_device_is_the_cpu():
    assert hl.Buffer(np.zeros((2, 2), np.uint8)).__dlpack_device__()[0] == 1   # kDLCPU


def test_negative_strides_and_views():
    a = np.arange(20, dtype=np.int32).reshape(4, 5)[::-1, 1:4]
    b = hl.Buffer(a)
    np.testing.assert_array_equal(np.from_dlpack(b), a)
    f = hl.Func("f")
    f[x, y] = b[x, y] * 2
    np.testing.assert_array_equal(np.asarray(f.realize([3, 4])), a * 2)


def test_torch_round_trip_shares_memory():
    torch = pytest.importorskip("torch")
    t = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    b = hl.Buffer(t)                      # zero-copy, numpy axis order reversed as for arrays
    assert b.dimensions() == 2 and b.width() == 4 and b.height() == 3
    t[2, 3] = 42.0
    assert b[3, 2] == 42.0
    back = torch.from_dlpack(b)
    back[0, 1] = -1.0
    assert t[0, 1].item() == -1.0


def test_realize_into_a_torch_tensor():
    torch = pytest.importorskip("torch")
    f = hl.Func("f")
    f[x, y] = hl.cast(hl.Float(32), x + 10 * y)
    out = torch.zeros(3, 5)
    f.realize(out)
    np.testing.assert_array_equal(out.numpy(), np.add.outer(10 * np.arange(3), np.arange(5)))
    g = hl.Func("g")
    g[x, y] = (hl.cast(hl.Float(32), x), hl.cast(hl.Float(32), y))
    o1, o2 = torch.zeros(2, 4), torch.zeros(2, 4)
    hl.Pipeline(g).realize([o1, o2])
    assert o1[1, 3].item() == 3.0 and o2[1, 3].item() == 1.0


def test_read_only_tensors_stay_read_only():
    a = np.ones((2, 3), np.uint8)
    a.setflags(write=False)
    b = hl.Buffer(np.from_dlpack(a))
    f = hl.Func("f")
    f[x, y] = b[x, y] + 1
    assert np.asarray(f.realize([3, 2])).sum() == 12
    with pytest.raises(hl.HalideError):
        f.realize(b)                      # a read-only buffer can't be an output


def _png_size(data: bytes):
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_buffers_show_as_images():
    gray = hl.Buffer(np.arange(12, dtype=np.uint8).reshape(3, 4))
    assert _png_size(gray._repr_png_()) == (4, 3)
    rgb = hl.Buffer(np.zeros((3, 5, 6), np.uint16))        # planar [x, y, c]
    assert _png_size(rgb._repr_png_()) == (6, 5)
    f = hl.Buffer(np.linspace(-3, 5, 20, dtype=np.float32).reshape(4, 5))
    assert _png_size(f._repr_png_()) == (5, 4)
    assert hl.Buffer(np.zeros((2, 2, 2, 2), np.uint8))._repr_png_() is None
    assert hl.Buffer()._repr_png_() is None


def test_funcs_and_pipelines_show_their_loop_nest():
    f = hl.Func("shown")
    f[x, y] = x + y
    f.vectorize(x, 8)
    html = f._repr_html_()
    assert html.startswith("<pre>") and "produce shown" in html and "vectorized x" in html
    assert "produce shown" in hl.Pipeline(f)._repr_html_()
    assert hl.Func("undefined")._repr_html_() is None
