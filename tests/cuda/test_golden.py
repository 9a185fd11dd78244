"""Golden CUDA C for a few canonical pipelines (tests/golden/cuda/*.cu).

A change in the emitted source fails here; if it is intended, regenerate with
`PIPELANG_UPDATE_GOLDEN=1 python -m pytest tests/cuda/test_golden.py` and
review the diff. Func names are unique to this file so the text is stable.
"""
import os
import pathlib

import pytest

import pipelang as hl

GOLDEN = pathlib.Path(__file__).resolve().parents[1] / "golden" / "cuda"
x, y, xo, yo, xi, yi, k = hl.vars("x y xo yo xi yi k")


def blur():
    inp = hl.ImageParam(hl.UInt(16), 2, "golden_input")
    bx, by = hl.Func("golden_blur_x"), hl.Func("golden_blur_y")
    bx[x, y] = (inp[x, y] + inp[x + 1, y] + inp[x + 2, y]) / 3
    by[x, y] = (bx[x, y] + bx[x, y + 1] + bx[x, y + 2]) / 3
    by.gpu_tile(x, y, xo, yo, xi, yi, 32, 8)
    bx.compute_at(by, xo).gpu_threads(x, y)
    return by


def matmul():
    A = hl.ImageParam(hl.Float(32), 2, "golden_A")
    B = hl.ImageParam(hl.Float(32), 2, "golden_B")
    r = hl.RDom([(0, A.width())], "golden_r")
    C = hl.Func("golden_matmul")
    C[x, y] = 0.0
    C[x, y] += A[r.x, y] * B[x, r.x]
    C.gpu_tile(x, y, xo, yo, xi, yi, 16, 16, hl.TailStrategy.GuardWithIf)
    C.update().gpu_tile(x, y, xo, yo, xi, yi, 16, 16, hl.TailStrategy.GuardWithIf)
    return C


def lut_two_kernels():
    inp = hl.ImageParam(hl.UInt(8), 2, "golden_image")
    lut, out = hl.Func("golden_lut"), hl.Func("golden_curve")
    lut[k] = hl.u8(hl.clamp(hl.sqrt(hl.f32(k) / 255.0) * 255.0, 0.0, 255.0))
    out[x, y] = lut[inp[x, y]]
    lut.compute_root().gpu_tile(k, xi, 64)
    out.gpu_tile(x, y, xo, yo, xi, yi, 16, 16)
    return out


@pytest.mark.parametrize("build", [blur, matmul, lut_two_kernels], ids=lambda b: b.__name__)
def test_golden_cuda_source(build):
    src = hl.Pipeline(build()).cuda_source(hl.Target("host-cuda"))
    path = GOLDEN / f"{build.__name__}.cu"
    if os.environ.get("PIPELANG_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(src)
    assert path.exists(), f"{path} is missing: run with PIPELANG_UPDATE_GOLDEN=1"
    assert src == path.read_text(), (f"CUDA source of {build.__name__} differs from {path}; "
                                     f"if intended, regenerate with PIPELANG_UPDATE_GOLDEN=1")
