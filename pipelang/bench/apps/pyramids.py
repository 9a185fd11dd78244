"""Halide's apps/local_laplacian (8 pyramid levels) and apps/interpolate
(10 levels), each with its own CPU schedule.

The app's Params (levels = 8, alpha = beta = 1) are Python constants here, the
same for both compilers. Left out of both schedules: never_partition() and
hoist_storage() (not in pipelang yet), so outGPyramid[0] is allocated per
row instead of once per strip. The app's implicit ``_`` arguments are
spelled out.
"""

from __future__ import annotations

import numpy as np

from ..benchmark import Benchmark, Envelope, Tolerance, _vec

J = 8  # pyramid levels
LEVELS, ALPHA, BETA = 8, 1.0, 1.0


def _rgb16_inputs(rng, width, height):
    yy, xx = np.mgrid[0:height, 0:width]
    base = 30000 + 20000 * np.sin(xx / 61.0) * np.cos(yy / 47.0)
    img = np.stack([base * (0.8 + 0.2 * k) for k in range(3)]) + rng.normal(0, 2000, size=(3, height, width))
    return {"input": np.clip(img, 0, 65535).astype(np.uint16)}


def build_local_laplacian(hl, inputs):
    f32 = hl.f32
    x, y, c, k = hl.Var("x"), hl.Var("y"), hl.Var("c"), hl.Var("k")
    buf = hl.Buffer(inputs["input"])

    def downsample(f, extra):
        downx, downy = hl.Func(), hl.Func()
        downy[(x, y, *extra)] = (
            f[(x, 2 * y - 1, *extra)] + f32(3) * (f[(x, 2 * y, *extra)] + f[(x, 2 * y + 1, *extra)])
            + f[(x, 2 * y + 2, *extra)]
        ) / f32(8)
        downx[(x, y, *extra)] = (
            downy[(2 * x - 1, y, *extra)] + f32(3) * (downy[(2 * x, y, *extra)] + downy[(2 * x + 1, y, *extra)])
            + downy[(2 * x + 2, y, *extra)]
        ) / f32(8)
        return downx

    def upsample(f, extra):
        upx, upy = hl.Func(), hl.Func()
        upx[(x, y, *extra)] = hl.lerp(
            f[((x + 1) // 2, y, *extra)], f[((x - 1) // 2, y, *extra)], ((x % 2) * 2 + 1) / f32(4)
        )
        upy[(x, y, *extra)] = hl.lerp(
            upx[(x, (y + 1) // 2, *extra)], upx[(x, (y - 1) // 2, *extra)], ((y % 2) * 2 + 1) / f32(4)
        )
        return upy

    remap = hl.Func("remap")
    fx = hl.cast(hl.Float(32), x) / f32(256)
    remap[x] = f32(ALPHA) * fx * hl.exp(-fx * fx / f32(2))
    clamped = hl.BoundaryConditions.repeat_edge(buf)
    floating = hl.Func("floating")
    floating[x, y, c] = clamped[x, y, c] / f32(65535)
    gray = hl.Func("gray")
    gray[x, y] = f32(0.299) * floating[x, y, 0] + f32(0.587) * floating[x, y, 1] + f32(0.114) * floating[x, y, 2]

    gP = [hl.Func(f"gPyramid_{j}") for j in range(J)]
    level = k * (f32(1) / (LEVELS - 1))
    idx = gray[x, y] * hl.cast(hl.Float(32), hl.i32(LEVELS - 1)) * f32(256)
    idx = hl.clamp(hl.cast(hl.Int(32), idx), 0, (LEVELS - 1) * 256)
    gP[0][x, y, k] = f32(BETA) * (gray[x, y] - level) + level + remap[idx - 256 * k]
    for j in range(1, J):
        gP[j][x, y, k] = downsample(gP[j - 1], [k])[x, y, k]
    lP = [hl.Func(f"lPyramid_{j}") for j in range(J)]
    lP[J - 1][x, y, k] = gP[J - 1][x, y, k]
    for j in range(J - 2, -1, -1):
        lP[j][x, y, k] = gP[j][x, y, k] - upsample(gP[j + 1], [k])[x, y, k]
    inG = [hl.Func(f"inGPyramid_{j}") for j in range(J)]
    inG[0][x, y] = gray[x, y]
    for j in range(1, J):
        inG[j][x, y] = downsample(inG[j - 1], [])[x, y]
    outL = [hl.Func(f"outLPyramid_{j}") for j in range(J)]
    for j in range(J):
        lvl = inG[j][x, y] * hl.cast(hl.Float(32), hl.i32(LEVELS - 1))
        li = hl.clamp(hl.cast(hl.Int(32), lvl), 0, LEVELS - 2)
        lf = lvl - hl.cast(hl.Float(32), li)
        outL[j][x, y] = (f32(1) - lf) * lP[j][x, y, li] + lf * lP[j][x, y, li + 1]
    outG = [hl.Func(f"outGPyramid_{j}") for j in range(J)]
    outG[J - 1][x, y] = outL[J - 1][x, y]
    for j in range(J - 2, -1, -1):
        outG[j][x, y] = upsample(outG[j + 1], [])[x, y] + outL[j][x, y]
    color = hl.Func("color")
    eps = f32(0.01)
    color[x, y, c] = buf[x, y, c] * (outG[0][x, y] + eps) / (gray[x, y] + eps)
    output = hl.Func("local_laplacian")
    output[x, y, c] = hl.cast(hl.UInt(16), hl.clamp(color[x, y, c], f32(0), f32(65535)))

    yo = hl.Var("yo")
    remap.compute_root()
    output.reorder(c, x, y).split(y, yo, y, 64).parallel(yo).vectorize(x, 8)
    gray.compute_root().parallel(y, 32).vectorize(x, 8)
    for j in range(1, 5):
        inG[j].compute_root().parallel(y, 32).vectorize(x, 8)
        gP[j].compute_root().reorder_storage(x, k, y).reorder(k, y).parallel(y, 8).vectorize(x, 8)
        outG[j].store_at(output, yo).compute_at(output, y).fold_storage(y, 4).vectorize(x, 8, hl.TailStrategy.RoundUp)
    outG[0].compute_at(output, y).vectorize(x, 8, hl.TailStrategy.RoundUp)
    for j in range(5, J):
        inG[j].compute_root()
        gP[j].compute_root().parallel(k)
        outG[j].compute_root()
    return output


# -- the numpy reference: each level an array with the coordinates of its corner


class _Grid:
    """Values of a Func of (x, y) on [x0, x0 + w) x [y0, y0 + h); leading axes are extra dimensions."""

    def __init__(self, a, x0, y0):
        self.a, self.x0, self.y0 = a, x0, y0

    def rows(self, ys):  # f(x, ys) for every x of the grid: ys an integer array
        return self.a[..., ys - self.y0, :]

    def cols(self, xs):
        return self.a[..., xs - self.x0]


def _down(g):
    f = np.float32
    h, w = g.a.shape[-2:]
    y0 = (g.y0 + 2) // 2  # smallest y with 2y - 1 >= y0
    y1 = (g.y0 + h - 3) // 2  # largest y with 2y + 2 <= y0 + h - 1
    ys = np.arange(y0, y1 + 1)
    dy = (g.rows(2 * ys - 1) + f(3) * (g.rows(2 * ys) + g.rows(2 * ys + 1)) + g.rows(2 * ys + 2)) / f(8)
    gy = _Grid(dy, g.x0, y0)
    x0, x1 = (g.x0 + 2) // 2, (g.x0 + w - 3) // 2
    xs = np.arange(x0, x1 + 1)
    dx = (gy.cols(2 * xs - 1) + f(3) * (gy.cols(2 * xs) + gy.cols(2 * xs + 1)) + gy.cols(2 * xs + 2)) / f(8)
    return _Grid(dx, x0, y0)


def _lerp(a, b, w):
    return a * (np.float32(1) - w) + b * w


def _up(g):
    f = np.float32
    h, w = g.a.shape[-2:]
    x0, x1 = 2 * g.x0 + 1, 2 * (g.x0 + w - 1) - 1  # (x - 1) // 2 and (x + 1) // 2 inside
    xs = np.arange(x0, x1 + 1)
    ux = _lerp(g.cols((xs + 1) // 2), g.cols((xs - 1) // 2), ((xs % 2) * 2 + 1).astype(f) / f(4))
    gx = _Grid(ux, x0, g.y0)
    y0, y1 = 2 * g.y0 + 1, 2 * (g.y0 + h - 1) - 1
    ys = np.arange(y0, y1 + 1)
    wy = (((ys % 2) * 2 + 1).astype(f) / f(4))[:, None]
    return _Grid(_lerp(gx.rows((ys + 1) // 2), gx.rows((ys - 1) // 2), wy), x0, y0)


def _crop(g, x0, y0, w, h):
    return _Grid(g.a[..., y0 - g.y0 : y0 - g.y0 + h, x0 - g.x0 : x0 - g.x0 + w], x0, y0)


def _sub(a, b):  # a - b on the intersection of their grids
    x0, y0 = max(a.x0, b.x0), max(a.y0, b.y0)
    x1 = min(a.x0 + a.a.shape[-1], b.x0 + b.a.shape[-1])
    y1 = min(a.y0 + a.a.shape[-2], b.y0 + b.a.shape[-2])
    return _crop(a, x0, y0, x1 - x0, y1 - y0), _crop(b, x0, y0, x1 - x0, y1 - y0)


def _local_laplacian(img, gray, idx):
    """The app's output from its gray image (a padded _Grid) and the remap LUT index of each of its pixels."""
    f = np.float32
    _, h, w = img.shape
    xs = np.arange(-256 * (LEVELS - 1), 256 * (LEVELS - 1) + 1)
    fx = xs.astype(f) / f(256)
    remap = f(ALPHA) * fx * np.exp(-fx * fx / f(2))
    inG = [gray]
    for _ in range(1, J):
        inG.append(_down(inG[-1]))
    # The output pyramid reads each level only a few samples beyond the image.
    regions = [(-4, -4, ((w - 1) >> j) + 9, ((h - 1) >> j) + 9) for j in range(J)]
    lP = [[] for _ in range(J)]  # per level, per k
    for k in range(LEVELS):
        level = f(k) * (f(1) / f(LEVELS - 1))
        g = [_Grid(f(BETA) * (gray.a - level) + level + remap[idx - 256 * k + 256 * (LEVELS - 1)], gray.x0, gray.y0)]
        for _ in range(1, J):
            g.append(_down(g[-1]))
        for j in range(J):
            if j == J - 1:
                lap = g[j]
            else:
                a, b = _sub(g[j], _up(g[j + 1]))
                lap = _Grid(a.a - b.a, a.x0, a.y0)
            lP[j].append(_crop(lap, *regions[j]).a)
    outL = []
    for j in range(J):
        x0, y0, rw, rh = regions[j]
        lvl = _crop(inG[j], *regions[j]).a * f(LEVELS - 1)
        li = np.clip(lvl.astype(np.int32), 0, LEVELS - 2)
        lf = lvl - li.astype(f)
        stack = np.stack(lP[j])
        lo = np.take_along_axis(stack, li[None], 0)[0]
        hi = np.take_along_axis(stack, li[None] + 1, 0)[0]
        outL.append(_Grid((f(1) - lf) * lo + lf * hi, x0, y0))
    outG = outL[J - 1]
    for j in range(J - 2, -1, -1):
        a, b = _sub(_up(outG), outL[j])
        outG = _Grid(a.a + b.a, a.x0, a.y0)
    out0 = _crop(outG, 0, 0, w, h).a
    g0 = _crop(gray, 0, 0, w, h).a
    eps = f(0.01)
    color = img.astype(f) * (out0 + eps) / (g0 + eps)
    return np.clip(color, 0, 65535).astype(np.uint16)


# How far (relative) a compiled float32 ``gray`` may be from the exact value of
# its expression: three products and two sums of positive terms, each rounded
# once (or fused), plus the rounding of the folded constants 0.299 / 65535 and
# the product by LEVELS - 1: a few units in the last place; 16 to spare.
GRAY_RELATIVE_ERROR = 16 * 2.0**-24


def reference_local_laplacian(inputs):
    """The output, with the band every correct float32 compilation may fall in.

    The remap LUT index is trunc(gray * 7 * 256): a step function of ``gray``.
    Halide's float semantics (no strict_float) let a compiler fold
    ``x / 65535 * 0.299`` into one constant and fuse multiply-adds, so the
    last bit of ``gray`` depends on the compiler, and where gray * 1792 lies
    within that rounding of an integer the index may go either way. One step
    of the index moves remap by about 1/256, which the output's
    ``input * (out + eps) / (gray + eps)`` scales up to a few hundred in dark
    areas (93 pixels of a 1536 x 2560 image: Halide's and pipelang's code both
    round gray as fma(g, k1, fma(r, k0, b * k2)), numpy as three products and
    two sums). Both indices are right for those pixels; the reference returns
    the output with numpy's rounding together with the outputs for the lower
    and the upper index at every such pixel (an Envelope).
    """
    f = np.float32
    img = inputs["input"]
    # Each downsampling reads 2 samples out, twice as far at the finer level:
    # margin(j - 1) = 2 margin(j) + 2: about 2^(J + 1) at level 0, and some to spare.
    pad = 3 << J
    padded = np.pad(img, ((0, 0), (pad, pad), (pad, pad)), mode="edge")
    floating = padded.astype(f) / f(65535)
    gray = _Grid(f(0.299) * floating[0] + f(0.587) * floating[1] + f(0.114) * floating[2], -pad, -pad)
    top = (LEVELS - 1) * 256
    idx = np.clip((gray.a * f(LEVELS - 1) * f(256)).astype(np.int32), 0, top)
    out = _local_laplacian(img, gray, idx)
    # The exact value of gray's expression (float64 holds these sums of products to 2^-40 or so).
    c = [float(f(0.299)), float(f(0.587)), float(f(0.114))]
    exact = sum(ci * padded[i].astype(np.float64) for i, ci in enumerate(c)) / 65535.0 * ((LEVELS - 1) * 256)
    low = np.clip(np.floor(exact * (1 - GRAY_RELATIVE_ERROR)).astype(np.int32), 0, top)
    high = np.clip(np.floor(exact * (1 + GRAY_RELATIVE_ERROR)).astype(np.int32), 0, top)
    if not (low != high).any():
        return out
    outs = [out, _local_laplacian(img, gray, np.where(low != high, low, idx)),
            _local_laplacian(img, gray, np.where(low != high, high, idx))]
    return Envelope(out, np.minimum.reduce(outs), np.maximum.reduce(outs))


LOCAL_LAPLACIAN = Benchmark(
    name="local_laplacian",
    description="apps/local_laplacian: 8-level local Laplacian filter (detail enhancement), uint16 RGB",
    sizes={
        "tiny": dict(width=64, height=64),
        "small": dict(width=384, height=640),
        "medium": dict(width=768, height=1280),
        "full": dict(width=1536, height=2560),
    },
    make_inputs=_rgb16_inputs,
    build=build_local_laplacian,
    reference=reference_local_laplacian,
    tolerance=Tolerance(atol=1),
)


# --------------------------------------------------------------------------
# apps/interpolate: fill in an RGBA image's transparent pixels from a
# pyramid of alpha-weighted downsamplings, upsampled back and composited
# level by level, then normalized by alpha. 10 levels; the boundary condition
# at level 4 keeps the coarse levels' footprint from growing far off the image.

INTERP_LEVELS = 10


def _rgba_inputs(rng, width, height):
    # Colour everywhere, but opaque only at about one pixel in eight (alpha in
    # 0.3 .. 1): the pyramid fills in the rest.
    rgb = rng.uniform(0.0, 1.0, size=(3, height, width))
    alpha = np.where(rng.uniform(size=(1, height, width)) < 0.125, rng.uniform(0.3, 1.0, size=(1, height, width)), 0)
    return {"input": np.concatenate([rgb, alpha]).astype(np.float32)}


def build_interpolate(hl, inputs, levels=INTERP_LEVELS):
    f32 = hl.f32
    _, height, width = inputs["input"].shape
    buf = hl.Buffer(inputs["input"])
    x, y, c = hl.Var("x"), hl.Var("y"), hl.Var("c")

    def funcs(name):
        return [hl.Func(f"{name}_{i}") for i in range(levels)]

    downsampled, downx, interpolated = funcs("downsampled"), funcs("downx"), funcs("interpolated")
    upsampled, upsampledx = funcs("upsampled"), funcs("upsampledx")
    clamped = hl.BoundaryConditions.repeat_edge(buf)
    downsampled[0][x, y, c] = hl.select(c < 3, clamped[x, y, c] * clamped[x, y, 3], clamped[x, y, 3])
    for l in range(1, levels):
        prev = downsampled[l - 1]
        if l == 4:  # the app's mid-pyramid boundary condition (a lambda there)
            w, h = width // (1 << (l - 1)), height // (1 << (l - 1))
            prev = hl.lambda_func(x, y, c, prev[hl.clamp(x, 0, w), hl.clamp(y, 0, h), c])
        downx[l][x, y, c] = (prev[x * 2 - 1, y, c] + f32(2) * prev[x * 2, y, c] + prev[x * 2 + 1, y, c]) * f32(0.25)
        downsampled[l][x, y, c] = (
            downx[l][x, y * 2 - 1, c] + f32(2) * downx[l][x, y * 2, c] + downx[l][x, y * 2 + 1, c]
        ) * f32(0.25)
    interpolated[levels - 1][x, y, c] = downsampled[levels - 1][x, y, c]
    for l in range(levels - 2, -1, -1):
        upsampledx[l][x, y, c] = (interpolated[l + 1][x // 2, y, c] + interpolated[l + 1][(x + 1) // 2, y, c]) / f32(2)
        upsampled[l][x, y, c] = (upsampledx[l][x, y // 2, c] + upsampledx[l][x, (y + 1) // 2, c]) / f32(2)
        alpha = f32(1) - downsampled[l][x, y, 3]
        interpolated[l][x, y, c] = downsampled[l][x, y, c] + alpha * upsampled[l][x, y, c]
    normalize = hl.Func("interpolate")
    normalize[x, y, c] = interpolated[0][x, y, c] / interpolated[0][x, y, 3]

    vec = _vec(hl, hl.Float(32))
    xo, xi, yo, yi = hl.Var("xo"), hl.Var("xi"), hl.Var("yo"), hl.Var("yi")
    for l in range(1, levels - 1):
        downsampled[l].compute_root().never_partition([x]).reorder(x, c, y).split(y, yo, yi, 8).parallel(
            yo
        ).vectorize(x, vec)
    # downsampled[0] is recomputed per strip of downsampled[1] (a clone of
    # it for downx[1] only), not computed at root.
    downsampled[0].clone_in(downx[1]).store_at(downsampled[1], yo).compute_at(downsampled[1], yi).reorder(
        c, x, y
    ).unroll(c).vectorize(x, vec).never_partition([y])
    normalize.bound(x, 0, width).bound(y, 0, height).bound(c, 0, 3).never_partition([y])
    normalize.split(x, xo, xi, vec).split(y, yo, yi, 32).reorder(xi, c, xo, yi, yo).unroll(c).vectorize(xi).parallel(yo)
    for l in range(1, levels):
        interpolated[l].store_at(normalize, yo).compute_at(normalize, yi).never_partition_all().vectorize(x, vec)
    return normalize


class _Level:
    """A level's values on the box [x0, x0 + w) x [y0, y0 + h), channels first."""

    def __init__(self, a, x0, y0):
        self.a, self.x0, self.y0 = a, x0, y0

    def at(self, xs, ys):  # values at the integer coordinates ys[:, None], xs[None, :]
        return self.a[:, (ys - self.y0)[:, None], (xs - self.x0)[None, :]]


def reference_interpolate(inputs, levels=INTERP_LEVELS):
    f = np.float32
    img = inputs["input"]
    _, h, w = img.shape
    # The boxes each level is needed on: for the upsampling (level l + 1 at
    # x // 2 and (x + 1) // 2 for level l's x) and for the downsampling of
    # the level above (2x - 1 .. 2x + 1, clamped into [0, w >> 3] at level 4).
    up = [(0, w - 1, 0, h - 1)]
    for _ in range(1, levels):
        xa, xb, ya, yb = up[-1]
        up.append((xa // 2, (xb + 1) // 2, ya // 2, (yb + 1) // 2))
    need = [None] * levels
    need[levels - 1] = up[levels - 1]
    for l in range(levels - 2, -1, -1):
        xa, xb, ya, yb = need[l + 1]
        d = (2 * xa - 1, 2 * xb + 1, 2 * ya - 1, 2 * yb + 1)
        if l + 1 == 4:
            cw, ch = w >> 3, h >> 3
            d = (min(max(d[0], 0), cw), min(max(d[1], 0), cw), min(max(d[2], 0), ch), min(max(d[3], 0), ch))
        u = up[l]
        need[l] = (min(d[0], u[0]), max(d[1], u[1]), min(d[2], u[2]), max(d[3], u[3]))

    def rng(a, b):
        return np.arange(a, b + 1)

    xa, xb, ya, yb = need[0]
    ys, xs = np.clip(rng(ya, yb), 0, h - 1), np.clip(rng(xa, xb), 0, w - 1)
    px = img[:, ys[:, None], xs[None, :]]
    down = [_Level(np.concatenate([px[:3] * px[3:], px[3:]]), xa, ya)]
    for l in range(1, levels):
        prev = down[-1]
        xa, xb, ya, yb = need[l]
        xs, ys = rng(xa, xb), rng(ya - 0, yb)
        rows = rng(2 * ya - 1, 2 * yb + 1)

        def sample(cols, rows_):
            if l == 4:
                cols, rows_ = np.clip(cols, 0, w >> 3), np.clip(rows_, 0, h >> 3)
            return prev.at(cols, rows_)

        dx = (sample(2 * xs - 1, rows) + f(2) * sample(2 * xs, rows) + sample(2 * xs + 1, rows)) * f(0.25)
        dx = _Level(dx, xa, 2 * ya - 1)
        d = (dx.at(xs, 2 * ys - 1) + f(2) * dx.at(xs, 2 * ys) + dx.at(xs, 2 * ys + 1)) * f(0.25)
        down.append(_Level(d, xa, ya))
    xa, xb, ya, yb = up[levels - 1]
    interp = _Level(down[levels - 1].at(rng(xa, xb), rng(ya, yb)), xa, ya)
    for l in range(levels - 2, -1, -1):
        xa, xb, ya, yb = up[l]
        xs, ys = rng(xa, xb), rng(ya, yb)
        rows = rng(ya // 2, (yb + 1) // 2)
        ux = _Level((interp.at(xs // 2, rows) + interp.at((xs + 1) // 2, rows)) / f(2), xa, ya // 2)
        u = (ux.at(xs, ys // 2) + ux.at(xs, (ys + 1) // 2)) / f(2)
        d = down[l].at(xs, ys)
        interp = _Level(d + (f(1) - d[3:]) * u, xa, ya)
    out = interp.at(rng(0, w - 1), rng(0, h - 1))
    return np.ascontiguousarray(out[:3] / out[3:], dtype=np.float32)


INTERPOLATE = Benchmark(
    name="interpolate",
    description="apps/interpolate: fill transparent pixels from a 10-level alpha pyramid, float32 RGBA",
    sizes={
        "tiny": dict(width=96, height=64),
        "small": dict(width=384, height=640),
        "medium": dict(width=768, height=1280),
        "full": dict(width=1536, height=2560),
    },
    make_inputs=_rgba_inputs,
    build=build_interpolate,
    reference=reference_interpolate,
    tolerance=Tolerance(rtol=1e-5, atol=1e-5),
    peer_tolerance=Tolerance(rtol=1e-5, atol=1e-5),
)


PYRAMID_APPS = (LOCAL_LAPLACIAN, INTERPOLATE)
