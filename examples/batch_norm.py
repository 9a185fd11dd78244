"""Batch normalization at inference time, fused with the ReLU that follows it.

    python examples/batch_norm.py       (add --halide to run the same code on real Halide)

Per channel: scale = gamma / sqrt(var + eps), shift = beta - mean * scale
(computed once, at root), then out = max(in * scale + shift, 0).
"""

import numpy as np
from common import hl, print_loop_nest

batch, size, channels = 2, 48, 64
rng = np.random.default_rng(3)
input_np = rng.normal(0, 2, size=(batch, size, size, channels)).astype(np.float32)
mean_np = rng.normal(0, 1, size=channels).astype(np.float32)
var_np = rng.uniform(0.5, 2, size=channels).astype(np.float32)
gamma_np = rng.uniform(0.5, 1.5, size=channels).astype(np.float32)
beta_np = rng.normal(0, 0.5, size=channels).astype(np.float32)
eps = 1e-5
input, mean, var = hl.Buffer(input_np), hl.Buffer(mean_np), hl.Buffer(var_np)
gamma, beta = hl.Buffer(gamma_np), hl.Buffer(beta_np)

c, x, y, n = hl.Var("c"), hl.Var("x"), hl.Var("y"), hl.Var("n")
scale, shift, bn = hl.Func("scale"), hl.Func("shift"), hl.Func("batch_norm")
scale[c] = gamma[c] / hl.sqrt(var[c] + hl.f32(eps))
shift[c] = beta[c] - mean[c] * scale[c]
bn[c, x, y, n] = hl.max(input[c, x, y, n] * scale[c] + shift[c], hl.f32(0))

# Schedule: the per-channel constants once; the main loop vectorized over
# channels with rows of all images in parallel.
vec = hl.get_host_target().natural_vector_size(hl.Float(32))
ny = hl.Var("ny")
scale.compute_root()
shift.compute_root()
bn.vectorize(c, vec).fuse(y, n, ny).parallel(ny)
print_loop_nest(bn)

out = np.asarray(bn.realize([channels, size, size, batch]))      # NHWC
s = gamma_np / np.sqrt(var_np + np.float32(eps))
expected = np.maximum(input_np * s + (beta_np - mean_np * s), 0)
error = np.max(np.abs(out - expected))
assert error <= 1e-5, f"differs from numpy by {error}"
print(f"matches numpy (max difference {error:.2g})")
