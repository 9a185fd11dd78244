"""pipelang.dask.realize: chunked runs over dask arrays give the bits of one big realize."""
import numpy as np
import pytest

import pipelang as hl

da = pytest.importorskip("dask.array")
pdask = pytest.importorskip("pipelang.dask")

x, y, c = hl.Var("x"), hl.Var("y"), hl.Var("c")


def _stencil(bc="repeat_edge"):
    img = hl.ImageParam(hl.UInt(16), 2, "img")
    e = getattr(hl.BoundaryConditions, bc)(img)
    bx, by = hl.Func("bx"), hl.Func("by")
    # x % 7 and y make the result depend on global coordinates.
    bx[x, y] = (e[x - 1, y] + e[x, y] + e[x + 2, y]) // 3 + hl.cast(hl.UInt(16), x % 7)
    by[x, y] = (bx[x, y - 2] + bx[x, y] + bx[x, y + 1]) // 3 + hl.cast(hl.UInt(16), y)
    return img, by


def _in_memory(img, f, a, sizes):
    img.set(hl.Buffer(a))
    out = f.realize(sizes)
    return [np.asarray(b).copy() for b in out] if isinstance(out, (list, tuple)) else np.asarray(out).copy()


@pytest.mark.parametrize("bc", ["repeat_edge", "mirror_image", "mirror_interior", "repeat_image"])
def test_stencil_chunks_equal_one_realize(bc):
    img, by = _stencil(bc)
    a = np.random.default_rng(0).integers(0, 10000, (37, 53)).astype(np.uint16)
    d = da.from_array(a, chunks=(10, 14))      # uneven chunks, 4 x 4
    got = pdask.realize(by, [53, 37], inputs={img: d})
    assert got.shape == (37, 53) and got.chunks == d.chunks
    np.testing.assert_array_equal(got.compute(scheduler="sync"), _in_memory(img, by, a, [53, 37]))


def test_output_smaller_than_input_no_boundary_condition():
    img = hl.ImageParam(hl.Float(32), 2, "img")
    f = hl.Func("f")
    f[x, y] = img[x, y] + img[x + 2, y + 1] * 2.0
    a = np.random.default_rng(1).standard_normal((20, 30)).astype(np.float32)
    got = pdask.realize(f, [28, 19], inputs={"img": da.from_array(a, chunks=(5, 8))}, chunks=(6, 7))
    np.testing.assert_array_equal(got.compute(scheduler="sync"), _in_memory(img, f, a, [28, 19]))


def test_tuple_outputs_params_and_three_dimensions():
    img = hl.ImageParam(hl.Float(32), 3, "rgb")
    gain = hl.Param(hl.Float(32), "gain", 1.5)
    e = hl.BoundaryConditions.constant_exterior(img, 0.25)
    f = hl.Func("f")
    f[x, y, c] = (e[x - 1, y, c] * gain + e[x + 1, y - 1, c], hl.cast(hl.Int(32), x * 100 + y + c))
    a = np.random.default_rng(2).standard_normal((3, 24, 18)).astype(np.float32)
    outs = pdask.realize(f, [18, 24, 3], inputs={img: da.from_array(a, chunks=(1, 8, 9))})
    assert isinstance(outs, list) and len(outs) == 2
    want = _in_memory(img, f, a, [18, 24, 3])
    for got, w in zip(outs, want):
        np.testing.assert_array_equal(got.compute(scheduler="sync"), w)


def test_bad_inputs_are_clear_errors():
    img, by = _stencil()
    a = da.zeros((8, 8), dtype=np.uint16, chunks=4)
    with pytest.raises(hl.HalideError, match="no input named 'nope'"):
        pdask.realize(by, [8, 8], inputs={"nope": a})
    with pytest.raises(hl.HalideError, match="no dask array for input img"):
        pdask.realize(by, [8, 8], inputs={})
    with pytest.raises(hl.HalideError, match="has 2 dimensions, but the dask array has 3"):
        pdask.realize(by, [8, 8], inputs={img: da.zeros((2, 8, 8), dtype=np.uint16)})
    with pytest.raises(hl.HalideError, match="holds float64"):
        pdask.realize(by, [8, 8], inputs={img: da.zeros((8, 8), dtype=np.float64)})


def test_local_cluster_with_worker_processes():
    """The acceptance check: a stencil with a boundary condition, 16 chunks,
    two worker processes, the same bits as one in-memory realize."""
    distributed = pytest.importorskip("distributed")
    img, by = _stencil("mirror_image")
    a = np.random.default_rng(3).integers(0, 10000, (400, 600)).astype(np.uint16)
    d = da.from_array(a, chunks=(100, 150))
    assert d.npartitions == 16
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster):
        got = pdask.realize(by, [600, 400], inputs={img: d}).compute()
    np.testing.assert_array_equal(got, _in_memory(img, by, a, [600, 400]))
