"""Halide's stencil apps (apps/blur, unsharp, harris, stencil_chain, max_filter,
iir_blur) with their own CPU schedules, for both compilers.

Each ``build`` follows the generator's non-autoscheduled CPU branch; where a
schedule directive is not in pipelang yet, the comment says what was left out
(of both compilers' schedules, so they still compare the same schedule).
Image sizes follow the generators' estimates (1536 x 2560) at ``full``.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..benchmark import Benchmark, Tolerance, _vec

SIZES = {
    "tiny": dict(width=96, height=64),
    "small": dict(width=384, height=640),
    "medium": dict(width=768, height=1280),
    "full": dict(width=1536, height=2560),
}


def _planar(rng, width, height, channels=3):
    return {"input": rng.uniform(0.05, 1.0, size=(channels, height, width)).astype(np.float32)}


# --------------------------------------------------------------------------
# apps/blur: 3x3 box blur on uint16, no boundary condition.


def _blur_inputs(rng, width, height):
    return {"input": rng.integers(0, 1 << 16, size=(height + 2, width + 2), dtype=np.uint16)}


def build_blur(hl, inputs):
    input = hl.Buffer(inputs["input"])
    x, y, yi = hl.Var("x"), hl.Var("y"), hl.Var("yi")
    blur_x, blur_y = hl.Func("blur_x"), hl.Func("blur_y")
    blur_x[x, y] = (input[x, y] + input[x + 1, y] + input[x + 2, y]) // 3
    blur_y[x, y] = (blur_x[x, y] + blur_x[x, y + 1] + blur_x[x, y + 2]) // 3
    blur_y.split(y, y, yi, 32).parallel(y).vectorize(x, 16)
    blur_x.store_at(blur_y, y).compute_at(blur_y, x).vectorize(x, 16)
    return blur_y


def reference_blur(inputs):
    a = inputs["input"]  # uint16 arithmetic wraps, as Halide's
    h, w = a.shape[0] - 2, a.shape[1] - 2
    bx = (a[:, 0:w] + a[:, 1 : w + 1] + a[:, 2 : w + 2]) // np.uint16(3)
    return (bx[0:h] + bx[1 : h + 1] + bx[2 : h + 2]) // np.uint16(3)


BLUR = Benchmark(
    name="blur",
    description="apps/blur: 3x3 box blur, uint16, blur_x computed per vector of blur_y",
    sizes={
        "tiny": dict(width=128, height=64),
        "small": dict(width=1536, height=1280),
        "medium": dict(width=3072, height=2560),
        "full": dict(width=6144, height=5120),
    },
    make_inputs=_blur_inputs,
    build=build_blur,
    reference=reference_blur,
)


# --------------------------------------------------------------------------
# apps/unsharp: gray, a 7-tap Gaussian (not normalized, as the app), sharpen, ratio.

SIGMA = 1.5
LUMA = (0.299, 0.587, 0.114)


def unsharp_kernel():
    """The app's kernel(0..3), evaluated in float32 as Halide folds it."""
    f = np.float32
    s = f(SIGMA)
    return [f(np.exp(f(-i * i) / (f(2) * s * s)) / (f(math.sqrt(2 * 3.14159265358979310000)) * s)) for i in range(4)]


def _gray(hl, input, x, y):
    return hl.f32(LUMA[0]) * input[x, y, 0] + hl.f32(LUMA[1]) * input[x, y, 1] + hl.f32(LUMA[2]) * input[x, y, 2]


def build_unsharp(hl, inputs):
    x, y, c = hl.Var("x"), hl.Var("y"), hl.Var("c")
    k = [hl.f32(float(v)) for v in unsharp_kernel()]
    buf = hl.Buffer(inputs["input"])
    input = hl.BoundaryConditions.repeat_edge(buf)
    gray, blur_y, blur_x = hl.Func("gray"), hl.Func("blur_y"), hl.Func("blur_x")
    sharpen, ratio, output = hl.Func("sharpen"), hl.Func("ratio"), hl.Func("unsharp")
    gray[x, y] = _gray(hl, input, x, y)
    blur_y[x, y] = (
        k[0] * gray[x, y]
        + k[1] * (gray[x, y - 1] + gray[x, y + 1])
        + k[2] * (gray[x, y - 2] + gray[x, y + 2])
        + k[3] * (gray[x, y - 3] + gray[x, y + 3])
    )
    blur_x[x, y] = (
        k[0] * blur_y[x, y]
        + k[1] * (blur_y[x - 1, y] + blur_y[x + 1, y])
        + k[2] * (blur_y[x - 2, y] + blur_y[x + 2, y])
        + k[3] * (blur_y[x - 3, y] + blur_y[x + 3, y])
    )
    sharpen[x, y] = 2 * gray[x, y] - blur_x[x, y]
    ratio[x, y] = sharpen[x, y] / gray[x, y]
    output[x, y, c] = ratio[x, y] * buf[x, y, c]

    vec = _vec(hl, hl.Float(32))
    yo, yi = hl.Var("yo"), hl.Var("yi")
    output.split(y, yo, yi, 32).vectorize(x, vec).parallel(yo).reorder(x, c, yi, yo)
    gray.compute_at(output, yi).store_at(output, yo).vectorize(x, vec)
    blur_y.compute_at(output, yi).store_at(output, yo).vectorize(x, vec)
    ratio.compute_at(output, yi).store_at(output, yo).vectorize(x, vec)
    return output


def gray_np(img):
    f = np.float32
    return f(LUMA[0]) * img[0] + f(LUMA[1]) * img[1] + f(LUMA[2]) * img[2]


def reference_unsharp(inputs):
    img = inputs["input"]
    _, h, w = img.shape
    g = gray_np(img)
    gp = np.pad(g, 3, mode="edge")
    k = unsharp_kernel()
    by = k[0] * gp[3 : 3 + h] + sum(k[i] * (gp[3 - i : 3 - i + h] + gp[3 + i : 3 + i + h]) for i in range(1, 4))
    bx = k[0] * by[:, 3 : 3 + w] + sum(k[i] * (by[:, 3 - i : 3 - i + w] + by[:, 3 + i : 3 + i + w]) for i in range(1, 4))
    ratio = (2 * g - bx) / g
    return (ratio[None] * img).astype(np.float32)


UNSHARP = Benchmark(
    name="unsharp",
    description="apps/unsharp: gray, 7-tap Gaussian, sharpen, ratio; planar float32 RGB",
    sizes=SIZES,
    make_inputs=_planar,
    build=build_unsharp,
    reference=reference_unsharp,
    tolerance=Tolerance(rtol=1e-4),
    peer_tolerance=Tolerance(rtol=1e-4),
)


# --------------------------------------------------------------------------
# apps/harris: Sobel derivatives, 3x3 structure tensor, corner response.
# The app reads no boundary condition and writes an inset output; here the
# input is repeat_edge'd so the output covers the image. The schedule is the
# app's CPU schedule, Ix.compute_with(Iy, x) included.

_IY = ((-1, -1, -1), (-1, 1, 1), (0, -1, -2), (0, 1, 2), (1, -1, -1), (1, 1, 1))  # (dx, dy, weight/12)
_IX = ((-1, -1, -1), (1, -1, 1), (-1, 0, -2), (1, 0, 2), (-1, 1, -1), (1, 1, 1))


def build_harris(hl, inputs):
    x, y, yi = hl.Var("x"), hl.Var("y"), hl.Var("yi")
    input = hl.BoundaryConditions.repeat_edge(hl.Buffer(inputs["input"]))
    gray, Ix, Iy = hl.Func("gray"), hl.Func("Ix"), hl.Func("Iy")
    Ixx, Iyy, Ixy = hl.Func("Ixx"), hl.Func("Iyy"), hl.Func("Ixy")
    Sxx, Syy, Sxy = hl.Func("Sxx"), hl.Func("Syy"), hl.Func("Sxy")
    det, trace, output = hl.Func("det"), hl.Func("trace"), hl.Func("harris")
    gray[x, y] = _gray(hl, input, x, y)

    def taps(table):
        return functools.reduce(
            lambda a, b: a + b, [gray[x + dx, y + dy] * hl.f32(w / 12) for dx, dy, w in table]
        )

    Iy[x, y] = taps(_IY)
    Ix[x, y] = taps(_IX)
    Ixx[x, y] = Ix[x, y] * Ix[x, y]
    Iyy[x, y] = Iy[x, y] * Iy[x, y]
    Ixy[x, y] = Ix[x, y] * Iy[x, y]

    def sum3x3(f):
        return functools.reduce(lambda a, b: a + b, [f[x + dx, y + dy] for dx in (-1, 0, 1) for dy in (-1, 0, 1)])

    Sxx[x, y] = sum3x3(Ixx)
    Syy[x, y] = sum3x3(Iyy)
    Sxy[x, y] = sum3x3(Ixy)
    det[x, y] = Sxx[x, y] * Syy[x, y] - Sxy[x, y] * Sxy[x, y]
    trace[x, y] = Sxx[x, y] + Syy[x, y]
    output[x, y] = det[x, y] - hl.f32(0.04) * trace[x, y] * trace[x, y]

    vec = _vec(hl, hl.Float(32))
    output.split(y, y, yi, 32).parallel(y).vectorize(x, vec)
    gray.store_at(output, y).compute_at(output, yi).vectorize(x, vec)
    Ix.store_at(output, y).compute_at(output, yi).vectorize(x, vec)
    Iy.store_at(output, y).compute_at(output, yi).vectorize(x, vec)
    Ix.compute_with(Iy, x)
    return output


def reference_harris(inputs):
    img = inputs["input"]
    _, h, w = img.shape
    g = np.pad(gray_np(img), 2, mode="edge")  # pixel i at index i + 2

    def at(dx, dy):  # g shifted, over pixels -1 .. n (for the 3x3 sums)
        return g[1 + dy : 1 + dy + h + 2, 1 + dx : 1 + dx + w + 2]

    def taps(table):
        return functools.reduce(lambda a, b: a + b, [at(dx, dy) * np.float32(wt / 12) for dx, dy, wt in table])

    iy, ix = taps(_IY), taps(_IX)

    def sum3x3(a):
        return functools.reduce(
            lambda p, q: p + q, [a[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w] for dx in (-1, 0, 1) for dy in (-1, 0, 1)]
        )

    sxx, syy, sxy = sum3x3(ix * ix), sum3x3(iy * iy), sum3x3(ix * iy)
    trace = sxx + syy
    return (sxx * syy - sxy * sxy - np.float32(0.04) * trace * trace).astype(np.float32)


HARRIS = Benchmark(
    name="harris",
    description="apps/harris: Harris corner response on planar float32 RGB",
    sizes=SIZES,
    make_inputs=_planar,
    build=build_harris,
    reference=reference_harris,
    tolerance=Tolerance(rtol=1e-4),
    peer_tolerance=Tolerance(rtol=1e-4),
)


# --------------------------------------------------------------------------
# apps/stencil_chain: 32 chained 5x5 weighted sums on uint16 (wrapping).

# The app chains 32; the harness runs 12 (two groups, of 11 stages and of 1),
# which keeps the app's structure: pipelang's bounds inference takes minutes
# on deep chains today (its interval expressions grow with depth), and the
# numpy reference seconds.
STENCILS = 12
GROUP = 11


def _u16_inputs(rng, width, height):
    return {"input": rng.integers(0, 1 << 16, size=(height, width), dtype=np.uint16)}


def build_stencil_chain(hl, inputs, stencils=STENCILS):
    height, width = inputs["input"].shape
    x, y = hl.Var("x"), hl.Var("y")
    stages = [hl.BoundaryConditions.repeat_edge(hl.Buffer(inputs["input"]))]
    for s in range(stencils):
        f = hl.Func(f"stage_{s}")
        e = hl.u16(0)
        for i in range(-2, 3):
            for j in range(-2, 3):
                e = e + ((i + 3) * (j + 3)) * stages[-1][x + i, y + j]
        f[x, y] = e
        stages.append(f)
    output = hl.Func("stencil_chain")
    output[x, y] = stages[-1][x, y]

    # Groups of 11 stages: the last of each is computed in 4 x 4 parallel
    # tiles (sized to its region, as the app sizes them to its estimates),
    # the others are stored per tile and computed per row of it.
    vec = _vec(hl, hl.UInt(16))
    yi, yo, xo, xi, t = (hl.Var(n) for n in ("yi", "yo", "xo", "xi", "t"))
    last = len(stages) - 1
    for j in range(last, 0, -GROUP):
        out = output if j == last else stages[j]
        expansion = 4 * (last - j)
        w, h = width + expansion, height + expansion
        out.compute_root().tile(x, y, xo, yo, xi, yi, w // 4, h // 4).fuse(xo, yo, t).parallel(t).vectorize(xi, vec)
        for i in range(max(0, j - GROUP + 1), j):
            s = stages[i]  # stage 0 is the boundary condition, with its own vars
            s.store_at(out, t).compute_at(out, yi).vectorize(s.args()[0], vec)
    return output


def reference_stencil_chain(inputs, stencils=STENCILS):
    a = np.pad(inputs["input"], 2 * stencils, mode="edge")
    for _ in range(stencils):
        h, w = a.shape[0] - 4, a.shape[1] - 4
        e = np.zeros((h, w), np.uint16)
        for i in range(-2, 3):
            for j in range(-2, 3):
                e += np.uint16((i + 3) * (j + 3)) * a[2 + j : 2 + j + h, 2 + i : 2 + i + w]
        a = e
    return a


STENCIL_CHAIN = Benchmark(
    name="stencil_chain",
    description=f"apps/stencil_chain: {STENCILS} chained 5x5 stencils on uint16, groups of {GROUP}",
    sizes={  # tiles are a quarter of the image: at least one vector (32 x uint16) wide
        "tiny": dict(width=128, height=32),
        "small": dict(width=512, height=640),
        "medium": dict(width=1024, height=1280),
        "full": dict(width=1536, height=2560),
    },
    make_inputs=_u16_inputs,
    build=build_stencil_chain,
    reference=reference_stencil_chain,
)


# --------------------------------------------------------------------------
# apps/max_filter: a circular max filter of radius 26 from a vertical
# scan of power-of-two window maxima (vert_log), on planar float32.

RADIUS = 26


def build_max_filter(hl, inputs, radius=RADIUS):
    buf = hl.Buffer(inputs["input"])
    height = inputs["input"].shape[1]
    x, y, c, t = hl.Var("x"), hl.Var("y"), hl.Var("c"), hl.Var("t")
    input = hl.BoundaryConditions.repeat_edge(buf, [(0, buf.width()), (0, buf.height())])
    slices = int(math.ceil(math.log(radius) / math.log(2))) + 1

    vert_log = hl.Func("vert_log")
    vert_log[x, y, c, t] = input[x, y, c]
    r = hl.RDom([(-radius, height + radius), (1, slices - 1)])
    step = hl.clamp(1 << (r.y - 1), 0, radius * 2)
    vert_log[x, r.x, c, r.y] = hl.max(vert_log[x, r.x, c, r.y - 1], vert_log[x, r.x + step, c, r.y - 1])

    slice_for_radius = hl.Func("slice_for_radius")
    slice_for_radius[t] = hl.cast(hl.Int(32), hl.floor(hl.log(2 * t + 1) / hl.f32(math.log(2))))
    vert = hl.Func("vert")
    slice = hl.clamp(slice_for_radius[t], 0, slices)
    first = vert_log[x, y - t, c, slice]
    second = vert_log[x, y + t + 1 - hl.clamp(1 << slice, 0, 2 * radius), c, slice]
    vert[x, y, c, t] = hl.max(first, second)

    filter_height = hl.Func("filter_height")
    dy = hl.RDom([(0, radius + 1)])
    edge = hl.f32((radius + 0.25) * (radius + 0.25))
    filter_height[x] = hl.sum(hl.select(x * x + dy.x * dy.x < edge, 1, 0))
    dx = hl.RDom([(-radius, 2 * radius + 1)])
    output = hl.Func("max_filter")
    output[x, y, c] = hl.maximum(vert[x + dx.x, y, c, hl.clamp(filter_height[dx.x], 0, radius + 1)])

    tx = hl.Var("tx")
    slice_for_radius.compute_root()
    filter_height.compute_root()
    output.compute_root().split(x, tx, x, 256).reorder(x, y, c, tx).fuse(c, tx, t).parallel(t).vectorize(x, 8)
    vert_log.compute_at(output, t)
    vert_log.vectorize(x, 8)
    vert_log.update().reorder(x, r.x, r.y, c).vectorize(x, 8)
    vert.compute_at(output, y).vectorize(x, 8)
    return output


def reference_max_filter(inputs, radius=RADIUS):
    img = inputs["input"]
    _, h, w = img.shape
    pad = radius + 1
    p = np.pad(img, ((0, 0), (pad, pad), (pad, pad)), mode="edge")  # pixel i at i + pad
    # vert[t]: the max over rows y - t .. y + t, for the columns -pad .. w + pad.
    vert = {}
    heights = [sum(1 for d in range(radius + 1) if k * k + d * d < (radius + 0.25) ** 2) for k in range(-radius, radius + 1)]
    for t in sorted(set(min(max(v, 0), radius + 1) for v in heights)):
        m = p[:, pad - t : pad - t + h]
        for d in range(-t + 1, t + 1):
            m = np.maximum(m, p[:, pad + d : pad + d + h])
        vert[t] = m
    out = None
    for k, t in zip(range(-radius, radius + 1), heights):
        v = vert[min(max(t, 0), radius + 1)][:, :, pad + k : pad + k + w]
        out = v if out is None else np.maximum(out, v)
    return out.astype(np.float32)


MAX_FILTER = Benchmark(
    name="max_filter",
    description=f"apps/max_filter: circular max filter, radius {RADIUS}, from a log-step vertical scan",
    sizes={  # at least 256 wide: the schedule splits x by 256
        "tiny": dict(width=256, height=32),
        "small": dict(width=256, height=320),
        "medium": dict(width=512, height=640),
        "full": dict(width=768, height=1280),
    },
    make_inputs=_planar,
    build=build_max_filter,
    reference=reference_max_filter,
)


# --------------------------------------------------------------------------
# apps/iir_blur: a first-order IIR filter down and up the columns, transposed,
# twice. The app's undef() pure definition is 0.0f here (pipelang has no undef).

ALPHA = 0.1


def _blur_cols_transpose(hl, input, height, alpha, vec):
    x, y, c = hl.Var("x"), hl.Var("y"), hl.Var("c")
    blur = hl.Func("blur")
    blur[x, y, c] = hl.f32(0)
    blur[x, 0, c] = input[x, 0, c]
    ry = hl.RDom([(1, height - 1)])
    blur[x, ry.x, c] = (1 - alpha) * blur[x, ry.x - 1, c] + alpha * input[x, ry.x, c]
    flip = height - ry.x - 1
    blur[x, flip, c] = (1 - alpha) * blur[x, flip + 1, c] + alpha * blur[x, flip, c]
    transpose = hl.Func("transpose")
    transpose[x, y, c] = blur[y, x, c]

    xo, yo = hl.Var("xo"), hl.Var("yo")
    transpose.compute_root().tile(x, y, xo, yo, x, y, vec, vec * 4).vectorize(x).parallel(yo).parallel(c)
    blur.compute_at(transpose, yo)
    blur.update(0).unscheduled()
    blur.update(1).reorder(x, ry.x).vectorize(x)
    blur.update(2).reorder(x, ry.x).vectorize(x)
    return transpose


def build_iir_blur(hl, inputs):
    _, height, width = inputs["input"].shape
    vec = _vec(hl, hl.Float(32))
    alpha = hl.f32(ALPHA)
    blury_t = _blur_cols_transpose(hl, hl.Buffer(inputs["input"]), height, alpha, vec)
    return _blur_cols_transpose(hl, blury_t, width, alpha, vec)


def _iir_cols(a, alpha):
    """a: (C, H, W) -> the same, filtered down then up the rows axis."""
    f = np.float32
    out = np.empty_like(a)
    out[:, 0] = a[:, 0]
    for i in range(1, a.shape[1]):
        out[:, i] = (f(1) - alpha) * out[:, i - 1] + alpha * a[:, i]
    for i in range(a.shape[1] - 2, -1, -1):
        out[:, i] = (f(1) - alpha) * out[:, i + 1] + alpha * out[:, i]
    return out


def reference_iir_blur(inputs):
    alpha = np.float32(ALPHA)
    t = _iir_cols(inputs["input"], alpha).transpose(0, 2, 1)
    return np.ascontiguousarray(_iir_cols(np.ascontiguousarray(t), alpha).transpose(0, 2, 1))


IIR_BLUR = Benchmark(
    name="iir_blur",
    description="apps/iir_blur: first-order IIR blur down and up the columns, transposed, twice",
    sizes=SIZES,
    make_inputs=_planar,
    build=build_iir_blur,
    reference=reference_iir_blur,
    tolerance=Tolerance(rtol=1e-4),
)


STENCIL_APPS = (BLUR, UNSHARP, HARRIS, STENCIL_CHAIN, MAX_FILTER, IIR_BLUR)
