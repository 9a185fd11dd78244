"""Halide's apps/bilateral_grid and apps/nl_means with their own CPU schedules.

The apps' scalar Params (r_sigma; patch_size, search_area, sigma) are Python
constants here, the same for both compilers.
"""

from __future__ import annotations

import numpy as np

from ..benchmark import Benchmark, Tolerance, _vec
from .stencils import SIZES

S_SIGMA = 8
R_SIGMA = 0.1


def _gray_inputs(rng, width, height):
    return {"input": rng.uniform(0, 1, size=(height, width)).astype(np.float32)}


def build_bilateral_grid(hl, inputs):
    s = S_SIGMA
    x, y, z, c = hl.Var("x"), hl.Var("y"), hl.Var("z"), hl.Var("c")
    buf = hl.Buffer(inputs["input"])
    clamped = hl.BoundaryConditions.repeat_edge(buf)
    r_sigma = hl.f32(R_SIGMA)
    r = hl.RDom([(0, s), (0, s)], "r")
    val = clamped[x * s + r.x - s // 2, y * s + r.y - s // 2]
    val = hl.clamp(val, hl.f32(0), hl.f32(1))
    zi = hl.cast(hl.Int(32), val * (hl.f32(1) / r_sigma) + hl.f32(0.5))
    histogram = hl.Func("histogram")
    histogram[x, y, z, c] = hl.f32(0)
    histogram[x, y, zi, c] += hl.mux(c, [val, hl.f32(1)])

    blurx, blury, blurz = hl.Func("blurx"), hl.Func("blury"), hl.Func("blurz")
    blurz[x, y, z, c] = (
        histogram[x, y, z - 2, c]
        + histogram[x, y, z - 1, c] * 4
        + histogram[x, y, z, c] * 6
        + histogram[x, y, z + 1, c] * 4
        + histogram[x, y, z + 2, c]
    )
    blurx[x, y, z, c] = (
        blurz[x - 2, y, z, c] + blurz[x - 1, y, z, c] * 4 + blurz[x, y, z, c] * 6 + blurz[x + 1, y, z, c] * 4
        + blurz[x + 2, y, z, c]
    )
    blury[x, y, z, c] = (
        blurx[x, y - 2, z, c] + blurx[x, y - 1, z, c] * 4 + blurx[x, y, z, c] * 6 + blurx[x, y + 1, z, c] * 4
        + blurx[x, y + 2, z, c]
    )
    val = hl.clamp(buf[x, y], hl.f32(0), hl.f32(1))
    zv = val * (hl.f32(1) / r_sigma)
    zi = hl.cast(hl.Int(32), zv)
    zf = zv - zi
    xf = hl.cast(hl.Float(32), x % s) / s
    yf = hl.cast(hl.Float(32), y % s) / s
    xi, yi = x // s, y // s
    interpolated = hl.Func("interpolated")
    interpolated[x, y, c] = hl.lerp(
        hl.lerp(
            hl.lerp(blury[xi, yi, zi, c], blury[xi + 1, yi, zi, c], xf),
            hl.lerp(blury[xi, yi + 1, zi, c], blury[xi + 1, yi + 1, zi, c], xf),
            yf,
        ),
        hl.lerp(
            hl.lerp(blury[xi, yi, zi + 1, c], blury[xi + 1, yi, zi + 1, c], xf),
            hl.lerp(blury[xi, yi + 1, zi + 1, c], blury[xi + 1, yi + 1, zi + 1, c], xf),
            yf,
        ),
        zf,
    )
    output = hl.Func("bilateral_grid")
    output[x, y] = interpolated[x, y, 0] / interpolated[x, y, 1]

    blurz.compute_at(blurx, y).reorder(c, z, x, y).vectorize(x, 8).unroll(c)
    histogram.compute_at(blurz, y)
    histogram.update().reorder(c, r.x, r.y, x, y).unroll(c)
    blurx.compute_root().reorder(c, x, z, y).parallel(y).vectorize(x, 8).unroll(c)
    blury.compute_at(output, y).store_in(hl.MemoryType.Stack).reorder(c, x, y, z)
    blury.reorder_storage(c, z, x, y).vectorize(x, 8).unroll(c)
    output.compute_root().parallel(y, 8).vectorize(x, 8)
    return output


def _lerp(a, b, w):
    return a * (np.float32(1) - w) + b * w


def reference_bilateral_grid(inputs):
    f = np.float32
    img = inputs["input"]
    h, w = img.shape
    s, half = S_SIGMA, S_SIGMA // 2
    inv = f(1) / f(R_SIGMA)
    # Grid cells -2 .. n + 2 in x and y (the blurs reach 2 cells out), z -2 .. 15.
    gx0, gy0, nz, z0 = -2, -2, 18, -2
    ngx, ngy = (w - 1) // s + 1 + 1 + 4 + 1, (h - 1) // s + 1 + 1 + 4 + 1
    xs = np.clip((np.arange(ngx) + gx0)[:, None] * s + np.arange(s)[None, :] - half, 0, w - 1)  # (gx, rx)
    ys = np.clip((np.arange(ngy) + gy0)[:, None] * s + np.arange(s)[None, :] - half, 0, h - 1)  # (gy, ry)
    vals = np.clip(img[ys[:, None, :, None], xs[None, :, None, :]], f(0), f(1))  # (gy, gx, ry, rx)
    zis = (vals * inv + f(0.5)).astype(np.int32) - z0
    hist = np.zeros((2, ngy, ngx, nz), np.float32)
    gy_idx = np.broadcast_to(np.arange(ngy)[:, None, None, None], vals.shape)
    gx_idx = np.broadcast_to(np.arange(ngx)[None, :, None, None], vals.shape)
    np.add.at(hist[0], (gy_idx, gx_idx, zis), vals)
    np.add.at(hist[1], (gy_idx, gx_idx, zis), f(1))

    def blur5(a, axis):
        n = a.shape[axis] - 4
        t = [np.take(a, np.arange(k, k + n), axis=axis) for k in range(5)]
        return t[0] + t[1] * f(4) + t[2] * f(6) + t[3] * f(4) + t[4]

    # blurz over z -2+2 .., blurx over x, blury over y: each trims 2 cells each side.
    grid = blur5(blur5(blur5(hist, 3), 2), 1)  # (c, gy 0.., gx 0.., z 0..)
    val = np.clip(img, f(0), f(1))
    zv = val * inv
    zi = zv.astype(np.int32)
    zf = zv - zi.astype(np.float32)
    xx, yy = np.meshgrid(np.arange(w), np.arange(h))
    xf, yf = (xx % s).astype(np.float32) / f(s), (yy % s).astype(np.float32) / f(s)
    xi, yi = xx // s, yy // s

    def at(c, dx, dy, dz):
        return grid[c, yi + dy, xi + dx, zi + dz]

    out = []
    for c in range(2):
        lo = _lerp(_lerp(at(c, 0, 0, 0), at(c, 1, 0, 0), xf), _lerp(at(c, 0, 1, 0), at(c, 1, 1, 0), xf), yf)
        hi = _lerp(_lerp(at(c, 0, 0, 1), at(c, 1, 0, 1), xf), _lerp(at(c, 0, 1, 1), at(c, 1, 1, 1), xf), yf)
        out.append(_lerp(lo, hi, zf))
    return (out[0] / out[1]).astype(np.float32)


BILATERAL_GRID = Benchmark(
    name="bilateral_grid",
    description="apps/bilateral_grid: histogram into a 3D grid, 3 blurs, trilinear slice; float32",
    sizes=SIZES,
    make_inputs=_gray_inputs,
    build=build_bilateral_grid,
    reference=reference_bilateral_grid,
    tolerance=Tolerance(atol=1e-4),
)


# --------------------------------------------------------------------------
# apps/nl_means: non-local means, 7x7 patches, 7x7 search window.
# The app's hoist_storage() calls are left out (pipelang has none yet): both
# compilers allocate blur_d_y and d per tile instead of once per row of tiles.

PATCH, SEARCH, SIGMA_NLM = 7, 7, 0.12


def _noisy_inputs(rng, width, height):
    # A smooth picture plus noise of about sigma, so that the weights of the
    # search window matter (on pure noise each pixel would keep its own value).
    yy, xx = np.mgrid[0:height, 0:width]
    smooth = np.stack([0.5 + 0.4 * np.sin(xx / (9.0 + 4 * k)) * np.cos(yy / 13.0) for k in range(3)])
    return {"input": (smooth + rng.normal(0, SIGMA_NLM, size=smooth.shape)).astype(np.float32)}


def build_nl_means(hl, inputs):
    x, y, c, dx, dy = hl.Var("x"), hl.Var("y"), hl.Var("c"), hl.Var("dx"), hl.Var("dy")
    clamped = hl.BoundaryConditions.repeat_edge(hl.Buffer(inputs["input"]))
    sigma = hl.f32(SIGMA_NLM)
    inv_sigma_sq = hl.f32(-1) / (sigma * sigma * PATCH * PATCH)
    dc = hl.Func("dc")
    dc[x, y, dx, dy, c] = hl.pow(clamped[x, y, c] - clamped[x + dx, y + dy, c], 2)
    channels = hl.RDom([(0, 3)], "channels")
    d = hl.Func("d")
    d[x, y, dx, dy] = hl.sum(dc[x, y, dx, dy, channels.x])
    patch = hl.RDom([(-(PATCH // 2), PATCH)], "patch_dom")
    blur_d_y, blur_d, w = hl.Func("blur_d_y"), hl.Func("blur_d"), hl.Func("w")
    blur_d_y[x, y, dx, dy] = hl.sum(d[x, y + patch.x, dx, dy])
    blur_d[x, y, dx, dy] = hl.sum(blur_d_y[x + patch.x, y, dx, dy])
    w[x, y, dx, dy] = hl.fast_exp(blur_d[x, y, dx, dy] * inv_sigma_sq)
    with_alpha = hl.Func("clamped_with_alpha")
    with_alpha[x, y, c] = hl.mux(c, [clamped[x, y, 0], clamped[x, y, 1], clamped[x, y, 2], hl.f32(1)])
    s = hl.RDom([(-(SEARCH // 2), SEARCH), (-(SEARCH // 2), SEARCH)], "s_dom")
    nlm_sum = hl.Func("non_local_means_sum")
    nlm_sum[x, y, c] = hl.f32(0)
    nlm_sum[x, y, c] += w[x, y, s.x, s.y] * with_alpha[x + s.x, y + s.y, c]
    output = hl.Func("non_local_means")
    output[x, y, c] = hl.clamp(nlm_sum[x, y, c] / nlm_sum[x, y, 3], hl.f32(0), hl.f32(1))

    vec = _vec(hl, hl.Float(32))
    tx, ty = hl.Var("tx"), hl.Var("ty")
    output.compute_root().reorder(c, x, y).tile(x, y, tx, ty, x, y, 16, 8).parallel(ty).vectorize(x, vec)
    blur_d_y.compute_at(output, tx).reorder(y, x).vectorize(x, vec)
    d.compute_at(output, tx).vectorize(x, vec)
    nlm_sum.compute_at(output, x).reorder(c, x, y).bound(c, 0, 4).unroll(c).vectorize(x, vec)
    nlm_sum.update(0).reorder(c, x, y, s.x, s.y).unroll(c).vectorize(x, vec)
    blur_d.compute_at(nlm_sum, x).vectorize(x, vec)
    return output


def reference_nl_means(inputs):
    f = np.float32
    img = inputs["input"]
    _, h, w = img.shape
    half_p, half_s = PATCH // 2, SEARCH // 2
    pad = half_p + half_s
    p = np.pad(img, ((0, 0), (pad, pad), (pad, pad)), mode="edge")
    sigma = f(SIGMA_NLM)
    inv = f(-1) / (sigma * sigma * f(PATCH) * f(PATCH))
    acc = np.zeros((4, h, w), np.float32)
    hp, wp = h + 2 * half_p, w + 2 * half_p  # the region d is needed on
    base = p[:, half_s : half_s + hp, half_s : half_s + wp]
    for sy in range(-half_s, half_s + 1):
        for sx in range(-half_s, half_s + 1):
            shifted = p[:, half_s + sy : half_s + sy + hp, half_s + sx : half_s + sx + wp]
            diff = base - shifted
            d = (diff * diff).sum(axis=0, dtype=np.float32)
            by = sum(d[k : k + h] for k in range(PATCH))
            bd = sum(by[:, k : k + w] for k in range(PATCH))
            wt = np.exp(bd * inv)
            src = p[:, pad + sy : pad + sy + h, pad + sx : pad + sx + w]
            acc[:3] += wt * src
            acc[3] += wt
    return np.clip(acc[:3] / acc[3], 0, 1).astype(np.float32)


NL_MEANS = Benchmark(
    name="nl_means",
    description="apps/nl_means: non-local means denoising, 7x7 patches, 7x7 search, float32 RGB",
    sizes={
        "tiny": dict(width=48, height=32),
        "small": dict(width=256, height=256),
        "medium": dict(width=512, height=512),
        "full": dict(width=768, height=1280),
    },
    make_inputs=_noisy_inputs,
    build=build_nl_means,
    reference=reference_nl_means,
    tolerance=Tolerance(atol=1e-3),  # fast_exp is accurate to about 1e-5 relative
)


# --------------------------------------------------------------------------
# apps/hist: histogram equalization of the luma of a uint8 RGB image, with
# the app's clone_in() of Y into the row histograms and in() of those.


def _rgb8_inputs(rng, width, height):
    # A low-contrast picture, so that equalization stretches it. Pixels whose
    # luma lies within 1e-3 of an integer (grays, for one) get a bluer blue:
    # a fused multiply-add could put them in the neighbouring bin.
    img = rng.binomial(255, 0.5, size=(3, height, width)).clip(60, 190).astype(np.uint8)
    for _ in range(3):
        luma = sum(np.float64(np.float32(k)) * img[i] for i, k in enumerate((0.299, 0.587, 0.114)))
        img[2] += (np.abs(luma - np.round(luma)) < 1e-3).astype(np.uint8)
    return {"input": img}


def build_hist(hl, inputs):
    _, height, width = inputs["input"].shape
    input = hl.Buffer(inputs["input"])
    x, y, c = hl.Var("x"), hl.Var("y"), hl.Var("c")
    f32 = hl.f32
    Y, Cr, Cb = hl.Func("Y"), hl.Func("Cr"), hl.Func("Cb")
    Y[x, y] = f32(0.299) * input[x, y, 0] + f32(0.587) * input[x, y, 1] + f32(0.114) * input[x, y, 2]
    Cr[x, y] = (input[x, y, 0] - Y[x, y]) * f32(0.713) + 128
    Cb[x, y] = (input[x, y, 2] - Y[x, y]) * f32(0.564) + 128
    hist_rows = hl.Func("hist_rows")
    hist_rows[x, y] = 0
    rx = hl.RDom([(0, width)], "rx")
    bin = hl.cast(hl.Int(32), hl.clamp(Y[rx.x, y], 0, 255))
    hist_rows[bin, y] += 1
    hist = hl.Func("hist")
    hist[x] = 0
    ry = hl.RDom([(0, height)], "ry")
    hist[x] += hist_rows[x, ry.x]
    cdf = hl.Func("cdf")
    cdf[x] = hist[0]
    b = hl.RDom([(1, 255)], "b")
    cdf[b.x] = cdf[b.x - 1] + hist[b.x]
    cdf_bin = hl.Func("cdf_bin")
    cdf_bin[x, y] = hl.u8(hl.clamp(Y[x, y], 0, 255))
    eq = hl.Func("equalize")
    eq[x, y] = hl.clamp(cdf[cdf_bin[x, y]] * (f32(255) / (height * width)), 0, 255)
    red = hl.u8(hl.clamp(eq[x, y] + (Cr[x, y] - 128) * f32(1.4), 0, 255))
    green = hl.u8(hl.clamp(eq[x, y] - f32(0.343) * (Cb[x, y] - 128) - f32(0.711) * (Cr[x, y] - 128), 0, 255))
    blue = hl.u8(hl.clamp(eq[x, y] + f32(1.765) * (Cb[x, y] - 128), 0, 255))
    output = hl.Func("hist_equalize")
    output[x, y, c] = hl.mux(c, [red, green, blue])

    vec = _vec(hl, hl.Float(32))
    cdf.bound(x, 0, 256)
    Y.clone_in(hist_rows).compute_at(hist_rows.in_(), y).vectorize(x, vec)
    hist_rows.update(0).unscheduled()
    hist_rows.in_().compute_root().vectorize(x, vec).parallel(y, 4)
    hist_rows.compute_at(hist_rows.in_(), y).vectorize(x, vec).update().reorder(y, rx.x).unroll(y)
    hist.compute_root().vectorize(x, vec).update().reorder(x, ry.x).vectorize(x, vec).unroll(x, 4).parallel(
        x
    ).reorder(ry.x, x)
    cdf.compute_root().update().unscheduled()
    output.reorder(c, x, y).bound(c, 0, 3).unroll(c).parallel(y, 8).vectorize(x, vec * 2)
    return output


def reference_hist(inputs):
    f = np.float32
    img = inputs["input"]
    _, h, w = img.shape
    r, g, b = (img[k].astype(f) for k in range(3))
    Y = f(0.299) * r + f(0.587) * g + f(0.114) * b
    cr = (r - Y) * f(0.713) + f(128)
    cb = (b - Y) * f(0.564) + f(128)
    hist = np.bincount(np.clip(Y, 0, 255).astype(np.int32).ravel(), minlength=256)[:256]
    cdf = np.cumsum(hist).astype(np.int32)
    eq = np.clip(cdf[np.clip(Y, 0, 255).astype(np.uint8)].astype(f) * (f(255) / f(h * w)), 0, 255)
    red = np.clip(eq + (cr - f(128)) * f(1.4), 0, 255).astype(np.uint8)
    green = np.clip(eq - f(0.343) * (cb - f(128)) - f(0.711) * (cr - f(128)), 0, 255).astype(np.uint8)
    blue = np.clip(eq + f(1.765) * (cb - f(128)), 0, 255).astype(np.uint8)
    return np.stack([red, green, blue])


HIST = Benchmark(
    name="hist",
    description="apps/hist: luma histogram equalization of uint8 RGB (row histograms, cdf, LUT)",
    sizes=SIZES,
    make_inputs=_rgb8_inputs,
    build=build_hist,
    reference=reference_hist,
    tolerance=Tolerance(atol=1),  # float rounding of the final conversions
)


GRID_APPS = (BILATERAL_GRID, NL_MEANS, HIST)
