"""A convolution layer with ReLU, the core of a CNN, on a batch of images.

    python examples/conv_relu.py       (add --halide to run the same code on real Halide)

The `conv_relu` benchmark, after Halide's apps/conv_layer: 3x3 convolution,
64 -> 64 channels, float32, channels innermost in memory (NHWC), then ReLU.
"""

import time

import numpy as np
from common import hl, print_loop_nest

from pipelang.bench.suite import reference_conv_relu

batch, channels, size = 2, 64, 32
rng = np.random.default_rng(0)
# NHWC input with a 1-pixel border already around each image: buffer [ci, x, y, n].
input_np = rng.uniform(-1, 1, size=(batch, size + 2, size + 2, channels)).astype(np.float32)
# Weights as numpy (ci, ky, kx, co): buffer [co, kx, ky, ci].
filter_np = rng.uniform(-0.1, 0.1, size=(channels, 3, 3, channels)).astype(np.float32)
bias_np = rng.uniform(-0.5, 0.5, size=(channels,)).astype(np.float32)
input, filter, bias = hl.Buffer(input_np), hl.Buffer(filter_np), hl.Buffer(bias_np)

c, x, y, n = hl.Var("c"), hl.Var("x"), hl.Var("y"), hl.Var("n")
r = hl.RDom([(0, 3), (0, 3), (0, channels)])  # kernel x, kernel y, input channel
conv, relu = hl.Func("conv"), hl.Func("relu")
conv[c, x, y, n] = bias[c]
conv[c, x, y, n] += filter[c, r.x, r.y, r.z] * input[r.z, x + r.x, y + r.y, n]
relu[c, x, y, n] = hl.max(hl.f32(0), conv[c, x, y, n])

# Schedule: blocks of (4 vectors of output channels) x (4 pixels) of conv
# live in registers while the whole reduction (input channels, then the 3x3
# window) runs; rows of all images are shared among the cores.
vec = hl.get_host_target().natural_vector_size(hl.Float(32))
co, ci, xo, xi, ny = hl.Var("co"), hl.Var("ci"), hl.Var("xo"), hl.Var("xi"), hl.Var("ny")
relu.split(c, co, ci, min(4 * vec, channels)).split(x, xo, xi, 4).reorder(ci, xi, xo, y, n, co)
relu.vectorize(ci, vec).unroll(ci).unroll(xi).fuse(y, n, ny).parallel(ny)
conv.compute_at(relu, xo).vectorize(c, vec).unroll(c).unroll(x)
conv.update().reorder(c, x, r.z, r.x, r.y).vectorize(c, vec).unroll(c).unroll(x)
print_loop_nest(relu)

relu.compile_jit()
out = np.empty((batch, size, size, channels), np.float32)  # NHWC, as the input
out_buffer = hl.Buffer(out)
relu.realize(out_buffer)
start = time.perf_counter()
relu.realize(out_buffer)
seconds = time.perf_counter() - start
flops = 2 * batch * size * size * channels * channels * 9
print(f"conv + relu: {seconds * 1e3:.2f} ms, {flops / seconds / 1e9:.1f} GFLOP/s")

expected = reference_conv_relu({"input": input_np, "filter": filter_np, "bias": bias_np})
error = np.max(np.abs(out - expected))
assert error <= 1e-5 * np.max(np.abs(expected)), f"differs from numpy by {error}"
print(f"matches numpy (max difference {error:.2g})")
