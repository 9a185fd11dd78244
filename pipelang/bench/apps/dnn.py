"""Register-blocked reductions: Halide's matrix multiply performance test,
apps/conv_layer and apps/depthwise_separable_conv, with their own CPU schedules.

Funcs that Halide defines by an update alone (``f(x) += ...``, an implicit
zero pure definition) get that zero written out, which is the same program.
"""

from __future__ import annotations

import numpy as np

from ..benchmark import Benchmark, Tolerance, _vec

# --------------------------------------------------------------------------
# test/performance/matrix_multiplication.cpp: 3 x 8 vector accumulators,
# the reduction split in 16 chunks and rfactored, the chunks summed.


def _matmul_inputs(rng, n):
    return {
        "a": rng.uniform(-1, 1, size=(n, n)).astype(np.float32),
        "b": rng.uniform(-1, 1, size=(n, n)).astype(np.float32),
    }


def build_matmul(hl, inputs):
    n = inputs["a"].shape[0]
    A, B = hl.Buffer(inputs["a"]), hl.Buffer(inputs["b"])
    x, y = hl.Var("x"), hl.Var("y")
    k = hl.RDom([(0, n)], "k")
    matrix_mul = hl.Func("matrix_mul")
    matrix_mul[x, y] = hl.f32(0)
    matrix_mul[x, y] += A[k.x, y] * B[x, k.x]
    out = hl.Func("matmul")
    out[x, y] = matrix_mul[x, y]

    vec = _vec(hl, hl.Float(32))
    inner_tile_x = 3 * vec
    inner_tile_y = 8 if vec == 16 else 4  # 32 vector registers with AVX-512
    tile_y, tile_k = n // 4, n // 16
    xy, xi, yi, yii, z = (hl.Var(v) for v in ("xy", "xi", "yi", "yii", "z"))
    ko, ki = hl.RVar("ko"), hl.RVar("ki")
    out.tile(x, y, xi, yi, inner_tile_x, tile_y).split(yi, yi, yii, inner_tile_y).vectorize(xi, vec).unroll(
        xi
    ).unroll(yii).fuse(x, y, xy).parallel(xy)
    matrix_mul.update().split(k.x, ko, ki, tile_k)
    intm = matrix_mul.update().rfactor(ko, z)
    intm.compute_at(matrix_mul, y).vectorize(x, vec).unroll(x).unroll(y)
    intm.update(0).reorder(x, y, ki).vectorize(x, vec).unroll(x).unroll(y)
    matrix_mul.compute_at(out, xy).vectorize(x, vec).unroll(x)
    matrix_mul.update().split(y, y, yi, inner_tile_y).reorder(x, yi, y, ko).vectorize(x, vec).unroll(x).unroll(yi)
    out.bound(x, 0, n).bound(y, 0, n)
    return out


def reference_matmul(inputs):
    return inputs["a"] @ inputs["b"]


MATMUL = Benchmark(
    name="matmul",
    description="test/performance/matrix_multiplication: float32, 3x8 vector register blocks, rfactor",
    sizes={"tiny": dict(n=96), "small": dict(n=384), "medium": dict(n=640), "full": dict(n=992)},
    make_inputs=_matmul_inputs,
    build=build_matmul,
    reference=reference_matmul,
    tolerance=Tolerance(rtol=1e-5),
    peer_tolerance=Tolerance(rtol=1e-5),
    flops=lambda inputs: 2.0 * inputs["a"].shape[0] ** 3,
)


# --------------------------------------------------------------------------
# apps/depthwise_separable_conv: a 3x3 depthwise convolution (channel
# multiplier 1) feeding a 1x1 pointwise convolution, bias and ReLU. NHWC.
# The filter shapes are constants here, so the app's specialize() on them
# would always be true and is left out too.


def _dwsc_inputs(rng, batch, ci, co, size):
    return {
        "input": rng.uniform(-1, 1, size=(batch, size, size, ci)).astype(np.float32),
        "depthwise_filter": rng.uniform(-0.5, 0.5, size=(3, 3, ci, 1)).astype(np.float32),
        "pointwise_filter": rng.uniform(-0.5, 0.5, size=(ci, co)).astype(np.float32),
        "bias": rng.uniform(-0.5, 0.5, size=(co,)).astype(np.float32),
    }


def build_depthwise_separable_conv(hl, inputs):
    batch, height, width, ci = inputs["input"].shape
    cm = inputs["depthwise_filter"].shape[3]
    input = hl.Buffer(inputs["input"])
    depthwise_filter = hl.Buffer(inputs["depthwise_filter"])
    pointwise_filter = hl.Buffer(inputs["pointwise_filter"])
    bias = hl.Buffer(inputs["bias"])
    d, x, y, b = hl.Var("d"), hl.Var("x"), hl.Var("y"), hl.Var("b")

    input_bounded = hl.Func("input_bounded")
    in_bounds = (x >= 0) & (x < width) & (y >= 0) & (y < height)
    input_bounded[d, x, y, b] = hl.select(
        in_bounds, input[d, hl.clamp(x, 0, width - 1), hl.clamp(y, 0, height - 1), b], hl.f32(0)
    )
    depthwise = hl.Func("depthwise_convolved")
    r = hl.RDom([(0, cm), (0, 3), (0, 3)], "r")
    rd, rx, ry = r.x, r.y, r.z
    depthwise[d, x, y, b] = hl.f32(0)
    depthwise[d, x, y, b] += depthwise_filter[rd, d, rx, ry] * input_bounded[d // cm, x + rx - 1, y + ry - 1, b]
    pointwise = hl.Func("pointwise_convolved")
    rc = hl.RDom([(0, ci * cm)], "rc")
    pointwise[d, x, y, b] = bias[d]
    pointwise[d, x, y, b] += pointwise_filter[d, rc.x] * depthwise[rc.x, x, y, b]
    output = hl.Func("depthwise_separable_conv")
    output[d, x, y, b] = hl.max(pointwise[d, x, y, b], hl.f32(0))

    # The app's register blocking for 32 vector registers of 16 floats.
    vec = _vec(hl, hl.Float(32))
    tile_d, tile_w, tile_h = vec, 6, 4
    di, xi, yi, yb = hl.Var("di"), hl.Var("xi"), hl.Var("yi"), hl.Var("yb")
    ro, ri = hl.RVar("ro"), hl.RVar("ri")
    output.split(d, d, di, tile_d).split(x, x, xi, tile_w).split(y, y, yi, tile_h).reorder(di, xi, yi, d, x, y)
    output.vectorize(di).unroll(xi).unroll(yi).fuse(y, b, yb).parallel(yb)
    pointwise.compute_at(output, d).vectorize(d).unroll(x).unroll(y)
    pointwise.update().reorder(d, x, y, rc.x, b).vectorize(d).unroll(x).unroll(y).split(rc.x, ro, ri, tile_d)
    depthwise.store_in(hl.MemoryType.Stack).bound_extent(d, tile_d).compute_at(pointwise, ro)
    depthwise.vectorize(d).reorder(x, y, d).unroll(x).unroll(y)
    depthwise.update().vectorize(d).reorder(x, y, d, rd, rx, ry, b).unroll(x).unroll(y)
    input_bounded.store_in(hl.MemoryType.Stack).compute_at(pointwise, ro)
    input_bounded.tile(d, x, di, xi, vec, 4, hl.TailStrategy.RoundUp).vectorize(
        di
    ).unroll(xi)
    return output


def reference_depthwise_separable_conv(inputs):
    inp, dw, pw, bias = (inputs[k] for k in ("input", "depthwise_filter", "pointwise_filter", "bias"))
    batch, h, w, ci = inp.shape
    p = np.pad(inp, ((0, 0), (1, 1), (1, 1), (0, 0)))
    dwc = np.zeros((batch, h, w, ci), np.float32)
    for ry in range(3):
        for rx in range(3):
            dwc += dw[ry, rx, :, 0] * p[:, ry : ry + h, rx : rx + w, :]
    out = dwc.reshape(-1, ci) @ pw + bias
    return np.maximum(out, 0).reshape(batch, h, w, -1).astype(np.float32)


DEPTHWISE_SEPARABLE_CONV = Benchmark(
    name="depthwise_separable_conv",
    description="apps/depthwise_separable_conv: 3x3 depthwise + 1x1 pointwise + ReLU, NHWC float32",
    sizes={
        "tiny": dict(batch=1, ci=32, co=16, size=24),
        "small": dict(batch=1, ci=32, co=16, size=112),
        "medium": dict(batch=2, ci=32, co=16, size=112),
        "full": dict(batch=4, ci=32, co=16, size=112),
    },
    make_inputs=_dwsc_inputs,
    build=build_depthwise_separable_conv,
    reference=reference_depthwise_separable_conv,
    tolerance=Tolerance(rtol=1e-5),
    flops=lambda inputs: 2.0 * inputs["input"].size * (9 + inputs["bias"].shape[0]),
)


# --------------------------------------------------------------------------
# apps/conv_layer: 3x3 convolution + bias + ReLU, 128 -> 128 channels, with
# the app's in_() wrappers staging filter taps and input pixels per
# reduction step. Tensors are channel-innermost (the buffers' dimension 0).


def _conv_inputs(rng, batch, ci, co, width, height):
    return {
        "input": rng.uniform(-1, 1, size=(batch, height + 2, width + 2, ci)).astype(np.float32),
        "filter": rng.uniform(-0.1, 0.1, size=(ci, 3, 3, co)).astype(np.float32),  # filter[c, kx, ky, ci]
        "bias": rng.uniform(-0.5, 0.5, size=(co,)).astype(np.float32),
    }


def build_conv_layer(hl, inputs):
    input = hl.ImageParam(hl.Float(32), 4, "input")
    filter = hl.ImageParam(hl.Float(32), 4, "filter")
    bias = hl.ImageParam(hl.Float(32), 1, "bias")
    for param, name in ((input, "input"), (filter, "filter"), (bias, "bias")):
        param.set(hl.Buffer(inputs[name]))
    ci = inputs["input"].shape[3]
    x, y, c, n = hl.Var("x"), hl.Var("y"), hl.Var("c"), hl.Var("n")
    r = hl.RDom([(0, ci), (0, 3), (0, 3)], "r")
    conv = hl.Func("conv")
    conv[c, x, y, n] = bias[c]
    conv[c, x, y, n] += filter[c, r.y, r.z, r.x] * input[r.x, x + r.y, y + r.z, n]
    relu = hl.Func("conv_layer")
    relu[c, x, y, n] = hl.max(0, conv[c, x, y, n])

    vec = _vec(hl, hl.Float(32))
    tile_w, tile_h = (4, 5) if vec == 16 else (3, 4)  # AVX-512's 32 registers, or AVX2's 16
    co, ci_, xo, xi = hl.Var("co"), hl.Var("ci"), hl.Var("xo"), hl.Var("xi")
    relu.split(c, co, ci_, vec * tile_w).split(x, xo, xi, tile_h).reorder(ci_, xi, xo, y, n, co)
    relu.vectorize(ci_, vec).unroll(ci_).unroll(xi).parallel(y).parallel(n).parallel(co)
    conv.compute_at(relu, xo).vectorize(c, vec).unroll(c).unroll(x).unroll(y)
    conv.update().reorder(c, x, y, r.x, r.y, r.z, n).vectorize(c, vec).unroll(c).unroll(x).unroll(y).unroll(r.x, 2)
    filter.in_().compute_at(conv, r.x).vectorize(hl._0, vec).unroll(hl._0).unroll(hl._3)
    input.in_().compute_at(conv, x).unroll(hl._0)
    return relu


def reference_conv_layer(inputs):
    inp, w, b = inputs["input"], inputs["filter"], inputs["bias"]
    batch, hp, wp, ci = inp.shape
    h, wd = hp - 2, wp - 2
    # im2col: (N*H*W, KY*KX*CI) @ (KY*KX*CI, CO); filter is [ci, ky, kx, co].
    cols = np.stack([inp[:, ky : ky + h, kx : kx + wd, :] for ky in range(3) for kx in range(3)], axis=3)
    weights = w.transpose(1, 2, 0, 3).reshape(9 * ci, -1)
    out = cols.reshape(batch * h * wd, 9 * ci) @ weights + b
    return np.maximum(out, 0).reshape(batch, h, wd, -1).astype(np.float32)


def _conv_flops(inputs):
    batch, hp, wp, ci = inputs["input"].shape
    return 2.0 * batch * (hp - 2) * (wp - 2) * inputs["bias"].shape[0] * ci * 9


CONV_LAYER = Benchmark(
    name="conv_layer",
    description="apps/conv_layer: 3x3 conv + bias + ReLU, 128->128 channels, float32, in_() staging",
    sizes={
        "tiny": dict(batch=1, ci=32, co=64, width=20, height=8),
        "small": dict(batch=1, ci=128, co=128, width=100, height=80),
        "medium": dict(batch=2, ci=128, co=128, width=100, height=80),
        "full": dict(batch=5, ci=128, co=128, width=100, height=80),
    },
    make_inputs=_conv_inputs,
    build=build_conv_layer,
    reference=reference_conv_layer,
    tolerance=Tolerance(rtol=1e-5),
    flops=_conv_flops,
)


DNN_APPS = (MATMUL, CONV_LAYER, DEPTHWISE_SEPARABLE_CONV)
