"""The benchmark suite: each benchmark's algorithm, hand schedule, inputs and numpy reference.

Every ``build_*`` function takes the compiler module ``hl`` -- ``pipelang`` or real
Halide's ``halide``, whose Python APIs are the same -- and the benchmark's numpy
inputs, and returns the output Func with its schedule applied.  The one source
serves both compilers, so their timings compare the same algorithm and schedule.

Numpy arrays are wrapped with ``hl.Buffer(array)``, which reverses the axes:
a numpy array of shape (H, W) is a buffer indexed ``[x, y]``; planar colour
images are numpy (C, H, W), buffers ``[x, y, c]``.

Schedules follow the hand schedules of Halide's apps/ (blur, unsharp, harris,
conv_layer) for an x86 CPU, adapted where our sizes or layouts differ.
"""

from __future__ import annotations

import functools
import math
import numpy as np

from .benchmark import SIZE_LEVELS, Benchmark, Tolerance, _vec  # noqa: F401  (re-exported)


def _f32(hl, value: float):
    # An explicit float32 literal: Halide warns when a Python float silently loses precision.
    return hl.f32(value)


# --------------------------------------------------------------------------
# Box blur: Halide's classic two-stage 3x3 blur on uint16.


def _box_blur_inputs(rng, width, height):
    # 14-bit values so the sum of three stays inside uint16, as in Halide's apps/blur.
    return {"input": rng.integers(0, 1 << 14, size=(height + 2, width + 2), dtype=np.uint16)}


def build_box_blur(hl, inputs):
    input = hl.Buffer(inputs["input"])
    x, y, yi = hl.Var("x"), hl.Var("y"), hl.Var("yi")
    blur_x, blur_y = hl.Func("blur_x"), hl.Func("blur_y")
    # No boundary condition: the output is 2 pixels smaller than the input.
    blur_x[x, y] = (input[x, y] + input[x + 1, y] + input[x + 2, y]) // 3
    blur_y[x, y] = (blur_x[x, y] + blur_x[x, y + 1] + blur_x[x, y + 2]) // 3

    # Strips of 32 rows in parallel; within a strip blur_x slides down one row
    # at a time (store_at the strip, compute_at each row), so it is computed once.
    blur_y.split(y, y, yi, 32).parallel(y).vectorize(x, 8)
    blur_x.store_at(blur_y, y).compute_at(blur_y, yi).vectorize(x, 8)
    return blur_y


def reference_box_blur(inputs):
    a = inputs["input"]
    h, w = a.shape[0] - 2, a.shape[1] - 2
    bx = (a[:, 0:w] + a[:, 1 : w + 1] + a[:, 2 : w + 2]) // 3
    return (bx[0:h] + bx[1 : h + 1] + bx[2 : h + 2]) // 3


BOX_BLUR = Benchmark(
    name="box_blur",
    description="3x3 box blur, uint16, two separable stages (Halide's classic schedule)",
    sizes={
        "tiny": dict(width=128, height=96),
        "small": dict(width=1024, height=1024),
        "medium": dict(width=2048, height=2048),
        "full": dict(width=4096, height=4096),
    },
    make_inputs=_box_blur_inputs,
    build=build_box_blur,
    reference=reference_box_blur,
    peer_tolerance=Tolerance(atol=2),  # libraries round the mean once instead of twice
)


# --------------------------------------------------------------------------
# Unsharp mask (Halide apps/unsharp): gray, 7-tap Gaussian, sharpen, ratio.

_GAUSS_SIGMA = 1.5
_GAUSS = [math.exp(-(i * i) / (2 * _GAUSS_SIGMA**2)) for i in range(4)]
_GAUSS = [g / (_GAUSS[0] + 2 * sum(_GAUSS[1:])) for g in _GAUSS]  # taps 0..3, normalised
_LUMA = (0.299, 0.587, 0.114)


def _color_inputs(rng, width, height):
    # Planar float RGB in [0.1, 1]: gray never reaches 0, so the ratio stays finite.
    return {"input": rng.uniform(0.1, 1.0, size=(3, height, width)).astype(np.float32)}


def build_unsharp(hl, inputs):
    f32 = functools.partial(_f32, hl)
    x, y, c = hl.Var("x"), hl.Var("y"), hl.Var("c")
    input = hl.BoundaryConditions.repeat_edge(hl.Buffer(inputs["input"]))

    gray, blur_y, blur_x = hl.Func("gray"), hl.Func("blur_y"), hl.Func("blur_x")
    sharpen, ratio, output = hl.Func("sharpen"), hl.Func("ratio"), hl.Func("unsharp")
    gray[x, y] = f32(_LUMA[0]) * input[x, y, 0] + f32(_LUMA[1]) * input[x, y, 1] + f32(_LUMA[2]) * input[x, y, 2]
    blur_y[x, y] = f32(_GAUSS[0]) * gray[x, y] + sum(
        f32(_GAUSS[i]) * (gray[x, y - i] + gray[x, y + i]) for i in range(1, 4)
    )
    blur_x[x, y] = f32(_GAUSS[0]) * blur_y[x, y] + sum(
        f32(_GAUSS[i]) * (blur_y[x - i, y] + blur_y[x + i, y]) for i in range(1, 4)
    )
    sharpen[x, y] = 2 * gray[x, y] - blur_x[x, y]
    ratio[x, y] = sharpen[x, y] / gray[x, y]
    output[x, y, c] = ratio[x, y] * input[x, y, c]

    # apps/unsharp: strips of 32 rows in parallel; within a strip gray slides
    # down one row at a time (kept for the 7 rows blur_y reads), and each
    # output row's blur_y and ratio rows are computed just before use.
    vec = _vec(hl, hl.Float(32))
    yi = hl.Var("yi")
    output.split(y, y, yi, 32).reorder(x, c, yi, y).parallel(y).vectorize(x, vec)
    gray.store_at(output, y).compute_at(output, yi).vectorize(x, vec)
    blur_y.compute_at(output, yi).vectorize(x, vec)
    ratio.compute_at(output, yi).vectorize(x, vec)
    return output


def _gray(img):
    return np.float32(_LUMA[0]) * img[0] + np.float32(_LUMA[1]) * img[1] + np.float32(_LUMA[2]) * img[2]


def reference_unsharp(inputs):
    img = inputs["input"]
    _, h, w = img.shape
    g = _gray(img)
    gp = np.pad(g, 3, mode="edge")
    k = [np.float32(v) for v in _GAUSS]
    by = k[0] * gp[3 : 3 + h] + sum(k[i] * (gp[3 - i : 3 - i + h] + gp[3 + i : 3 + i + h]) for i in range(1, 4))
    bx = k[0] * by[:, 3 : 3 + w] + sum(
        k[i] * (by[:, 3 - i : 3 - i + w] + by[:, 3 + i : 3 + i + w]) for i in range(1, 4)
    )
    ratio = (2 * g - bx) / g
    return (ratio[None] * img).astype(np.float32)


UNSHARP = Benchmark(
    name="unsharp",
    description="unsharp mask on planar float32 RGB (7-tap Gaussian, ratio sharpening)",
    sizes={
        "tiny": dict(width=96, height=64),
        "small": dict(width=768, height=512),
        "medium": dict(width=1536, height=1024),
        "full": dict(width=3072, height=2048),
    },
    make_inputs=_color_inputs,
    build=build_unsharp,
    reference=reference_unsharp,
    tolerance=Tolerance(rtol=1e-4),
    peer_tolerance=Tolerance(rtol=1e-4),
)


# --------------------------------------------------------------------------
# Harris corner response (Halide apps/harris).


def build_harris(hl, inputs):
    f32 = functools.partial(_f32, hl)
    x, y, yi = hl.Var("x"), hl.Var("y"), hl.Var("yi")
    input = hl.BoundaryConditions.repeat_edge(hl.Buffer(inputs["input"]))

    gray, Ix, Iy = hl.Func("gray"), hl.Func("Ix"), hl.Func("Iy")
    Ixx, Iyy, Ixy = hl.Func("Ixx"), hl.Func("Iyy"), hl.Func("Ixy")
    Sxx, Syy, Sxy = hl.Func("Sxx"), hl.Func("Syy"), hl.Func("Sxy")
    det, trace, output = hl.Func("det"), hl.Func("trace"), hl.Func("harris")

    gray[x, y] = f32(_LUMA[0]) * input[x, y, 0] + f32(_LUMA[1]) * input[x, y, 1] + f32(_LUMA[2]) * input[x, y, 2]
    # Sobel derivatives, scaled by 1/12 as in the app.
    Iy[x, y] = (
        gray[x - 1, y + 1]
        - gray[x - 1, y - 1]
        + 2 * (gray[x, y + 1] - gray[x, y - 1])
        + gray[x + 1, y + 1]
        - gray[x + 1, y - 1]
    ) * f32(1 / 12)
    Ix[x, y] = (
        gray[x + 1, y - 1]
        - gray[x - 1, y - 1]
        + 2 * (gray[x + 1, y] - gray[x - 1, y])
        + gray[x + 1, y + 1]
        - gray[x - 1, y + 1]
    ) * f32(1 / 12)
    Ixx[x, y] = Ix[x, y] * Ix[x, y]
    Iyy[x, y] = Iy[x, y] * Iy[x, y]
    Ixy[x, y] = Ix[x, y] * Iy[x, y]

    def box3(f):
        return sum(f[x + dx, y + dy] for dy in (-1, 0, 1) for dx in (-1, 0, 1))

    Sxx[x, y] = box3(Ixx)
    Syy[x, y] = box3(Iyy)
    Sxy[x, y] = box3(Ixy)
    det[x, y] = Sxx[x, y] * Syy[x, y] - Sxy[x, y] * Sxy[x, y]
    trace[x, y] = Sxx[x, y] + Syy[x, y]
    output[x, y] = det[x, y] - f32(0.04) * trace[x, y] * trace[x, y]

    # apps/harris: strips of 32 rows in parallel; gray and the derivatives slide
    # down each strip; the products and box sums are inlined into the output.
    vec = _vec(hl, hl.Float(32))
    output.split(y, y, yi, 32).parallel(y).vectorize(x, vec)
    gray.store_at(output, y).compute_at(output, yi).vectorize(x, vec)
    Iy.store_at(output, y).compute_at(output, yi).vectorize(x, vec)
    Ix.store_at(output, y).compute_at(output, yi).vectorize(x, vec)
    return output


def reference_harris(inputs):
    img = inputs["input"]
    _, h, w = img.shape
    g = np.pad(_gray(img), 2, mode="edge")  # (h + 4, w + 4): index i is pixel i - 2
    third = np.float32(1 / 12)

    def at(dx, dy):  # g shifted, on the (h + 2, w + 2) region of pixels -1 .. n
        return g[1 + dy : 1 + dy + h + 2, 1 + dx : 1 + dx + w + 2]

    iy = (at(-1, 1) - at(-1, -1) + 2 * (at(0, 1) - at(0, -1)) + at(1, 1) - at(1, -1)) * third
    ix = (at(1, -1) - at(-1, -1) + 2 * (at(1, 0) - at(-1, 0)) + at(1, 1) - at(-1, 1)) * third

    def box3(a):
        return sum(a[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w] for dy in (-1, 0, 1) for dx in (-1, 0, 1))

    sxx, syy, sxy = box3(ix * ix), box3(iy * iy), box3(ix * iy)
    trace = sxx + syy
    return (sxx * syy - sxy * sxy - np.float32(0.04) * trace * trace).astype(np.float32)


HARRIS = Benchmark(
    name="harris",
    description="Harris corner response on planar float32 RGB (Sobel, 3x3 structure tensor)",
    sizes={
        "tiny": dict(width=96, height=64),
        "small": dict(width=1024, height=1024),
        "medium": dict(width=2048, height=2048),
        "full": dict(width=4096, height=4096),
    },
    make_inputs=_color_inputs,
    build=build_harris,
    reference=reference_harris,
    tolerance=Tolerance(rtol=1e-4),
    peer_tolerance=Tolerance(rtol=1e-4),
)


# --------------------------------------------------------------------------
# Histogram equalization: a reduction, a scan, a lookup table, a gather.
# The LUT is OpenCV's equalizeHist: round((cdf(v) - cdf_min) * 255 / (N - cdf_min)).


def _hist_eq_inputs(rng, width, height):
    # A low-contrast image (values 60..190), so equalization visibly stretches it.
    return {"input": rng.binomial(255, 0.5, size=(height, width)).clip(60, 190).astype(np.uint8)}


def build_hist_eq(hl, inputs):
    image = inputs["input"]
    height, width = image.shape
    rows = 64 if height % 64 == 0 else height  # rows per partial histogram
    strips = height // rows
    n_pixels = width * height
    input = hl.Buffer(image)
    x, y, i, s, yi = hl.Var("x"), hl.Var("y"), hl.Var("i"), hl.Var("s"), hl.Var("yi")

    # One partial histogram per strip of rows, so strips can be counted in
    # parallel (rfactor by hand), then summed.
    partial = hl.Func("partial_hist")
    partial[i, s] = hl.u32(0)
    r = hl.RDom([(0, width), (0, rows)])
    partial[hl.cast(hl.Int(32), input[r.x, s * rows + r.y]), s] += hl.u32(1)

    hist = hl.Func("hist")
    hist[i] = hl.u32(0)
    rs = hl.RDom([(0, strips)])
    hist[i] += partial[i, rs.x]

    cdf = hl.Func("cdf")  # cdf[-1] = 0 from the pure definition
    cdf[i] = hl.u32(0)
    rv = hl.RDom([(0, 256)])
    cdf[rv.x] = cdf[rv.x - 1] + hist[rv.x]

    # The count of the darkest occupied level (cdf is non-decreasing).
    cdf_min = hl.minimum(hl.select(cdf[rv.x] > 0, cdf[rv.x], hl.u32(n_pixels)))
    lut = hl.Func("lut")
    scale = hl.f32(255.0) / hl.cast(hl.Float(32), hl.u32(n_pixels) - cdf_min)
    level = hl.cast(hl.Float(32), hl.cast(hl.Int(32), cdf[i]) - hl.cast(hl.Int(32), cdf_min))
    lut[i] = hl.cast(hl.UInt(8), hl.clamp(hl.round(level * scale), 0.0, 255.0))

    output = hl.Func("equalized")
    output[x, y] = lut[hl.cast(hl.Int(32), input[x, y])]

    partial.compute_root().update().parallel(s)
    hist.compute_root()
    cdf.compute_root()
    lut.compute_root()
    output.split(y, y, yi, 64).parallel(y).vectorize(x, _vec(hl, hl.UInt(8)))
    return output


def _equalize_lut(image):
    hist = np.bincount(image.ravel(), minlength=256)
    cdf = np.cumsum(hist)
    cdf_min = cdf[np.nonzero(hist)[0][0]]
    scale = np.float32(255.0) / np.float32(image.size - cdf_min)
    level = (cdf.astype(np.int64) - cdf_min).astype(np.float32)
    return np.clip(np.rint(level * scale), 0, 255).astype(np.uint8)


def reference_hist_eq(inputs):
    image = inputs["input"]
    return _equalize_lut(image)[image]


HIST_EQ = Benchmark(
    name="hist_eq",
    description="histogram equalization of a uint8 image (parallel partial histograms, scan, LUT)",
    sizes={
        "tiny": dict(width=128, height=128),
        "small": dict(width=1024, height=1024),
        "medium": dict(width=2048, height=2048),
        "full": dict(width=4096, height=4096),
    },
    make_inputs=_hist_eq_inputs,
    build=build_hist_eq,
    reference=reference_hist_eq,
    peer_tolerance=Tolerance(atol=1),
)


# --------------------------------------------------------------------------
# Matrix multiply, float32.


def _matmul_inputs(rng, n):
    return {
        "a": rng.uniform(-1, 1, size=(n, n)).astype(np.float32),
        "b": rng.uniform(-1, 1, size=(n, n)).astype(np.float32),
    }


def build_matmul(hl, inputs):
    n = inputs["a"].shape[1]
    A, B = hl.Buffer(inputs["a"]), hl.Buffer(inputs["b"])
    x, y, xi, yi, yii, xy = (hl.Var(v) for v in ("x", "y", "xi", "yi", "yii", "xy"))
    k = hl.RDom([(0, n)])

    # C[y, x] = sum_k A[y, k] * B[k, x]; in buffer coordinates A[k, y] and B[x, k].
    prod, C = hl.Func("prod"), hl.Func("matmul")
    prod[x, y] = hl.f32(0)
    prod[x, y] += A[k.x, y] * B[x, k.x]
    C[x, y] = prod[x, y]

    # Register blocking (after Halide's test/performance/matrix_multiplication):
    # each task owns a (3 vec) x 32 tile of C; an accumulator block of
    # (3 vec) x 8 -- 24 of AVX-512's 32 vector registers -- stays in registers
    # while k runs innermost, reusing each load of B 8 times and of A 3 times.
    vec = _vec(hl, hl.Float(32))
    C.tile(x, y, xi, yi, 3 * vec, 32).fuse(x, y, xy).parallel(xy)
    C.split(yi, yi, yii, 8).vectorize(xi, vec).unroll(xi).unroll(yii)
    prod.compute_at(C, yi).vectorize(x, vec).unroll(x).unroll(y)
    prod.update().reorder(x, y, k.x).vectorize(x, vec).unroll(x).unroll(y)
    return C


def reference_matmul(inputs):
    return inputs["a"] @ inputs["b"]


MATMUL = Benchmark(
    name="matmul",
    description="float32 matrix multiply, tiled / vectorized / parallel",
    sizes={"tiny": dict(n=64), "small": dict(n=256), "medium": dict(n=512), "full": dict(n=1024)},
    make_inputs=_matmul_inputs,
    build=build_matmul,
    reference=reference_matmul,
    tolerance=Tolerance(rtol=1e-5),
    peer_tolerance=Tolerance(rtol=1e-5),
    flops=lambda inputs: 2.0 * inputs["a"].shape[0] * inputs["a"].shape[1] * inputs["b"].shape[1],
)


# --------------------------------------------------------------------------
# Convolution layer + ReLU (Halide apps/conv_layer), channels innermost.


def _conv_inputs(rng, batch, channels, size):
    return {
        # NHWC input with a 1-pixel border already in place (no boundary condition).
        "input": rng.uniform(-1, 1, size=(batch, size + 2, size + 2, channels)).astype(np.float32),
        # (CI, KY, KX, CO): buffer filter[co, kx, ky, ci].
        "filter": rng.uniform(-0.1, 0.1, size=(channels, 3, 3, channels)).astype(np.float32),
        "bias": rng.uniform(-0.5, 0.5, size=(channels,)).astype(np.float32),
    }


def build_conv_relu(hl, inputs):
    channels_in = inputs["input"].shape[3]
    input, filter, bias = (hl.Buffer(inputs[name]) for name in ("input", "filter", "bias"))
    c, x, y, n = hl.Var("c"), hl.Var("x"), hl.Var("y"), hl.Var("n")
    r = hl.RDom([(0, 3), (0, 3), (0, channels_in)])

    conv, relu = hl.Func("conv"), hl.Func("relu")
    conv[c, x, y, n] = bias[c]
    conv[c, x, y, n] += filter[c, r.x, r.y, r.z] * input[r.z, x + r.x, y + r.y, n]
    relu[c, x, y, n] = hl.max(hl.f32(0), conv[c, x, y, n])

    # apps/conv_layer's CPU schedule: a register block of (vec * 4) output
    # channels by 4 pixels accumulates over the whole reduction domain.
    vec = _vec(hl, hl.Float(32))
    tile_c, tile_x = min(vec * 4, inputs["bias"].shape[0]), 4
    co, ci, xo, xi, ny = hl.Var("co"), hl.Var("ci"), hl.Var("xo"), hl.Var("xi"), hl.Var("ny")
    relu.split(c, co, ci, tile_c).split(x, xo, xi, tile_x).reorder(ci, xi, xo, y, n, co)
    relu.vectorize(ci, vec).unroll(ci).unroll(xi).fuse(y, n, ny).parallel(ny)
    conv.compute_at(relu, xo).vectorize(c, vec).unroll(c).unroll(x)
    conv.update().reorder(c, x, r.z, r.x, r.y).vectorize(c, vec).unroll(c).unroll(x)
    return relu


def reference_conv_relu(inputs):
    inp, w, b = inputs["input"], inputs["filter"], inputs["bias"]
    batch, hp, wp, ci = inp.shape
    h, wd = hp - 2, wp - 2
    # im2col: (N*H*W, KY*KX*CI) @ (KY*KX*CI, CO)
    cols = np.stack([inp[:, ky : ky + h, kx : kx + wd, :] for ky in range(3) for kx in range(3)], axis=3)
    weights = w.transpose(1, 2, 0, 3).reshape(9 * ci, -1)
    out = cols.reshape(batch * h * wd, 9 * ci) @ weights + b
    return np.maximum(out, 0).reshape(batch, h, wd, -1).astype(np.float32)


def _conv_flops(inputs):
    batch, hp, wp, ci = inputs["input"].shape
    co = inputs["filter"].shape[3]
    return 2.0 * batch * (hp - 2) * (wp - 2) * co * ci * 9


CONV_RELU = Benchmark(
    name="conv_relu",
    description="3x3 convolution layer + ReLU, float32 NHWC (batch 4, 64->64 channels, 64x64)",
    sizes={
        "tiny": dict(batch=1, channels=16, size=16),
        "small": dict(batch=1, channels=64, size=32),
        "medium": dict(batch=2, channels=64, size=64),
        "full": dict(batch=4, channels=64, size=64),
    },
    make_inputs=_conv_inputs,
    build=build_conv_relu,
    reference=reference_conv_relu,
    tolerance=Tolerance(rtol=1e-5),
    peer_tolerance=Tolerance(rtol=1e-5),
    flops=_conv_flops,
)


# --------------------------------------------------------------------------
# Max filter: separable 11x11 dilation of a uint8 image.

MAX_RADIUS = 5


def _max_filter_inputs(rng, width, height):
    pad = 2 * MAX_RADIUS
    return {"input": rng.integers(0, 256, size=(height + pad, width + pad), dtype=np.uint8)}


def build_max_filter(hl, inputs):
    input = hl.Buffer(inputs["input"])
    x, y, yi = hl.Var("x"), hl.Var("y"), hl.Var("yi")
    taps = range(2 * MAX_RADIUS + 1)
    max_x, max_y = hl.Func("max_x"), hl.Func("max_y")
    max_x[x, y] = functools.reduce(hl.max, [input[x + i, y] for i in taps])
    max_y[x, y] = functools.reduce(hl.max, [max_x[x, y + i] for i in taps])

    # As the box blur: strips in parallel, max_x sliding down each strip.
    vec = _vec(hl, hl.UInt(8))
    max_y.split(y, y, yi, 64).parallel(y).vectorize(x, vec)
    max_x.store_at(max_y, y).compute_at(max_y, yi).vectorize(x, vec)
    return max_y


def reference_max_filter(inputs):
    a = inputs["input"]
    k = 2 * MAX_RADIUS + 1
    h, w = a.shape[0] - k + 1, a.shape[1] - k + 1
    mx = functools.reduce(np.maximum, [a[:, i : i + w] for i in range(k)])
    return functools.reduce(np.maximum, [mx[i : i + h] for i in range(k)])


MAX_FILTER = Benchmark(
    name="max_filter",
    description=f"{2 * MAX_RADIUS + 1}x{2 * MAX_RADIUS + 1} max filter (dilation), uint8, separable",
    sizes={
        "tiny": dict(width=128, height=128),
        "small": dict(width=2048, height=2048),
        "medium": dict(width=4096, height=4096),
        "full": dict(width=8192, height=8192),
    },
    make_inputs=_max_filter_inputs,
    build=build_max_filter,
    reference=reference_max_filter,
)


# --------------------------------------------------------------------------
# A deep pipeline of 12 stages: edge-aware detail enhancement and tone mapping
# of a 12-bit raw-like image to 8-bit.


def _enhance_inputs(rng, width, height):
    yy, xx = np.mgrid[0:height, 0:width]
    scene = 1500 + 1200 * np.sin(xx / 37.0) * np.cos(yy / 53.0)  # smooth structure
    noise = rng.normal(0, 60, size=(height, width))
    return {"input": np.clip(scene + noise, 0, 4095).astype(np.uint16)}


def build_enhance(hl, inputs):
    f32 = functools.partial(_f32, hl)
    x, y, xi, yi = hl.Var("x"), hl.Var("y"), hl.Var("xi"), hl.Var("yi")
    raw = hl.BoundaryConditions.repeat_edge(hl.Buffer(inputs["input"]))
    stages = "linear blur_x blur_y grad_x grad_y magnitude weight detail enhanced tone gamma enhance"
    (linear, blur_x, blur_y, grad_x, grad_y, magnitude, weight, detail, enhanced, tone, gamma, output) = (
        hl.Func(name) for name in stages.split()
    )
    linear[x, y] = hl.cast(hl.Float(32), raw[x, y]) * f32(1 / 4095)
    blur_x[x, y] = (linear[x - 1, y] + 2 * linear[x, y] + linear[x + 1, y]) * f32(0.25)
    blur_y[x, y] = (blur_x[x, y - 1] + 2 * blur_x[x, y] + blur_x[x, y + 1]) * f32(0.25)
    grad_x[x, y] = blur_y[x + 1, y] - blur_y[x - 1, y]
    grad_y[x, y] = blur_y[x, y + 1] - blur_y[x, y - 1]
    magnitude[x, y] = hl.sqrt(grad_x[x, y] * grad_x[x, y] + grad_y[x, y] * grad_y[x, y])
    weight[x, y] = 1 / (1 + 16 * magnitude[x, y])  # ~1 in flat areas, small on edges
    detail[x, y] = linear[x, y] - blur_y[x, y]
    enhanced[x, y] = blur_y[x, y] + detail[x, y] * (1 + 2 * weight[x, y])
    tone[x, y] = 2 * enhanced[x, y] / (1 + enhanced[x, y])  # Reinhard-style curve
    gamma[x, y] = hl.sqrt(hl.clamp(tone[x, y], 0.0, 1.0))
    output[x, y] = hl.cast(hl.UInt(8), gamma[x, y] * 255 + f32(0.5))

    # 2D tiles in parallel; the two blur stages are computed per tile (with a
    # small halo), every pointwise stage is inlined into the output.
    vec = _vec(hl, hl.Float(32))
    output.tile(x, y, xi, yi, 256, 32).parallel(y).vectorize(xi, vec)
    blur_y.compute_at(output, x).vectorize(x, vec)
    blur_x.compute_at(output, x).vectorize(x, vec)
    return output


def reference_enhance(inputs):
    raw = inputs["input"]
    h, w = raw.shape
    linear = np.pad(raw, 3, mode="edge").astype(np.float32) * np.float32(1 / 4095)  # pixel i at i + 3
    q = np.float32(0.25)
    bx = (linear[:, :-2] + 2 * linear[:, 1:-1] + linear[:, 2:]) * q  # columns -2 .. w+1
    by = (bx[:-2] + 2 * bx[1:-1] + bx[2:]) * q  # rows -2 .. h+1
    by_c = by[1:-1, 1:-1]  # pixels -1 .. n
    gx = by_c[1:-1, 2:] - by_c[1:-1, :-2]
    gy = by_c[2:, 1:-1] - by_c[:-2, 1:-1]
    centre = by_c[1:-1, 1:-1]
    magnitude = np.sqrt(gx * gx + gy * gy)
    weight = 1 / (1 + 16 * magnitude)
    detail = linear[3 : 3 + h, 3 : 3 + w] - centre
    enhanced = centre + detail * (1 + 2 * weight)
    tone = 2 * enhanced / (1 + enhanced)
    gamma = np.sqrt(np.clip(tone, 0, 1))
    return (gamma * 255 + np.float32(0.5)).astype(np.uint8)


ENHANCE = Benchmark(
    name="enhance",
    description="12-stage pipeline: blur, gradients, edge weight, detail boost, tone curve, gamma, to uint8",
    sizes={
        "tiny": dict(width=256, height=64),
        "small": dict(width=1024, height=1024),
        "medium": dict(width=2048, height=2048),
        "full": dict(width=4096, height=4096),
    },
    make_inputs=_enhance_inputs,
    build=build_enhance,
    reference=reference_enhance,
    tolerance=Tolerance(atol=1),  # float rounding can flip the last quantization step
)


BENCHMARKS: dict[str, Benchmark] = {b.name: b for b in (BOX_BLUR, HIST_EQ, CONV_RELU, ENHANCE)}

# Halide's apps, with their own schedules (they replace the earlier unsharp,
# harris, matmul and max_filter benchmarks of the same names).
from .apps import APPS  # noqa: E402  (the apps use Benchmark, defined above)

BENCHMARKS.update(APPS)
