"""Halide's apps/lens_blur: depth from a stereo pair (a cost volume over 32
disparities, inpainted by a push-pull pyramid, argmin), then a synthetic
shallow depth of field by sampling an aperture, with the app's CPU schedule.

The app's scalar inputs (slices, focus depth, blur radius scale, aperture
samples) are ``Param``s with its estimates. Its ``random_float()`` sample
positions are an explicit hash here (Halide's own mixing function, rng32, of
x, y, the sample and which coordinate): Halide's random_float depends on
process-wide counters of calls and definitions, so neither a numpy reference
nor another compiler could reproduce it. The app's implicit ``_`` arguments
are spelled out. ``compute_at(output, x)`` of sample_weight and
sample_locations is at ``s`` in both compilers (see the schedule).
"""

from __future__ import annotations

import numpy as np

from ..benchmark import Benchmark, Tolerance

SLICES, FOCUS_DEPTH, BLUR_RADIUS_SCALE, APERTURE_SAMPLES = 32, 13, 0.5, 32
LEVELS = 8
_C0, _C1, _C2 = 576942909, 1121052041, 1040796640  # Halide's rng32: (C2 x + C1) x + C0 mod 2^32


def _stereo_inputs(rng, width, height):
    """A textured scene of a few fronto-parallel planes: the left image sees
    the right one shifted by 2 * disparity (the app's cost compares
    left(x) with right(x + 2z) and right(x + 2z + 1))."""
    pad = 2 * SLICES + 2
    right = rng.integers(0, 256, size=(3, height, width + pad)).astype(np.uint8)
    yy, xx = np.mgrid[0:height, 0:width]
    disparity = np.where((xx - width / 2) ** 2 + (yy - height / 2) ** 2 < (min(width, height) / 4) ** 2, 20, 6)
    disparity = np.where(xx < width // 5, 28, disparity)
    left = np.take_along_axis(right, np.broadcast_to(xx + 2 * disparity, (3, height, width)), axis=2)
    return {"left": np.ascontiguousarray(left), "right": np.ascontiguousarray(right[:, :, :width])}


def _hash_float(hl, x, y, z, k):
    """A float in [0, 1) from (x, y, z, k): random_float()'s hash chain, made explicit."""
    u32 = hl.UInt(32)

    def rng32(v):
        return (hl.u32(_C2) * v + hl.u32(_C1)) * v + hl.u32(_C0)

    h = rng32(hl.cast(u32, x))
    for v in (y, z, k):
        h = rng32(h + hl.cast(u32, v))
    h = h ^ (h >> 16)
    return hl.cast(hl.Float(32), h >> 8) * hl.f32(1.0 / (1 << 24))


def build_lens_blur(hl, inputs, levels=LEVELS):
    _, height, width = inputs["left"].shape
    left_im, right_im = hl.Buffer(inputs["left"], "left_im"), hl.Buffer(inputs["right"], "right_im")
    f32, i32 = hl.Float(32), hl.Int(32)
    slices = hl.Param(i32, "slices", SLICES)
    focus_depth = hl.Param(i32, "focus_depth", FOCUS_DEPTH)
    blur_radius_scale = hl.Param(f32, "blur_radius_scale", BLUR_RADIUS_SCALE)
    aperture_samples = hl.Param(i32, "aperture_samples", APERTURE_SAMPLES)
    x, y, z, c = hl.Var("x"), hl.Var("y"), hl.Var("z"), hl.Var("c")

    max_blur = hl.cast(i32, hl.cast(f32, hl.max(slices - focus_depth, focus_depth)) * blur_radius_scale)
    left = hl.BoundaryConditions.repeat_edge(left_im)
    right = hl.BoundaryConditions.repeat_edge(right_im)
    diff = hl.Func("diff")
    diff[x, y, z, c] = hl.min(
        hl.absd(left[x, y, c], right[x + 2 * z, y, c]), hl.absd(left[x, y, c], right[x + 2 * z + 1, y, c])
    )
    cost = hl.Func("cost")
    cost[x, y, z] = (
        hl.pow(hl.cast(f32, diff[x, y, z, 0]), 2) + hl.pow(hl.cast(f32, diff[x, y, z, 1]), 2)
        + hl.pow(hl.cast(f32, diff[x, y, z, 2]), 2)
    )
    # The confidence of each pixel's costs: their variance across the slices.
    cost_confidence = hl.Func("cost_confidence")
    r = hl.RDom([(0, slices)])
    a = hl.sum(hl.pow(cost[x, y, r.x], 2)) / hl.cast(f32, slices)
    b = hl.pow(hl.sum(cost[x, y, r.x] / hl.cast(f32, slices)), 2)
    cost_confidence[x, y] = a - b

    # Push-pull: blur the cost volume, weighted by confidence, to inpaint it.
    def downsample(f):
        downx, downy = hl.Func(), hl.Func()
        downx[x, y, z, c] = (
            f[2 * x - 1, y, z, c] + hl.f32(3) * (f[2 * x, y, z, c] + f[2 * x + 1, y, z, c]) + f[2 * x + 2, y, z, c]
        ) / hl.f32(8)
        downy[x, y, z, c] = (
            downx[x, 2 * y - 1, z, c] + hl.f32(3) * (downx[x, 2 * y, z, c] + downx[x, 2 * y + 1, z, c])
            + downx[x, 2 * y + 2, z, c]
        ) / hl.f32(8)
        return downy

    def upsample(f):
        upx, upy = hl.Func(), hl.Func()
        upx[x, y, z, c] = hl.f32(0.25) * f[(x // 2) - 1 + 2 * (x % 2), y, z, c] + hl.f32(0.75) * f[x // 2, y, z, c]
        upy[x, y, z, c] = hl.f32(0.25) * upx[x, (y // 2) - 1 + 2 * (y % 2), z, c] + hl.f32(0.75) * upx[x, y // 2, z, c]
        return upy

    push = [hl.Func(f"cost_pyramid_push_{i}") for i in range(levels)]
    push[0][x, y, z, c] = hl.mux(c, [cost[x, y, z] * cost_confidence[x, y], cost_confidence[x, y]])
    w, h = width, height
    for i in range(1, levels):
        down = hl.Func(f"cost_pyramid_down_{i}")
        down[x, y, z, c] = downsample(push[i - 1])[x, y, z, c]
        w, h = w // 2, h // 2
        push[i] = hl.BoundaryConditions.repeat_edge(down, [(0, w), (0, h)])
    pull = [hl.Func(f"cost_pyramid_pull_{i}") for i in range(levels)]
    pull[levels - 1][x, y, z, c] = push[levels - 1][x, y, z, c]
    for i in range(levels - 2, -1, -1):
        pull[i][x, y, z, c] = hl.lerp(upsample(pull[i + 1])[x, y, z, c], push[i][x, y, z, c], hl.f32(0.5))
    filtered_cost = hl.Func("filtered_cost")
    filtered_cost[x, y, z] = pull[0][x, y, z, 0] / pull[0][x, y, z, 1]

    # The depth is the slice of least cost.
    depth = hl.Func("depth")
    rz = hl.RDom([(0, slices)])
    depth[x, y] = hl.argmin(filtered_cost[x, y, rz.x])[0]
    bokeh_radius = hl.Func("bokeh_radius")
    bokeh_radius[x, y] = hl.abs(depth[x, y] - focus_depth) * blur_radius_scale
    bokeh_radius_squared = hl.Func("bokeh_radius_squared")
    bokeh_radius_squared[x, y] = hl.pow(bokeh_radius[x, y], 2)

    # A max filter of the bokeh radius bounds how far to sample.
    worst_y, worst = hl.Func("worst_case_bokeh_radius_y"), hl.Func("worst_case_bokeh_radius")
    rw = hl.RDom([(-max_blur, 2 * max_blur + 1)])
    worst_y[x, y] = hl.maximum(bokeh_radius[x, y + rw.x])
    worst[x, y] = hl.maximum(worst_y[x + rw.x, y])

    input_with_alpha = hl.Func("input_with_alpha")
    input_with_alpha[x, y, c] = hl.mux(
        c, [hl.cast(f32, left[x, y, 0]), hl.cast(f32, left[x, y, 1]), hl.cast(f32, left[x, y, 2]), hl.f32(255)]
    )
    output = hl.Func("output")
    output[x, y, c] = input_with_alpha[x, y, c]

    worst_radius = worst[x, y]
    sample_u = (_hash_float(hl, x, y, z, 0) - hl.f32(0.5)) * 2 * worst_radius
    sample_v = (_hash_float(hl, x, y, z, 1) - hl.f32(0.5)) * 2 * worst_radius
    sample_u = hl.clamp(hl.cast(i32, sample_u), -max_blur, max_blur)
    sample_v = hl.clamp(hl.cast(i32, sample_v), -max_blur, max_blur)
    sample_locations = hl.Func("sample_locations")
    sample_locations[x, y, z] = hl.Tuple([sample_u, sample_v])

    s = hl.RDom([(0, aperture_samples)])
    sample_u, sample_v = sample_locations[x, y, z][0], sample_locations[x, y, z][1]
    sample_x, sample_y = x + sample_u, y + sample_v
    r_squared = sample_u * sample_u + sample_v * sample_v
    # Use a sample if its bokeh reaches this pixel (a crude occlusion model).
    within_bokeh_of_this = r_squared < bokeh_radius_squared[x, y]
    this_within_bokeh_of_sample = r_squared < bokeh_radius_squared[sample_x, sample_y]
    sample_in_front = depth[sample_x, sample_y] < depth[x, y]
    sample_weight = hl.Func("sample_weight")
    sample_weight[x, y, z] = hl.select(
        (within_bokeh_of_this | sample_in_front) & this_within_bokeh_of_sample, hl.f32(1), hl.f32(0)
    )
    sample_x = x + sample_locations[x, y, s.x][0]
    sample_y = y + sample_locations[x, y, s.x][1]
    output[x, y, c] += sample_weight[x, y, s.x] * input_with_alpha[sample_x, sample_y, c]
    final = hl.Func("lens_blur")
    final[x, y, c] = output[x, y, c] / output[x, y, 3]

    # The app's CPU schedule.
    xi, yi, t = hl.Var("xi"), hl.Var("yi"), hl.Var("t")
    push[0].compute_root().reorder(c, z, x, y).bound(c, 0, 2).unroll(c).vectorize(x, 16).parallel(y, 4)
    cost.compute_at(push[0], x).hoist_storage(push[0], y).vectorize(x)
    cost_confidence.compute_at(push[0], x).vectorize(x)
    for i in range(1, levels):
        push[i].compute_at(pull[1], t).vectorize(x, 8)
        if i > 1:
            pull[i].compute_at(pull[1], t).tile(x, y, xi, yi, 8, 2).vectorize(xi).unroll(yi)
    pull[1].compute_root().fuse(z, c, t).parallel(t).tile(x, y, xi, yi, 8, 2).vectorize(xi).unroll(yi)
    depth.compute_root().tile(x, y, xi, yi, 8, 2).vectorize(xi).unroll(yi).parallel(y, 8)
    input_with_alpha.compute_root().reorder(c, x, y).unroll(c).vectorize(x, 8).parallel(y, 8)
    worst_y.compute_at(final, y).vectorize(x, 8)
    final.compute_root().reorder(c, x, y).bound(c, 0, 3).unroll(c).vectorize(x, 8).parallel(y)
    worst.compute_at(final, y).vectorize(x, 8)
    output.compute_at(final, x).vectorize(x)
    output.update().reorder(c, x, s.x).vectorize(x).unroll(c)
    # The app computes these two at output's x, which its update vectorizes
    # whole (8 wide, one iteration); pipelang does not place producers inside
    # a vectorized loop, so both compilers compute them one loop out, at the
    # sample s: the same 8-wide regions, per sample.
    sample_weight.compute_at(output, s.x).unroll(x)
    sample_locations.compute_at(output, s.x).vectorize(x)
    return final


# -- the numpy reference


def _rng32(v):
    return (np.uint32(_C2) * v + np.uint32(_C1)) * v + np.uint32(_C0)


def _hash_float_np(x, y, z, k):
    with np.errstate(over="ignore"):
        h = _rng32(x.astype(np.uint32))
        for v in (y, z, k):
            h = _rng32(h + np.asarray(v).astype(np.uint32))
    h = h ^ (h >> np.uint32(16))
    return (h >> np.uint32(8)).astype(np.float32) * np.float32(1.0 / (1 << 24))


class _Box:
    """Values on [x0, x0 + w) x [y0, y0 + h) (the last two axes); `at` clamps
    into the box when it is a repeat_edge'd level."""

    def __init__(self, a, x0, y0, clamped=False):
        self.a, self.x0, self.y0, self.clamped = a, x0, y0, clamped

    def at(self, X, Y):
        h, w = self.a.shape[-2:]
        xs, ys = X - self.x0, Y - self.y0
        if self.clamped:
            xs, ys = np.clip(xs, 0, w - 1), np.clip(ys, 0, h - 1)
        return self.a[..., ys, xs]


def reference_lens_blur(inputs, levels=LEVELS):
    f = np.float32
    L, R = inputs["left"].astype(np.int64), inputs["right"].astype(np.int64)
    _, height, width = L.shape
    max_blur = int(f(max(SLICES - FOCUS_DEPTH, FOCUS_DEPTH)) * f(BLUR_RADIUS_SCALE))

    def grid(x0, x1, y0, y1):
        return np.meshgrid(np.arange(x0, x1), np.arange(y0, y1))

    def left(X, Y):
        return L[:, np.clip(Y, 0, height - 1), np.clip(X, 0, width - 1)]

    def right(X, Y):
        return R[:, np.clip(Y, 0, height - 1), np.clip(X, 0, width - 1)]

    # The box each pull level is needed on: depth is sampled up to max_blur
    # away from the image; upsampling reads x // 2 - 1 .. x // 2 + 1.
    boxes = [(-max_blur, width + max_blur, -max_blur, height + max_blur)]
    for _ in range(1, levels):
        x0, x1, y0, y1 = boxes[-1]
        boxes.append((x0 // 2 - 1, (x1 - 1) // 2 + 2, y0 // 2 - 1, (y1 - 1) // 2 + 2))

    # Level 0 of the push pyramid, on the box level 1's downsampling reads
    # (level 1 is repeat_edge'd to [0, width / 2)) and on pull level 0's box.
    x0, x1, y0, y1 = boxes[0]
    x0, x1, y0, y1 = min(x0, -1), max(x1, 2 * (width // 2) + 1), min(y0, -1), max(y1, 2 * (height // 2) + 1)
    X, Y = grid(x0, x1, y0, y1)
    lv = left(X, Y)
    costs = []
    for zz in range(SLICES):
        d = np.minimum(np.abs(lv - right(X + 2 * zz, Y)), np.abs(lv - right(X + 2 * zz + 1, Y))).astype(f)
        costs.append(d[0] * d[0] + d[1] * d[1] + d[2] * d[2])
    sq, mean = np.zeros_like(costs[0]), np.zeros_like(costs[0])
    for cz in costs:  # the inline sums, in order
        sq = sq + cz * cz
        mean = mean + cz / f(SLICES)
    confidence = sq / f(SLICES) - mean * mean
    cost = np.stack(costs)  # (z, y, x)
    push = [_Box(np.stack([cost * confidence, np.broadcast_to(confidence, cost.shape)]), x0, y0)]  # (c, z, y, x)
    w, h = width, height
    for i in range(1, levels):
        w, h = w // 2, h // 2
        prev = push[-1]
        X, Y = grid(0, w, 2 * 0 - 1, 2 * (h - 1) + 3)  # downx on the rows downy reads
        dx = (prev.at(2 * X - 1, Y) + f(3) * (prev.at(2 * X, Y) + prev.at(2 * X + 1, Y)) + prev.at(2 * X + 2, Y)) / f(8)
        dx = _Box(dx, 0, -1)
        X, Y = grid(0, w, 0, h)
        dy = (dx.at(X, 2 * Y - 1) + f(3) * (dx.at(X, 2 * Y) + dx.at(X, 2 * Y + 1)) + dx.at(X, 2 * Y + 2)) / f(8)
        push.append(_Box(dy, 0, 0, clamped=True))

    def upsample(g, box):
        x0, x1, y0, y1 = box
        X, Y = grid(x0, x1, y0 // 2 - 1, (y1 - 1) // 2 + 2)
        ux = _Box(f(0.25) * g.at(X // 2 - 1 + 2 * (X % 2), Y) + f(0.75) * g.at(X // 2, Y), x0, y0 // 2 - 1)
        X, Y = grid(x0, x1, y0, y1)
        return f(0.25) * ux.at(X, Y // 2 - 1 + 2 * (Y % 2)) + f(0.75) * ux.at(X, Y // 2)

    x0, x1, y0, y1 = boxes[levels - 1]
    pull = _Box(push[levels - 1].at(*grid(x0, x1, y0, y1)), x0, y0)
    for i in range(levels - 2, -1, -1):
        box = boxes[i]
        up = upsample(pull, box)
        p = push[i].at(*grid(box[0], box[1], box[2], box[3]))
        pull = _Box(up * (f(1) - f(0.5)) + p * f(0.5), box[0], box[2])
    filtered = pull.a[0] / pull.a[1]  # (z, y, x) on boxes[0]
    depth = _Box(np.argmin(filtered, axis=0), boxes[0][0], boxes[0][2])
    bokeh = _Box(np.abs(depth.a - FOCUS_DEPTH).astype(f) * f(BLUR_RADIUS_SCALE), depth.x0, depth.y0)
    bokeh_sq = _Box(bokeh.a * bokeh.a, bokeh.x0, bokeh.y0)

    X, Y = grid(-max_blur, width + max_blur, 0, height)
    worst_y = np.max([bokeh.at(X, Y + k) for k in range(-max_blur, max_blur + 1)], axis=0)
    worst_y = _Box(worst_y, -max_blur, 0)
    X, Y = grid(0, width, 0, height)
    worst = np.max([worst_y.at(X + k, Y) for k in range(-max_blur, max_blur + 1)], axis=0)

    out = np.concatenate([left(X, Y).astype(f), np.full((1, height, width), f(255))])
    d0, bsq0 = depth.at(X, Y), bokeh_sq.at(X, Y)
    for s in range(APERTURE_SAMPLES):
        def offset(k):
            v = (_hash_float_np(X, Y, s, k) - f(0.5)) * f(2) * worst
            return np.clip(v.astype(np.int32), -max_blur, max_blur)

        su, sv = offset(0), offset(1)
        sx, sy = X + su, Y + sv
        r2 = (su * su + sv * sv).astype(f)
        weight = ((r2 < bsq0) | (depth.at(sx, sy) < d0)) & (r2 < bokeh_sq.at(sx, sy))
        sample = np.concatenate([left(sx, sy).astype(f), np.full((1, height, width), f(255))])
        out = out + weight.astype(f) * sample
    return np.ascontiguousarray(out[:3] / out[3:], dtype=np.float32)


LENS_BLUR = Benchmark(
    name="lens_blur",
    description="apps/lens_blur: stereo depth (32 slices, push-pull pyramid), then aperture-sampled bokeh; uint8 RGB",
    sizes={  # at least 128 on a side: the 8-level pyramid halves 7 times
        "tiny": dict(width=128, height=128),
        "small": dict(width=192, height=320),
        "medium": dict(width=384, height=640),
        "full": dict(width=768, height=1280),
    },
    make_inputs=_stereo_inputs,
    build=build_lens_blur,
    reference=reference_lens_blur,
    tolerance=Tolerance(rtol=1e-5),
)

LENS_APPS = (LENS_BLUR,)
