"""Halide's apps/camera_pipe: raw Bayer sensor data to an 8-bit RGB picture
(hot pixel suppression, deinterleave, demosaic, colour correction, tone
curve, sharpening), with the app's own CPU schedule.

The app's scalar inputs (colour temperature, gamma, contrast, sharpening,
black and white levels) are ``Param``s with the values of its Makefile run;
its colour matrices are buffers; the raw input is an ``ImageParam`` (bound to
the data), so that the schedule's ``denoised.prefetch(input, y, y, 2)``
runs under both compilers (Halide's Python ``prefetch`` takes no Buffer).
The schedule fuses the two green interpolations with ``compute_with``, as
the app does. Left out of both compilers' schedules: ``fold_storage`` (see
below). The app's Demosaic sub-generator is a plain function here.
"""

from __future__ import annotations

import numpy as np

from ..benchmark import Benchmark, Tolerance, _vec

# The Makefile's run: color_temp 3700, gamma 2.0, contrast 50, sharpen 1.0;
# process.cpp's black and white levels and the N900 colour matrices (FCam).
PARAMS = dict(color_temp=3700.0, gamma=2.0, contrast=50.0, sharpen_strength=1.0, black_level=25, white_level=1023)
MATRIX_3200 = ((1.6697, -0.2693, -0.4004, -42.4346), (-0.3576, 1.0615, 1.5949, -37.1158), (-0.2175, -1.8751, 6.9640, -26.6970))
MATRIX_7000 = ((2.2997, -0.4478, 0.1706, -39.0923), (-0.3826, 1.5906, -0.2080, -25.4311), (-0.0888, -0.7344, 2.2832, -20.0826))
# The output is inset in the raw input by (16, 12) (the app's 2592 x 1968 -> 2560 x 1920).
# The raw input has RAW_PAD more columns on the right than the app's: the
# schedule's RoundUp vectors compute past the image edge, and pipelang's bounds
# inference makes the producers of those garbage lanes compute them too (from
# the consumers' rounded-up loops), where Halide's computes producers over the
# consumers' required regions only and lets the extra lanes read garbage. So
# pipelang reads up to about four vectors of raw columns further right; Halide
# reads none of the pad.
RAW_PAD = 256
SHIFT_X, SHIFT_Y, MARGIN_X, MARGIN_Y = 16, 12, 32 + RAW_PAD, 48


def _raw_inputs(rng, width, height):
    """A Bayer mosaic (GRBG, 10-bit values as the N900's) of a smooth scene, with noise and some hot pixels."""
    h, w = height + MARGIN_Y, width + MARGIN_X
    yy, xx = np.mgrid[0:h, 0:w]
    scene = 300 + 250 * np.sin(xx / 37.0) * np.cos(yy / 23.0)
    gain = np.where((yy % 2 == 0) & (xx % 2 == 1), 0.8, np.where((yy % 2 == 1) & (xx % 2 == 0), 0.6, 1.0))
    raw = scene * gain + rng.normal(0, 12, size=(h, w))
    hot = rng.uniform(size=(h, w)) < 0.002
    raw[hot] = 1023
    return {
        "input": np.clip(raw, 0, 1023).astype(np.uint16),
        "matrix_3200": np.array(MATRIX_3200, np.float32),
        "matrix_7000": np.array(MATRIX_7000, np.float32),
    }


def _avg(hl, a, b):
    """Average of two unsigned values, rounding up, in the doubled width."""
    a = a if isinstance(a, hl.Expr) else hl.Expr(a)
    wider = a.type().with_bits(a.type().bits() * 2)
    return hl.cast(a.type(), (hl.cast(wider, a) + b + 1) / 2)


def _blur121(hl, a, b, c):
    return _avg(hl, _avg(hl, a, c), b)


def _demosaic(hl, deinterleaved, x, y, c):
    """The app's Demosaic generator: (its output, the two green interpolations to schedule)."""
    g_gr, r_r, b_b, g_gb = (hl.Func(n) for n in ("g_gr", "r_r", "b_b", "g_gb"))
    g_gr[x, y] = deinterleaved[x, y, 0]
    r_r[x, y] = deinterleaved[x, y, 1]
    b_b[x, y] = deinterleaved[x, y, 2]
    g_gb[x, y] = deinterleaved[x, y, 3]
    b_r, g_r, b_gr, r_gr = (hl.Func(n) for n in ("b_r", "g_r", "b_gr", "r_gr"))
    b_gb, r_gb, r_b, g_b = (hl.Func(n) for n in ("b_gb", "r_gb", "r_b", "g_b"))

    def avg(a, b):
        return _avg(hl, a, b)

    # Green at red and blue sites: interpolate in the direction of least change.
    gv_r, gvd_r = avg(g_gb[x, y - 1], g_gb[x, y]), hl.absd(g_gb[x, y - 1], g_gb[x, y])
    gh_r, ghd_r = avg(g_gr[x + 1, y], g_gr[x, y]), hl.absd(g_gr[x + 1, y], g_gr[x, y])
    g_r[x, y] = hl.select(ghd_r < gvd_r, gh_r, gv_r)
    gv_b, gvd_b = avg(g_gr[x, y + 1], g_gr[x, y]), hl.absd(g_gr[x, y + 1], g_gr[x, y])
    gh_b, ghd_b = avg(g_gb[x - 1, y], g_gb[x, y]), hl.absd(g_gb[x - 1, y], g_gb[x, y])
    g_b[x, y] = hl.select(ghd_b < gvd_b, gh_b, gv_b)

    # Red and blue at green sites, corrected by green's second derivative.
    r_gr[x, y] = (g_gr[x, y] - avg(g_r[x, y], g_r[x - 1, y])) + avg(r_r[x - 1, y], r_r[x, y])
    b_gr[x, y] = (g_gr[x, y] - avg(g_b[x, y], g_b[x, y - 1])) + avg(b_b[x, y], b_b[x, y - 1])
    r_gb[x, y] = (g_gb[x, y] - avg(g_r[x, y], g_r[x, y + 1])) + avg(r_r[x, y], r_r[x, y + 1])
    b_gb[x, y] = (g_gb[x, y] - avg(g_b[x, y], g_b[x + 1, y])) + avg(b_b[x, y], b_b[x + 1, y])

    # Red at blue and blue at red: along the diagonal of least change.
    rp_b = (g_b[x, y] - avg(g_r[x, y], g_r[x - 1, y + 1])) + avg(r_r[x, y], r_r[x - 1, y + 1])
    rpd_b = hl.absd(r_r[x, y], r_r[x - 1, y + 1])
    rn_b = (g_b[x, y] - avg(g_r[x - 1, y], g_r[x, y + 1])) + avg(r_r[x - 1, y], r_r[x, y + 1])
    rnd_b = hl.absd(r_r[x - 1, y], r_r[x, y + 1])
    r_b[x, y] = hl.select(rpd_b < rnd_b, rp_b, rn_b)
    bp_r = (g_r[x, y] - avg(g_b[x, y], g_b[x + 1, y - 1])) + avg(b_b[x, y], b_b[x + 1, y - 1])
    bpd_r = hl.absd(b_b[x, y], b_b[x + 1, y - 1])
    bn_r = (g_r[x, y] - avg(g_b[x + 1, y], g_b[x, y - 1])) + avg(b_b[x + 1, y], b_b[x, y - 1])
    bnd_r = hl.absd(b_b[x + 1, y], b_b[x, y - 1])
    b_r[x, y] = hl.select(bpd_r < bnd_r, bp_r, bn_r)

    def interleave_x(a, b):
        out = hl.Func()
        out[x, y] = hl.select((x % 2) == 0, a[x // 2, y], b[x // 2, y])
        return out

    def interleave_y(a, b):
        out = hl.Func()
        out[x, y] = hl.select((y % 2) == 0, a[x, y // 2], b[x, y // 2])
        return out

    r = interleave_y(interleave_x(r_gr, r_r), interleave_x(r_b, r_gb))
    g = interleave_y(interleave_x(g_gr, g_r), interleave_x(g_b, g_gb))
    b = interleave_y(interleave_x(b_gr, b_r), interleave_x(b_b, b_gb))
    output = hl.Func("demosaiced")
    # Some corrections may have wrapped below zero: reinterpret as signed.
    output[x, y, c] = hl.cast(hl.Int(16), hl.mux(c, [r[x, y], g[x, y], b[x, y]]))
    return output, [g_r, g_b]


def build_camera_pipe(hl, inputs):
    height, width = (n - m for n, m in zip(inputs["input"].shape, (MARGIN_Y, MARGIN_X)))
    x, y, c = hl.Var("x"), hl.Var("y"), hl.Var("c")
    yi, yo, yii, xi = hl.Var("yi"), hl.Var("yo"), hl.Var("yii"), hl.Var("xi")
    # An ImageParam (bound to the raw data), not a Buffer: Halide's Python
    # prefetch() takes a Func or an ImageParam.
    input = hl.ImageParam(hl.UInt(16), 2, "input")
    input.set(hl.Buffer(inputs["input"], "input"))
    matrix_3200 = hl.Buffer(inputs["matrix_3200"], "matrix_3200")
    matrix_7000 = hl.Buffer(inputs["matrix_7000"], "matrix_7000")
    f32, i32 = hl.Float(32), hl.Int(32)
    color_temp = hl.Param(f32, "color_temp", PARAMS["color_temp"])
    gamma = hl.Param(f32, "gamma", PARAMS["gamma"])
    contrast = hl.Param(f32, "contrast", PARAMS["contrast"])
    sharpen_strength = hl.Param(f32, "sharpen_strength", PARAMS["sharpen_strength"])
    black_level = hl.Param(i32, "blackLevel", PARAMS["black_level"])
    white_level = hl.Param(i32, "whiteLevel", PARAMS["white_level"])

    shifted = hl.Func("shifted")
    shifted[x, y] = input[x + SHIFT_X, y + SHIFT_Y]

    # Hot pixel suppression: no brighter than the brightest neighbour of its colour.
    denoised = hl.Func("denoised")
    a = hl.max(shifted[x - 2, y], shifted[x + 2, y], shifted[x, y - 2], shifted[x, y + 2])
    denoised[x, y] = hl.clamp(shifted[x, y], 0, a)

    deinterleaved = hl.Func("deinterleaved")
    deinterleaved[x, y, c] = hl.mux(
        c, [denoised[2 * x, 2 * y], denoised[2 * x + 1, 2 * y], denoised[2 * x, 2 * y + 1], denoised[2 * x + 1, 2 * y + 1]]
    )
    demosaiced, intermediates = _demosaic(hl, deinterleaved, x, y, c)

    # Colour correction: a matrix between the two calibrated ones, by inverse kelvin, in Q8.8.
    matrix = hl.Func("matrix")
    alpha = (hl.f32(1) / color_temp - hl.f32(1.0 / 3200)) / (hl.f32(1.0 / 7000) - hl.f32(1.0 / 3200))
    val = matrix_3200[x, y] * alpha + matrix_7000[x, y] * (1 - alpha)
    matrix[x, y] = hl.cast(hl.Int(16), val * hl.f32(256))
    matrix.compute_root()
    corrected = hl.Func("corrected")
    ir, ig, ib = (hl.cast(i32, demosaiced[x, y, k]) for k in range(3))
    rgb = [matrix[3, k] + matrix[0, k] * ir + matrix[1, k] * ig + matrix[2, k] * ib for k in range(3)]
    corrected[x, y, c] = hl.mux(c, [hl.cast(hl.Int(16), v / 256) for v in rgb])

    # Tone curve (from FCam), as a lookup table over the 10-bit range.
    curve = hl.Func("curve")
    min_raw, max_raw = 0 + black_level, white_level
    inv_range = hl.f32(1) / (max_raw - min_raw)
    b = hl.f32(2) - hl.pow(hl.f32(2), contrast / hl.f32(100))
    a = hl.f32(2) - hl.f32(2) * b
    xf = hl.clamp(hl.cast(f32, x - min_raw) * inv_range, hl.f32(0), hl.f32(1))
    g = hl.pow(xf, hl.f32(1) / gamma)
    z = hl.select(g > hl.f32(0.5), hl.f32(1) - (a * (1 - g) * (1 - g) + b * (1 - g)), a * g * g + b * g)
    v = hl.cast(hl.UInt(8), hl.clamp(z * hl.f32(255) + hl.f32(0.5), hl.f32(0), hl.f32(255)))
    curve[x] = hl.select(x <= min_raw, 0, hl.select(x > max_raw, 255, v))
    curve.compute_root()
    curved = hl.Func("curved")
    curved[x, y, c] = curve[hl.clamp(corrected[x, y, c], 0, 1023)]

    # Sharpening: an unsharp mask with the strength in 2.5 fixed point.
    strength_x32 = hl.Func("sharpen_strength_x32")
    strength_x32[()] = hl.u8_sat(sharpen_strength * 32)
    strength_x32.compute_root()
    unsharp_y, unsharp, mask = hl.Func("unsharp_y"), hl.Func("unsharp"), hl.Func("mask")
    unsharp_y[x, y, c] = _blur121(hl, curved[x, y - 1, c], curved[x, y, c], curved[x, y + 1, c])
    unsharp[x, y, c] = _blur121(hl, unsharp_y[x - 1, y, c], unsharp_y[x, y, c], unsharp_y[x + 1, y, c])
    mask[x, y, c] = hl.cast(hl.Int(16), curved[x, y, c]) - hl.cast(hl.Int(16), unsharp[x, y, c])
    processed = hl.Func("camera_pipe")
    processed[x, y, c] = hl.u8_sat(curved[x, y, c] + (mask[x, y, c] * strength_x32[()]) / 32)

    # The app's CPU schedule: strips of 32 rows in parallel, each computed
    # two rows at a time. The app folds the stencil stages' storage to 4 rows
    # (fold_storage(y, 4)); that is left out of both schedules: Halide makes
    # it valid by rewinding the strip's loop for every slid stage (warm-up
    # iterations that compute the first rows a few at a time); pipelang
    # rewinds a loop only when one Func slides along it, so its first
    # iteration computes each stage's whole window, more than 4 rows (it
    # folds these stages by itself, to the window's size).
    strip = 32
    vec = _vec(hl, hl.UInt(16))
    round_up = hl.TailStrategy.RoundUp
    processed.compute_root().reorder(c, x, y).split(y, yi, yii, 2, round_up).split(yi, yo, yi, strip // 2)
    processed.vectorize(x, 2 * vec, round_up).unroll(c).parallel(yo)
    denoised.compute_at(processed, yi).store_at(processed, yo)
    denoised.tile(x, y, x, y, xi, yi, 2 * vec, 2).vectorize(xi).unroll(yi)
    # By keyword: given by position, Halide's bindings take an ImageParam as
    # its Func wrapper (pybind11 tries that overload first), which is inlined,
    # and drop the prefetch with a warning.
    denoised.prefetch(image=input, at=y, **{"from": y}, offset=2)
    deinterleaved.compute_at(processed, yi).store_at(processed, yo)
    deinterleaved.reorder(c, x, y).vectorize(x, 2 * vec, round_up).unroll(c)
    curved.compute_at(processed, yi).store_at(processed, yo).reorder(c, x, y)
    curved.tile(x, y, x, y, xi, yi, 2 * vec, 2, round_up).vectorize(xi).unroll(yi).unroll(c)
    corrected.compute_at(curved, x).reorder(c, x, y).vectorize(x).unroll(c)
    for f in intermediates:
        f.compute_at(processed, yi).store_at(processed, yo).vectorize(x, 2 * vec, round_up)
    intermediates[1].compute_with(
        intermediates[0], x, [(x, hl.LoopAlignStrategy.AlignStart), (y, hl.LoopAlignStrategy.AlignStart)])
    demosaiced.compute_at(curved, x).vectorize(x).unroll(y).reorder(c, x, y).unroll(c)
    processed.bound(c, 0, 3).bound(x, 0, (width // (2 * vec)) * (2 * vec)).bound(y, 0, (height // strip) * strip)
    return processed


# -- the numpy reference: each stage a function of integer coordinate arrays


def _avg_np(a, b):
    t = a.dtype
    wide = np.dtype(f"u{2 * t.itemsize}")
    return ((a.astype(wide) + b.astype(wide) + 1) // 2).astype(t)


def _absd(a, b):
    return np.where(a > b, a - b, b - a)


def _tone_curve():
    p, f = PARAMS, np.float32
    xs = np.arange(1024)
    min_raw, max_raw = p["black_level"], p["white_level"]
    inv_range = f(1) / f(max_raw - min_raw)
    b = f(2) - np.power(f(2), f(p["contrast"]) / f(100))
    a = f(2) - f(2) * b
    xf = np.clip((xs - min_raw).astype(f) * inv_range, f(0), f(1))
    g = np.power(xf, f(1) / f(p["gamma"]))
    z = np.where(g > f(0.5), f(1) - (a * (f(1) - g) * (f(1) - g) + b * (f(1) - g)), a * g * g + b * g)
    val = np.clip(z * f(255) + f(0.5), f(0), f(255)).astype(np.uint8)
    return np.where(xs <= min_raw, 0, np.where(xs > max_raw, 255, val)).astype(np.uint8)


def _color_matrix(inputs):
    f = np.float32
    kelvin = f(PARAMS["color_temp"])
    alpha = (f(1) / kelvin - f(1.0 / 3200)) / (f(1.0 / 7000) - f(1.0 / 3200))
    val = inputs["matrix_3200"] * alpha + inputs["matrix_7000"] * (f(1) - alpha)
    return (val * f(256)).astype(np.int16).astype(np.int64)  # [row k, column j]: the app's matrix(j, k)


def reference_camera_pipe(inputs):
    raw = inputs["input"].astype(np.int64)
    height, width = raw.shape[0] - MARGIN_Y, raw.shape[1] - MARGIN_X
    u16 = np.uint16

    def denoised(X, Y):
        def s(dx, dy):
            return raw[Y + dy + SHIFT_Y, X + dx + SHIFT_X]

        return np.clip(s(0, 0), 0, np.maximum(np.maximum(s(-2, 0), s(2, 0)), np.maximum(s(0, -2), s(0, 2))))

    # The half-resolution channels, on a box around the output's half-resolution image.
    pad = 4
    hx, hy = np.arange(-pad, width // 2 + pad), np.arange(-pad, height // 2 + pad)
    HX, HY = np.meshgrid(hx, hy)

    class Plane:
        def __init__(self, a):
            self.a = a

        def __call__(self, dx=0, dy=0):  # values at (x + dx, y + dy) for the inner box
            return self.a[pad + dy : self.a.shape[0] - pad + dy, pad + dx : self.a.shape[1] - pad + dx]

    def chan(ox, oy):
        return denoised(2 * HX + ox, 2 * HY + oy).astype(u16)

    g_gr, r_r, b_b, g_gb = chan(0, 0), chan(1, 0), chan(0, 1), chan(1, 1)

    def green(a, b_vert, b_horz):  # select(hd < vd, h, v)
        return np.where(_absd(*b_horz) < _absd(*b_vert), _avg_np(*b_horz), _avg_np(*b_vert))

    # g_r, g_b on the box shrunk by one (they read neighbours), padded back with zeros.
    def shifted(a, dx, dy):
        out = np.zeros_like(a)
        h, w = a.shape
        ys, xs = slice(max(0, -dy), min(h, h - dy)), slice(max(0, -dx), min(w, w - dx))
        yd, xd = slice(max(0, dy), min(h, h + dy)), slice(max(0, dx), min(w, w + dx))
        out[ys, xs] = a[yd, xd]
        return out

    def sh(a, dx, dy):
        return shifted(a, dx, dy)

    g_r = green(None, (sh(g_gb, 0, -1), g_gb), (sh(g_gr, 1, 0), g_gr))
    g_b = green(None, (sh(g_gr, 0, 1), g_gr), (sh(g_gb, -1, 0), g_gb))
    avg = _avg_np
    r_gr = (g_gr - avg(g_r, sh(g_r, -1, 0))) + avg(sh(r_r, -1, 0), r_r)
    b_gr = (g_gr - avg(g_b, sh(g_b, 0, -1))) + avg(b_b, sh(b_b, 0, -1))
    r_gb = (g_gb - avg(g_r, sh(g_r, 0, 1))) + avg(r_r, sh(r_r, 0, 1))
    b_gb = (g_gb - avg(g_b, sh(g_b, 1, 0))) + avg(b_b, sh(b_b, 1, 0))
    rp_b = (g_b - avg(g_r, sh(g_r, -1, 1))) + avg(r_r, sh(r_r, -1, 1))
    rn_b = (g_b - avg(sh(g_r, -1, 0), sh(g_r, 0, 1))) + avg(sh(r_r, -1, 0), sh(r_r, 0, 1))
    r_b = np.where(_absd(r_r, sh(r_r, -1, 1)) < _absd(sh(r_r, -1, 0), sh(r_r, 0, 1)), rp_b, rn_b)
    bp_r = (g_r - avg(g_b, sh(g_b, 1, -1))) + avg(b_b, sh(b_b, 1, -1))
    bn_r = (g_r - avg(sh(g_b, 1, 0), sh(g_b, 0, -1))) + avg(sh(b_b, 1, 0), sh(b_b, 0, -1))
    b_r = np.where(_absd(b_b, sh(b_b, 1, -1)) < _absd(sh(b_b, 1, 0), sh(b_b, 0, -1)), bp_r, bn_r)

    # Full resolution on [-1, width] x [-1, height] (sharpening reads one pixel out).
    fx, fy = np.arange(-1, width + 1), np.arange(-1, height + 1)
    FX, FY = np.meshgrid(fx, fy)
    iy, ix = FY // 2 + pad, FX // 2 + pad
    even_x, even_y = FX % 2 == 0, FY % 2 == 0

    def interleave(p00, p10, p01, p11):  # (x even, y even), (odd, even), (even, odd), (odd, odd)
        return np.where(even_y, np.where(even_x, p00[iy, ix], p10[iy, ix]), np.where(even_x, p01[iy, ix], p11[iy, ix]))

    r = interleave(r_gr, r_r, r_b, r_gb).astype(np.int16).astype(np.int64)
    g = interleave(g_gr, g_r, g_b, g_gb).astype(np.int16).astype(np.int64)
    b = interleave(b_gr, b_r, b_b, b_gb).astype(np.int16).astype(np.int64)
    m = _color_matrix(inputs)
    corrected = [((m[k, 3] + m[k, 0] * r + m[k, 1] * g + m[k, 2] * b) // 256).astype(np.int16) for k in range(3)]
    curve = _tone_curve()
    curved = np.stack([curve[np.clip(v, 0, 1023)] for v in corrected])  # (3, height + 2, width + 2) uint8

    unsharp_y = _blur121_np(curved[:, :-2], curved[:, 1:-1], curved[:, 2:])  # rows 0 .. height - 1
    unsharp = _blur121_np(unsharp_y[:, :, :-2], unsharp_y[:, :, 1:-1], unsharp_y[:, :, 2:])
    centre = curved[:, 1:-1, 1:-1]
    mask = centre.astype(np.int16) - unsharp.astype(np.int16)
    strength = np.int16(min(max(int(np.float32(PARAMS["sharpen_strength"]) * np.float32(32)), 0), 255))
    sharpened = centre.astype(np.int16) + (mask * strength) // 32
    return np.ascontiguousarray(np.clip(sharpened, 0, 255).astype(np.uint8))


def _blur121_np(a, b, c):
    return _avg_np(_avg_np(a, c), b)


CAMERA_PIPE = Benchmark(
    name="camera_pipe",
    description="apps/camera_pipe: raw Bayer uint16 to 8-bit RGB (denoise, demosaic, colour, curve, sharpen)",
    sizes={  # output sizes: multiples of 64 (the vectors) and 32 (the strips), as the schedule's bounds need
        "tiny": dict(width=128, height=64),
        "small": dict(width=640, height=480),
        "medium": dict(width=1280, height=960),
        "full": dict(width=2560, height=1920),
    },
    make_inputs=_raw_inputs,
    build=build_camera_pipe,
    reference=reference_camera_pipe,
    tolerance=Tolerance(atol=1),  # the tone curve's float pow may round one level differently
)

CAMERA_APPS = (CAMERA_PIPE,)
