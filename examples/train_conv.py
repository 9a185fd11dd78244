"""Train a convolution layer's weights by gradient descent, with gradients from autodiff.

    python examples/train_conv.py       (add --halide to run the same code on real Halide)

Synthetic data: the targets are a hidden 3x3 convolution (4 -> 4 channels) of
random images. Starting from zero weights, `hl.propagate_adjoints` gives the
gradient of the mean squared error with respect to the weights (a Func like
any other, compiled once), and plain gradient descent recovers the hidden
filter: the loss falls by orders of magnitude.
"""

import numpy as np
from common import hl

C, K, W, N = 4, 4, 16, 4
rng = np.random.default_rng(0)
input_np = rng.standard_normal((N, W + 2, W + 2, C)).astype(np.float32)    # buffer [c, x, y, n]
hidden = rng.standard_normal((C, 3, 3, K)).astype(np.float32) * 0.3        # buffer [k, rx, ry, c]
# The targets: the hidden convolution, computed with numpy.
windows = np.lib.stride_tricks.sliding_window_view(input_np, (3, 3), axis=(1, 2))  # n y x c ky kx
target_np = np.einsum("nyxcij,cijk->nyxk", windows, hidden).astype(np.float32)

weights_np = np.zeros_like(hidden)          # what we learn, updated in place
inp, target, weights = hl.Buffer(input_np), hl.Buffer(target_np), hl.Buffer(weights_np)

c, x, y, n = hl.Var("c"), hl.Var("x"), hl.Var("y"), hl.Var("n")
r = hl.RDom([(0, 3), (0, 3), (0, C)])
conv = hl.Func("conv")
conv[c, x, y, n] = hl.f32(0)
conv[c, x, y, n] += weights[c, r.x, r.y, r.z] * inp[r.z, x + r.x, y + r.y, n]
diff = hl.Func("diff")
diff[c, x, y, n] = conv[c, x, y, n] - target[c, x, y, n]
all_points = hl.RDom([(0, K), (0, W), (0, W), (0, N)])
loss = hl.Func("loss")
loss[()] = hl.f32(0)
loss[()] += diff[all_points.x, all_points.y, all_points.z, all_points.w] ** 2 / float(K * W * W * N)

d = hl.propagate_adjoints(loss)
grad = d[weights]
grad_out = hl.Buffer(hl.Float(32), [K, 3, 3, C])

# The first gradient, against numpy's: dL/dw = 2/M * sum(diff * window).
grad.realize(grad_out)
residual = -target_np
want = 2.0 / target_np.size * np.einsum("nyxk,nyxcij->cijk", residual, windows)
error = np.max(np.abs(np.asarray(grad_out) - want))
assert error <= 1e-4 * np.max(np.abs(want)), f"gradient differs from numpy by {error}"
print(f"gradient matches numpy (max difference {error:.2g})")

first = None
for step in range(30):
    value = float(np.asarray(loss.realize([]))[()])
    first = value if first is None else first
    if step % 5 == 0:
        print(f"step {step:2d}: loss {value:.6f}")
    grad.realize(grad_out)
    weights_np -= 0.25 * np.asarray(grad_out)
last = float(np.asarray(loss.realize([]))[()])
print(f"step 30: loss {last:.6f} ({first / last:.0f}x lower)")
assert last < first / 100, "training did not converge"
print(f"learned filter matches numpy (max difference {np.max(np.abs(weights_np - hidden)):.2g})")
