"""A 12-stage pipeline: detail enhancement and tone mapping of a 12-bit image to 8 bits.

    python examples/enhance.py         (add --halide to run the same code on real Halide)

The `enhance` benchmark, a deep pipeline of our own: denoise with a small
blur, measure edges from its gradient, boost fine detail more in flat areas
than on edges, compress the range with a tone curve, apply gamma, quantize.
Most stages are pointwise; a good schedule inlines them and computes only the
two blur stages per tile.
"""

import numpy as np
from common import hl, print_loop_nest, save_png

from pipelang.bench.suite import _enhance_inputs, reference_enhance

width, height = 1024, 768
raw_np = _enhance_inputs(np.random.default_rng(0), width, height)["input"]  # uint16, 12-bit
raw = hl.BoundaryConditions.repeat_edge(hl.Buffer(raw_np))

x, y = hl.Var("x"), hl.Var("y")
names = "linear blur_x blur_y grad_x grad_y magnitude weight detail enhanced tone gamma enhance"
linear, blur_x, blur_y, grad_x, grad_y, magnitude, weight, detail, enhanced, tone, gamma, output = (
    hl.Func(name) for name in names.split()
)
linear[x, y] = hl.cast(hl.Float(32), raw[x, y]) * hl.f32(1 / 4095)  # to [0, 1]
blur_x[x, y] = (linear[x - 1, y] + 2 * linear[x, y] + linear[x + 1, y]) * hl.f32(0.25)  # 1-2-1 blur
blur_y[x, y] = (blur_x[x, y - 1] + 2 * blur_x[x, y] + blur_x[x, y + 1]) * hl.f32(0.25)
grad_x[x, y] = blur_y[x + 1, y] - blur_y[x - 1, y]
grad_y[x, y] = blur_y[x, y + 1] - blur_y[x, y - 1]
magnitude[x, y] = hl.sqrt(grad_x[x, y] * grad_x[x, y] + grad_y[x, y] * grad_y[x, y])
weight[x, y] = 1 / (1 + 16 * magnitude[x, y])  # near 1 in flat areas, small on edges
detail[x, y] = linear[x, y] - blur_y[x, y]
enhanced[x, y] = blur_y[x, y] + detail[x, y] * (1 + 2 * weight[x, y])
tone[x, y] = 2 * enhanced[x, y] / (1 + enhanced[x, y])  # a Reinhard-style curve
gamma[x, y] = hl.sqrt(hl.clamp(tone[x, y], 0.0, 1.0))
output[x, y] = hl.cast(hl.UInt(8), gamma[x, y] * 255 + hl.f32(0.5))

# Schedule: 256 x 32 tiles, rows of tiles in parallel. Per tile, blur_x and
# blur_y are computed with the 1-2 pixel halo the later stencils need; the
# other ten stages are inlined (Funcs are inlined unless scheduled).
xi, yi = hl.Var("xi"), hl.Var("yi")
vec = hl.get_host_target().natural_vector_size(hl.Float(32))
output.tile(x, y, xi, yi, 256, 32).parallel(y).vectorize(xi, vec)
blur_y.compute_at(output, x).vectorize(x, vec)
blur_x.compute_at(output, x).vectorize(x, vec)
print_loop_nest(output)

result = np.asarray(output.realize([width, height]))
expected = reference_enhance({"input": raw_np})
error = int(np.max(np.abs(result.astype(int) - expected)))
assert error <= 1, f"differs from numpy by {error}"
print(f"matches numpy (max difference {error} grey level)")

save_png("enhance_input.png", (raw_np * 16).astype(np.uint16))
save_png("enhance_output.png", result)
