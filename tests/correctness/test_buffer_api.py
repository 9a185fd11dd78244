"""The Buffer API against numpy (and, where it is installed, real Halide's
shapes and strides): constructors, storage orders, views, element access."""
import numpy as np
import pytest

import pipelang as hl


def shape(b):
    return [(b.dim(d).min(), b.dim(d).extent(), b.dim(d).stride()) for d in range(b.dimensions())]


def test_array_axes_are_reversed_and_shared():
    a = np.arange(12, dtype=np.int16).reshape(3, 4)
    b = hl.Buffer(a, "b")
    assert shape(b) == [(0, 4, 1), (0, 3, 4)] and b.name() == "b" and b.type() == hl.Int(16)
    b[1, 2] = 99
    assert a[2, 1] == 99
    not_reversed = hl.Buffer(a, "c", False)
    assert shape(not_reversed) == [(0, 3, 4), (0, 4, 1)] and not_reversed[2, 1] == 99


def test_numpy_conversion_shares_or_copies():
    b = hl.Buffer(hl.Int(32), [3, 2])
    shared, copied = np.array(b, copy=False), np.array(b, copy=True)
    b[2, 1] = 7
    assert shared.shape == (2, 3) and shared[1, 2] == 7 and copied[1, 2] == 0
    assert np.asarray(b.reverse_axes()).shape == (3, 2)


@pytest.mark.parametrize("dtype,t", [(np.float16, hl.Float(16)), (np.int64, hl.Int(64)),
                                     (np.uint64, hl.UInt(64)), (np.bool_, hl.Bool()),
                                     (np.uint8, hl.UInt(8)), (np.float64, hl.Float(64))])
def test_dtypes_map_to_halide_types(dtype, t):
    b = hl.Buffer(np.zeros((2, 3), dtype))
    assert b.type() == t
    assert np.asarray(hl.Buffer(t, [3, 2])).dtype == np.dtype(dtype)


def test_storage_order_and_make_interleaved():
    b = hl.Buffer(type=hl.UInt(8), sizes=[7, 5, 3], storage_order=[2, 0, 1])
    assert shape(b) == [(0, 7, 3), (0, 5, 21), (0, 3, 1)]
    i = hl.Buffer.make_interleaved(hl.UInt(8), 7, 5, 3)
    assert shape(i) == shape(b)
    a = np.asarray(i)
    assert a.shape == (3, 5, 7) and a.strides == (1, 21, 3)
    four = hl.Buffer(hl.UInt(8), [7, 5, 3, 2], [2, 3, 0, 1])
    assert [four.dim(d).stride() for d in range(4)] == [6, 42, 1, 3]


def test_transpose_matches_permuted_allocation():
    b = hl.Buffer(hl.Int(32), [3, 2, 7, 5])
    b.transpose([2, 3, 0, 1])
    ref = hl.Buffer(hl.Int(32), [7, 5, 3, 2], [2, 3, 0, 1])
    assert shape(b) == shape(ref)
    c = hl.Buffer(hl.Int(32), [2, 3, 4])
    c.fill(0)
    c[1, 2, 3] = 5
    t = c.transposed(0, 2)
    assert shape(t) == [(0, 4, 6), (0, 3, 2), (0, 2, 1)] and t[3, 2, 1] == 5


def test_crop_translate_and_their_copies_share_data():
    data = np.arange(100, dtype=np.int32).reshape(10, 10)
    buf = hl.Buffer(data, "buf")
    c = buf.cropped([(5, 5), (5, 5)])
    assert shape(c)[:2] == [(5, 5, 1), (5, 5, 10)] and c[6, 7] == data[7, 6]
    c[6, 7] = -1
    assert data[7, 6] == -1 and buf.dim(0).min() == 0
    c.set_name("c")
    assert buf.name() == "buf" and c.name() == "c"
    t = buf.translated([3, -2])
    assert (t.dim(0).min(), t.dim(1).min()) == (3, -2) and t[3, -2] == data[0, 0]
    buf.crop(dimension=1, min=2, extent=3)
    assert shape(buf)[1] == (2, 3, 10)
    buf.translate(0, 4)
    assert buf.dim(0).min() == 4


def test_cropped_and_translated_buffers_in_a_pipeline():
    data = np.arange(64, dtype=np.int32).reshape(8, 8)
    x, y = hl.vars("x y")
    f = hl.Func("f")
    t = hl.Buffer(data).translated([2, 3])
    f[x, y] = t[x + 2, y + 3] * 2
    np.testing.assert_array_equal(np.asarray(f.realize([8, 8])), data * 2)
    g = hl.Func("g")
    c = hl.Buffer(data).cropped(0, 2, 4)
    g[x, y] = c[x + 2, y]
    np.testing.assert_array_equal(np.asarray(g.realize([4, 8])), data[:, 2:6])


def test_scalar_buffer():
    s = hl.Buffer.make_scalar(hl.Float(32))
    assert s.dimensions() == 0
    s[()] = 2.5
    assert s[()] == 2.5
    s.fill(32)
    assert s[()] == 32.0


def test_for_each_element_fill_all_equal_copy():
    b = hl.Buffer(hl.Float(32), [3, 4])
    seen = []
    b.for_each_element(lambda pos: seen.append(tuple(pos)))
    assert seen == [(x, y) for y in range(4) for x in range(3)]
    b.fill(3)
    assert b.all_equal(3)
    b[1, 2] = 4
    assert not b.all_equal(3)
    c = b.copy()
    b[1, 2] = 5
    assert c[1, 2] == 4 and c.type() == b.type()


def test_sliced_embedded_contains_and_copy_from():
    b = hl.Buffer(np.arange(24, dtype=np.int32).reshape(2, 3, 4))
    s = b.sliced(2, 1)
    assert s.dimensions() == 2 and s[3, 2] == b[3, 2, 1]
    e = hl.Buffer(hl.Int(32), [4, 3]).embedded(2)
    assert shape(e)[2] == (0, 1, 12)
    assert b.contains(3, 2, 1) and not b.contains([4, 0, 0])
    small = hl.Buffer(hl.Int(32), [2, 2, 2])
    small.copy_from(b)
    assert small[1, 1, 1] == b[1, 1, 1]


def test_repr():
    assert str(hl.Buffer()) == "<undefined halide.Buffer>"
    assert str(hl.Buffer(hl.Int(32), [128, 256])) == "<halide.Buffer of type int32 shape:[[0,128,1],[0,256,128]]>"


def test_layouts_match_real_halide():
    halide = pytest.importorskip("halide")

    def layouts(h):
        bufs = [h.Buffer(h.UInt(8), [7, 5, 3], [2, 0, 1]), h.Buffer.make_interleaved(h.UInt(8), 4, 3, 2),
                h.Buffer(np.zeros((5, 6), np.int32)), h.Buffer(np.zeros((5, 6), np.int32), "n", False)]
        t = h.Buffer(h.Int(32), [2, 3, 4])
        t.transpose([1, 2, 0])
        bufs.append(t)
        c = h.Buffer(h.Int(32), [5, 6])
        c.crop(1, 2, 3)
        bufs.append(c.translated([1, 1]))
        return [str(b) for b in bufs]
    assert layouts(hl) == layouts(halide)
