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
import numpy as np

from .apps.dnn import reference_conv_layer as reference_conv_relu  # the same layer, checked the same way
from .benchmark import SIZE_LEVELS, Benchmark, Envelope, Tolerance, _vec  # noqa: F401  (re-exported)


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
