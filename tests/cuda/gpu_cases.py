"""GPU-scheduled test pipelines, each with an independent numpy reference.

`CASES[name]()` builds fresh Funcs and returns `(outputs, sizes, reference)`:
the output Func(s) with a GPU schedule, the realize() sizes, and the expected
arrays (numpy axis order). Shared by the emulation, compile and device tests.
"""
from __future__ import annotations

import numpy as np

import pipelang as hl

RNG = np.random.default_rng(12)
IMG_U16 = RNG.integers(0, 1000, (45, 70)).astype(np.uint16)     # (rows, cols): x < 70, y < 45
IMG_U8 = RNG.integers(0, 256, (29, 37, 3)).astype(np.uint8)     # x < 3? no: (y, x, c) via transpose below
IMG_F32 = RNG.standard_normal((40, 48)).astype(np.float32)
VEC_I32 = RNG.integers(-500, 500, 130).astype(np.int32)
A_F32 = RNG.standard_normal((24, 20)).astype(np.float32)       # A[k, j]: x = k < 20, y = j < 24
B_F32 = RNG.standard_normal((20, 28)).astype(np.float32)       # B[i, k]: x = i < 28, y = k < 20

x, y, c, i, k = hl.Var("x"), hl.Var("y"), hl.Var("c"), hl.Var("i"), hl.Var("k")
xo, yo, xi, yi, zo, zi = hl.Var("xo"), hl.Var("yo"), hl.Var("xi"), hl.Var("yi"), hl.Var("zo"), hl.Var("zi")
bx_, tx_ = hl.Var("bx"), hl.Var("tx")

CASES: dict = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def _blur_ref(a):
    a = a.astype(np.int64)
    bx = (a[:, :-2] + a[:, 1:-1] + a[:, 2:]) // 3
    return ((bx[:-2] + bx[1:-1] + bx[2:]) // 3).astype(np.uint16)


def _blur(inp):
    bx, by = hl.Func("blur_x"), hl.Func("blur_y")
    bx[x, y] = (inp[x, y] + inp[x + 1, y] + inp[x + 2, y]) / 3
    by[x, y] = (bx[x, y] + bx[x, y + 1] + bx[x, y + 2]) / 3
    return bx, by


# ---------------------------------------------------------------- pointwise and tails

@case
def pointwise_1d_shift_inwards():
    inp = hl.Buffer(VEC_I32, "vec")
    f = hl.Func("f")
    f[x] = inp[x] * 3 + 1
    f.gpu_tile(x, xi, 16)
    return [f], [100], [VEC_I32[:100] * 3 + 1]


@case
def pointwise_1d_guard_with_if():
    inp = hl.Buffer(VEC_I32, "vec")
    f = hl.Func("f")
    f[x] = inp[x] - 7
    f.gpu_tile(x, bx_, tx_, 16, hl.TailStrategy.GuardWithIf)
    return [f], [37], [VEC_I32[:37] - 7]


@case
def brighten_2d_tile():
    inp = hl.Buffer(IMG_U16, "img")
    f = hl.Func("f")
    f[x, y] = hl.min(inp[x, y] + 100, 900)
    f.gpu_tile(x, y, xo, yo, xi, yi, 8, 8)
    return [f], [70, 45], [np.minimum(IMG_U16 + 100, 900).astype(np.uint16)]


@case
def tile_guard_with_if_2d():
    inp = hl.Buffer(IMG_U16, "img")
    f = hl.Func("f")
    f[x, y] = inp[x, y] ^ 5
    f.gpu_tile(x, y, xo, yo, xi, yi, 16, 4, hl.TailStrategy.GuardWithIf)
    return [f], [67, 43], [IMG_U16[:43, :67] ^ 5]


@case
def tile_gpu_tile_no_block_vars_2d():
    inp = hl.Buffer(IMG_U16, "img")
    f = hl.Func("f")
    f[x, y] = inp[x, y] // 2
    f.gpu_tile(x, y, xi, yi, 8, 4)
    return [f], [70, 45], [IMG_U16 // 2]


@case
def split_blocks_threads():
    inp = hl.Buffer(VEC_I32, "vec")
    f = hl.Func("f")
    f[x] = inp[x] * inp[x]
    f.split(x, bx_, tx_, 32, hl.TailStrategy.GuardWithIf).gpu_blocks(bx_).gpu_threads(tx_)
    return [f], [130], [VEC_I32 * VEC_I32]


@case
def gpu_directive_pair():
    inp = hl.Buffer(VEC_I32, "vec")
    f = hl.Func("f")
    f[x] = inp[x] + x
    f.split(x, bx_, tx_, 8, hl.TailStrategy.GuardWithIf).gpu(bx_, tx_)
    return [f], [50], [VEC_I32[:50] + np.arange(50, dtype=np.int32)]


@case
def tile_3d():
    f = hl.Func("f")
    z = hl.Var("z")
    f[x, y, z] = x * 100 + y * 10 + z
    f.gpu_tile(x, y, z, xo, yo, zo, xi, yi, zi, 4, 4, 2, hl.TailStrategy.GuardWithIf)
    zz, yy, xx = np.meshgrid(np.arange(3), np.arange(9), np.arange(10), indexing="ij")
    return [f], [10, 9, 3], [(xx * 100 + yy * 10 + zz).astype(np.int32)]


@case
def small_output_shift_inwards():
    f = hl.Func("f")
    f[x, y] = x + 2 * y
    f.gpu_tile(x, y, xo, yo, xi, yi, 8, 8)
    yy, xx = np.mgrid[0:5, 0:6]
    return [f], [6, 5], [(xx + 2 * yy).astype(np.int32)]


# ---------------------------------------------------------------- stencils and producers

@case
def blur_shared_producer():
    inp = hl.Buffer(IMG_U16, "input")
    bx, by = _blur(inp)
    by.gpu_tile(x, y, xo, yo, xi, yi, 32, 8)
    bx.compute_at(by, xo).gpu_threads(x, y)
    return [by], [68, 43], [_blur_ref(IMG_U16)]


@case
def blur_register_producer():
    inp = hl.Buffer(IMG_U16, "input")
    bx, by = _blur(inp)
    by.gpu_tile(x, y, xo, yo, xi, yi, 16, 16)
    bx.compute_at(by, xi)
    return [by], [68, 43], [_blur_ref(IMG_U16)]


@case
def blur_inlined():
    inp = hl.Buffer(IMG_U16, "input")
    bx, by = _blur(inp)
    by.gpu_tile(x, y, xo, yo, xi, yi, 8, 8)
    return [by], [68, 43], [_blur_ref(IMG_U16)]


@case
def blur_two_kernels():
    inp = hl.Buffer(IMG_U16, "input")
    bx, by = _blur(inp)
    by.gpu_tile(x, y, xo, yo, xi, yi, 16, 8)
    bx.compute_root().gpu_tile(x, y, xo, yo, xi, yi, 16, 8)
    return [by], [68, 43], [_blur_ref(IMG_U16)]


@case
def blur_single_thread_producer():
    inp = hl.Buffer(IMG_U16, "input")
    bx, by = _blur(inp)
    by.gpu_tile(x, y, xo, yo, xi, yi, 8, 4)
    bx.compute_at(by, xo)                  # no thread loops: thread 0 computes the tile
    return [by], [68, 43], [_blur_ref(IMG_U16)]


@case
def blur_serial_rows_in_block():
    inp = hl.Buffer(IMG_U16, "input")
    bx, by = _blur(inp)
    by.split(x, xo, xi, 32, hl.TailStrategy.GuardWithIf).split(y, yo, yi, 4, hl.TailStrategy.GuardWithIf)
    by.reorder(xi, yi, xo, yo).gpu_blocks(xo, yo).gpu_threads(xi)
    bx.compute_at(by, yi).gpu_threads(x)   # a block-level serial loop with barriers each row
    return [by], [68, 43], [_blur_ref(IMG_U16)]


@case
def stencil_chain_shared():
    inp = hl.Buffer(IMG_F32, "input")
    f0, f1, f2 = hl.Func("s0"), hl.Func("s1"), hl.Func("s2")
    f0[x, y] = inp[x, y] + inp[x + 1, y + 1]
    f1[x, y] = f0[x, y] * 0.5 + f0[x + 1, y]
    f2[x, y] = f1[x, y] - f1[x, y + 1]
    f2.gpu_tile(x, y, xo, yo, xi, yi, 16, 8)
    f0.compute_at(f2, xo).gpu_threads(x, y)
    f1.compute_at(f2, xo).gpu_threads(x, y)
    a = IMG_F32
    s0 = a[:-1, :-1] + a[1:, 1:]
    s1 = s0[:, :-1] * np.float32(0.5) + s0[:, 1:]
    s2 = s1[:-1] - s1[1:]
    return [f2], [44, 37], [s2[:37, :44]]


@case
def repeat_edge_blur():
    inp = hl.Buffer(IMG_U16, "input")
    clamped = hl.BoundaryConditions.repeat_edge(inp)
    f = hl.Func("f")
    f[x, y] = (clamped[x - 1, y] + clamped[x + 1, y] + clamped[x, y - 1] + clamped[x, y + 1]) / 4
    f.gpu_tile(x, y, xo, yo, xi, yi, 16, 16)
    p = np.pad(IMG_U16.astype(np.int64), 1, mode="edge")
    ref = (p[1:-1, :-2] + p[1:-1, 2:] + p[:-2, 1:-1] + p[2:, 1:-1]) // 4
    return [f], [70, 45], [ref.astype(np.uint16)]


@case
def constant_exterior_shared():
    inp = hl.Buffer(IMG_F32, "input")
    padded = hl.BoundaryConditions.constant_exterior(inp, 0.0)
    p2 = hl.Func("p2")
    p2[x, y] = padded[x, y] * 2.0
    f = hl.Func("f")
    f[x, y] = p2[x - 1, y] + p2[x + 1, y]
    f.gpu_tile(x, y, xo, yo, xi, yi, 8, 8)
    p2.compute_at(f, xo).gpu_threads(x, y)
    p = np.pad(IMG_F32 * np.float32(2), 1)
    return [f], [48, 40], [(p[1:-1, :-2] + p[1:-1, 2:])]


# ---------------------------------------------------------------- reductions

@case
def sum_window_rdom():
    inp = hl.Buffer(VEC_I32, "vec")
    r = hl.RDom([(0, 5)])
    f = hl.Func("f")
    f[x] = hl.sum(inp[x + r.x])
    f.gpu_tile(x, xi, 32)
    ref = sum(VEC_I32[j:j + 120] for j in range(5))
    return [f], [120], [ref]


@case
def update_gpu_tile():
    inp = hl.Buffer(IMG_U16, "input")
    r = hl.RDom([(0, 3), (0, 3)])
    f = hl.Func("f")
    f[x, y] = hl.u32(0)
    f[x, y] += hl.u32(inp[x + r.x, y + r.y])
    f.gpu_tile(x, y, xo, yo, xi, yi, 8, 8, hl.TailStrategy.GuardWithIf)
    f.update().gpu_tile(x, y, xo, yo, xi, yi, 8, 8, hl.TailStrategy.GuardWithIf)
    a = IMG_U16.astype(np.uint32)
    ref = sum(a[dy:dy + 40, dx:dx + 60] for dy in range(3) for dx in range(3))
    return [f], [60, 40], [ref]


@case
def matmul_f32():
    A, B = hl.Buffer(A_F32, "A"), hl.Buffer(B_F32, "B")
    r = hl.RDom([(0, 20)])
    C = hl.Func("C")
    C[i, k] = 0.0
    C[i, k] += A[r.x, k] * B[i, r.x]
    C.gpu_tile(i, k, xo, yo, xi, yi, 8, 8, hl.TailStrategy.GuardWithIf)
    C.update().gpu_tile(i, k, xo, yo, xi, yi, 8, 8, hl.TailStrategy.GuardWithIf)
    # C[i, k] (numpy [k, i]) = sum_r A[r, k] * B[i, r] = (A_np @ B_np)[k, i]
    return [C], [28, 24], [A_F32 @ B_F32]


@case
def matmul_staged_shared_tile():
    A, B = hl.Buffer(A_F32, "A"), hl.Buffer(B_F32, "B")
    r = hl.RDom([(0, 20)])
    a_tile = hl.Func("a_tile")
    a_tile[x, y] = A[x, y]
    C = hl.Func("C")
    C[i, k] = hl.sum(a_tile[r.x, k] * B[i, r.x])
    C.gpu_tile(i, k, xo, yo, xi, yi, 4, 8)
    a_tile.compute_at(C, xo).gpu_threads(x, y)
    return [C], [28, 24], [A_F32 @ B_F32]


@case
def scan_single_thread():
    inp = hl.Buffer(VEC_I32, "vec")
    r = hl.RDom([(1, 63)])
    f = hl.Func("f")
    f[x] = inp[x]
    f[r.x] = f[r.x - 1] + inp[r.x]
    f.gpu_single_thread()
    f.update().gpu_single_thread()
    return [f], [64], [np.cumsum(VEC_I32[:64]).astype(np.int32)]


@case
def histogram_single_thread():
    inp = hl.Buffer(IMG_U16, "input")
    r = hl.RDom([(0, 70), (0, 45)])
    h = hl.Func("h")
    h[x] = 0
    h[hl.cast(hl.Int(32), inp[r.x, r.y] % 16)] += 1
    h.gpu_tile(x, xi, 16)
    h.update().gpu_single_thread()
    return [h], [16], [np.bincount((IMG_U16 % 16).ravel(), minlength=16).astype(np.int32)]


# ---------------------------------------------------------------- types, math, misc

@case
def float_math_select():
    inp = hl.Buffer(IMG_F32, "input")
    f = hl.Func("f")
    v = inp[x, y]
    f[x, y] = hl.select(v > 0, hl.sqrt(v), hl.exp(v)) + hl.abs(v) * 0.25
    f.gpu_tile(x, y, xo, yo, xi, yi, 16, 8)
    a = IMG_F32
    ref = np.where(a > 0, np.sqrt(np.abs(a)), np.exp(a)) + np.abs(a) * np.float32(0.25)
    return [f], [48, 40], [ref.astype(np.float32)]


@case
def euclidean_div_mod():
    inp = hl.Buffer(VEC_I32, "vec")
    f = hl.Func("f")
    f[x] = inp[x] / 7 + inp[x] % 5 * 100
    f.gpu_tile(x, xi, 32)
    a = VEC_I32[:128].astype(np.int64)
    return [f], [128], [(np.floor_divide(a, 7) + np.mod(a, 5) * 100).astype(np.int32)]


@case
def tuple_output():
    inp = hl.Buffer(VEC_I32, "vec")
    f = hl.Func("f")
    f[x] = (inp[x] + 1, hl.f32(inp[x]) * 0.5)
    f.gpu_tile(x, xi, 16)
    return [f], [64], [VEC_I32[:64] + 1, VEC_I32[:64].astype(np.float32) * np.float32(0.5)]


@case
def two_outputs():
    inp = hl.Buffer(IMG_U16, "input")
    g, h = hl.Func("g"), hl.Func("h")
    g[x, y] = inp[x, y] + 1
    h[x, y] = inp[x, y] * 2
    g.gpu_tile(x, y, xo, yo, xi, yi, 8, 8)
    h.gpu_tile(x, y, xo, yo, xi, yi, 16, 4)
    return [g, h], [64, 40], [IMG_U16[:40, :64] + 1, (IMG_U16[:40, :64] * 2).astype(np.uint16)]


@case
def lut_then_apply():
    inp = hl.Buffer(IMG_U16, "input")
    lut, f = hl.Func("lut"), hl.Func("f")
    lut[i] = hl.u8(hl.clamp(hl.pow(i / 1023.0, hl.f32(1.2)) * 255.0, 0, 255))
    f[x, y] = lut[hl.clamp(hl.i32(inp[x, y]), 0, 1023)]
    lut.compute_root().split(i, bx_, tx_, 16).gpu_blocks(bx_).gpu_threads(tx_)
    f.gpu_tile(x, y, xo, yo, xi, yi, 16, 16)
    table = np.clip((np.arange(1024, dtype=np.float32) / np.float32(1023.0)) ** np.float32(1.2)
                    * np.float32(255.0), 0, 255).astype(np.uint8)
    return [f], [70, 45], [table[IMG_U16]]


@case
def lesson12_sharpen_lut():
    img = np.ascontiguousarray(IMG_U8)
    inp = hl.Buffer(img, "input")               # x < 3 (c), y < 37, z < 29: use (c, x, y) as (x, y, c)?
    W, H = img.shape[1], img.shape[0]
    lut, padded, padded16, sharpen, curved = (hl.Func(n) for n in
                                              ("lut", "padded", "padded16", "sharpen", "curved"))
    lut[i] = hl.u8(hl.clamp(hl.pow(i / 255.0, hl.f32(1.2)) * 255.0, 0, 255))
    padded[x, y, c] = inp[c, hl.clamp(x, 0, W - 1), hl.clamp(y, 0, H - 1)]
    padded16[x, y, c] = hl.u16(padded[x, y, c])
    sharpen[x, y, c] = (padded16[x, y, c] * 2 - (padded16[x - 1, y, c] + padded16[x, y - 1, c]
                                                 + padded16[x + 1, y, c] + padded16[x, y + 1, c]) / 4)
    curved[x, y, c] = lut[sharpen[x, y, c]]
    lut.compute_root()
    lut.split(i, bx_, tx_, 16).gpu_blocks(bx_).gpu_threads(tx_)
    curved.reorder(c, x, y).bound(c, 0, 3).unroll(c)
    curved.gpu_tile(x, y, xo, yo, xi, yi, 8, 8)
    padded.compute_at(curved, xo).gpu_threads(x, y)
    p = np.pad(img.astype(np.int64), ((1, 1), (1, 1), (0, 0)), mode="edge")
    s = (p[1:-1, 1:-1] * 2 - (p[1:-1, :-2] + p[:-2, 1:-1] + p[1:-1, 2:] + p[2:, 1:-1]) // 4) % 65536
    table = np.clip((np.arange(65536, dtype=np.float32) / np.float32(255.0)) ** np.float32(1.2)
                    * np.float32(255.0), 0, 255).astype(np.uint8)
    ref = table[s]                              # (y, x, c)
    return [curved], [W, H, 3], [np.transpose(ref, (2, 0, 1))]


@case
def unrolled_inside_thread():
    inp = hl.Buffer(IMG_U16, "input")
    f = hl.Func("f")
    f[x, y] = inp[x, y] + inp[x, y] // 3
    f.gpu_tile(x, y, xo, yo, xi, yi, 8, 8).unroll(xi, 2)
    return [f], [64, 40], [(IMG_U16[:40, :64] + IMG_U16[:40, :64] // 3).astype(np.uint16)]


@case
def gpu_lanes_warp():
    inp = hl.Buffer(VEC_I32, "vec")
    f = hl.Func("f")
    f[x] = inp[x] * 2
    f.split(x, bx_, tx_, 32, hl.TailStrategy.GuardWithIf).gpu_blocks(bx_).gpu_lanes(tx_)
    return [f], [100], [VEC_I32[:100] * 2]


@case
def scalar_param():
    inp = hl.Buffer(IMG_F32, "input")
    p = hl.Param(hl.Float(32), "gain", 1.5)
    f = hl.Func("f")
    f[x, y] = inp[x, y] * p + 1.0
    f.gpu_tile(x, y, xo, yo, xi, yi, 16, 16)
    return [f], [48, 40], [IMG_F32 * np.float32(1.5) + np.float32(1.0)]


@case
def float64_and_casts():
    inp = hl.Buffer(IMG_U16, "input")
    f = hl.Func("f")
    f[x, y] = hl.u8(hl.min(hl.f64(inp[x, y]) * 0.25, 255.0))
    f.gpu_tile(x, y, xo, yo, xi, yi, 32, 4)
    return [f], [64, 44], [np.minimum(IMG_U16[:44, :64] * 0.25, 255.0).astype(np.uint8)]


@case
def thread_dims_mismatch_guards():
    inp = hl.Buffer(IMG_U16, "input")
    g = hl.Func("g")
    g[x] = inp[x, 0] * 3                    # a 1-D producer in a 2-D block
    f = hl.Func("f")
    f[x, y] = g[x] + g[x + 1] + inp[x, y]
    f.gpu_tile(x, y, xo, yo, xi, yi, 16, 4)
    g.compute_at(f, xo).gpu_threads(x)
    row = (IMG_U16[0].astype(np.int64) * 3) % 65536
    ref = (row[:64] + row[1:65] + IMG_U16[:40, :64]) % 65536
    return [f], [64, 40], [ref.astype(np.uint16)]


@case
def lesson19_image_param_in_shared():
    """Halide's lesson 19: ImageParam.in_() stages each tile's input in shared memory."""
    img = hl.ImageParam(hl.Int(32), 2, "l19_img")
    blur = hl.Func("l19_blur")
    blur[x, y] = sum(img[x + dx, y + dy] for dy in (-1, 0, 1) for dx in (-1, 0, 1))
    blur.compute_root().gpu_tile(x, y, xo, yo, xi, yi, 8, 8)
    wrapper = img.in_(blur)
    wrapper.compute_at(blur, xo).gpu_threads(*wrapper.args()[:2])
    inp = hl.Buffer(hl.Int(32), [42, 34])
    inp.set_min([-1, -1])
    yy, xx = np.mgrid[-1:33, -1:41]
    np.asarray(inp)[...] = xx * 17 + yy % 4
    inp.set_host_dirty()                  # written through numpy, which Buffer cannot see
    img.set(inp)
    p = np.asarray(inp).astype(np.int64)
    ref = sum(p[1 + dy:33 + dy, 1 + dx:41 + dx] for dy in (-1, 0, 1) for dx in (-1, 0, 1))
    return [blur], [40, 32], [ref.astype(np.int32)]
