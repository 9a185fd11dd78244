"""Illegal GPU schedules are ScheduleErrors naming the Func and the loop."""
import pytest

import pipelang as hl

x, y, xo, yo, xi, yi = hl.vars("x y xo yo xi yi")
CUDA = hl.Target("host-cuda")


def lower(f):
    return hl.Pipeline(f).cuda_source(CUDA)


def test_threads_outside_blocks():
    f = hl.Func("thr_out")
    f[x] = x
    f.gpu_threads(x)
    with pytest.raises(hl.HalideError, match=r"GPU thread loop over thr_out\.x must be inside a GPU block loop"):
        lower(f)


def test_too_many_threads():
    f = hl.Func("f")
    f[x, y] = x + y
    f.gpu_tile(x, y, xo, yo, xi, yi, 64, 32)
    with pytest.raises(hl.HalideError, match=r"x\.xi of Func f has 2048 iterations|64x32x1 threads"):
        lower(f)


def test_vectorize_inside_kernel():
    f = hl.Func("vec_in_kernel")
    f[x, y] = x + y
    f.gpu_tile(x, y, xo, yo, xi, yi, 8, 8).vectorize(xi, 4)
    with pytest.raises(hl.HalideError, match=r"Loop over x\.xi\.\S+ of Func vec_in_kernel is vectorized "
                                             r"inside the GPU kernel"):
        lower(f)


def test_blocks_inside_threads():
    f = hl.Func("inverted")
    f[x, y] = x + y
    f.split(x, xo, xi, 8).gpu_threads(xo).gpu_blocks(xi)
    with pytest.raises(hl.HalideError, match=r"GPU thread loop over inverted\.x\.xo must be inside a GPU block"):
        lower(f)


def test_unknown_device_api():
    f = hl.Func("f")
    f[x] = x
    with pytest.raises(hl.HalideError, match="CUDA only"):
        f.gpu_blocks(x, hl.DeviceAPI.OpenCL)


def test_host_stage_between_kernels_is_allowed():
    f, g, h = hl.Func("hs_f"), hl.Func("hs_g"), hl.Func("hs_h")
    f[x] = x * 3
    g[x] = f[x] + f[x + 1]
    h[x] = g[x] * 2
    f.compute_root().gpu_tile(x, xi, 16)
    g.compute_root()                            # on the CPU, between the two kernels
    h.gpu_tile(x, xi, 16)
    assert hl.Pipeline(h).cuda_source(CUDA).count("__global__") == 2


def test_gpu_lanes_extent():
    f = hl.Func("lanes")
    f[x] = x
    f.split(x, xo, xi, 64).gpu_blocks(xo).gpu_lanes(xi)
    with pytest.raises(hl.HalideError, match=r"gpu_lanes loop over x\.xi of Func lanes needs a constant extent of at most 32"):
        lower(f)


def test_gpu_tile_wrong_arity():
    f = hl.Func("f")
    f[x] = x
    with pytest.raises(hl.HalideError, match="gpu_tile takes"):
        f.gpu_tile(x, xi)
