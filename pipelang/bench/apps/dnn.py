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
# Left out of both schedules: store_in(Stack) (pipelang has no store_in;
# both compilers put these small constant-size buffers on the stack anyway).
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
    depthwise.bound_extent(d, tile_d).compute_at(pointwise, ro).vectorize(d).reorder(x, y, d).unroll(x).unroll(y)
    depthwise.update().vectorize(d).reorder(x, y, d, rd, rx, ry, b).unroll(x).unroll(y)
    input_bounded.compute_at(pointwise, ro).tile(d, x, di, xi, vec, 4, hl.TailStrategy.RoundUp).vectorize(
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


DNN_APPS = (MATMUL, DEPTHWISE_SEPARABLE_CONV)
